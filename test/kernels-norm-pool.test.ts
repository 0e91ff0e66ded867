// The native addon against the TypeScript reference: batch norm and pooling.
import { test } from 'node:test';
import type { Kernels, PoolGeometry } from '../src/native/index.js';
import { Rng, assertClose, assertExact, maxAbs, nanFilled, randn, randu } from './helpers.js';
import { FEW_OPS, REDUCTION, copy, nat, pgeom, poolName, poolOutLen, ref } from './kernel-cases.js';

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
