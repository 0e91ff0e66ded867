// Batch norm over [n, c, hw]. Statistics take one pass: float partial sums
// over short blocks, accumulated in double, so float32 results match a
// float64 reference. Channels are split across threads. BatchNorm1d (hw = 1) has each
// channel strided by c, so it runs row by row, vectorised across channels.
#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels.h"

namespace eb {
namespace {

constexpr int64_t kGrain = 1 << 16;

// Per-channel double sums for the hw = 1 layout: rows of x are [c] vectors.
void column_mean_var(int n, int c, int c0, int c1, const float* x, double* mean, double* var) {
  const int w = c1 - c0;
  std::fill(mean, mean + w, 0.0);
  std::fill(var, var + w, 0.0);
  for (int i = 0; i < n; i++) {
    const float* row = x + static_cast<int64_t>(i) * c + c0;
    for (int j = 0; j < w; j++) mean[j] += row[j];
  }
  for (int j = 0; j < w; j++) mean[j] /= n;
  for (int i = 0; i < n; i++) {
    const float* row = x + static_cast<int64_t>(i) * c + c0;
    for (int j = 0; j < w; j++) {
      const double d = row[j] - mean[j];
      var[j] += d * d;
    }
  }
  for (int j = 0; j < w; j++) var[j] /= n;
}

// Sums of a run of floats: float partial sums over short blocks (8 lanes,
// at most kBlock terms each, so their rounding stays near 1e-7 relative),
// added into double accumulators.
constexpr int kBlock = 256;

// One pass over channel ch: the mean and (biased) variance, accumulated as
// sums of (x - shift) and (x - shift)^2 with the channel's first value as
// the shift, so the variance does not cancel when |mean| >> std.
void channel_mean_var(int n, int c, int hw, int ch, const float* x, double& mean, double& var) {
  const int64_t cs = static_cast<int64_t>(c) * hw;
  const float shift = x[static_cast<int64_t>(ch) * hw];
  double s = 0.0, q = 0.0;
  for (int i = 0; i < n; i++) {
    const float* p = x + i * cs + static_cast<int64_t>(ch) * hw;
    for (int k0 = 0; k0 < hw; k0 += kBlock) {
      const int k1 = std::min(hw, k0 + kBlock);
      float bs = 0.0f, bq = 0.0f;
#pragma omp simd reduction(+ : bs, bq)
      for (int k = k0; k < k1; k++) {
        const float d = p[k] - shift;
        bs += d;
        bq += d * d;
      }
      s += bs;
      q += bq;
    }
  }
  const double M = static_cast<double>(n) * hw;
  const double ms = s / M;
  mean = shift + ms;
  var = std::max(0.0, q / M - ms * ms);
}

// y = (x - mean) * a + beta for channel ch (or channel columns when hw = 1).
void normalize_channel(int n, int c, int hw, int ch, const float* x, float mean, float a, float beta,
                       float* y) {
  const int64_t cs = static_cast<int64_t>(c) * hw;
  for (int i = 0; i < n; i++) {
    const int64_t off = i * cs + static_cast<int64_t>(ch) * hw;
    const float* p = x + off;
    float* q = y + off;
    for (int k = 0; k < hw; k++) q[k] = (p[k] - mean) * a + beta;
  }
}

void normalize_columns(int n, int c, int c0, int c1, const float* x, const float* mean,
                       const float* a, const float* beta, float* y) {
  const int w = c1 - c0;
  for (int i = 0; i < n; i++) {
    const float* p = x + static_cast<int64_t>(i) * c + c0;
    float* q = y + static_cast<int64_t>(i) * c + c0;
    for (int j = 0; j < w; j++) q[j] = (p[j] - mean[j]) * a[j] + beta[j];
  }
}

}  // namespace

void batchnorm_forward_train(int n, int c, int hw, const float* x, const float* gamma,
                             const float* beta, double eps, double momentum, float* running_mean,
                             float* running_var, float* y, float* save_mean, float* save_invstd) {
  const double M = static_cast<double>(n) * hw;
  const double unbias = M > 1 ? M / (M - 1) : 1.0;
  auto finish = [&](int ch, double mean, double var) {
    const double inv = 1.0 / std::sqrt(var + eps);
    save_mean[ch] = static_cast<float>(mean);
    save_invstd[ch] = static_cast<float>(inv);
    running_mean[ch] = static_cast<float>((1 - momentum) * running_mean[ch] + momentum * mean);
    running_var[ch] = static_cast<float>((1 - momentum) * running_var[ch] + momentum * var * unbias);
    return static_cast<float>(gamma[ch] * inv);
  };
  over_channels(n, c, hw, kGrain, [&](int c0, int c1) {
    if (hw == 1) {
      const int w = c1 - c0;
      std::vector<double> mean(w), var(w);
      std::vector<float> meanf(w), a(w);
      column_mean_var(n, c, c0, c1, x, mean.data(), var.data());
      for (int j = 0; j < w; j++) {
        a[j] = finish(c0 + j, mean[j], var[j]);
        meanf[j] = static_cast<float>(mean[j]);
      }
      normalize_columns(n, c, c0, c1, x, meanf.data(), a.data(), beta + c0, y);
      return;
    }
    for (int ch = c0; ch < c1; ch++) {
      double mean, var;
      channel_mean_var(n, c, hw, ch, x, mean, var);
      const float a = finish(ch, mean, var);
      normalize_channel(n, c, hw, ch, x, static_cast<float>(mean), a, beta[ch], y);
    }
  });
}

void batchnorm_forward_eval(int n, int c, int hw, const float* x, const float* gamma,
                            const float* beta, double eps, const float* running_mean,
                            const float* running_var, float* y, float* save_mean,
                            float* save_invstd) {
  std::vector<float> a(c);
  for (int ch = 0; ch < c; ch++) {
    const double inv = 1.0 / std::sqrt(static_cast<double>(running_var[ch]) + eps);
    save_mean[ch] = running_mean[ch];
    save_invstd[ch] = static_cast<float>(inv);
    a[ch] = static_cast<float>(gamma[ch] * inv);
  }
  over_channels(n, c, hw, kGrain, [&](int c0, int c1) {
    if (hw == 1) {
      normalize_columns(n, c, c0, c1, x, running_mean + c0, a.data() + c0, beta + c0, y);
      return;
    }
    for (int ch = c0; ch < c1; ch++) normalize_channel(n, c, hw, ch, x, running_mean[ch], a[ch], beta[ch], y);
  });
}

void batchnorm_backward(int n, int c, int hw, const float* x, const float* dy, const float* gamma,
                        const float* save_mean, const float* save_invstd, bool batch_stats,
                        float* dx, float* dgamma, float* dbeta) {
  const double M = static_cast<double>(n) * hw;
  const int64_t cs = static_cast<int64_t>(c) * hw;
  // From the sums over a channel, the coefficients of
  //   dx = a*dy + b*(x - mean) + k
  // train: a = gamma*inv, b = -gamma*inv^3*sum(dy*(x-mean))/M, k = -a*sum(dy)/M
  // eval:  a = gamma*inv, b = k = 0.
  auto coeffs = [&](int ch, double sdy, double sdx, float& a, float& b, float& k) {
    const double inv = save_invstd[ch], gm = gamma[ch];
    dbeta[ch] = static_cast<float>(sdy);
    dgamma[ch] = static_cast<float>(sdx * inv);
    a = static_cast<float>(gm * inv);
    if (batch_stats) {
      b = static_cast<float>(-gm * inv * inv * inv * sdx / M);
      k = static_cast<float>(-gm * inv * sdy / M);
    } else {
      b = 0.0f;
      k = 0.0f;
    }
  };
  over_channels(n, c, hw, kGrain, [&](int c0, int c1) {
    if (hw == 1) {
      const int w = c1 - c0;
      std::vector<double> sdy(w, 0.0), sdx(w, 0.0);
      std::vector<float> a(w), b(w), k(w);
      const float* mean = save_mean + c0;
      for (int i = 0; i < n; i++) {
        const float* xr = x + static_cast<int64_t>(i) * c + c0;
        const float* dr = dy + static_cast<int64_t>(i) * c + c0;
        for (int j = 0; j < w; j++) {
          sdy[j] += dr[j];
          sdx[j] += static_cast<double>(dr[j]) * (xr[j] - mean[j]);
        }
      }
      for (int j = 0; j < w; j++) coeffs(c0 + j, sdy[j], sdx[j], a[j], b[j], k[j]);
      for (int i = 0; i < n; i++) {
        const float* xr = x + static_cast<int64_t>(i) * c + c0;
        const float* dr = dy + static_cast<int64_t>(i) * c + c0;
        float* out = dx + static_cast<int64_t>(i) * c + c0;
        for (int j = 0; j < w; j++) out[j] = a[j] * dr[j] + b[j] * (xr[j] - mean[j]) + k[j];
      }
      return;
    }
    for (int ch = c0; ch < c1; ch++) {
      const float mean = save_mean[ch];
      double sdy = 0.0, sdx = 0.0;
      for (int i = 0; i < n; i++) {
        const float* xp = x + i * cs + static_cast<int64_t>(ch) * hw;
        const float* dp = dy + i * cs + static_cast<int64_t>(ch) * hw;
        for (int q0 = 0; q0 < hw; q0 += kBlock) {
          const int q1 = std::min(hw, q0 + kBlock);
          float bdy = 0.0f, bdx = 0.0f;
#pragma omp simd reduction(+ : bdy, bdx)
          for (int q = q0; q < q1; q++) {
            bdy += dp[q];
            bdx += dp[q] * (xp[q] - mean);
          }
          sdy += bdy;
          sdx += bdx;
        }
      }
      float a, b, k;
      coeffs(ch, sdy, sdx, a, b, k);
      for (int i = 0; i < n; i++) {
        const int64_t off = i * cs + static_cast<int64_t>(ch) * hw;
        const float* xp = x + off;
        const float* dp = dy + off;
        float* out = dx + off;
        for (int q = 0; q < hw; q++) out[q] = a * dp[q] + b * (xp[q] - mean) + k;
      }
    }
  });
}

}  // namespace eb
