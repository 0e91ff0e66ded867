// The native addon against the TypeScript reference, kernel by kernel, on
// seeded random shapes; the reference against hand-computed values and
// against finite differences; and the checked wrapper's shape errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checked, outSize, referenceKernels } from '../src/native/index.js';
import type { ConvGeometry, Kernels, PoolGeometry } from '../src/native/index.js';
import { ShapeError } from '../src/util/errors.js';
import {
  Rng, assertClose, assertExact, assertNear, checkGradient, dot, maxAbs, nanFilled, nativeOrFail, randAwayFrom,
  randDistinct, randLabels, randn, randu,
} from './helpers.js';
import type { Tolerance } from './helpers.js';

const ref = referenceKernels;

const nat = nativeOrFail;

// Tolerances.
// float32 has a unit roundoff u = 6e-8. A k-term sum evaluated in float32 in
// any order (blocked GEMM, im2col, SIMD lanes, threads) is off by at most about
// k * u * sum|terms| and typically sqrt(k) * u * that. The reductions here have
// k up to a few hundred with O(1) data, which keeps the error well under 1e-4
// of the largest |output|; the reference itself sums in float64. An indexing
// bug (a missed padding tap, a wrong stride) is off by a whole term, i.e. by
// the order of the outputs themselves, so 1e-4 still catches it.
const REDUCTION: Tolerance = { rtol: 1e-4, atol: 1e-6 };
// A handful of float32 operations per element: a few ulps.
const FEW_OPS: Tolerance = { rtol: 1e-6, atol: 1e-7 };

function copy<T extends Float32Array | Int32Array>(a: T): T { return a.slice() as T; }
const f32 = (len: number): Float32Array => new Float32Array(len);
const convOutLen = (g: ConvGeometry) => g.n * g.cout * outSize(g.h, g.kh, g.sh, g.ph) * outSize(g.w, g.kw, g.sw, g.pw);
const poolOutLen = (g: PoolGeometry) => g.n * g.c * outSize(g.h, g.kh, g.sh, g.ph) * outSize(g.w, g.kw, g.sw, g.pw);
const convName = (g: ConvGeometry) =>
  `conv n${g.n} ${g.cin}->${g.cout} ${g.h}x${g.w} k${g.kh}x${g.kw} s${g.sh},${g.sw} p${g.ph},${g.pw}`;
const poolName = (g: PoolGeometry) => `pool n${g.n} c${g.c} ${g.h}x${g.w} k${g.kh}x${g.kw} s${g.sh},${g.sw} p${g.ph},${g.pw}`;

// ---------------------------------------------------------------------------
// The addon itself
// ---------------------------------------------------------------------------

test('native addon is loaded', () => {
  nat();
});

test('native thread count can be set and read back', () => {
  const k = nat();
  const before = k.getNumThreads();
  assert.ok(Number.isInteger(before) && before >= 1, `getNumThreads() = ${before}`);
  try {
    for (const t of [1, 2]) {
      k.setNumThreads(t);
      assert.equal(k.getNumThreads(), t);
    }
  } finally {
    k.setNumThreads(before);
  }
  assert.equal(ref.getNumThreads(), 1);
  assert.throws(() => k.setNumThreads(0), ShapeError);
});

// ---------------------------------------------------------------------------
// sgemm
// ---------------------------------------------------------------------------

test('sgemm: native matches reference for all transpose combinations, alpha and beta', () => {
  const k = nat();
  const rng = new Rng(101);
  // k = 0 and alpha = 0 reduce to C = beta * C.
  const shapes: [number, number, number][] = [[1, 1, 1], [7, 13, 5], [3, 1, 9], [1, 10, 300], [33, 17, 65], [130, 70, 129], [3, 4, 0]];
  const scalars: [number, number][] = [[1, 0], [0.7, -1.3], [-2, 0.5], [1, 1], [0.25, 0], [0, 0.5], [0, 0]];
  for (const [m, n, kk] of shapes) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        for (const [alpha, beta] of scalars) {
          const a = randu(rng, m * kk), b = randu(rng, kk * n);
          // With beta = 0 the old C must be ignored entirely, even NaN.
          const c0 = beta === 0 ? nanFilled(m * n) : randu(rng, m * n);
          const cr = copy(c0), cn = copy(c0);
          const a0 = copy(a), b0 = copy(b);
          ref.sgemm(transA, transB, m, n, kk, alpha, a, b, beta, cr);
          k.sgemm(transA, transB, m, n, kk, alpha, a, b, beta, cn);
          const what = `sgemm ${transA ? 'T' : 'N'}${transB ? 'T' : 'N'} m${m} n${n} k${kk} alpha ${alpha} beta ${beta}`;
          assertClose(cn, cr, REDUCTION, what);
          assertExact(a, a0, `${what}: A modified`);
          assertExact(b, b0, `${what}: B modified`);
        }
      }
    }
  }
});

// ---------------------------------------------------------------------------
// Convolution
// ---------------------------------------------------------------------------

function geom(n: number, cin: number, h: number, w: number, cout: number, kh: number, kw: number,
              sh: number, sw: number, ph: number, pw: number): ConvGeometry {
  return { n, cin, h, w, cout, kh, kw, sh, sw, ph, pw };
}

const convCases: ConvGeometry[] = [
  geom(1, 1, 5, 7, 1, 3, 3, 1, 1, 1, 1),
  geom(2, 3, 9, 9, 16, 3, 3, 2, 2, 1, 1),
  geom(1, 16, 5, 7, 3, 1, 1, 1, 1, 0, 0),
  geom(2, 4, 7, 7, 8, 1, 1, 2, 2, 0, 0),   // 1x1 stride-2 shortcut
  geom(3, 3, 7, 5, 4, 3, 1, 1, 1, 1, 0),   // non-square kernel
  geom(2, 1, 9, 9, 3, 3, 3, 2, 2, 2, 2),
  geom(1, 3, 6, 5, 2, 1, 3, 2, 1, 0, 2),   // different stride and padding per axis
  geom(2, 16, 8, 8, 16, 3, 3, 1, 1, 1, 1),
  geom(1, 2, 3, 3, 2, 3, 3, 1, 1, 0, 0),   // kernel covers the whole input
  geom(2, 3, 4, 4, 5, 5, 5, 1, 1, 2, 2),
  geom(1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0),
  geom(1, 3, 10, 6, 16, 3, 3, 2, 2, 0, 0), // stride 2, no padding, even input
];
{
  // Plus a few drawn at random from the same menus.
  const rng = new Rng(7);
  const pick = <T>(xs: T[]): T => xs[rng.int(xs.length)];
  for (let i = 0; i < 6; i++) {
    const kh = pick([1, 3, 3, 2]), kw = pick([1, 3, 3]);
    const g = geom(pick([1, 2, 3]), pick([1, 3, 16]), pick([5, 7, 9, 8]), pick([5, 7, 9, 6]), pick([1, 3, 16]),
      kh, kw, pick([1, 2]), pick([1, 2]), pick([0, 1, 2]), pick([0, 1, 2]));
    if (outSize(g.h, kh, g.sh, g.ph) >= 1 && outSize(g.w, kw, g.sw, g.pw) >= 1) convCases.push(g);
  }
}

function convAll(k: Kernels, g: ConvGeometry, x: Float32Array, w: Float32Array, bias: Float32Array, dy: Float32Array) {
  const y = nanFilled(convOutLen(g)), yNoBias = nanFilled(convOutLen(g));
  const dx = nanFilled(x.length), dw = nanFilled(w.length), db = nanFilled(bias.length), dwNoDb = nanFilled(w.length);
  k.conv2dForward(g, x, w, bias, y);
  k.conv2dForward(g, x, w, null, yNoBias);
  k.conv2dBackwardData(g, dy, w, dx);
  k.conv2dBackwardWeight(g, x, dy, dw, db);
  k.conv2dBackwardWeight(g, x, dy, dwNoDb, null);
  return { y, yNoBias, dx, dw, db, dwNoDb };
}

function convInputs(g: ConvGeometry, rng: Rng) {
  return {
    x: randu(rng, g.n * g.cin * g.h * g.w), w: randu(rng, g.cout * g.cin * g.kh * g.kw),
    bias: randu(rng, g.cout), dy: randu(rng, convOutLen(g)),
  };
}

function compareConv(k: Kernels, g: ConvGeometry, rng: Rng): void {
  const { x, w, bias, dy } = convInputs(g, rng);
  const inputs = [x, w, bias, dy].map(copy);
  const r = convAll(ref, g, x, w, bias, dy);
  const n = convAll(k, g, x, w, bias, dy);
  const what = convName(g);
  assertClose(n.y, r.y, REDUCTION, `${what} forward`);
  assertClose(n.yNoBias, r.yNoBias, REDUCTION, `${what} forward without bias`);
  assertClose(n.dx, r.dx, REDUCTION, `${what} backward data`);
  assertClose(n.dw, r.dw, REDUCTION, `${what} backward weight`);
  assertClose(n.db, r.db, REDUCTION, `${what} backward bias`);
  assertClose(n.dwNoDb, r.dw, REDUCTION, `${what} backward weight without db`);
  [x, w, bias, dy].forEach((a, i) => assertExact(a, inputs[i], `${what}: input ${i} modified`));
}

test('conv2d: native matches reference (forward, backward data, backward weight and bias)', () => {
  const k = nat();
  const rng = new Rng(202);
  for (const g of convCases) compareConv(k, g, rng);
});

