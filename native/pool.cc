// Max / average pooling over [n, c, h, w], parallel over (n, c) planes.
// The common 2x2 stride-2 unpadded max pool has its own loop; everything else
// goes through the general window loop, which clips the window to the plane
// once per output instead of testing every element.
#include <algorithm>
#include <cstring>
#include <limits>

#ifdef __AVX2__
#include <immintrin.h>
#endif

#include "kernels.h"

namespace eb {
namespace {

constexpr int64_t kGrain = 1 << 16;

template <class F>
void over_planes(const PoolGeom& g, F f) {
  const int64_t planes = static_cast<int64_t>(g.n) * g.c;
  const int64_t per_plane = std::max<int64_t>(1, static_cast<int64_t>(g.h) * g.w);
  parallel_for(planes, std::max<int64_t>(1, kGrain / per_plane), f);
}

// Clipped window rows [i0, i1) and columns [j0, j1) of output (oy, ox).
inline void window(const PoolGeom& g, int oy, int ox, int& i0, int& i1, int& j0, int& j1) {
  const int y0 = oy * g.sh - g.ph, x0 = ox * g.sw - g.pw;
  i0 = std::max(y0, 0);
  i1 = std::min(y0 + g.kh, g.h);
  j0 = std::max(x0, 0);
  j1 = std::min(x0 + g.kw, g.w);
}

}  // namespace

void maxpool2d_forward(const PoolGeom& g, const float* x, float* y, int32_t* argmax) {
  const int oh = g.oh(), ow = g.ow();
  const int64_t in_plane = static_cast<int64_t>(g.h) * g.w, out_plane = static_cast<int64_t>(oh) * ow;
  const bool k2s2 = g.kh == 2 && g.kw == 2 && g.sh == 2 && g.sw == 2 && g.ph == 0 && g.pw == 0;
  over_planes(g, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; p++) {
      const float* xp = x + p * in_plane;
      float* yp = y + p * out_plane;
      int32_t* ap = argmax + p * out_plane;
      if (k2s2) {
        for (int oy = 0; oy < oh; oy++) {
          const float* r0 = xp + static_cast<int64_t>(2 * oy) * g.w;
          const float* r1 = r0 + g.w;
          const int base = 2 * oy * g.w;
          int ox = 0;
#ifdef __AVX2__
          // 8 outputs at a time: the compiler does not vectorise the stride-2
          // deinterleave on its own, and the scalar loop mispredicts.
          const __m256i lane2 = _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14);
          for (; ox + 8 <= ow; ox += 8) {
            auto even_odd = [](const float* r, __m256& ev, __m256& od) {
              const __m256 v0 = _mm256_loadu_ps(r), v1 = _mm256_loadu_ps(r + 8);
              ev = _mm256_castpd_ps(_mm256_permute4x64_pd(
                  _mm256_castps_pd(_mm256_shuffle_ps(v0, v1, _MM_SHUFFLE(2, 0, 2, 0))), _MM_SHUFFLE(3, 1, 2, 0)));
              od = _mm256_castpd_ps(_mm256_permute4x64_pd(
                  _mm256_castps_pd(_mm256_shuffle_ps(v0, v1, _MM_SHUFFLE(3, 1, 3, 1))), _MM_SHUFFLE(3, 1, 2, 0)));
            };
            __m256 a, b, c, d;
            even_odd(r0 + 2 * ox, a, b);
            even_odd(r1 + 2 * ox, c, d);
            const __m256i ia = _mm256_add_epi32(_mm256_set1_epi32(base + 2 * ox), lane2);
            const __m256i ib = _mm256_add_epi32(ia, _mm256_set1_epi32(1));
            const __m256i ic = _mm256_add_epi32(ia, _mm256_set1_epi32(g.w));
            const __m256i id = _mm256_add_epi32(ic, _mm256_set1_epi32(1));
            __m256 mk = _mm256_cmp_ps(b, a, _CMP_GT_OQ);
            __m256 best = _mm256_blendv_ps(a, b, mk);
            __m256 idx = _mm256_blendv_ps(_mm256_castsi256_ps(ia), _mm256_castsi256_ps(ib), mk);
            mk = _mm256_cmp_ps(c, best, _CMP_GT_OQ);
            best = _mm256_blendv_ps(best, c, mk);
            idx = _mm256_blendv_ps(idx, _mm256_castsi256_ps(ic), mk);
            mk = _mm256_cmp_ps(d, best, _CMP_GT_OQ);
            best = _mm256_blendv_ps(best, d, mk);
            idx = _mm256_blendv_ps(idx, _mm256_castsi256_ps(id), mk);
            _mm256_storeu_ps(yp + oy * ow + ox, best);
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(ap + oy * ow + ox), _mm256_castps_si256(idx));
          }
#endif
          for (; ox < ow; ox++) {
            // Row-major window order with strict '>' so the first max wins;
            // selects instead of branches (random data mispredicts).
            const float a = r0[2 * ox], b = r0[2 * ox + 1], c = r1[2 * ox], d = r1[2 * ox + 1];
            const int i0 = base + 2 * ox;
            const bool ab = b > a;
            const float m1 = ab ? b : a;
            const int j1 = ab ? i0 + 1 : i0;
            const bool cd = c > m1;
            const float m2 = cd ? c : m1;
            const int j2 = cd ? i0 + g.w : j1;
            const bool dd = d > m2;
            yp[oy * ow + ox] = dd ? d : m2;
            ap[oy * ow + ox] = dd ? i0 + g.w + 1 : j2;
          }
        }
        continue;
      }
      for (int oy = 0; oy < oh; oy++) {
        for (int ox = 0; ox < ow; ox++) {
          int i0, i1, j0, j1;
          window(g, oy, ox, i0, i1, j0, j1);
          // Padding is -inf, so it can only tie, never win: start from the
          // first real element.
          float best = -std::numeric_limits<float>::infinity();
          int idx = -1;
          for (int i = i0; i < i1; i++) {
            for (int j = j0; j < j1; j++) {
              const float v = xp[static_cast<int64_t>(i) * g.w + j];
              if (idx < 0 || v > best) {
                best = v;
                idx = i * g.w + j;
              }
            }
          }
          yp[oy * ow + ox] = best;
          ap[oy * ow + ox] = idx;
        }
      }
    }
  });
}

