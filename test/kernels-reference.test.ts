// The TypeScript reference kernels against hand-computed values and finite
// differences, and the checked wrapper's shape errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ShapeError } from '../src/util/errors.js';
import {
  Rng, assertClose, assertExact, assertNear, checkGradient, dot, nanFilled, randAwayFrom, randDistinct, randLabels,
  randn, randu,
} from './helpers.js';
import { convName, convOutLen, copy, f32, geom, nat, pgeom, poolName, poolOutLen, ref } from './kernel-cases.js';

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