// Shapes that take the Winograd path of the native forward conv (3x3,
// stride 1, >= 8 channels and >= 8 images; native/winograd.cc): F(4x4) where
// there are >= 192 tiles of 4x4 per thread, else F(2x2) where there are >= 64
// tiles of 2x2 per thread. Backward data (stride 1) runs as a forward conv
// with cin and cout swapped and takes the same path; backward weight runs
// the adjoint of the same transforms. Odd sizes leave the
// last tile row and column overhanging the output, batches that are not a
// multiple of 8 leave vector lanes empty, small images put several groups
// of 8 images in one block.
const winogradCases: ConvGeometry[] = [
  // F(4x4)
  geom(16, 8, 32, 32, 8, 3, 3, 1, 1, 1, 1),
  geom(9, 12, 29, 27, 16, 3, 3, 1, 1, 1, 1),   // 1 of 4 rows and 3 of 4 columns in the last tiles
  geom(10, 16, 30, 30, 8, 3, 3, 1, 1, 0, 0),
  geom(12, 8, 21, 25, 12, 3, 3, 1, 1, 2, 2),
  geom(56, 8, 8, 8, 8, 3, 3, 1, 1, 1, 1),      // 7 groups of 8 images over 2 blocks
  geom(8, 128, 32, 32, 8, 3, 3, 1, 1, 1, 1),   // long sums over cin
  geom(40, 16, 16, 16, 16, 3, 3, 1, 1, 1, 1),  // dW summed over 4 slots (5 blocks of 8 images)
  // F(2x2)
  geom(9, 16, 7, 7, 24, 3, 3, 1, 1, 1, 1),
  geom(8, 24, 9, 5, 16, 3, 3, 1, 1, 1, 1),
  geom(13, 8, 8, 8, 8, 3, 3, 1, 1, 0, 0),
  geom(8, 8, 5, 9, 16, 3, 3, 1, 1, 2, 1),
  geom(20, 16, 4, 4, 16, 3, 3, 1, 1, 1, 1),    // blocks of 2 groups of 8 images, and of 4 images
  geom(9, 96, 8, 8, 8, 3, 3, 1, 1, 1, 1),
  geom(8, 128, 8, 8, 128, 3, 3, 1, 1, 1, 1),  // dW from blocks of 256 tiles (>= 128 channels each way)
];

/** The tile size native/winograd.cc picks for g on `threads` threads (its tile_size): 4, 2, or 0 for im2col. */
function winogradTileSize(g: ConvGeometry, threads: number): number {
  const oh = outSize(g.h, 3, 1, g.ph), ow = outSize(g.w, 3, 1, g.pw);
  const nth = Math.max(1, Math.min(Math.floor((2 * g.n * g.cout * g.cin * 9 * oh * ow) / 4e6), threads));
  const tiles = (m: number) => g.n * Math.ceil(oh / m) * Math.ceil(ow / m);
  return tiles(4) >= 192 * nth ? 4 : tiles(2) >= 64 * nth ? 2 : 0;
}

/** max |got - want| / (1 + max |want|): the error measure the Winograd tolerance bounds. */
function relErr(got: Float32Array, want: Float32Array): number {
  let err = 0;
  for (let i = 0; i < got.length; i++) err = Math.max(err, Number.isNaN(got[i]) ? Infinity : Math.abs(got[i] - want[i]));
  return err / (1 + maxAbs(want));
}

test('conv2d: Winograd path (forward, backward data, backward weight) matches reference and is deterministic', (t) => {
  const k = nat();
  const rng = new Rng(303);
  const before = k.getNumThreads();
  // Rounding: the transforms add and scale n x n tiles with entries up to 8
  // (F(4x4)), so their float32 error is some 10x that of the plain sums; the
  // F(4x4) forward of 128 input channels is off by ~5e-6 of max |y|. A wrong
  // transform coefficient or a misplaced tile is off by the order of y.
  const tol: Tolerance = { rtol: 1e-4, atol: 1e-4 };
  let worstY = 0, worstDx = 0, worstDw = 0;
  try {
    k.setNumThreads(2);
    for (const g of winogradCases) {
      const { x, w, bias, dy } = convInputs(g, rng);
      const what = convName(g);
      const y = nanFilled(convOutLen(g)), yNoBias = nanFilled(convOutLen(g)), dx = nanFilled(x.length);
      const dw = nanFilled(w.length), db = nanFilled(g.cout), dwNoDb = nanFilled(w.length);
      const yr = new Float32Array(y.length), yrNoBias = new Float32Array(y.length), dxr = new Float32Array(x.length);
      const dwr = new Float32Array(w.length), dbr = new Float32Array(g.cout);
      ref.conv2dForward(g, x, w, bias, yr);
      ref.conv2dBackwardData(g, dy, w, dxr);
      ref.conv2dBackwardWeight(g, x, dy, dwr, dbr);
      k.conv2dForward(g, x, w, bias, y);
      k.conv2dBackwardData(g, dy, w, dx);
      k.conv2dBackwardWeight(g, x, dy, dw, db);
      k.conv2dBackwardWeight(g, x, dy, dwNoDb, null);
      assertClose(y, yr, tol, `${what} forward`);
      assertClose(dx, dxr, tol, `${what} backward data`);
      assertClose(dw, dwr, tol, `${what} backward weight`);
      assertClose(db, dbr, REDUCTION, `${what} backward bias`);
      assertExact(dwNoDb, dw, `${what} backward weight without db`);
      worstY = Math.max(worstY, relErr(y, yr));
      worstDx = Math.max(worstDx, relErr(dx, dxr));
      worstDw = Math.max(worstDw, relErr(dw, dwr));
      if (g.cin <= 16) { // the bias is added in the output transform; cheap shapes only
        ref.conv2dForward(g, x, w, null, yrNoBias);
        k.conv2dForward(g, x, w, null, yNoBias);
        assertClose(yNoBias, yrNoBias, tol, `${what} forward without bias`);
      }
      // Blocks are fixed by the shape, whichever thread runs them.
      const again = nanFilled(y.length);
      k.conv2dForward(g, x, w, bias, again);
      assertExact(again, y, `${what} forward run twice`);
      // dW's partial sums cover fixed ranges of images, planned as for one
      // thread, and are added in a fixed order: the same bits on 1 thread.
      k.setNumThreads(1);
      const dwOne = nanFilled(w.length);
      k.conv2dBackwardWeight(g, x, dy, dwOne, null);
      k.setNumThreads(2);
      if (winogradTileSize(g, 1) === winogradTileSize(g, 2)) assertExact(dwOne, dw, `${what} backward weight on 1 thread`);
    }
  } finally {
    k.setNumThreads(before);
  }
  t.diagnostic(`max error / (1 + max |ref|): forward ${worstY.toExponential(2)}, backward data ${worstDx.toExponential(2)}, backward weight ${worstDw.toExponential(2)}`);
});

test('conv2d: Winograd backward weight of a big layer, threads splitting the positions of one shared dU', () => {
  // 288 x 256 filters: dU (16 x cout x cin floats for F(2x2)) passes 4 MB, so
  // every thread transforms every block and runs the GEMMs of its own share
  // of the 16 positions (native/winograd.cc, backward_weight). 32 images of
  // 4x4 outputs take F(2x2) on 1 and on 2 threads.
  const k = nat();
  const before = k.getNumThreads();
  const g = geom(32, 256, 6, 6, 288, 3, 3, 1, 1, 0, 0);
  const { x, dy } = convInputs(g, new Rng(404));
  const dwr = new Float32Array(g.cout * g.cin * 9), dbr = new Float32Array(g.cout);
  ref.conv2dBackwardWeight(g, x, dy, dwr, dbr);
  try {
    const got: Float32Array[] = [];
    for (const threads of [1, 2]) {
      k.setNumThreads(threads);
      assert.equal(winogradTileSize(g, threads), 2);
      const dw = nanFilled(dwr.length), db = nanFilled(g.cout);
      k.conv2dBackwardWeight(g, x, dy, dw, db);
      assertClose(dw, dwr, { rtol: 1e-4, atol: 1e-4 }, `${convName(g)} backward weight, ${threads} thread(s)`);
      assertClose(db, dbr, REDUCTION, `${convName(g)} backward bias, ${threads} thread(s)`);
      got.push(dw);
    }
    assertExact(got[1], got[0], 'the same bits on 1 and 2 threads');
  } finally {
    k.setNumThreads(before);
  }
});

// ---------------------------------------------------------------------------
// Batch norm
// ---------------------------------------------------------------------------

interface BnCase { n: number; c: number; hw: number; mean: number; std: number }
const bnCases: BnCase[] = [
  { n: 4, c: 3, hw: 1, mean: 0, std: 1 },     // BatchNorm1d
  { n: 2, c: 16, hw: 35, mean: 0, std: 1 },   // 5x7 maps
  { n: 1, c: 3, hw: 81, mean: 0, std: 2 },    // batch 1, 9x9 maps
  { n: 1, c: 1, hw: 2, mean: 0, std: 1 },     // the smallest trainable case
  { n: 3, c: 5, hw: 9, mean: 10, std: 1 },    // mean large compared with the spread
  { n: 16, c: 4, hw: 1, mean: -3, std: 0.1 },
  { n: 8, c: 3, hw: 300, mean: 400, std: 0.05 }, // one-pass variance: |mean| / std = 8000, blocks of 256 + a tail
];

function bnParams(rng: Rng, cs: BnCase) {
  const { n, c, hw } = cs;
  return {
    x: randn(rng, n * c * hw, cs.std, cs.mean),
    gamma: randu(rng, c, 0.5, 1.5), beta: randn(rng, c, 0.5),
    runningMean: randn(rng, c, 0.1), runningVar: randu(rng, c, 0.5, 1.5),
    dy: randn(rng, n * c * hw),
  };
}

