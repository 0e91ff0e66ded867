// Weight quantizers. bi-half, any bit ratio and halfmask pruning all reduce
// to "which ranks fall below a cut" within a group, so one kernel serves them:
// a selection (radix select, O(n)) finds the key at the cut, one counting
// pass finds how many equal keys the cut takes, and one pass in index order
// writes the codes, giving equal keys to the lower indices first. Groups are
// independent and are handed out to the worker threads.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels.h"
#include "quant.h"

namespace eb {
namespace {

// IEEE-754 total order as an unsigned key: flip all bits of negatives (so a
// larger magnitude sorts first) and set the sign bit of positives.
inline uint32_t order_key(float v) {
  uint32_t b;
  std::memcpy(&b, &v, sizeof b);
  return (b & 0x80000000u) ? ~b : (b | 0x80000000u);
}

// The cut below rank m: keys < kth are all in; of the keys == kth, the first
// `take_equal` in index order are in. m == 0 takes nothing.
struct Cut {
  uint32_t kth = 0;
  int64_t take_equal = 0;
  int64_t equal = 0;  // how many keys equal kth
  bool empty = true;
};

// The key of rank m (0-based) among keys[0..n), by radix selection: a
// histogram of the top 11 bits finds the bucket holding rank m, the keys of
// that bucket are gathered into buf, and two more rounds (11 and 10 bits) on
// the shrinking candidate set pin the key down. Three histogram passes, of
// which only the first sees every key: about 3.5x faster than nth_element.
uint32_t radix_select(const uint32_t* __restrict keys, int n, int64_t m, uint32_t* __restrict buf) {
  uint32_t hist[2048];
  const uint32_t* src = keys;
  int64_t count = n;
  uint32_t prefix = 0;
  int done_bits = 0;
  for (const int bits : {11, 11, 10}) {
    const int shift = 32 - done_bits - bits;
    const uint32_t mask = (1u << bits) - 1;
    std::memset(hist, 0, sizeof(uint32_t) << bits);
    for (int64_t i = 0; i < count; i++) hist[(src[i] >> shift) & mask]++;
    uint32_t bin = 0;
    while (m >= hist[bin]) m -= hist[bin++];
    prefix = (prefix << bits) | bin;
    done_bits += bits;
    if (done_bits == 32) break;
    // Keep only the candidates whose top bits match the prefix (branch-free compaction).
    int64_t kept = 0;
    const int keep_shift = 32 - done_bits;
    for (int64_t i = 0; i < count; i++) {
      buf[kept] = src[i];
      kept += (src[i] >> keep_shift) == prefix;
    }
    src = buf;
    count = kept;
  }
  return prefix;
}

Cut make_cut(int n, const uint32_t* __restrict keys, uint32_t* __restrict buf, int m) {
  Cut c;
  if (m <= 0) return c;
  c.empty = false;
  c.kth = radix_select(keys, n, m - 1, buf);
  int64_t less = 0, equal = 0;
  for (int i = 0; i < n; i++) {
    less += keys[i] < c.kth;
    equal += keys[i] == c.kth;
  }
  c.take_equal = m - less;
  c.equal = equal;
  return c;
}

void rank_group(const float* __restrict latent, int n, int low, int high, int8_t* __restrict codes,
                uint32_t* __restrict keys, uint32_t* __restrict buf) {
  for (int i = 0; i < n; i++) keys[i] = order_key(latent[i]);
  const Cut a = make_cut(n, keys, buf, low);
  const Cut b = (high == low) ? a : make_cut(n, keys, buf, high);
  const bool ea = a.empty, eb_ = b.empty;
  if (a.equal == a.take_equal && b.equal == b.take_equal) {
    // Every key equal to a cut's kth is taken by it, so "key <= kth" is exact.
    // This branch-free pass is the common case (distinct latent values).
    const uint32_t ka = a.kth, kb = b.kth;
    for (int i = 0; i < n; i++) {
      const uint32_t k = keys[i];
      const int8_t in_a = !ea & (k <= ka), in_b = !eb_ & (k <= kb);
      codes[i] = static_cast<int8_t>(1 - in_a - in_b);  // both: -1, only b: 0, none: +1
    }
    return;
  }
  // Ties straddle a cut: hand the equal keys out in index order.
  int64_t eq_a = 0, eq_b = 0;
  for (int i = 0; i < n; i++) {
    const uint32_t k = keys[i];
    const bool in_a = !ea && (k < a.kth || (k == a.kth && eq_a++ < a.take_equal));
    const bool in_b = !eb_ && (k < b.kth || (k == b.kth && eq_b++ < b.take_equal));
    codes[i] = static_cast<int8_t>(in_a ? -1 : in_b ? 0 : 1);
  }
}

// Eight independent float64 partial sums: the chains run in parallel and
// vectorise (one chain of adds is latency-bound, 4 cycles a weight); the
// order differs from a plain loop only in the last bits of a float64.
constexpr int kLanes = 8;
template <typename F>
double lane_sum(int n, F term) {
  double acc[kLanes] = {};
  int i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int j = 0; j < kLanes; j++) acc[j] += term(i + j);
  double s = 0;
  for (; i < n; i++) s += term(i);
  for (int j = 0; j < kLanes; j++) s += acc[j];
  return s;
}

struct Moments {
  double mean;  // float64: a float32 mean ties with many weights of a narrow filter
  double std;
};

// Mean and unbiased std of one filter. Sums of w - w[0] and its square in
// float64: shifting by a weight of the filter keeps the variance from
// cancelling when the mean is large beside the spread.
Moments filter_moments(const float* __restrict w, int n) {
  const double shift = w[0];
  const double s = lane_sum(n, [&](int i) { return static_cast<double>(w[i]) - shift; });
  const double ss = lane_sum(n, [&](int i) {
    const double d = static_cast<double>(w[i]) - shift;
    return d * d;
  });
  const double mean = s / n;
  const double var = n > 1 ? std::max(0.0, ss - s * mean) / (n - 1) : 0.0;
  return {mean + shift, var > 0 ? std::sqrt(var) : 1.0};
}

// Filters are independent: hand them out to the threads. body(f, offset, n)
// gets n by value, so that an int8 store cannot alias the loop bound.
template <typename F>
void per_filter(int filters, int n, F body) {
  if (filters <= 0 || n <= 0) return;
  const int threads = std::min(threads_for(static_cast<int64_t>(filters) * n, 1 << 15), filters);
  parallel_dynamic(threads, filters, [&](int, int64_t f) { body(static_cast<int>(f), static_cast<int64_t>(f) * n, n); });
}

}  // namespace

