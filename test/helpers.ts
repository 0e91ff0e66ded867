// Shared test helpers: seeded random data, array comparisons with a single
// tolerance for the whole array, and a finite-difference gradient checker.
import assert from 'node:assert/strict';
import { Rng } from '../src/util/prng.js';
import { checked, nativeKernels, nativeLoadError, type Kernels } from '../src/native/index.js';

export { Rng };

/** Normal values (mean, std). */
export function randn(rng: Rng, len: number, std = 1, mean = 0): Float32Array {
  return rng.fillNormal(new Float32Array(len), mean, std);
}

/** Uniform values in [lo, hi). */
export function randu(rng: Rng, len: number, lo = -1, hi = 1): Float32Array {
  return rng.fillUniform(new Float32Array(len), lo, hi);
}

/** Labels uniform in 0..classes-1. */
export function randLabels(rng: Rng, n: number, classes: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.int(classes);
  return out;
}

/**
 * Uniform values in [lo, hi) that stay at least `margin` away from every
 * point in `kinks`, so finite differences never straddle a kink (relu at 0,
 * hardtanh at lo and hi).
 */
export function randAwayFrom(rng: Rng, len: number, kinks: number[], margin: number, lo = -1, hi = 1): Float32Array {
  const out = new Float32Array(len);
  for (let i = 0; i < len; i++) {
    let v: number;
    do v = Math.fround(lo + (hi - lo) * rng.uniform());
    while (kinks.some((k) => Math.abs(v - k) < margin));
    out[i] = v;
  }
  return out;
}

/**
 * A shuffled grid of len values spaced `spacing` apart and centred on 0: no two
 * values are closer than `spacing`, so a max pool's choice cannot flip under a
 * perturbation smaller than spacing / 2.
 */
export function randDistinct(rng: Rng, len: number, spacing: number): Float32Array {
  const out = new Float32Array(len);
  for (let i = 0; i < len; i++) out[i] = (i - (len - 1) / 2) * spacing;
  return rng.shuffle(out);
}

/** A buffer filled with NaN: an output kernel must overwrite every element of it. */
export function nanFilled(len: number): Float32Array {
  return new Float32Array(len).fill(NaN);
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** Largest |a - b|; Infinity when exactly one side is NaN or the lengths differ. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const an = Number.isNaN(a[i]), bn = Number.isNaN(b[i]);
    if (an || bn) { if (an !== bn) return Infinity; continue; }
    if (a[i] === b[i]) continue; // also covers equal infinities
    m = Math.max(m, Math.abs(a[i] - b[i]));
  }
  return m;
}

export interface Tolerance {
  /** Allowed error relative to the largest |expected| in the array. */
  rtol?: number;
  /** Allowed absolute error, added to the relative part. */
  atol?: number;
}

/**
 * Asserts max |got - want| <= atol + rtol * max|want|. One bound for the whole
 * array, not per element: float32 sums with cancellation have errors of the
 * order of the terms, not of the (possibly tiny) result.
 */
export function assertClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: Tolerance, what: string): void {
  assert.equal(got.length, want.length, `${what}: length ${got.length} != ${want.length}`);
  const limit = (tol.atol ?? 0) + (tol.rtol ?? 0) * maxAbs(want);
  const diff = maxAbsDiff(got, want);
  if (diff <= limit) return;
  let worst = 0, worstErr = -1;
  for (let i = 0; i < got.length; i++) {
    const e = Number.isNaN(got[i]) !== Number.isNaN(want[i]) ? Infinity : Math.abs(got[i] - want[i]);
    if (e > worstErr) { worstErr = e; worst = i; }
  }
  assert.fail(`${what}: max abs error ${diff} > ${limit.toExponential(2)}; worst at [${worst}]: got ${got[worst]}, want ${want[worst]}`);
}

