// Shared by the kernels-*.test.ts files: the tolerances, the geometry
// builders and the small array helpers for comparing the native addon with
// the TypeScript reference.
import { outSize, referenceKernels } from '../src/native/index.js';
import type { ConvGeometry, PoolGeometry } from '../src/native/index.js';
import { Rng, nativeOrFail, randu } from './helpers.js';
import type { Tolerance } from './helpers.js';
export const ref = referenceKernels;

export const nat = nativeOrFail;

// Tolerances.
// float32 has a unit roundoff u = 6e-8. A k-term sum evaluated in float32 in
// any order (blocked GEMM, im2col, SIMD lanes, threads) is off by at most about
// k * u * sum|terms| and typically sqrt(k) * u * that. The reductions here have
// k up to a few hundred with O(1) data, which keeps the error well under 1e-4
// of the largest |output|; the reference itself sums in float64. An indexing
// bug (a missed padding tap, a wrong stride) is off by a whole term, i.e. by
// the order of the outputs themselves, so 1e-4 still catches it.
export const REDUCTION: Tolerance = { rtol: 1e-4, atol: 1e-6 };
// A handful of float32 operations per element: a few ulps.
export const FEW_OPS: Tolerance = { rtol: 1e-6, atol: 1e-7 };

export function copy<T extends Float32Array | Int32Array>(a: T): T { return a.slice() as T; }
export const f32 = (len: number): Float32Array => new Float32Array(len);
export const convOutLen = (g: ConvGeometry) => g.n * g.cout * outSize(g.h, g.kh, g.sh, g.ph) * outSize(g.w, g.kw, g.sw, g.pw);
export const poolOutLen = (g: PoolGeometry) => g.n * g.c * outSize(g.h, g.kh, g.sh, g.ph) * outSize(g.w, g.kw, g.sw, g.pw);
export const convName = (g: ConvGeometry) =>
  `conv n${g.n} ${g.cin}->${g.cout} ${g.h}x${g.w} k${g.kh}x${g.kw} s${g.sh},${g.sw} p${g.ph},${g.pw}`;
export const poolName = (g: PoolGeometry) => `pool n${g.n} c${g.c} ${g.h}x${g.w} k${g.kh}x${g.kw} s${g.sh},${g.sw} p${g.ph},${g.pw}`;

export function geom(n: number, cin: number, h: number, w: number, cout: number, kh: number, kw: number,
              sh: number, sw: number, ph: number, pw: number): ConvGeometry {
  return { n, cin, h, w, cout, kh, kw, sh, sw, ph, pw };
}

export function convInputs(g: ConvGeometry, rng: Rng) {
  return {
    x: randu(rng, g.n * g.cin * g.h * g.w), w: randu(rng, g.cout * g.cin * g.kh * g.kw),
    bias: randu(rng, g.cout), dy: randu(rng, convOutLen(g)),
  };
}

export function pgeom(n: number, c: number, h: number, w: number, kh: number, kw: number,
               sh: number, sw: number, ph: number, pw: number): PoolGeometry {
  return { n, c, h, w, kh, kw, sh, sw, ph, pw };
}
