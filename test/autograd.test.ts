// Autograd: every differentiable op's gradient (through the engine, on the
// kernels the engine really uses) against central finite differences, plus
// the engine's bookkeeping: accumulation, noGrad, detach, tidy and the pool.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Tensor, tidy, noGrad, keep, floatPool, linear, matmul, conv2d, batchNorm, maxPool2d, avgPool2d, globalAvgPool,
  relu, prelu, hardtanh, add, mul, scale, sum, mean, crossEntropy, dropout,
} from '../src/autograd/index.js';
import { backendName, nativeLoadError } from '../src/native/index.js';
import { Rng, randn, randu, randAwayFrom, randDistinct, randLabels, checkGradient, dot, assertClose } from './helpers.js';

type Build = (xs: Tensor[]) => Tensor;

/**
 * Checks d(w . op(inputs))/d(input_i) for every input against finite
 * differences, with w a fixed random weighting of the outputs.
 */
function gradcheck(what: string, build: Build, inputs: Float32Array[], shapes: number[][], opts: { h?: number; rtol?: number; seed?: number } = {}): void {
  const rng = new Rng(opts.seed ?? 7);
  const xs = inputs.map((d, i) => new Tensor(d.slice(), shapes[i], { requiresGrad: true }));
  const y = build(xs);
  const w = randn(rng, y.numel);
  y.backward(w);
  inputs.forEach((x0, i) => {
    const f = (xi: Float32Array) => noGrad(() => tidy(() => {
      const args = inputs.map((d, j) => new Tensor(j === i ? xi : d.slice(), shapes[j]));
      return dot(w, build(args).data);
    }));
    assert.ok(xs[i].gradData, `${what}: input ${i} received no gradient`);
    checkGradient({ f, x: x0, grad: xs[i].gradData!, rng, h: opts.h ?? 1e-2, rtol: opts.rtol ?? 1e-2, what: `${what} d/dinput${i}` });
  });
}

test('the native addon is loaded (tests must not silently run on the reference)', () => {
  assert.equal(backendName, 'native', `native addon did not load: ${nativeLoadError()}`);
});

test('linear and matmul gradients', () => {
  const rng = new Rng(1);
  gradcheck('linear', ([x, w, b]) => linear(x, w, b), [randn(rng, 3 * 5), randn(rng, 4 * 5), randn(rng, 4)], [[3, 5], [4, 5], [4]]);
  gradcheck('linear (batch 1, no bias)', ([x, w]) => linear(x, w), [randn(rng, 7), randn(rng, 2 * 7)], [[1, 7], [2, 7]]);
  gradcheck('matmul', ([a, b]) => matmul(a, b), [randn(rng, 3 * 4), randn(rng, 4 * 6)], [[3, 4], [4, 6]]);
});

test('conv2d gradients (stride 1 and 2, padding 0/1/2, 1x1 and 3x3)', () => {
  const rng = new Rng(2);
  const cases = [
    { n: 2, cin: 3, h: 5, w: 7, cout: 4, k: 3, stride: 1, pad: 1 },
    { n: 1, cin: 2, h: 7, w: 6, cout: 3, k: 3, stride: 2, pad: 2 },
    { n: 2, cin: 3, h: 4, w: 5, cout: 2, k: 1, stride: 1, pad: 0 },
    { n: 1, cin: 1, h: 6, w: 6, cout: 2, k: 3, stride: 2, pad: 0 },
  ];
  for (const c of cases) {
    gradcheck(`conv2d ${JSON.stringify(c)}`, ([x, w, b]) => conv2d(x, w, b, { stride: c.stride, padding: c.pad }),
      [randn(rng, c.n * c.cin * c.h * c.w), randn(rng, c.cout * c.cin * c.k * c.k), randn(rng, c.cout)],
      [[c.n, c.cin, c.h, c.w], [c.cout, c.cin, c.k, c.k], [c.cout]]);
  }
});

