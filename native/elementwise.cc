// Elementwise kernels: simple loops the compiler vectorises, split across the
// pool above kGrain elements. Scalars from JS stay double and the arithmetic
// is done in double where a float op would round differently from JS (which
// computes in double and rounds once on store). No __restrict: out may alias
// an input.
#include <algorithm>
#include <vector>

#include "kernels.h"

namespace eb {
namespace {

constexpr int64_t kGrain = 1 << 16;

template <class F>
void chunks(int64_t len, F f) {
  parallel_for(len, kGrain, f);
}

}  // namespace

void add(int64_t len, const float* a, const float* b, float* out) {
  chunks(len, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; i++) out[i] = a[i] + b[i];
  });
}

void mul(int64_t len, const float* a, const float* b, float* out) {
  chunks(len, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; i++) out[i] = a[i] * b[i];
  });
}

void scale(int64_t len, const float* a, double alpha, float* out) {
  chunks(len, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; i++) out[i] = static_cast<float>(alpha * a[i]);
  });
}

void axpy(int64_t len, double alpha, const float* x, float* y) {
  chunks(len, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; i++) y[i] = static_cast<float>(y[i] + alpha * x[i]);
  });
}

void bias_add(int n, int c, int hw, const float* bias, float* y) {
  if (hw == 1) {
    // [n, c]: rows of c, vectorised across channels.
    parallel_for(n, std::max<int64_t>(1, kGrain / std::max(c, 1)), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; r++) {
        float* p = y + r * c;
        for (int j = 0; j < c; j++) p[j] += bias[j];
      }
    });
    return;
  }
  const int64_t rows = static_cast<int64_t>(n) * c;
  parallel_for(rows, std::max<int64_t>(1, kGrain / hw), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) {
      float* p = y + r * hw;
      const float b = bias[r % c];
      for (int i = 0; i < hw; i++) p[i] += b;
    }
  });
}

void bias_grad(int n, int c, int hw, const float* dy, float* db) {
  if (hw == 1) {
    // [n, c]: sum rows, vectorised across channels.
    std::vector<double> s(c, 0.0);
    for (int i = 0; i < n; i++) {
      const float* row = dy + static_cast<int64_t>(i) * c;
      for (int j = 0; j < c; j++) s[j] += row[j];
    }
    for (int j = 0; j < c; j++) db[j] = static_cast<float>(s[j]);
    return;
  }
  const int64_t cs = static_cast<int64_t>(c) * hw;
  over_channels(n, c, hw, kGrain, [&](int c0, int c1) {
    for (int ch = c0; ch < c1; ch++) {
      double s = 0.0;
      for (int i = 0; i < n; i++) {
        const float* p = dy + i * cs + static_cast<int64_t>(ch) * hw;
#pragma omp simd reduction(+ : s)
        for (int k = 0; k < hw; k++) s += p[k];
      }
      db[ch] = static_cast<float>(s);
    }
  });
}

void relu(int64_t len, const float* x, float* y) {
  chunks(len, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; i++) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
  });
}

void relu_backward(int64_t len, const float* x, const float* dy, float* dx) {
  chunks(len, [&](int64_t i0, int64_t i1) {
    // Load dy unconditionally: a conditional load keeps GCC from vectorising.
    for (int64_t i = i0; i < i1; i++) {
      const float g = dy[i];
      dx[i] = x[i] > 0.0f ? g : 0.0f;
    }
  });
}

void prelu(int n, int c, int hw, const float* x, const float* alpha, float* y) {
  const int64_t rows = static_cast<int64_t>(n) * c;
  parallel_for(rows, std::max<int64_t>(1, kGrain / std::max(hw, 1)), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) {
      const float a = alpha[r % c];
      const float* p = x + r * hw;
      float* q = y + r * hw;
      for (int i = 0; i < hw; i++) q[i] = p[i] > 0.0f ? p[i] : a * p[i];
    }
  });
}

void prelu_backward(int n, int c, int hw, const float* x, const float* alpha, const float* dy,
                    float* dx, float* dalpha) {
  if (hw == 1) {
    std::vector<double> s(c, 0.0);
    for (int i = 0; i < n; i++) {
      const int64_t o = static_cast<int64_t>(i) * c;
      for (int j = 0; j < c; j++) {
        const float v = x[o + j], g = dy[o + j];
        dx[o + j] = v > 0.0f ? g : alpha[j] * g;
        s[j] += v > 0.0f ? 0.0 : static_cast<double>(g) * v;
      }
    }
    for (int j = 0; j < c; j++) dalpha[j] = static_cast<float>(s[j]);
    return;
  }
  const int64_t cs = static_cast<int64_t>(c) * hw;
  over_channels(n, c, hw, kGrain, [&](int c0, int c1) {
    for (int ch = c0; ch < c1; ch++) {
      const float a = alpha[ch];
      double s = 0.0;
      for (int i = 0; i < n; i++) {
        const int64_t o = i * cs + static_cast<int64_t>(ch) * hw;
        const float* p = x + o;
        const float* g = dy + o;
        float* d = dx + o;
        // Read x and dy before writing dx: dx may alias either.
#pragma omp simd reduction(+ : s)
        for (int k = 0; k < hw; k++) {
          const float v = p[k], gk = g[k];
          const bool pos = v > 0.0f;
          s += pos ? 0.0 : static_cast<double>(gk) * v;
          d[k] = pos ? gk : a * gk;
        }
      }
      dalpha[ch] = static_cast<float>(s);
    }
  });
}

void hardtanh(int64_t len, const float* x, double lo, double hi, float* y) {
  // Rounding is monotonic, so clamping to the rounded bounds equals rounding
  // the double clamp.
  const float l = static_cast<float>(lo), h = static_cast<float>(hi);
  chunks(len, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; i++) {
      const float v = x[i] < l ? l : x[i];
      y[i] = h < v ? h : v;
    }
  });
}

void hardtanh_backward(int64_t len, const float* x, double lo, double hi, const float* dy, float* dx) {
  chunks(len, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; i++) {
      const double v = x[i];
      const float g = dy[i];
      dx[i] = ((lo < v) & (v < hi)) ? g : 0.0f;  // '&': no branch, so it vectorises
    }
  });
}

}  // namespace eb
