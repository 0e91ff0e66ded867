// The paper's toy study (method.md, item 4): how many distinct decision
// boundaries can a 2-3-1 network with 12 binary weights draw, over all 4096
// weight vectors and over the 924 with six -1 and six +1 (the equal ratio)?
// Exact enumeration, no training, with the arithmetic of the authors'
// numpy script (ToyExample/toy_example.py) so that borderline grid points
// fall the same way:
//   - grid: numpy arange(-5, 5, 0.04) on both axes (250 values, each
//     start + i * delta with delta = (start + step) - start), meshgrid order
//     (rows are y, columns x);
//   - weights ordered W1 [in, out] (6), b1 (3), W2 (3); hidden = sigmoid(x W1 + b1),
//     out = sigmoid(hidden W2), prediction = round-half-to-even(out), i.e. 1 iff out > 0.5;
//   - constant predictors are dropped; two networks draw the same boundary
//     when their grid predictions are equal or complementary.

import { TOY_HIDDEN } from '../models/toy.js';

export const TOY_INPUTS = 2;
export const TOY_WEIGHTS = TOY_INPUTS * TOY_HIDDEN + 2 * TOY_HIDDEN; // 12

export interface ToyCount { combinations: number; unique: number }
export interface ToyResult {
  all: ToyCount;
  bihalf: ToyCount;
  /** k = number of -1 weights, 0..12. */
  perK: (ToyCount & { k: number })[];
  gridSize: number;
}

/** numpy.arange(start, stop, step) in float64, computed the way numpy fills it. */
export function numpyArange(start: number, stop: number, step: number): Float64Array {
  const n = Math.ceil((stop - start) / step);
  const delta = (start + step) - start;
  return Float64Array.from({ length: n }, (_, i) => start + i * delta);
}

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

/** Weight i of vector v: bit i set means -1. */
const weight = (v: number, i: number): number => ((v >> i) & 1 ? -1 : 1);

/** Hidden unit activations over the grid for each of the 8 (w_x, w_y, b) sign patterns. */
function hiddenTables(xs: Float64Array): Float64Array[] {
  const n = xs.length;
  return Array.from({ length: 8 }, (_, cfg) => {
    const wx = cfg & 1 ? -1 : 1, wy = cfg & 2 ? -1 : 1, b = cfg & 4 ? -1 : 1;
    const a = new Float64Array(n * n);
    for (let r = 0; r < n; r++) {
      for (let c = 0; c < n; c++) a[r * n + c] = sigmoid(xs[c] * wx + xs[r] * wy + b);
    }
    return a;
  });
}

/**
 * The grid prediction of weight vector v as a bit string, complemented if
 * needed so that the first point is 0 (equal-or-complement becomes plain
 * equality); null for a constant predictor.
 */
function boundaryKey(v: number, tables: Float64Array[], points: number): string | null {
  const table = (j: number) =>
    tables[((v >> j) & 1) | (((v >> (TOY_HIDDEN + j)) & 1) << 1) | (((v >> (2 * TOY_HIDDEN + j)) & 1) << 2)];
  const [a0, a1, a2] = [table(0), table(1), table(2)];
  const [w0, w1, w2] = [weight(v, 9), weight(v, 10), weight(v, 11)];
  const words = new Uint32Array(Math.ceil(points / 32));
  let ones = 0;
  for (let p = 0; p < points; p++) {
    const z = a0[p] * w0 + a1[p] * w1 + a2[p] * w2;
    // Far from 0 the sign decides; near 0 the rounding of sigmoid does.
    const on = Math.abs(z) > 1e-10 ? z > 0 : sigmoid(z) > 0.5;
    if (on) { words[p >> 5] |= 1 << (p & 31); ones++; }
  }
  if (ones === 0 || ones === points) return null;
  if (words[0] & 1) {
    for (let i = 0; i < words.length; i++) words[i] = ~words[i];
    const tail = points & 31;
    if (tail) words[words.length - 1] &= (1 << tail) - 1;
  }
  return Buffer.from(words.buffer).toString('latin1');
}

const popcount = (v: number): number => { let c = 0; for (; v; v &= v - 1) c++; return c; };

/** Enumerates every binary weight vector; onProgress gets (done, total). */
export function enumerateToy(onProgress?: (done: number, total: number) => void): ToyResult {
  const xs = numpyArange(-5, 5, 0.04), points = xs.length * xs.length;
  const tables = hiddenTables(xs);
  const total = 2 ** TOY_WEIGHTS;
  const all = new Set<string>();
  const byK = Array.from({ length: TOY_WEIGHTS + 1 }, () => ({ combinations: 0, keys: new Set<string>() }));
  for (let v = 0; v < total; v++) {
    const k = popcount(v), key = boundaryKey(v, tables, points);
    byK[k].combinations++;
    if (key !== null) { all.add(key); byK[k].keys.add(key); }
    if (onProgress && (v & 63) === 63) onProgress(v + 1, total);
  }
  const perK = byK.map((b, k) => ({ k, combinations: b.combinations, unique: b.keys.size }));
  const half = perK[TOY_WEIGHTS / 2];
  return { all: { combinations: total, unique: all.size }, bihalf: { combinations: half.combinations, unique: half.unique }, perK, gridSize: xs.length };
}