void balanced_codes(int filters, int n, const float* latent, int8_t* codes) {
  per_filter(filters, n, [&](int, int64_t off, const int len) {
    const float* __restrict w = latent + off;
    int8_t* __restrict c = codes + off;
    // For a float w, w < mean (float64) exactly when w < the least float >= mean:
    // the compare stays in float32 and vectorises, without branches.
    const double mean = filter_moments(w, len).mean;
    float cut = static_cast<float>(mean);
    if (static_cast<double>(cut) < mean) cut = std::nextafter(cut, INFINITY);
    for (int i = 0; i < len; i++) c[i] = static_cast<int8_t>(1 - 2 * (w[i] < cut));
  });
}

void balanced_scales(int filters, int n, const float* latent, float* factors) {
  per_filter(filters, n, [&](int f, int64_t off, const int len) {
    const float* __restrict w = latent + off;
    const Moments m = filter_moments(w, len);
    const double a = lane_sum(len, [&](int i) { return std::fabs(static_cast<double>(w[i]) - m.mean); });
    factors[f] = a > 0 ? static_cast<float>(std::exp2(std::round(std::log2(a / m.std / len)))) : 1.0f;
  });
}

void balanced_backward(int filters, int n, const float* latent, const float* g, float* out) {
  per_filter(filters, n, [&](int, int64_t off, const int len) {
    const float* __restrict w = latent + off;
    const float* __restrict gi = g + off;
    float* __restrict o = out + off;
    const Moments m = filter_moments(w, len);
    const double gm = lane_sum(len, [&](int i) { return static_cast<double>(gi[i]); }) / len;
    const double gw = lane_sum(len, [&](int i) { return static_cast<double>(gi[i]) * (static_cast<double>(w[i]) - m.mean); });
    // out = (g - gm - z gz) / std with z = (w - mean) / std, gz = sum(g z) / (len - 1).
    const double gz = gw / m.std / (len > 1 ? len - 1 : 1);
    // w - mean in float64: a float32 mean is off by half an ulp of the weights,
    // which is the whole spread of a narrow filter far from 0.
    const double inv = 1.0 / m.std, k = gz / m.std / m.std, mean = m.mean;
    for (int i = 0; i < len; i++)
      o[i] = static_cast<float>((static_cast<double>(gi[i]) - gm) * inv - (static_cast<double>(w[i]) - mean) * k);
  });
}

