// A small register-blocked GEMM, C = A x B, for the Winograd positions'
// products (U[xi] x V[xi]): a few hundred rows and columns, called thousands
// of times per layer. OpenBLAS packs both operands on every call and reaches
// about half of the FMA peak on these shapes; here A (the transformed
// weights, the same for a whole call) is packed once, by the weight
// transform itself, and B (the input tiles, just written by the input
// transform) is read in place: a 16-column strip of it stays in L1 while
// every panel of A passes over it.
//
// Packed A: panels of kMr rows; panel p holds rows [p kMr, p kMr + kMr) as
// k columns of kMr floats (see packed_a_index). Rows past m are zeros.
#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#endif

namespace eb {

#if defined(__AVX2__) && defined(__FMA__)
namespace {

// The vector width as a type: 8 floats (AVX2) or 16 (AVX-512), so that one
// micro-kernel serves both.
struct Avx2 {
  using V = __m256;
  static constexpr int kWidth = 8;
  static V zero() { return _mm256_setzero_ps(); }
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static V splat(const float* p) { return _mm256_broadcast_ss(p); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
};
#if defined(__AVX512F__)
struct Avx512 {
  using V = __m512;
  static constexpr int kWidth = 16;
  static V zero() { return _mm512_setzero_ps(); }
  static V load(const float* p) { return _mm512_loadu_ps(p); }
  static V splat(const float* p) { return _mm512_set1_ps(*p); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static void store(float* p, V v) { _mm512_storeu_ps(p, v); }
};
#endif

// C[rows x 2 W] = one panel of A x a strip of B two vectors wide (16 columns
// with AVX2, 32 with AVX-512); rows < kMr only at the bottom of C. Each output
// is the sum over k in order, by FMA, so both widths give the same bits. The
// 12 accumulators, 2 vectors of B and 1 of A take 15 of AVX2's 16 registers.
template <class S>
inline void micro(int k, const float* ap, const float* b, int ldb, float* c, int ldc, int rows) {
  constexpr int w = S::kWidth;
  typename S::V acc[kMr][2];
#pragma GCC unroll 6
  for (int r = 0; r < kMr; r++) acc[r][0] = acc[r][1] = S::zero();
#pragma GCC unroll 4
  for (int kk = 0; kk < k; kk++) {
    const float* bk = b + static_cast<int64_t>(kk) * ldb;
    const typename S::V b0 = S::load(bk), b1 = S::load(bk + w);
    const float* ak = ap + static_cast<int64_t>(kk) * kMr;
#pragma GCC unroll 6
    for (int r = 0; r < kMr; r++) {
      const typename S::V a = S::splat(ak + r);
      acc[r][0] = S::fma(a, b0, acc[r][0]);
      acc[r][1] = S::fma(a, b1, acc[r][1]);
    }
  }
  // Constant indices only (a loop to `rows` would index acc with a variable
  // and move it out of the registers, every FMA above with it).
#pragma GCC unroll 6
  for (int r = 0; r < kMr; r++) {
    if (r < rows) {
      S::store(c + static_cast<int64_t>(r) * ldc, acc[r][0]);
      S::store(c + static_cast<int64_t>(r) * ldc + w, acc[r][1]);
    }
  }
}

}  // namespace

void gemm_packed_a(int m, int n, int k, const float* ap, const float* b, int ldb, float* c, int ldc) {
  const int panels = (m + kMr - 1) / kMr;
  int j = 0;
#if defined(__AVX512F__)
  // Where the CPU has AVX-512 (the addon is built with -march=native): 32-column
  // strips first, then the 16-wide kernel and the edge for what is left.
  for (; j + 32 <= n; j += 32) {
    for (int p = 0; p < panels; p++) {
      micro<Avx512>(k, ap + static_cast<int64_t>(p) * k * kMr, b + j, ldb, c + static_cast<int64_t>(p) * kMr * ldc + j, ldc,
              std::min(kMr, m - p * kMr));
    }
  }
#endif
  // A strip narrower than 16 columns (the right edge of C) goes through a
  // copy padded with zeros, into a 6 x 16 scratch tile.
  thread_local std::vector<float> edge;
  for (; j < n; j += 16) {
    const int cols = std::min(16, n - j);
    const float* bj = b + j;
    int ldbj = ldb;
    if (cols < 16) {
      edge.assign(static_cast<size_t>(k) * 16 + kMr * 16, 0.0f);
      for (int kk = 0; kk < k; kk++) std::memcpy(&edge[kk * 16], b + static_cast<int64_t>(kk) * ldb + j, sizeof(float) * cols);
      bj = edge.data();
      ldbj = 16;
    }
    for (int p = 0; p < panels; p++) {
      const int rows = std::min(kMr, m - p * kMr);
      const float* a = ap + static_cast<int64_t>(p) * k * kMr;
      float* cp = c + static_cast<int64_t>(p) * kMr * ldc + j;
      if (cols == 16) {
        micro<Avx2>(k, a, bj, ldbj, cp, ldc, rows);
      } else {
        float* tile = edge.data() + static_cast<size_t>(k) * 16;
        micro<Avx2>(k, a, bj, ldbj, tile, 16, rows);
        for (int r = 0; r < rows; r++) std::memcpy(cp + static_cast<int64_t>(r) * ldc, tile + r * 16, sizeof(float) * cols);
      }
    }
  }
}

#else

// Without AVX2 and FMA: the same sums in plain loops (correct, not fast).
void gemm_packed_a(int m, int n, int k, const float* ap, const float* b, int ldb, float* c, int ldc) {
  for (int i = 0; i < m; i++)
    for (int j = 0; j < n; j++) {
      float s = 0.0f;
      for (int kk = 0; kk < k; kk++) s += ap[packed_a_index(i, kk, k)] * b[static_cast<int64_t>(kk) * ldb + j];
      c[static_cast<int64_t>(i) * ldc + j] = s;
    }
}

#endif

}  // namespace eb
