// The native addon against the TypeScript reference: elementwise kernels,
// the loss and the optimizers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Kernels } from '../src/native/index.js';
import { Rng, assertClose, assertExact, assertNear, maxAbs, nanFilled, randLabels, randn, randu } from './helpers.js';
import type { Tolerance } from './helpers.js';
import { FEW_OPS, REDUCTION, copy, nat, ref } from './kernel-cases.js';

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