function bnAll(k: Kernels, cs: BnCase, p: ReturnType<typeof bnParams>, eps: number, momentum: number) {
  const { n, c, hw } = cs;
  const len = n * c * hw;
  const rm = copy(p.runningMean), rv = copy(p.runningVar);
  const y = nanFilled(len), saveMean = nanFilled(c), saveInvStd = nanFilled(c);
  k.batchNormForwardTrain(n, c, hw, p.x, p.gamma, p.beta, eps, momentum, rm, rv, y, saveMean, saveInvStd);
  return { y, saveMean, saveInvStd, rm, rv };
}

test('batchnorm: native matches reference in training mode, running stats included', () => {
  const k = nat();
  const rng = new Rng(303);
  for (const cs of bnCases) {
    const p = bnParams(rng, cs);
    const what = `batchnorm train n${cs.n} c${cs.c} hw${cs.hw} mean ${cs.mean} std ${cs.std}`;
    for (const momentum of [0.1, 1]) {
      const r = bnAll(ref, cs, p, 1e-5, momentum), nn = bnAll(k, cs, p, 1e-5, momentum);
      assertClose(nn.y, r.y, REDUCTION, `${what}: y`);
      assertClose(nn.saveMean, r.saveMean, REDUCTION, `${what}: saveMean`);
      assertClose(nn.saveInvStd, r.saveInvStd, REDUCTION, `${what}: saveInvStd`);
      assertClose(nn.rm, r.rm, REDUCTION, `${what}: runningMean (momentum ${momentum})`);
      assertClose(nn.rv, r.rv, REDUCTION, `${what}: runningVar (momentum ${momentum})`);
    }
  }
});

test('batchnorm: native matches reference in eval mode', () => {
  const k = nat();
  const rng = new Rng(304);
  for (const cs of bnCases) {
    const { n, c, hw } = cs;
    const p = bnParams(rng, cs);
    const run = (kk: Kernels) => {
      const y = nanFilled(n * c * hw), sm = nanFilled(c), si = nanFilled(c);
      const rm = copy(p.runningMean), rv = copy(p.runningVar);
      kk.batchNormForwardEval(n, c, hw, p.x, p.gamma, p.beta, 1e-3, rm, rv, y, sm, si);
      assertExact(rm, p.runningMean, 'eval must not touch runningMean');
      assertExact(rv, p.runningVar, 'eval must not touch runningVar');
      return { y, sm, si };
    };
    const r = run(ref), nn = run(k);
    const what = `batchnorm eval n${n} c${c} hw${hw}`;
    assertClose(nn.y, r.y, REDUCTION, `${what}: y`);
    assertClose(nn.sm, r.sm, FEW_OPS, `${what}: saveMean`);
    assertClose(nn.si, r.si, FEW_OPS, `${what}: saveInvStd`);
  }
});

test('batchnorm: native matches reference in backward, batchStats true and false', () => {
  const k = nat();
  const rng = new Rng(305);
  for (const cs of bnCases) {
    const { n, c, hw } = cs;
    const p = bnParams(rng, cs);
    for (const batchStats of [true, false]) {
      // Saved statistics from the reference forward of the matching mode.
      const y = nanFilled(n * c * hw), sm = nanFilled(c), si = nanFilled(c);
      if (batchStats) {
        ref.batchNormForwardTrain(n, c, hw, p.x, p.gamma, p.beta, 1e-5, 0.1, copy(p.runningMean), copy(p.runningVar), y, sm, si);
      } else {
        ref.batchNormForwardEval(n, c, hw, p.x, p.gamma, p.beta, 1e-5, p.runningMean, p.runningVar, y, sm, si);
      }
      const run = (kk: Kernels) => {
        const dx = nanFilled(n * c * hw), dgamma = nanFilled(c), dbeta = nanFilled(c);
        kk.batchNormBackward(n, c, hw, p.x, p.dy, p.gamma, sm, si, batchStats, dx, dgamma, dbeta);
        return { dx, dgamma, dbeta };
      };
      const r = run(ref), nn = run(k);
      const what = `batchnorm backward batchStats=${batchStats} n${n} c${c} hw${hw} mean ${cs.mean}`;
      // The terms of dx have the size |gamma| * invStd * |dy| and cancel (for
      // n*hw = 2, dx is ~0), so the error bound scales with the terms, not with dx.
      let termScale = 0;
      for (let ch = 0; ch < c; ch++) termScale = Math.max(termScale, Math.abs(p.gamma[ch]) * si[ch]);
      termScale *= maxAbs(p.dy);
      assertClose(nn.dx, r.dx, { rtol: 1e-4, atol: 1e-5 * termScale }, `${what}: dx`);
      assertClose(nn.dgamma, r.dgamma, REDUCTION, `${what}: dgamma`);
      assertClose(nn.dbeta, r.dbeta, REDUCTION, `${what}: dbeta`);
    }
  }
});

// ---------------------------------------------------------------------------
// Pooling
// ---------------------------------------------------------------------------

function pgeom(n: number, c: number, h: number, w: number, kh: number, kw: number,
               sh: number, sw: number, ph: number, pw: number): PoolGeometry {
  return { n, c, h, w, kh, kw, sh, sw, ph, pw };
}

const poolCases: PoolGeometry[] = [
  pgeom(1, 1, 4, 4, 2, 2, 2, 2, 0, 0),
  pgeom(2, 3, 5, 7, 3, 3, 2, 2, 1, 1),   // overlapping windows with padding
  pgeom(1, 16, 9, 9, 3, 3, 1, 1, 1, 1),  // heavily overlapping
  pgeom(2, 3, 7, 5, 2, 2, 1, 1, 1, 1),
  pgeom(1, 2, 6, 5, 3, 1, 2, 1, 1, 0),   // non-square window
  pgeom(2, 1, 8, 8, 4, 4, 2, 2, 2, 2),
  pgeom(3, 2, 1, 1, 1, 1, 1, 1, 0, 0),
  pgeom(1, 3, 9, 9, 3, 3, 3, 3, 0, 0),
  pgeom(2, 2, 7, 7, 3, 3, 2, 2, 0, 0),   // odd input, windows do not reach the last row/column
];

/** Random data, data with many exact ties, data below the padding's zero, and constant planes. */
function poolInputs(rng: Rng, len: number): [string, Float32Array][] {
  const ties = new Float32Array(len);
  for (let i = 0; i < len; i++) ties[i] = rng.int(3) - 1;
  return [
    ['normal', randn(rng, len)],
    ['ties', ties],
    ['all negative', randn(rng, len, 1, -5)],
    ['constant', new Float32Array(len).fill(-2)],
  ];
}

test('maxpool: native matches reference, argmax exactly (ties, padding, overlap)', () => {
  const k = nat();
  const rng = new Rng(404);
  for (const g of poolCases) {
    const inLen = g.n * g.c * g.h * g.w, outLen = poolOutLen(g);
    for (const [kind, x] of poolInputs(rng, inLen)) {
      const what = `maxpool ${poolName(g)} ${kind}`;
      const run = (kk: Kernels) => {
        const y = nanFilled(outLen), argmax = new Int32Array(outLen).fill(-7);
        kk.maxPool2dForward(g, x, y, argmax);
        const dy = new Rng(1).fillNormal(new Float32Array(outLen));
        const dx = nanFilled(inLen);
        kk.maxPool2dBackward(g, dy, argmax, dx);
        return { y, argmax, dx };
      };
      const r = run(ref), nn = run(k);
      assertExact(nn.y, r.y, `${what}: y`);
      assertExact(nn.argmax, r.argmax, `${what}: argmax`);
      assertClose(nn.dx, r.dx, FEW_OPS, `${what}: dx`);
    }
  }
});

test('maxpool backward: native matches reference on the same argmax', () => {
  // Backward alone, fed the reference's argmax, so a forward mismatch cannot mask it.
  const k = nat();
  const rng = new Rng(405);
  for (const g of poolCases) {
    const inLen = g.n * g.c * g.h * g.w, outLen = poolOutLen(g);
    const y = nanFilled(outLen), argmax = new Int32Array(outLen);
    ref.maxPool2dForward(g, randn(rng, inLen), y, argmax);
    const dy = randn(rng, outLen);
    const dr = nanFilled(inLen), dn = nanFilled(inLen);
    ref.maxPool2dBackward(g, dy, argmax, dr);
    k.maxPool2dBackward(g, dy, argmax, dn);
    assertClose(dn, dr, FEW_OPS, `maxpool backward ${poolName(g)}`);
  }
});

test('avgpool: native matches reference with padding (count_include_pad)', () => {
  const k = nat();
  const rng = new Rng(406);
  for (const g of poolCases) {
    const inLen = g.n * g.c * g.h * g.w, outLen = poolOutLen(g);
    const x = randn(rng, inLen), dy = randn(rng, outLen);
    const run = (kk: Kernels) => {
      const y = nanFilled(outLen), dx = nanFilled(inLen);
      kk.avgPool2dForward(g, x, y);
      kk.avgPool2dBackward(g, dy, dx);
      return { y, dx };
    };
    const r = run(ref), nn = run(k);
    assertClose(nn.y, r.y, REDUCTION, `avgpool ${poolName(g)}: y`);
    assertClose(nn.dx, r.dx, REDUCTION, `avgpool ${poolName(g)}: dx`);
  }
});

