// sgemm on top of single-threaded OpenBLAS. Parallelism comes from our pool
// (each thread multiplies a block of C), which keeps OpenBLAS's own threads
// asleep and out of the way of the pool's.
#include <cblas.h>

#include <algorithm>
#include <cstring>

#include "kernels.h"

namespace eb {

void blas_init() { openblas_set_num_threads(1); }

// The kernel set OpenBLAS picked for this CPU ("SkylakeX", "Haswell", ...):
// a new CPU model it does not know gets its generic SSE3 kernels (src/native/index.ts).
const char* blas_core() { return openblas_get_corename(); }

void sgemm_serial(bool transA, bool transB, int m, int n, int k, float alpha, const float* a,
                  int lda, const float* b, int ldb, float beta, float* c, int ldc) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0 || alpha == 0.0f) {
    // C = beta * C; beta = 0 must clear NaNs too, so no multiply.
    for (int i = 0; i < m; i++) {
      float* row = c + static_cast<int64_t>(i) * ldc;
      if (beta == 0.0f) std::memset(row, 0, sizeof(float) * n);
      else if (beta != 1.0f) for (int j = 0; j < n; j++) row[j] *= beta;
    }
    return;
  }
  cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
              m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void sgemm(bool transA, bool transB, int m, int n, int k, float alpha, const float* a,
           const float* b, float beta, float* c) {
  const int lda = transA ? m : k, ldb = transB ? k : n, ldc = n;
  const double flops = 2.0 * m * n * k;
  const int nth = threads_for(static_cast<int64_t>(flops), 2000000);
  if (nth <= 1) {
    sgemm_serial(transA, transB, m, n, k, alpha, a, std::max(lda, 1), b, std::max(ldb, 1), beta, c,
                 std::max(ldc, 1));
    return;
  }
  // A small C with a long inner dimension (e.g. a weight gradient summed
  // over a big batch): split K, each thread summing into its own copy of C,
  // then add the copies in thread order.
  if (static_cast<int64_t>(m) * n <= 16384 && k >= 4 * std::max(m, n)) {
    reserve_scratch(kScratchPartial, nth, static_cast<size_t>(m) * n);
    parallel(nth, [&](int tid, int nt) {
      int64_t k0, k1;
      split_range(k, tid, nt, k0, k1);
      const float* ap = transA ? a + k0 * lda : a + k0;
      const float* bp = transB ? b + k0 : b + k0 * ldb;
      const int kk = static_cast<int>(k1 - k0);
      if (tid == 0) sgemm_serial(transA, transB, m, n, kk, alpha, ap, lda, bp, ldb, beta, c, ldc);
      else sgemm_serial(transA, transB, m, n, kk, alpha, ap, lda, bp, ldb, 0.0f, scratch(kScratchPartial, tid), n);
    });
    const int64_t mn = static_cast<int64_t>(m) * n;
    for (int t = 1; t < nth; t++) {
      const float* p = scratch(kScratchPartial, t);
      for (int64_t i = 0; i < mn; i++) c[i] += p[i];
    }
    return;
  }
  // Split C along its longer side, in blocks that keep rows/columns aligned
  // to 16 floats (one cache line), so the threads never share a line of C.
  const bool by_cols = n >= m;
  const int len = by_cols ? n : m;
  const int unit = by_cols ? 16 : 1;
  parallel(nth, [&](int tid, int nt) {
    const int blocks = (len + unit - 1) / unit;
    const int b0 = static_cast<int>(static_cast<int64_t>(blocks) * tid / nt);
    const int b1 = static_cast<int>(static_cast<int64_t>(blocks) * (tid + 1) / nt);
    const int i0 = b0 * unit, i1 = std::min(len, b1 * unit);
    if (i0 >= i1) return;
    if (by_cols) {
      const float* bp = transB ? b + static_cast<int64_t>(i0) * ldb : b + i0;
      sgemm_serial(transA, transB, m, i1 - i0, k, alpha, a, lda, bp, ldb, beta, c + i0, ldc);
    } else {
      const float* ap = transA ? a + i0 : a + static_cast<int64_t>(i0) * lda;
      sgemm_serial(transA, transB, i1 - i0, n, k, alpha, ap, lda, b, ldb, beta,
                   c + static_cast<int64_t>(i0) * ldc, ldc);
    }
  });
}

}  // namespace eb