/** Exact element-wise equality (for integer outputs such as argmax). */
export function assertExact(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  assert.equal(got.length, want.length, `${what}: length ${got.length} != ${want.length}`);
  for (let i = 0; i < got.length; i++) {
    if (!Object.is(got[i], want[i])) assert.fail(`${what}: first difference at [${i}]: got ${got[i]}, want ${want[i]}`);
  }
}

/** Scalar version of assertClose. */
export function assertNear(got: number, want: number, tol: Tolerance, what: string): void {
  const limit = (tol.atol ?? 0) + (tol.rtol ?? 0) * Math.abs(want);
  if (!(Math.abs(got - want) <= limit)) assert.fail(`${what}: got ${got}, want ${want} (|diff| ${Math.abs(got - want)} > ${limit.toExponential(2)})`);
}

/** Sum of w[i] * y[i] in float64: turns an output into a scalar loss with dL/dy = w. */
export function dot(w: ArrayLike<number>, y: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += w[i] * y[i];
  return s;
}

export interface GradCheck {
  /** The scalar function of x (evaluated with a float32 forward; summed in float64). */
  f: (x: Float32Array) => number;
  /** Where to check. Not modified. */
  x: Float32Array;
  /** The analytic gradient df/dx at x. */
  grad: ArrayLike<number>;
  rng: Rng;
  /** Largest perturbation of any one element. Must stay below the distance to any kink. */
  h: number;
  /** Random directions to try. */
  trials?: number;
  /** Allowed relative error of the directional derivative. */
  rtol?: number;
  /** Absolute floor, for directions along which the derivative is ~0. */
  atol?: number;
  what: string;
}

/**
 * Checks a gradient along random directions with a central difference.
 *
 * x + h d and x - h d are rounded to float32 (the forward only takes float32),
 * so instead of dividing by 2h we compare f(x+) - f(x-) against
 * grad . (x+ - x-), using the perturbation that was actually applied. The
 * rounding of the inputs then costs nothing; what is left is the float32
 * rounding of the forward outputs and the O(h^2) truncation error, both far
 * below the 1e-2 relative tolerance at the step sizes used here.
 */
export function checkGradient(opts: GradCheck): void {
  const { f, x, grad, rng, h, what } = opts;
  const trials = opts.trials ?? 3, rtol = opts.rtol ?? 1e-2, atol = opts.atol ?? 1e-6;
  assert.equal(grad.length, x.length, `${what}: gradient length`);
  for (let t = 0; t < trials; t++) {
    const d = new Float64Array(x.length);
    for (let i = 0; i < d.length; i++) d[i] = rng.normal();
    const dmax = maxAbs(d);
    const xp = new Float32Array(x.length), xm = new Float32Array(x.length);
    for (let i = 0; i < d.length; i++) {
      xp[i] = x[i] + (h * d[i]) / dmax;
      xm[i] = x[i] - (h * d[i]) / dmax;
    }
    const numeric = f(xp) - f(xm);
    let analytic = 0;
    for (let i = 0; i < x.length; i++) analytic += grad[i] * (xp[i] - xm[i]);
    const err = Math.abs(numeric - analytic);
    const limit = atol + rtol * Math.max(Math.abs(numeric), Math.abs(analytic));
    if (!(err <= limit)) {
      assert.fail(`${what}: directional derivative (trial ${t}) numeric ${numeric} vs analytic ${analytic}, ` +
        `relative error ${(err / Math.max(Math.abs(numeric), Math.abs(analytic))).toExponential(2)}`);
    }
  }
}

let nativeWrapped: Kernels | null = null;
/** The checked native kernels. A missing addon is a failure, not a skip: it must be built before the tests run. */
export function nativeOrFail(): Kernels {
  if (!nativeKernels) {
    const why = nativeLoadError() || `EQUALBITS_BACKEND=${process.env.EQUALBITS_BACKEND} turned it off`;
    assert.fail(`the native addon did not load (build it before testing): ${why}`);
  }
  return (nativeWrapped ??= checked(nativeKernels));
}