test('batch norm gradients (2d and 1d, train and eval)', () => {
  const rng = new Rng(3);
  for (const [shape, training] of [[[4, 3, 3, 2], true], [[6, 5], true], [[3, 2, 2, 2], false]] as const) {
    const c = shape[1];
    const rm = new Tensor(randn(rng, c, 0.1), [c]), rv = new Tensor(randu(rng, c, 0.5, 2), [c]);
    gradcheck(`batchnorm ${shape} training=${training}`,
      ([x, g, b]) => batchNorm(x, g, b, rm, rv, { training, momentum: 0.1, eps: 1e-5 }),
      [randn(rng, shape.reduce((a, b) => a * b, 1)), randu(rng, c, 0.5, 1.5), randn(rng, c)], [[...shape], [c], [c]], { h: 1e-2 });
  }
});

test('pooling gradients', () => {
  const rng = new Rng(4);
  // Distinct values 0.05 apart: a perturbation of 1e-2 cannot change which input wins.
  gradcheck('maxpool 2x2', ([x]) => maxPool2d(x, 2), [randDistinct(rng, 2 * 3 * 4 * 6, 0.05)], [[2, 3, 4, 6]]);
  gradcheck('maxpool 3x3 s2 p1', ([x]) => maxPool2d(x, 3, { stride: 2, padding: 1 }), [randDistinct(rng, 1 * 2 * 7 * 5, 0.05)], [[1, 2, 7, 5]]);
  gradcheck('avgpool 3x3 s2 p1', ([x]) => avgPool2d(x, 3, { stride: 2, padding: 1 }), [randn(rng, 2 * 2 * 5 * 5)], [[2, 2, 5, 5]]);
  gradcheck('global avgpool', ([x]) => globalAvgPool(x), [randn(rng, 2 * 3 * 3 * 5)], [[2, 3, 3, 5]]);
});

test('activation gradients', () => {
  const rng = new Rng(5);
  gradcheck('relu', ([x]) => relu(x), [randAwayFrom(rng, 40, [0], 0.05)], [[4, 10]]);
  gradcheck('prelu', ([x, a]) => prelu(x, a), [randAwayFrom(rng, 2 * 3 * 4, [0], 0.05), randu(rng, 3, 0.1, 0.4)], [[2, 3, 4], [3]]);
  gradcheck('hardtanh', ([x]) => hardtanh(x, -1, 1), [randAwayFrom(rng, 50, [-1, 1], 0.05, -2, 2)], [[50]]);
});

test('elementwise, reduction, reshape and loss gradients', () => {
  const rng = new Rng(6);
  gradcheck('add', ([a, b]) => add(a, b), [randn(rng, 12), randn(rng, 12)], [[3, 4], [3, 4]]);
  gradcheck('mul', ([a, b]) => mul(a, b), [randn(rng, 12), randn(rng, 12)], [[3, 4], [3, 4]]);
  gradcheck('scale', ([a]) => scale(a, -2.5), [randn(rng, 12)], [[12]]);
  gradcheck('sum', ([a]) => sum(a), [randn(rng, 12)], [[12]]);
  gradcheck('mean', ([a]) => mean(a), [randn(rng, 12)], [[12]]);
  gradcheck('reshape', ([a]) => mul(a.reshape([4, 3]), a.reshape([4, 3])), [randn(rng, 12)], [[3, 4]]);
  const labels = randLabels(rng, 5, 7);
  gradcheck('cross-entropy', ([z]) => crossEntropy(z, labels), [randn(rng, 35, 2)], [[5, 7]]);
  // Dropout with a re-seeded generator applies the same mask on every evaluation.
  gradcheck('dropout', ([x]) => dropout(x, 0.3, true, new Rng(99)), [randn(rng, 30)], [[30]]);
});

test('gradients accumulate over uses and over backward calls; zeroGrad resets', () => {
  const x = new Tensor(Float32Array.from([1, 2, 3]), [3], { requiresGrad: true });
  sum(add(x, mul(x, x))).backward(); // d/dx (x + x^2) = 1 + 2x
  assert.deepEqual([...x.gradData!], [3, 5, 7]);
  sum(x).backward();
  assert.deepEqual([...x.gradData!], [4, 6, 8]);
  x.zeroGrad();
  sum(scale(x, 2)).backward();
  assert.deepEqual([...x.gradData!], [2, 2, 2]);
  assert.deepEqual([...x.grad!.data], [2, 2, 2]);
});