test('global avgpool: native matches reference', () => {
  const k = nat();
  const rng = new Rng(407);
  for (const [n, c, hw] of [[1, 1, 1], [2, 3, 49], [3, 16, 5], [1, 16, 64], [4, 1, 81]]) {
    const x = randn(rng, n * c * hw), dy = randn(rng, n * c);
    const run = (kk: Kernels) => {
      const y = nanFilled(n * c), dx = nanFilled(n * c * hw);
      kk.globalAvgPoolForward(n, c, hw, x, y);
      kk.globalAvgPoolBackward(n, c, hw, dy, dx);
      return { y, dx };
    };
    const r = run(ref), nn = run(k);
    assertClose(nn.y, r.y, REDUCTION, `global avgpool n${n} c${c} hw${hw}: y`);
    assertClose(nn.dx, r.dx, FEW_OPS, `global avgpool n${n} c${c} hw${hw}: dx`);
  }
});

// ---------------------------------------------------------------------------
// Elementwise
// ---------------------------------------------------------------------------

// Odd lengths too, to catch SIMD tail bugs.
const lengths = [1, 3, 8, 17, 64, 1001];

test('elementwise: native matches reference (add, mul, scale, axpy, relu, hardtanh and backwards)', () => {
  const k = nat();
  const rng = new Rng(505);
  for (const len of lengths) {
    const a = randn(rng, len), b = randn(rng, len), dy = randn(rng, len);
    const yAxpy = randn(rng, len);
    const run = (kk: Kernels) => {
      const o = {
        add: nanFilled(len), mul: nanFilled(len), scale: nanFilled(len), axpy: copy(yAxpy),
        relu: nanFilled(len), reluB: nanFilled(len), ht: nanFilled(len), htB: nanFilled(len),
      };
      kk.add(len, a, b, o.add);
      kk.mul(len, a, b, o.mul);
      kk.scale(len, a, -0.3, o.scale);
      kk.axpy(len, 0.7, a, o.axpy);
      kk.relu(len, a, o.relu);
      kk.reluBackward(len, a, dy, o.reluB);
      kk.hardtanh(len, a, -0.5, 0.8, o.ht);
      kk.hardtanhBackward(len, a, -0.5, 0.8, dy, o.htB);
      return o;
    };
    const r = run(ref), nn = run(k);
    for (const key of Object.keys(r) as (keyof typeof r)[]) assertClose(nn[key], r[key], FEW_OPS, `${key} len ${len}`);
  }
});

test('elementwise: native matches reference when the output aliases an input', () => {
  const k = nat();
  const rng = new Rng(506);
  type Op = [string, (kk: Kernels, len: number, a: Float32Array, b: Float32Array) => Float32Array];
  // Each op returns the aliased buffer it wrote.
  const ops: Op[] = [
    ['add out=a', (kk, len, a, b) => { kk.add(len, a, b, a); return a; }],
    ['add out=b', (kk, len, a, b) => { kk.add(len, a, b, b); return b; }],
    ['add a=b=out', (kk, len, a) => { kk.add(len, a, a, a); return a; }],
    ['mul out=a', (kk, len, a, b) => { kk.mul(len, a, b, a); return a; }],
    ['mul out=b', (kk, len, a, b) => { kk.mul(len, a, b, b); return b; }],
    ['scale out=a', (kk, len, a) => { kk.scale(len, a, 1.7, a); return a; }],
    ['relu y=x', (kk, len, a) => { kk.relu(len, a, a); return a; }],
    ['reluBackward dx=dy', (kk, len, a, b) => { kk.reluBackward(len, a, b, b); return b; }],
    ['reluBackward dx=x', (kk, len, a, b) => { kk.reluBackward(len, a, b, a); return a; }],
    ['hardtanh y=x', (kk, len, a) => { kk.hardtanh(len, a, -1, 0.5, a); return a; }],
    ['hardtanhBackward dx=dy', (kk, len, a, b) => { kk.hardtanhBackward(len, a, -1, 0.5, b, b); return b; }],
  ];
  for (const len of lengths) {
    const a0 = randn(rng, len), b0 = randn(rng, len);
    for (const [name, op] of ops) {
      const r = op(ref, len, copy(a0), copy(b0));
      const nn = op(k, len, copy(a0), copy(b0));
      assertClose(nn, r, FEW_OPS, `${name} len ${len}`);
    }
  }
});

test('biasAdd, biasGrad, prelu and its backward: native matches reference (prelu also with y === x)', () => {
  const k = nat();
  const rng = new Rng(507);
  for (const [n, c, hw] of [[2, 3, 5], [1, 16, 49], [4, 1, 1], [3, 5, 35], [1, 3, 81]]) {
    const len = n * c * hw;
    const x = randn(rng, len), dy = randn(rng, len), bias = randn(rng, c), y0 = randn(rng, len);
    const alpha = randu(rng, c, -0.5, 0.5);
    const run = (kk: Kernels) => {
      const biasAdded = copy(y0);
      kk.biasAdd(n, c, hw, bias, biasAdded);
      const db = nanFilled(c);
      kk.biasGrad(n, c, hw, dy, db);
      const y = nanFilled(len);
      kk.prelu(n, c, hw, x, alpha, y);
      const yInPlace = copy(x);
      kk.prelu(n, c, hw, yInPlace, alpha, yInPlace);
      const dx = nanFilled(len), dalpha = nanFilled(c);
      kk.preluBackward(n, c, hw, x, alpha, dy, dx, dalpha);
      return { biasAdded, db, y, yInPlace, dx, dalpha };
    };
    const r = run(ref), nn = run(k);
    const what = `n${n} c${c} hw${hw}`;
    assertClose(nn.biasAdded, r.biasAdded, FEW_OPS, `biasAdd ${what}`);
    assertClose(nn.db, r.db, REDUCTION, `biasGrad ${what}`);
    assertClose(nn.y, r.y, FEW_OPS, `prelu ${what}`);
    assertClose(nn.yInPlace, r.y, FEW_OPS, `prelu y=x ${what}`);
    assertClose(nn.dx, r.dx, FEW_OPS, `preluBackward dx ${what}`);
    assertClose(nn.dalpha, r.dalpha, REDUCTION, `preluBackward dalpha ${what}`);
  }
});

test('preluBackward: native matches reference when dx aliases dy or x', () => {
  // The elementwise section of the contract lets an output alias an input;
  // dalpha must then still be computed from the original dy and x.
  const k = nat();
  const rng = new Rng(508);
  for (const [n, c, hw] of [[4, 3, 1], [2, 3, 5], [1, 16, 49]]) {
    const len = n * c * hw;
    const x = randn(rng, len), dy = randn(rng, len), alpha = randu(rng, c, -0.5, 0.5);
    const dxWant = nanFilled(len), dalphaWant = nanFilled(c);
    ref.preluBackward(n, c, hw, x, alpha, dy, dxWant, dalphaWant);
    for (const [name, kk] of [['reference', ref], ['native', k]] as const) {
      const what = `${name} preluBackward n${n} c${c} hw${hw}`;
      const dxy = copy(dy), da1 = nanFilled(c);
      kk.preluBackward(n, c, hw, x, alpha, dxy, dxy, da1);
      assertClose(dxy, dxWant, FEW_OPS, `${what} dx=dy: dx`);
      assertClose(da1, dalphaWant, REDUCTION, `${what} dx=dy: dalpha`);
      const dxx = copy(x), da2 = nanFilled(c);
      kk.preluBackward(n, c, hw, dxx, alpha, dy, dxx, da2);
      assertClose(dxx, dxWant, FEW_OPS, `${what} dx=x: dx`);
      assertClose(da2, dalphaWant, REDUCTION, `${what} dx=x: dalpha`);
    }
  }
});

// ---------------------------------------------------------------------------
// Loss
// ---------------------------------------------------------------------------

test('softmax cross-entropy: native matches reference, with and without dlogits', () => {
  const k = nat();
  const rng = new Rng(606);
  const cases: [number, number, number][] = [[1, 10, 1], [4, 3, 1], [32, 10, 3], [7, 1, 1], [5, 1000, 2], [3, 4, 500]];
  for (const [n, classes, std] of cases) {
    const logits = randn(rng, n * classes, std), labels = randLabels(rng, n, classes);
    const what = `cross-entropy n${n} classes ${classes} logit std ${std}`;
    const dr = nanFilled(n * classes), dn = nanFilled(n * classes);
    const lossRef = ref.softmaxCrossEntropy(n, classes, logits, labels, dr);
    const lossNat = k.softmaxCrossEntropy(n, classes, logits, labels, dn);
    const lossNatNull = k.softmaxCrossEntropy(n, classes, logits, labels, null);
    const lossRefNull = ref.softmaxCrossEntropy(n, classes, logits, labels, null);
    assert.ok(Number.isFinite(lossNat), `${what}: native loss ${lossNat}`);
    // The loss is a mean of per-row log-sum-exps of size up to ~|logit|.
    const tol: Tolerance = { rtol: 1e-5, atol: 1e-6 * Math.max(1, maxAbs(logits)) };
    assertNear(lossNat, lossRef, tol, `${what}: loss`);
    assertNear(lossNatNull, lossRef, tol, `${what}: loss with null dlogits`);
    assert.equal(lossRefNull, lossRef, `${what}: reference loss depends on dlogits`);
    assertClose(dn, dr, { rtol: 1e-5, atol: 1e-7 }, `${what}: dlogits`);
  }
});

// ---------------------------------------------------------------------------
// Optimizers
// ---------------------------------------------------------------------------