void rank_codes(int groups, int group_size, const float* latent, int low, int high, int8_t* codes) {
  const int nt = threads_for(static_cast<int64_t>(groups) * group_size, 1 << 14);
  const int threads = std::min(nt, groups);
  // Per thread: the group's keys and a selection buffer (uint32, in a float scratch slot).
  reserve_scratch(kScratchCol, std::max(threads, 1), 2 * static_cast<size_t>(group_size));
  parallel_dynamic(threads, groups, [&](int tid, int64_t g) {
    uint32_t* keys = reinterpret_cast<uint32_t*>(scratch(kScratchCol, tid));
    const int64_t off = g * group_size;
    rank_group(latent + off, group_size, low, high, codes + off, keys, keys + group_size);
  });
}

void sign_codes(int64_t len, const float* latent, int8_t* codes) {
  parallel_for(len, 1 << 16, [=](int64_t b, int64_t e) {
    // Local restrict pointers: an int8_t store may alias anything, which would
    // otherwise force a reload of the captured pointers on every iteration.
    const float* __restrict x = latent;
    int8_t* __restrict c = codes;
    for (int64_t i = b; i < e; i++) c[i] = x[i] < 0.0f ? -1 : 1;
  });
}

void codes_to_weights(int groups, int group_size, const int8_t* codes, const float* scales, float* out) {
  parallel_for(groups, std::max<int64_t>(1, (1 << 16) / std::max(group_size, 1)), [&](int64_t b, int64_t e) {
    for (int64_t g = b; g < e; g++) {
      const float s = scales[g];
      const int8_t* __restrict c = codes + g * group_size;
      float* __restrict o = out + g * group_size;
      for (int i = 0; i < group_size; i++) o[i] = s * static_cast<float>(c[i]);
    }
  });
}

void channel_scale(int n, int c, int hw, const float* x, const float* scales, float* y) {
  const int64_t rows = static_cast<int64_t>(n) * c;
  parallel_for(rows, std::max<int64_t>(1, (1 << 16) / std::max(hw, 1)), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; r++) {
      const float s = scales[r % c];
      const float* __restrict xi = x + r * hw;
      float* __restrict yi = y + r * hw;
      for (int j = 0; j < hw; j++) yi[j] = xi[j] * s;
    }
  });
}

void sign_forward(int64_t len, const float* x, float* y) {
  parallel_for(len, 1 << 16, [=](int64_t b, int64_t e) {
    const float* __restrict xs = x;
    float* __restrict ys = y;
    for (int64_t i = b; i < e; i++) ys[i] = xs[i] < 0.0f ? -1.0f : 1.0f;
  });
}

void sign_backward(int64_t len, const float* x, const float* dy, int mode, float* dx, bool accumulate, float t, float k) {
  parallel_for(len, 1 << 16, [=](int64_t b, int64_t e) {
    // Both operands are read unconditionally so that the select vectorises
    // (a load only inside the condition kept GCC from vectorising: 5x slower).
    const float* __restrict xs = x;
    const float* __restrict g = dy;
    float* __restrict d = dx;
    auto run = [&](auto grad) {
      if (accumulate) {
        for (int64_t i = b; i < e; i++) d[i] += grad(i);
      } else {
        for (int64_t i = b; i < e; i++) d[i] = grad(i);
      }
    };
    if (mode == 0) {
      run([&](int64_t i) { const float gi = g[i]; return std::fabs(xs[i]) < 1.0f ? gi : 0.0f; });
    } else if (mode == 1) {
      run([&](int64_t i) {
        const float a = std::fabs(xs[i]), gi = g[i] * (2.0f - 2.0f * a);
        return a < 1.0f ? gi : 0.0f;
      });
    } else {
      const float kt = k * t;
      run([&](int64_t i) {
        const float th = std::tanh(t * xs[i]);
        return g[i] * (kt * (1.0f - th * th));
      });
    }
  });
}

}  // namespace eb