test('noGrad records nothing and detach cuts the graph', () => {
  const x = new Tensor(Float32Array.from([1, -2]), [2], { requiresGrad: true });
  const y = noGrad(() => relu(x));
  assert.equal(y.requiresGrad, false);
  assert.equal(y.node, null);
  const z = sum(mul(x.detach(), x));
  z.backward();
  assert.deepEqual([...x.gradData!], [1, -2]); // only the non-detached factor contributes
  assert.throws(() => sum(x.detach()).backward(), /does not require a gradient/);
});

test('backward rejects a non-scalar without a gradient', () => {
  const x = new Tensor(new Float32Array(4), [4], { requiresGrad: true });
  assert.throws(() => relu(x).backward(), /non-scalar/);
});

test('tidy disposes intermediates, keeps results, and steady-state steps reuse pooled buffers', () => {
  const rng = new Rng(8);
  const w = new Tensor(randn(rng, 16 * 8 * 3 * 3), [16, 8, 3, 3], { requiresGrad: true });
  const x = new Tensor(randn(rng, 4 * 8 * 10 * 10), [4, 8, 10, 10]);
  const step = () => tidy(() => {
    w.zeroGrad();
    const y = relu(conv2d(x, w, null, { padding: 1 }));
    const l = mean(y);
    l.backward();
    return l.item();
  });
  step();
  const pooledAfterFirst = floatPool.bytes;
  assert.ok(pooledAfterFirst > 0, 'buffers returned to the pool');
  for (let i = 0; i < 5; i++) step();
  assert.equal(floatPool.bytes, pooledAfterFirst, 'later steps take and return the same buffers');
  let kept!: Tensor, dropped!: Tensor;
  const r = tidy(() => { dropped = relu(x); kept = relu(x); return { kept }; });
  assert.equal(r.kept, kept);
  assert.equal(kept.isDisposed, false);
  assert.equal(dropped.isDisposed, true);
  assert.equal(dropped.data.length, 0);
  const survivor = tidy(() => keep(relu(x)));
  assert.equal(survivor.isDisposed, false);
});

test('parameter gradients equal a direct float64 computation (linear layer)', () => {
  const rng = new Rng(9);
  const xd = randn(rng, 2 * 3), wd = randn(rng, 2 * 3);
  const x = new Tensor(xd, [2, 3]), w = new Tensor(wd.slice(), [2, 3], { requiresGrad: true });
  sum(linear(x, w)).backward();
  // d/dW sum(x W^T) = sum over the batch of x.
  const want = new Float32Array(6);
  for (let o = 0; o < 2; o++) for (let i = 0; i < 3; i++) want[o * 3 + i] = xd[i] + xd[3 + i];
  assertClose(w.gradData!, want, { rtol: 1e-6 }, 'dW');
});

test('gradients passed through add and reshape are right when buffers are handed over', () => {
  const rng = new Rng(31);
  const p = new Tensor(randn(rng, 12), [3, 4], { requiresGrad: true });
  const q = new Tensor(randn(rng, 12), [3, 4], { requiresGrad: true });
  // h is an intermediate used twice by add and once more by mul: the first
  // operand may take over the sum's gradient buffer, the second must not
  // see that buffer change under it, and later contributions add to it.
  const h = mul(p, q);
  const s = add(h, h);
  const r = add(s.reshape([12]).reshape([3, 4]), mul(h, q));
  sum(r).backward();
  // d/dp sum(2pq + pq^2) = 2q + q^2, d/dq = 2p + 2pq
  const wantP = q.data.map((v) => 2 * v + v * v), wantQ = p.data.map((v, i) => 2 * v + 2 * v * q.data[i]);
  assertClose(p.grad!.data, wantP, { rtol: 1e-6 }, 'dp');
  assertClose(q.grad!.data, wantQ, { rtol: 1e-6 }, 'dq');
});
