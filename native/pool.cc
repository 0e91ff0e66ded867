// Max / average pooling over [n, c, h, w], parallel over (n, c) planes.
// The common 2x2 stride-2 unpadded max pool has its own loop; everything else
// goes through the general window loop, which clips the window to the plane
// once per output instead of testing every element.
#include <algorithm>
#include <cstring>
#include <limits>

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
          for (int ox = 0; ox < ow; ox++) {
            // Row-major window order with strict '>' so the first max wins.
            const float a = r0[2 * ox], b = r0[2 * ox + 1], c = r1[2 * ox], d = r1[2 * ox + 1];
            float best = a;
            int idx = base + 2 * ox;
            if (b > best) { best = b; idx = base + 2 * ox + 1; }
            if (c > best) { best = c; idx = base + g.w + 2 * ox; }
            if (d > best) { best = d; idx = base + g.w + 2 * ox + 1; }
            yp[oy * ow + ox] = best;
            ap[oy * ow + ox] = idx;
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
  const int64_t in_plane = static_cast<int64_t>(g.h) * g.w;
  const int64_t out_plane = static_cast<int64_t>(g.oh()) * g.ow();
  over_planes(g, [&](int64_t p0, int64_t p1) {
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