test('SGD: native matches reference over several steps (momentum, dampening, nesterov, weight decay)', () => {
  const k = nat();
  const rng = new Rng(707);
  const configs = [
    { momentum: 0, dampening: 0, wd: 0, nesterov: false },
    { momentum: 0, dampening: 0, wd: 5e-4, nesterov: false },
    { momentum: 0.9, dampening: 0, wd: 0, nesterov: false },
    { momentum: 0.9, dampening: 0, wd: 1e-4, nesterov: true },
    { momentum: 0.8, dampening: 0.5, wd: 1e-2, nesterov: false },
  ];
  for (const cfg of configs) {
    for (const len of [1, 37, 1000]) {
      const what = `sgd len ${len} ${JSON.stringify(cfg)}`;
      const p0 = randn(rng, len), buf0 = randn(rng, len);
      const pr = copy(p0), pn = copy(p0), br = copy(buf0), bn = copy(buf0);
      for (let step = 0; step < 4; step++) {
        const grad = randn(rng, len);
        const lr = 0.05 / (step + 1);
        ref.sgdStep(len, pr, grad, br, lr, cfg.momentum, cfg.dampening, cfg.wd, cfg.nesterov, step === 0);
        k.sgdStep(len, pn, grad, bn, lr, cfg.momentum, cfg.dampening, cfg.wd, cfg.nesterov, step === 0);
        assertClose(pn, pr, FEW_OPS, `${what} step ${step}: param`);
        assertClose(bn, br, FEW_OPS, `${what} step ${step}: momentum buffer`);
      }
      if (cfg.momentum === 0) assertExact(bn, buf0, `${what}: momentum buffer touched with momentum 0`);
    }
  }
  // With momentum 0 the buffer may be empty.
  const p = new Float32Array([1, 2]), g = new Float32Array([0.5, -0.5]);
  k.sgdStep(2, p, g, new Float32Array(0), 0.1, 0, 0, 0, false, true);
  assertClose(p, [0.95, 2.05], FEW_OPS, 'sgd with an empty momentum buffer');
});

test('Adam and AdamW: native matches reference over several steps', () => {
  const k = nat();
  const rng = new Rng(808);
  const configs = [
    { lr: 1e-3, b1: 0.9, b2: 0.999, eps: 1e-8, wd: 0, decoupled: false },
    { lr: 1e-2, b1: 0.9, b2: 0.999, eps: 1e-8, wd: 1e-2, decoupled: false },
    { lr: 1e-2, b1: 0.9, b2: 0.999, eps: 1e-8, wd: 1e-2, decoupled: true },
    { lr: 3e-3, b1: 0.5, b2: 0.9, eps: 1e-6, wd: 0.1, decoupled: true },
  ];
  for (const cfg of configs) {
    for (const len of [1, 37, 1000]) {
      const what = `adam len ${len} ${JSON.stringify(cfg)}`;
      const p0 = randn(rng, len);
      const pr = copy(p0), pn = copy(p0);
      const mr = new Float32Array(len), mn = new Float32Array(len), vr = new Float32Array(len), vn = new Float32Array(len);
      for (let step = 1; step <= 6; step++) {
        const grad = randn(rng, len, 0.1 * step);
        if (len > 1) grad[0] = 0; // exercise a zero gradient (update ~ 0 / (0 + eps))
        ref.adamStep(len, pr, grad, mr, vr, cfg.lr, cfg.b1, cfg.b2, cfg.eps, cfg.wd, cfg.decoupled, step);
        k.adamStep(len, pn, grad, mn, vn, cfg.lr, cfg.b1, cfg.b2, cfg.eps, cfg.wd, cfg.decoupled, step);
        // The update is at most ~lr per element; float32 rounding of the
        // bias corrections and the sqrt costs ~1e-5 of it.
        assertClose(pn, pr, { rtol: 1e-6, atol: 1e-5 * cfg.lr }, `${what} step ${step}: param`);
        assertClose(mn, mr, { rtol: 1e-5, atol: 1e-8 }, `${what} step ${step}: m`);
        assertClose(vn, vr, { rtol: 1e-5, atol: 1e-10 }, `${what} step ${step}: v`);
      }
    }
  }
});

// ---------------------------------------------------------------------------
// Shapes large enough for the addon to split the work across threads
// ---------------------------------------------------------------------------

type Outputs = Record<string, Float32Array | Int32Array>;
interface BigCase { name: string; tol: Tolerance; run: (k: Kernels) => Outputs }

function bigCases(rng: Rng): BigCase[] {
  const cases: BigCase[] = [];
  // Convs above the addon's per-thread work grain: split by image (n = 4, and
  // an odd n = 3), within one image (n = 1, several im2col row blocks), and
  // the 1x1 path that skips im2col.
  for (const g of [geom(4, 16, 16, 16, 32, 3, 3, 1, 1, 1, 1), geom(1, 32, 32, 32, 16, 3, 3, 1, 1, 1, 1),
    geom(3, 16, 23, 21, 24, 3, 3, 1, 1, 1, 1), geom(4, 64, 16, 16, 64, 1, 1, 1, 1, 0, 0)]) {
    const { x, w, bias, dy } = convInputs(g, rng);
    cases.push({
      name: convName(g), tol: REDUCTION,
      run: (k) => {
        const y = nanFilled(convOutLen(g)), dx = nanFilled(x.length), dw = nanFilled(w.length), db = nanFilled(g.cout);
        k.conv2dForward(g, x, w, bias, y);
        k.conv2dBackwardData(g, dy, w, dx);
        k.conv2dBackwardWeight(g, x, dy, dw, db);
        return { y, dx, dw, db };
      },
    });
  }
  // GEMMs split by columns (n >= m) and by rows, all transposes, beta applied once.
  for (const [m, n, kk] of [[96, 200, 150], [200, 40, 300]]) {
    const a = randu(rng, m * kk), b = randu(rng, kk * n), c0 = randu(rng, m * n);
    for (const ta of [false, true]) {
      for (const tb of [false, true]) {
        cases.push({
          name: `sgemm ${ta ? 'T' : 'N'}${tb ? 'T' : 'N'} ${m}x${n}x${kk}`, tol: REDUCTION,
          run: (k) => { const c = copy(c0); k.sgemm(ta, tb, m, n, kk, 1.5, a, b, 0.5, c); return { c }; },
        });
      }
    }
  }
  // Batch norm split by channel, with hw > 1 and the hw = 1 layout.
  for (const [n, c, hw] of [[8, 16, 1024], [8192, 16, 1]]) {
    const len = n * c * hw;
    const x = randn(rng, len, 2, 1), dy = randn(rng, len), gamma = randu(rng, c, 0.5, 1.5), beta = randn(rng, c);
    const rm0 = randn(rng, c), rv0 = randu(rng, c, 0.5, 1.5);
    cases.push({
      name: `batchnorm n${n} c${c} hw${hw}`, tol: REDUCTION,
      run: (k) => {
        const rm = copy(rm0), rv = copy(rv0), y = nanFilled(len), sm = nanFilled(c), si = nanFilled(c);
        k.batchNormForwardTrain(n, c, hw, x, gamma, beta, 1e-5, 0.1, rm, rv, y, sm, si);
        // Backward from fixed statistics so both backends differentiate at the same point.
        const fm = new Float32Array(c).fill(1), fi = new Float32Array(c).fill(0.5);
        const dx = nanFilled(len), dg = nanFilled(c), db = nanFilled(c);
        k.batchNormBackward(n, c, hw, x, dy, gamma, fm, fi, true, dx, dg, db);
        const dxEval = nanFilled(len), dgEval = nanFilled(c), dbEval = nanFilled(c);
        k.batchNormBackward(n, c, hw, x, dy, gamma, fm, fi, false, dxEval, dgEval, dbEval);
        const yEval = nanFilled(len), smEval = nanFilled(c), siEval = nanFilled(c);
        k.batchNormForwardEval(n, c, hw, x, gamma, beta, 1e-5, rm0, rv0, yEval, smEval, siEval);
        return { y, sm, si, rm, rv, dx, dg, db, dxEval, dgEval, dbEval, yEval };
      },
    });
  }
  // Pooling split by plane.
  for (const g of [pgeom(8, 16, 32, 32, 3, 3, 2, 2, 1, 1), pgeom(8, 16, 32, 32, 2, 2, 2, 2, 0, 0)]) {
    const inLen = g.n * g.c * g.h * g.w, outLen = poolOutLen(g);
    const x = randn(rng, inLen), dy = randn(rng, outLen);
    cases.push({
      name: `pool ${poolName(g)}`, tol: REDUCTION,
      run: (k) => {
        const y = nanFilled(outLen), argmax = new Int32Array(outLen), dx = nanFilled(inLen);
        k.maxPool2dForward(g, x, y, argmax);
        k.maxPool2dBackward(g, dy, argmax, dx);
        const ya = nanFilled(outLen), dxa = nanFilled(inLen);
        k.avgPool2dForward(g, x, ya);
        k.avgPool2dBackward(g, dy, dxa);
        return { y, argmax, dx, ya, dxa };
      },
    });
  }
  {
    const [n, c, hw] = [8, 64, 256];
    const x = randn(rng, n * c * hw), dy = randn(rng, n * c);
    cases.push({
      name: `global avgpool n${n} c${c} hw${hw}`, tol: REDUCTION,
      run: (k) => {
        const y = nanFilled(n * c), dx = nanFilled(n * c * hw);
        k.globalAvgPoolForward(n, c, hw, x, y);
        k.globalAvgPoolBackward(n, c, hw, dy, dx);
        return { y, dx };
      },
    });
  }
  // Elementwise ops split in chunks (an odd length leaves a ragged last chunk).
  {
    const len = 200003;
    const a = randn(rng, len), b = randn(rng, len), y0 = randn(rng, len);
    cases.push({
      name: `elementwise len ${len}`, tol: FEW_OPS,
      run: (k) => {
        const o: Outputs = {};
        k.add(len, a, b, (o.add = nanFilled(len)) as Float32Array);
        k.mul(len, a, b, (o.mul = nanFilled(len)) as Float32Array);
        k.scale(len, a, 0.3, (o.scale = nanFilled(len)) as Float32Array);
        k.axpy(len, -0.7, a, (o.axpy = copy(y0)) as Float32Array);
        k.relu(len, a, (o.relu = nanFilled(len)) as Float32Array);
        k.reluBackward(len, a, b, (o.reluB = nanFilled(len)) as Float32Array);
        k.hardtanh(len, a, -0.5, 0.5, (o.ht = nanFilled(len)) as Float32Array);
        k.hardtanhBackward(len, a, -0.5, 0.5, b, (o.htB = nanFilled(len)) as Float32Array);
        const inPlace = copy(a);
        k.add(len, inPlace, b, inPlace);
        o.addInPlace = inPlace;
        return o;
      },
    });
  }
  for (const [n, c, hw] of [[4, 32, 1024], [8192, 16, 1]]) {
    const len = n * c * hw;
    const x = randn(rng, len), dy = randn(rng, len), bias = randn(rng, c), alpha = randu(rng, c, 0, 0.5), y0 = randn(rng, len);
    cases.push({
      name: `bias and prelu n${n} c${c} hw${hw}`, tol: REDUCTION,
      run: (k) => {
        const yb = copy(y0), db = nanFilled(c), y = nanFilled(len), dx = nanFilled(len), dalpha = nanFilled(c);
        k.biasAdd(n, c, hw, bias, yb);
        k.biasGrad(n, c, hw, dy, db);
        k.prelu(n, c, hw, x, alpha, y);
        k.preluBackward(n, c, hw, x, alpha, dy, dx, dalpha);
        return { yb, db, y, dx, dalpha };
      },
    });
  }
  {
    const len = 100003;
    const p0 = randn(rng, len), g1 = randn(rng, len), g2 = randn(rng, len);
    cases.push({
      name: `optimizers len ${len}`, tol: FEW_OPS,
      run: (k) => {
        const p = copy(p0), buf = nanFilled(len);
        k.sgdStep(len, p, g1, buf, 0.1, 0.9, 0, 1e-4, true, true);
        k.sgdStep(len, p, g2, buf, 0.1, 0.9, 0, 1e-4, true, false);
        const pa = copy(p0), m = new Float32Array(len), v = new Float32Array(len);
        k.adamStep(len, pa, g1, m, v, 1e-2, 0.9, 0.999, 1e-8, 1e-2, true, 1);
        k.adamStep(len, pa, g2, m, v, 1e-2, 0.9, 0.999, 1e-8, 1e-2, true, 2);
        return { p, buf, pa, m, v };
      },
    });
  }
  return cases;
}

