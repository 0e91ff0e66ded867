// Reference GEMM: the textbook triple loop. Sums are kept in a JS number
// (float64), so this is more accurate than any float32 BLAS it checks.
import type { F32 } from '../api.js';

export function sgemm(transA: boolean, transB: boolean, m: number, n: number, k: number,
                      alpha: number, a: F32, b: F32, beta: number, c: F32): void {
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let p = 0; p < k; p++) {
        // op(A)[i, p] and op(B)[p, j], read from the stored (possibly transposed) layout.
        const aip = transA ? a[p * m + i] : a[i * k + p];
        const bpj = transB ? b[j * k + p] : b[p * n + j];
        sum += aip * bpj;
      }
      // BLAS convention: beta = 0 means C is write-only, so NaN garbage in C
      // must not leak through 0 * NaN.
      c[i * n + j] = beta === 0 ? alpha * sum : alpha * sum + beta * c[i * n + j];
    }
  }
}
