// The native addon against the TypeScript reference: the addon itself, sgemm,
// and convolution (im2col and Winograd paths).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { outSize } from '../src/native/index.js';
import { cpuFlags } from '../src/native/blas-core.js';
import type { ConvGeometry, Kernels } from '../src/native/index.js';
import { ShapeError } from '../src/util/errors.js';
import { Rng, assertClose, assertExact, maxAbs, nanFilled, randu } from './helpers.js';
import type { Tolerance } from './helpers.js';
import { REDUCTION, convInputs, convName, convOutLen, copy, geom, nat, ref } from './kernel-cases.js';

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

// The Winograd GEMMs' kernel on its own, over odd shapes, in each of its
// builds: this CPU's (AVX-512 where present, as the addon is built), AVX2/FMA
// without AVX-512, and the portable loops (what a CPU without them runs),
// against float64 sums; the first two must agree bit for bit.
test('Winograd GEMM kernel (microgemm.cc): the native, AVX2/FMA and portable builds match float64 sums', () => {
  const root = new URL('..', new URL('..', import.meta.url)).pathname;
  const dir = fs.mkdtempSync(`${os.tmpdir()}/ebnn-microgemm-`);
  try {
    const checksums: Record<string, string> = {};
    for (const arch of ['-march=native', '-march=x86-64-v3', '-march=x86-64']) {
      const exe = `${dir}/check${arch.slice(7)}`;
      execFileSync('g++', ['-std=c++20', '-O2', arch, '-ffp-contract=off', '-I', `${root}native`,
        `${root}test/native/microgemm-check.cc`, `${root}native/microgemm.cc`, '-o', exe], { stdio: 'pipe' });
      const r = spawnSync(exe, { encoding: 'utf8' });
      assert.equal(r.status, 0, `${arch}: ${r.stdout}${r.stderr}`);
      const m = /^(\d+) of \1 cases match \(checksum ([0-9a-f]{16})\)/.exec(r.stdout);
      assert.ok(m, `${arch}: ${r.stdout}`);
      checksums[arch] = m[2];
    }
    // Only on a CPU with AVX2 and FMA does -march=native run a vector kernel at all.
    const flags = cpuFlags();
    if (flags.has('avx2') && flags.has('fma')) {
      assert.equal(checksums['-march=native'], checksums['-march=x86-64-v3'], 'this CPU\'s kernel and the AVX2 one give the same bits');
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