test('large shapes: native matches reference with 1 and 2 threads', () => {
  const k = nat();
  const before = k.getNumThreads();
  try {
    for (const c of bigCases(new Rng(1001))) {
      const want = c.run(ref); // once: the reference is the slow side
      for (const t of [1, 2]) {
        k.setNumThreads(t);
        const got = c.run(k);
        for (const key of Object.keys(want)) {
          const what = `${c.name} with ${t} thread(s): ${key}`;
          if (want[key] instanceof Int32Array) assertExact(got[key], want[key], what);
          else assertClose(got[key], want[key], c.tol, what);
        }
      }
    }
  } finally {
    k.setNumThreads(before);
  }
});

test('empty sizes: native matches reference', () => {
  const k = nat();
  for (const kk of [ref, k]) {
    // The mean loss over an empty batch is NaN (0 / 0), as in PyTorch.
    assert.ok(Number.isNaN(kk.softmaxCrossEntropy(0, 5, new Float32Array(0), new Int32Array(0), new Float32Array(0))));
    const c = new Float32Array([1, NaN]);
    kk.sgemm(false, false, 0, 2, 3, 1, new Float32Array(0), new Float32Array(6), 0, new Float32Array(0));
    kk.sgemm(false, false, 1, 2, 0, 1, new Float32Array(0), new Float32Array(0), 0, c);
    assertExact(c, [0, 0], 'sgemm with k = 0 and beta = 0 clears C');
    kk.conv2dForward(geom(0, 2, 3, 3, 2, 3, 3, 1, 1, 1, 1), new Float32Array(0), new Float32Array(36), null, new Float32Array(0));
    kk.add(0, new Float32Array(0), new Float32Array(0), new Float32Array(0));
  }
});

// ---------------------------------------------------------------------------
// The reference against values computed by hand
// ---------------------------------------------------------------------------