void maxpool2d_backward(const PoolGeom& g, const float* dy, const int32_t* argmax, float* dx) {
  const int oh = g.oh(), ow = g.ow();
  const int64_t in_plane = static_cast<int64_t>(g.h) * g.w;
  const int64_t out_plane = static_cast<int64_t>(oh) * ow;
  const bool k2s2 = g.kh == 2 && g.kw == 2 && g.sh == 2 && g.sw == 2 && g.ph == 0 && g.pw == 0;
  over_planes(g, [&](int64_t p0, int64_t p1) {
    if (k2s2) {
      // Disjoint 2x2 windows: every dx element is written exactly once (the
      // window's gradient or 0), so no separate zeroing pass. Relies on
      // argmax lying inside its window, as maxpool2d_forward produces.
      for (int64_t p = p0; p < p1; p++) {
        float* dp = dx + p * in_plane;
        const float* gp = dy + p * out_plane;
        const int32_t* ap = argmax + p * out_plane;
        for (int oy = 0; oy < oh; oy++) {
          float* d0 = dp + static_cast<int64_t>(2 * oy) * g.w;
          float* d1 = d0 + g.w;
          const int base = 2 * oy * g.w;
          for (int ox = 0; ox < ow; ox++) {
            const int a = ap[oy * ow + ox] - (base + 2 * ox);
            const float v = gp[oy * ow + ox];
            d0[2 * ox] = a == 0 ? v : 0.0f;
            d0[2 * ox + 1] = a == 1 ? v : 0.0f;
            d1[2 * ox] = a == g.w ? v : 0.0f;
            d1[2 * ox + 1] = a == g.w + 1 ? v : 0.0f;
          }
          for (int j = 2 * ow; j < g.w; j++) d0[j] = d1[j] = 0.0f;  // odd width: last column
        }
        if (2 * oh < g.h) std::memset(dp + static_cast<int64_t>(2 * oh) * g.w, 0, sizeof(float) * g.w);
      }
      return;
    }
    std::memset(dx + p0 * in_plane, 0, sizeof(float) * (p1 - p0) * in_plane);
    for (int64_t p = p0; p < p1; p++) {
      float* dp = dx + p * in_plane;
      const float* gp = dy + p * out_plane;
      const int32_t* ap = argmax + p * out_plane;
      for (int64_t o = 0; o < out_plane; o++) dp[ap[o]] += gp[o];
    }
  });
}

void avgpool2d_forward(const PoolGeom& g, const float* x, float* y) {
  const int oh = g.oh(), ow = g.ow();
  const int64_t in_plane = static_cast<int64_t>(g.h) * g.w, out_plane = static_cast<int64_t>(oh) * ow;
  const float inv = 1.0f / static_cast<float>(g.kh * g.kw);
  over_planes(g, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; p++) {
      const float* xp = x + p * in_plane;
      float* yp = y + p * out_plane;
      for (int oy = 0; oy < oh; oy++) {
        for (int ox = 0; ox < ow; ox++) {
          int i0, i1, j0, j1;
          window(g, oy, ox, i0, i1, j0, j1);
          float s = 0.0f;
          for (int i = i0; i < i1; i++)
            for (int j = j0; j < j1; j++) s += xp[static_cast<int64_t>(i) * g.w + j];
          yp[oy * ow + ox] = s * inv;
        }
      }
    }
  });
}

void avgpool2d_backward(const PoolGeom& g, const float* dy, float* dx) {
  const int oh = g.oh(), ow = g.ow();
  const int64_t in_plane = static_cast<int64_t>(g.h) * g.w, out_plane = static_cast<int64_t>(oh) * ow;
  const float inv = 1.0f / static_cast<float>(g.kh * g.kw);
  over_planes(g, [&](int64_t p0, int64_t p1) {
    std::memset(dx + p0 * in_plane, 0, sizeof(float) * (p1 - p0) * in_plane);
    for (int64_t p = p0; p < p1; p++) {
      float* dp = dx + p * in_plane;
      const float* gp = dy + p * out_plane;
      for (int oy = 0; oy < oh; oy++) {
        for (int ox = 0; ox < ow; ox++) {
          int i0, i1, j0, j1;
          window(g, oy, ox, i0, i1, j0, j1);
          const float v = gp[oy * ow + ox] * inv;
          for (int i = i0; i < i1; i++)
            for (int j = j0; j < j1; j++) dp[static_cast<int64_t>(i) * g.w + j] += v;
        }
      }
    }
  });
}

void global_avgpool_forward(int n, int c, int hw, const float* x, float* y) {
  const int64_t planes = static_cast<int64_t>(n) * c;
  parallel_for(planes, std::max<int64_t>(1, kGrain / std::max(hw, 1)), [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; p++) {
      const float* xp = x + p * hw;
      double s = 0.0;
#pragma omp simd reduction(+ : s)
      for (int i = 0; i < hw; i++) s += xp[i];
      y[p] = static_cast<float>(s / hw);
    }
  });
}

void global_avgpool_backward(int n, int c, int hw, const float* dy, float* dx) {
  const int64_t planes = static_cast<int64_t>(n) * c;
  parallel_for(planes, std::max<int64_t>(1, kGrain / std::max(hw, 1)), [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; p++) {
      const float v = static_cast<float>(static_cast<double>(dy[p]) / hw);
      float* dp = dx + p * hw;
      for (int i = 0; i < hw; i++) dp[i] = v;
    }
  });
}

}  // namespace eb