test('reference conv2d on a 1x1x3x3 input, by hand', () => {
  const g = geom(1, 1, 3, 3, 1, 2, 2, 1, 1, 0, 0);
  const x = new Float32Array([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const w = new Float32Array([1, 2, 3, 4]); // asymmetric, so a flipped kernel would show
  const y = nanFilled(4);
  ref.conv2dForward(g, x, w, new Float32Array([0.5]), y);
  // y[0,0] = 1*1 + 2*2 + 3*4 + 4*5 = 37, and so on (cross-correlation, no flip).
  assertExact(y, [37.5, 47.5, 67.5, 77.5], 'conv forward');
  const dx = nanFilled(9), dw = nanFilled(4), db = nanFilled(1);
  const ones = new Float32Array([1, 1, 1, 1]);
  ref.conv2dBackwardData(g, ones, w, dx);
  assertExact(dx, [1, 3, 2, 4, 10, 6, 3, 7, 4], 'conv backward data');
  ref.conv2dBackwardWeight(g, x, ones, dw, db);
  assertExact(dw, [12, 16, 24, 28], 'conv backward weight'); // sums of the four 2x2 windows' taps
  assertExact(db, [4], 'conv backward bias');

  // 3x3 of ones, padding 1: each output is the sum of its 3x3 neighbourhood.
  const g2 = geom(1, 1, 3, 3, 1, 3, 3, 1, 1, 1, 1);
  const y2 = nanFilled(9);
  ref.conv2dForward(g2, x, new Float32Array(9).fill(1), null, y2);
  assertExact(y2, [12, 21, 16, 27, 45, 33, 24, 39, 28], 'conv padding 1');
  // Stride 2 with padding 1 picks the corners of that map.
  const g3 = { ...g2, sh: 2, sw: 2 };
  const y3 = nanFilled(4);
  ref.conv2dForward(g3, x, new Float32Array(9).fill(1), null, y3);
  assertExact(y3, [12, 16, 24, 28], 'conv stride 2 padding 1');
});

test('reference 2x2 max pool and padded average pool, by hand', () => {
  const g = pgeom(1, 1, 4, 4, 2, 2, 2, 2, 0, 0);
  const x = new Float32Array([
    1, 5, 2, 2,
    3, 0, 2, 2,
    -1, -2, 7, 8,
    -3, -4, 9, 6,
  ]);
  const y = nanFilled(4), argmax = new Int32Array(4);
  ref.maxPool2dForward(g, x, y, argmax);
  assertExact(y, [5, 2, -1, 9], 'maxpool y');
  assertExact(argmax, [1, 2, 8, 14], 'maxpool argmax (tie 2,2,2,2 goes to the first)');
  const dx = nanFilled(16);
  ref.maxPool2dBackward(g, new Float32Array([10, 20, 30, 40]), argmax, dx);
  assertExact(dx, [0, 10, 20, 0, 0, 0, 0, 0, 30, 0, 0, 0, 0, 0, 40, 0], 'maxpool dx');

  // Overlapping windows that pick the same input add up; padding never wins over negatives.
  const g2 = pgeom(1, 1, 2, 2, 2, 2, 1, 1, 1, 1);
  const x2 = new Float32Array([-4, -3, -2, -1]);
  const y2 = nanFilled(9), a2 = new Int32Array(9);
  ref.maxPool2dForward(g2, x2, y2, a2);
  assertExact(y2, [-4, -3, -3, -2, -1, -1, -2, -1, -1], 'maxpool padded y');
  assertExact(a2, [0, 1, 1, 2, 3, 3, 2, 3, 3], 'maxpool padded argmax');
  const dx2 = nanFilled(4);
  ref.maxPool2dBackward(g2, new Float32Array(9).fill(1), a2, dx2);
  assertExact(dx2, [1, 2, 2, 4], 'maxpool overlapping dx');

  // Average pool of [[1, 2], [3, 4]] with a 2x2 window, stride 1, padding 1: divisor always 4.
  const y3 = nanFilled(9);
  ref.avgPool2dForward(g2, new Float32Array([1, 2, 3, 4]), y3);
  assertExact(y3, [0.25, 0.75, 0.5, 1, 2.5, 1.5, 0.75, 1.75, 1], 'avgpool padded y');
  const dx3 = nanFilled(4);
  ref.avgPool2dBackward(g2, new Float32Array(9).fill(1), dx3);
  assertExact(dx3, [1, 1, 1, 1], 'avgpool dx (each input is in 4 windows, 1/4 each)');
});

test('reference softmax cross-entropy of known logits, by hand', () => {
  // Row 0: softmax of [0, ln 2, ln 3] is [1/6, 2/6, 3/6], label 2: loss ln 2.
  // Row 1: uniform over 3, label 0: loss ln 3.
  const logits = new Float32Array([0, Math.LN2, Math.log(3), 1, 1, 1]);
  const labels = new Int32Array([2, 0]);
  const d = nanFilled(6);
  const loss = ref.softmaxCrossEntropy(2, 3, logits, labels, d);
  assertNear(loss, Math.log(6) / 2, { atol: 1e-6 }, 'loss');
  assertClose(d, [1 / 12, 1 / 6, -1 / 4, -1 / 3, 1 / 6, 1 / 6], { atol: 1e-7 }, 'dlogits = (softmax - onehot) / n');
  // Huge logits must not overflow.
  const big = new Float32Array([1000, 0, -1000]);
  const dBig = nanFilled(3);
  assertNear(ref.softmaxCrossEntropy(1, 3, big, new Int32Array([0]), dBig), 0, { atol: 1e-6 }, 'stable loss');
  assertNear(ref.softmaxCrossEntropy(1, 3, big, new Int32Array([2]), null), 2000, { rtol: 1e-7 }, 'stable loss, wrong label');
  assertClose(dBig, [0, 0, 0], { atol: 1e-7 }, 'stable dlogits');
});

test('reference SGD momentum step and Adam first step, by hand', () => {
  // d = grad + 0.01 param = [0.51, 0.08]
  // buf = 0.9 [0.2, -0.4] + (1 - 0.1) d = [0.639, -0.288]; param -= 0.1 buf
  const p = new Float32Array([1, -2]), g = new Float32Array([0.5, 0.1]), buf = new Float32Array([0.2, -0.4]);
  ref.sgdStep(2, p, g, buf, 0.1, 0.9, 0.1, 0.01, false, false);
  assertClose(buf, [0.639, -0.288], { atol: 1e-7 }, 'sgd buffer');
  assertClose(p, [0.9361, -1.9712], { atol: 1e-6 }, 'sgd param'); // float32 ulp near 2 is 2.4e-7
  // Nesterov: d + 0.9 buf = [1.0851, -0.1792].
  const pN = new Float32Array([1, -2]), bufN = new Float32Array([0.2, -0.4]);
  ref.sgdStep(2, pN, g, bufN, 0.1, 0.9, 0.1, 0.01, true, false);
  assertClose(pN, [0.89149, -1.98208], { atol: 1e-6 }, 'sgd nesterov param');
  // First step: the buffer is d itself (no dampening).
  const pF = new Float32Array([1, -2]), bufF = new Float32Array([99, 99]);
  ref.sgdStep(2, pF, g, bufF, 0.1, 0.9, 0.1, 0.01, false, true);
  assertClose(bufF, [0.51, 0.08], { atol: 1e-7 }, 'sgd first-step buffer');
  assertClose(pF, [0.949, -2.008], { atol: 1e-6 }, 'sgd first-step param');

  // Adam step 1: the bias-corrected m and v are g and g^2, so the step is lr * g / (|g| + eps).
  const pa = new Float32Array([1, -1]), ga = new Float32Array([0.5, -2]);
  const m = new Float32Array(2), v = new Float32Array(2);
  ref.adamStep(2, pa, ga, m, v, 0.1, 0.9, 0.999, 1e-8, 0, false, 1);
  assertClose(m, [0.05, -0.2], { atol: 1e-8 }, 'adam m');
  assertClose(v, [0.00025, 0.004], { atol: 1e-9 }, 'adam v');
  assertClose(pa, [0.9, -0.9], { atol: 1e-6 }, 'adam param');
  // AdamW decays first: param = 1 * (1 - 0.1 * 0.5) = 0.95, then steps by 0.1.
  const pw = new Float32Array([1]);
  ref.adamStep(1, pw, new Float32Array([3]), new Float32Array(1), new Float32Array(1), 0.1, 0.9, 0.999, 1e-8, 0.5, true, 1);
  assertClose(pw, [0.85], { atol: 1e-6 }, 'adamw param');
});

test('reference batchnorm on [1, 2, 3, 4], by hand', () => {
  const x = new Float32Array([1, 2, 3, 4]); // n = 4, c = 1: mean 2.5, biased var 1.25, unbiased 5/3
  const rm = new Float32Array([0]), rv = new Float32Array([1]);
  const y = nanFilled(4), sm = nanFilled(1), si = nanFilled(1);
  ref.batchNormForwardTrain(4, 1, 1, x, new Float32Array([2]), new Float32Array([1]), 0, 0.1, rm, rv, y, sm, si);
  const s = 1 / Math.sqrt(1.25);
  assertClose(y, [1 - 3 * s, 1 - s, 1 + s, 1 + 3 * s], { atol: 1e-6 }, 'y');
  assertClose(sm, [2.5], { atol: 0 }, 'saveMean');
  assertClose(si, [s], { atol: 1e-7 }, 'saveInvStd');
  assertClose(rm, [0.25], { atol: 1e-7 }, 'runningMean');
  assertClose(rv, [0.9 + 0.1 * 5 / 3], { atol: 1e-7 }, 'runningVar (unbiased)');
  // A constant dy has no effect through the normalisation: dx = 0, dbeta = sum dy.
  const dx = nanFilled(4), dg = nanFilled(1), dbt = nanFilled(1);
  ref.batchNormBackward(4, 1, 1, x, new Float32Array(4).fill(1), new Float32Array([2]), sm, si, true, dx, dg, dbt);
  assertClose(dx, [0, 0, 0, 0], { atol: 1e-7 }, 'dx');
  assertClose(dg, [0], { atol: 1e-6 }, 'dgamma');
  assertClose(dbt, [4], { atol: 0 }, 'dbeta');
});

// ---------------------------------------------------------------------------
// The reference backward kernels against finite differences of its forward
// ---------------------------------------------------------------------------

test('the gradient checker rejects a slightly wrong gradient', () => {
  // Guards the checker itself: a gradient 3% off must fail, the right one pass.
  const rng = new Rng(900);
  const x = randn(rng, 20), w = randn(rng, 20);
  const f = (v: Float32Array) => { let s = 0; for (let i = 0; i < v.length; i++) s += w[i] * v[i] * v[i]; return s; };
  const grad = Array.from(x, (xi, i) => 2 * w[i] * xi);
  checkGradient({ f, x, grad, rng, h: 1e-2, what: 'right gradient' });
  assert.throws(() => checkGradient({ f, x, grad: grad.map((g) => 1.03 * g), rng, h: 1e-2, what: 'wrong gradient' }));
});

test('gradient check: conv2d input, weight and bias', () => {
  const rng = new Rng(909);
  for (const g of [geom(2, 3, 5, 6, 4, 3, 2, 2, 1, 1, 1), geom(1, 2, 5, 5, 3, 3, 3, 1, 1, 2, 0)]) {
    const x = randu(rng, g.n * g.cin * g.h * g.w), w = randu(rng, g.cout * g.cin * g.kh * g.kw);
    const bias = randu(rng, g.cout), wy = randn(rng, convOutLen(g)); // loss = sum(wy * y)
    const loss = (xx: Float32Array, ww: Float32Array, bb: Float32Array) => {
      const y = new Float32Array(convOutLen(g));
      ref.conv2dForward(g, xx, ww, bb, y);
      return dot(wy, y);
    };
    const dx = new Float32Array(x.length), dw = new Float32Array(w.length), db = new Float32Array(g.cout);
    ref.conv2dBackwardData(g, wy, w, dx);
    ref.conv2dBackwardWeight(g, x, wy, dw, db);
    const what = convName(g);
    checkGradient({ f: (v) => loss(v, w, bias), x, grad: dx, rng, h: 1e-2, what: `${what} dx` });
    checkGradient({ f: (v) => loss(x, v, bias), x: w, grad: dw, rng, h: 1e-2, what: `${what} dw` });
    checkGradient({ f: (v) => loss(x, w, v), x: bias, grad: db, rng, h: 1e-2, what: `${what} db` });
  }
});

test('gradient check: batchnorm training mode dx, dgamma, dbeta (and eval mode dx)', () => {
  const rng = new Rng(910);
  for (const [n, c, hw] of [[3, 2, 4], [6, 3, 1]]) {
    const len = n * c * hw, eps = 1e-5;
    const x = randn(rng, len), gamma = randu(rng, c, 0.5, 1.5), beta = randn(rng, c);
    const rm = randn(rng, c), rv = randu(rng, c, 0.5, 1.5);
    const wy = randn(rng, len);
    const train = (xx: Float32Array, gg: Float32Array, bb: Float32Array) => {
      const y = new Float32Array(len);
      ref.batchNormForwardTrain(n, c, hw, xx, gg, bb, eps, 0.1, copy(rm), copy(rv), y, new Float32Array(c), new Float32Array(c));
      return dot(wy, y);
    };
    const y = new Float32Array(len), sm = new Float32Array(c), si = new Float32Array(c);
    ref.batchNormForwardTrain(n, c, hw, x, gamma, beta, eps, 0.1, copy(rm), copy(rv), y, sm, si);
    const dx = new Float32Array(len), dg = new Float32Array(c), dbt = new Float32Array(c);
    ref.batchNormBackward(n, c, hw, x, wy, gamma, sm, si, true, dx, dg, dbt);
    const what = `batchnorm n${n} c${c} hw${hw}`;
    checkGradient({ f: (v) => train(v, gamma, beta), x, grad: dx, rng, h: 1e-2, what: `${what} train dx` });
    checkGradient({ f: (v) => train(x, v, beta), x: gamma, grad: dg, rng, h: 1e-2, what: `${what} train dgamma` });
    checkGradient({ f: (v) => train(x, gamma, v), x: beta, grad: dbt, rng, h: 1e-2, what: `${what} train dbeta` });

    const evalLoss = (xx: Float32Array) => {
      const ye = new Float32Array(len);
      ref.batchNormForwardEval(n, c, hw, xx, gamma, beta, eps, rm, rv, ye, new Float32Array(c), new Float32Array(c));
      return dot(wy, ye);
    };
    ref.batchNormForwardEval(n, c, hw, x, gamma, beta, eps, rm, rv, y, sm, si);
    ref.batchNormBackward(n, c, hw, x, wy, gamma, sm, si, false, dx, dg, dbt);
    checkGradient({ f: evalLoss, x, grad: dx, rng, h: 1e-2, what: `${what} eval dx` });
  }
});

test('gradient check: max pool, average pool, global average pool', () => {
  const rng = new Rng(911);
  for (const g of [pgeom(2, 2, 5, 7, 3, 3, 2, 2, 1, 1), pgeom(1, 3, 4, 4, 2, 2, 1, 1, 1, 1), pgeom(1, 1, 6, 5, 3, 1, 2, 1, 1, 0)]) {
    const inLen = g.n * g.c * g.h * g.w, outLen = poolOutLen(g);
    const wy = randn(rng, outLen);
    // Values 0.1 apart and a step of at most 0.01: no window changes its winner.
    const xMax = randDistinct(rng, inLen, 0.1);
    const maxLoss = (xx: Float32Array) => {
      const y = new Float32Array(outLen);
      ref.maxPool2dForward(g, xx, y, new Int32Array(outLen));
      return dot(wy, y);
    };
    const argmax = new Int32Array(outLen), dxMax = new Float32Array(inLen);
    ref.maxPool2dForward(g, xMax, new Float32Array(outLen), argmax);
    ref.maxPool2dBackward(g, wy, argmax, dxMax);
    checkGradient({ f: maxLoss, x: xMax, grad: dxMax, rng, h: 1e-2, what: `maxpool ${poolName(g)}` });

    const xAvg = randn(rng, inLen);
    const avgLoss = (xx: Float32Array) => {
      const y = new Float32Array(outLen);
      ref.avgPool2dForward(g, xx, y);
      return dot(wy, y);
    };
    const dxAvg = new Float32Array(inLen);
    ref.avgPool2dBackward(g, wy, dxAvg);
    checkGradient({ f: avgLoss, x: xAvg, grad: dxAvg, rng, h: 1e-2, what: `avgpool ${poolName(g)}` });
  }
  const [n, c, hw] = [2, 3, 10];
  const x = randn(rng, n * c * hw), wy = randn(rng, n * c);
  const gapLoss = (xx: Float32Array) => {
    const y = new Float32Array(n * c);
    ref.globalAvgPoolForward(n, c, hw, xx, y);
    return dot(wy, y);
  };
  const dx = new Float32Array(n * c * hw);
  ref.globalAvgPoolBackward(n, c, hw, wy, dx);
  checkGradient({ f: gapLoss, x, grad: dx, rng, h: 1e-2, what: 'global avgpool' });
});

test('gradient check: relu, prelu (dx and dalpha), hardtanh', () => {
  const rng = new Rng(912);
  const [n, c, hw] = [2, 3, 7];
  const len = n * c * hw;
  const wy = randn(rng, len);
  // Inputs at least 0.05 from every kink, steps of at most 0.01.
  const x = randAwayFrom(rng, len, [0], 0.05);
  const grad = new Float32Array(len);

  const reluLoss = (xx: Float32Array) => { const y = new Float32Array(len); ref.relu(len, xx, y); return dot(wy, y); };
  ref.reluBackward(len, x, wy, grad);
  checkGradient({ f: reluLoss, x, grad, rng, h: 1e-2, what: 'relu' });

  const alpha = randu(rng, c, 0.05, 0.5);
  const preluLoss = (xx: Float32Array, aa: Float32Array) => {
    const y = new Float32Array(len);
    ref.prelu(n, c, hw, xx, aa, y);
    return dot(wy, y);
  };
  const dalpha = new Float32Array(c);
  ref.preluBackward(n, c, hw, x, alpha, wy, grad, dalpha);
  checkGradient({ f: (v) => preluLoss(v, alpha), x, grad, rng, h: 1e-2, what: 'prelu dx' });
  checkGradient({ f: (v) => preluLoss(x, v), x: alpha, grad: dalpha, rng, h: 1e-2, what: 'prelu dalpha' });

  const lo = -0.4, hi = 0.6;
  const xh = randAwayFrom(rng, len, [lo, hi], 0.05);
  const htLoss = (xx: Float32Array) => { const y = new Float32Array(len); ref.hardtanh(len, xx, lo, hi, y); return dot(wy, y); };
  ref.hardtanhBackward(len, xh, lo, hi, wy, grad);
  checkGradient({ f: htLoss, x: xh, grad, rng, h: 1e-2, what: 'hardtanh' });
});

test('gradient check: softmax cross-entropy', () => {
  const rng = new Rng(913);
  for (const [n, classes] of [[4, 5], [1, 10], [3, 2]]) {
    const logits = randn(rng, n * classes, 2), labels = randLabels(rng, n, classes);
    const d = new Float32Array(n * classes);
    ref.softmaxCrossEntropy(n, classes, logits, labels, d);
    checkGradient({
      f: (v) => ref.softmaxCrossEntropy(n, classes, v, labels, null), x: logits, grad: d, rng, h: 1e-2,
      what: `cross-entropy n${n} classes ${classes}`,
    });
  }
});

// ---------------------------------------------------------------------------
// The checked wrapper
// ---------------------------------------------------------------------------

test('checked wrapper throws ShapeError on wrong lengths and out-of-range labels', () => {
  const k = ref;
  assert.throws(() => k.sgemm(false, false, 2, 3, 4, 1, f32(8), f32(12), 0, f32(5)), ShapeError);
  assert.throws(() => k.sgemm(false, false, 2, 3, 4, 1, f32(7), f32(12), 0, f32(6)), ShapeError);
  assert.throws(() => k.sgemm(false, false, -1, 3, 4, 1, f32(0), f32(12), 0, f32(0)), ShapeError);
  const g = geom(1, 2, 5, 5, 3, 3, 3, 1, 1, 1, 1);
  assert.throws(() => k.conv2dForward(g, f32(50), f32(53), null, f32(75)), ShapeError);   // weight
  assert.throws(() => k.conv2dForward(g, f32(50), f32(54), f32(2), f32(75)), ShapeError);   // bias
  assert.throws(() => k.conv2dForward(g, f32(50), f32(54), null, f32(74)), ShapeError);   // y
  assert.throws(() => k.conv2dBackwardData(g, f32(75), f32(54), f32(49)), ShapeError);
  assert.throws(() => k.conv2dBackwardWeight(g, f32(50), f32(75), f32(54), f32(4)), ShapeError);
  assert.throws(() => k.conv2dForward({ ...g, kh: 9 }, f32(50), f32(162), null, f32(0)), ShapeError); // does not fit
  assert.throws(() => k.conv2dForward({ ...g, sh: 0 }, f32(50), f32(54), null, f32(75)), ShapeError);
  assert.throws(() => k.batchNormForwardTrain(2, 3, 4, f32(24), f32(2), f32(3), 1e-5, 0.1, f32(3), f32(3), f32(24), f32(3), f32(3)), ShapeError);
  assert.throws(() => k.batchNormForwardTrain(1, 3, 1, f32(3), f32(3), f32(3), 1e-5, 0.1, f32(3), f32(3), f32(3), f32(3), f32(3)), ShapeError);
  assert.throws(() => k.batchNormBackward(2, 3, 4, f32(24), f32(23), f32(3), f32(3), f32(3), true, f32(24), f32(3), f32(3)), ShapeError);
  const pg = pgeom(1, 1, 4, 4, 2, 2, 2, 2, 0, 0);
  assert.throws(() => k.maxPool2dForward(pg, f32(16), f32(4), new Int32Array(3)), ShapeError);
  assert.throws(() => k.maxPool2dForward({ ...pg, ph: 2 }, f32(16), f32(9), new Int32Array(9)), ShapeError); // pad > half window
  assert.throws(() => k.avgPool2dBackward(pg, f32(4), f32(15)), ShapeError);
  assert.throws(() => k.globalAvgPoolForward(2, 3, 4, f32(24), f32(5)), ShapeError);
  assert.throws(() => k.add(4, f32(4), f32(3), f32(4)), ShapeError);
  assert.throws(() => k.axpy(4, 1, f32(4), f32(5)), ShapeError);
  assert.throws(() => k.prelu(2, 3, 4, f32(24), f32(2), f32(24)), ShapeError);
  assert.throws(() => k.sgdStep(4, f32(4), f32(4), f32(3), 0.1, 0.9, 0, 0, false, false), ShapeError);
  assert.throws(() => k.adamStep(4, f32(4), f32(4), f32(4), f32(4), 0.1, 0.9, 0.999, 1e-8, 0, false, 0), ShapeError);
  assert.throws(() => k.setNumThreads(0), ShapeError);

  const logits = f32(6);
  assert.throws(() => k.softmaxCrossEntropy(2, 3, logits, new Int32Array([0, 3]), null), ShapeError);
  assert.throws(() => k.softmaxCrossEntropy(2, 3, logits, new Int32Array([-1, 0]), null), ShapeError);
  assert.throws(() => k.softmaxCrossEntropy(2, 3, logits, new Int32Array([0]), null), ShapeError);
  assert.throws(() => k.softmaxCrossEntropy(2, 3, logits, new Int32Array([0, 2]), f32(5)), ShapeError);
  assert.doesNotThrow(() => k.softmaxCrossEntropy(2, 3, logits, new Int32Array([0, 2]), f32(6)));
});

test('checked wrapper around the native addon throws ShapeError too', () => {
  const k = nat();
  assert.throws(() => k.sgemm(false, false, 2, 3, 4, 1, f32(8), f32(12), 0, f32(5)), ShapeError);
  assert.throws(() => k.conv2dForward(geom(1, 2, 5, 5, 3, 3, 3, 1, 1, 1, 1), f32(50), f32(54), null, f32(74)), ShapeError);
  assert.throws(() => k.softmaxCrossEntropy(2, 3, f32(6), new Int32Array([0, 3]), null), ShapeError);
});
