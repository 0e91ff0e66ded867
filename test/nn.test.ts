// nn (modules, naming, state dicts, init), optimizers, schedules and the PRNG.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, tidy, noGrad, mean, add, mul } from '../src/autograd/index.js';
import {
  Module, Sequential, Conv2d, BatchNorm2d, BatchNorm1d, ReLU, PReLU, Linear, Flatten, MaxPool2d, Dropout, Hardtanh,
  AvgPool2d, AdaptiveAvgPool2d, init, watchReLUs,
} from '../src/nn/index.js';
import { createModel } from '../src/models/index.js';
import { SGD, Adam, AdamW, LRScheduler, cosine, multiStep, linearWarmup } from '../src/train/index.js';
import { Rng, manualSeed } from '../src/util/prng.js';
import { ShapeError, UserError } from '../src/util/errors.js';
import { randn, assertClose } from './helpers.js';

function smallNet(): Sequential {
  return new Sequential(new Conv2d(3, 4, 3, { padding: 1 }), new BatchNorm2d(4), new ReLU(), new MaxPool2d(2),
    new Flatten(), new Linear(4 * 2 * 2, 5), new BatchNorm1d(5), new PReLU(5), new Linear(5, 3));
}

test('parameters and buffers get PyTorch-style names', () => {
  const names = [...smallNet().namedParameters().map(([n]) => n), ...smallNet().namedBuffers().map(([n]) => n)];
  assert.deepEqual(names, [
    '0.weight', '0.bias', '1.weight', '1.bias', '5.weight', '5.bias', '6.weight', '6.bias', '7.weight', '8.weight', '8.bias',
    '1.running_mean', '1.running_var', '1.num_batches_tracked', '6.running_mean', '6.running_var', '6.num_batches_tracked',
  ]);
  class Block extends Module {
    conv1 = new Conv2d(2, 2, 1, { bias: false });
    act = new PReLU();
    stages = [new Linear(2, 2), new Linear(2, 1)];
    _shared = this.act; // underscore fields are not walked
    forward(x: Tensor) { return this.act.forward(this.conv1.forward(x)); }
  }
  const b = new Block();
  assert.deepEqual(b.namedParameters().map(([n]) => n), ['conv1.weight', 'act.weight', 'stages.0.weight', 'stages.0.bias', 'stages.1.weight', 'stages.1.bias']);
  assert.equal(b.numParameters(), 4 + 1 + 6 + 3);
});

test('a module used twice has its parameters listed once', () => {
  const shared = new PReLU(3);
  class Twice extends Module {
    a = shared; b = shared;
    forward(x: Tensor) { return this.b.forward(this.a.forward(x)); }
  }
  assert.equal(new Twice().parameters().length, 1);
});

test('stateDict round trip gives identical outputs; mismatches are clear errors', () => {
  manualSeed(1);
  const a = smallNet();
  manualSeed(2);
  const b = smallNet();
  const x = new Tensor(randn(new Rng(3), 2 * 3 * 4 * 4), [2, 3, 4, 4]);
  a.train(); tidy(() => { a.forward(x); }); // update running stats so buffers matter
  a.eval(); b.eval();
  const ya = noGrad(() => a.forward(x)).data.slice();
  assert.notDeepEqual([...noGrad(() => b.forward(x)).data], [...ya]);
  b.loadStateDict(a.stateDict());
  assert.deepEqual([...noGrad(() => b.forward(x)).data], [...ya]);
  const sd = a.stateDict();
  delete sd['0.bias'];
  assert.throws(() => b.loadStateDict(sd), (e: unknown) => e instanceof UserError && /missing \[0\.bias\]/.test(e.message));
  const bad = a.stateDict();
  bad['0.weight'] = { shape: [1], data: new Float32Array(1) };
  assert.throws(() => b.loadStateDict(bad), ShapeError);
});

test('train() and eval() reach every submodule; batch norm uses running stats in eval', () => {
  const net = smallNet();
  net.eval();
  assert.ok(net.namedModules().every(([, m]) => !m.training));
  const bn = new BatchNorm2d(2);
  const x = new Tensor(randn(new Rng(4), 4 * 2 * 3 * 3, 3, 5), [4, 2, 3, 3]);
  bn.eval();
  const y = noGrad(() => bn.forward(x)); // running mean 0, var 1: identity up to eps
  assertClose(y.data, x.data, { rtol: 1e-4 }, 'eval batchnorm with fresh stats');
  bn.train();
  noGrad(() => bn.forward(x));
  assert.equal(bn.num_batches_tracked.data[0], 1);
  assert.ok(bn.running_mean.data[0] > 0.3, 'running mean moved toward the batch mean (5)');
  assert.throws(() => bn.forward(new Tensor(new Float32Array(8), [4, 2])), UserError);
});

test('layers without parameters: shapes and behaviour', () => {
  const x = new Tensor(randn(new Rng(5), 2 * 3 * 4 * 4), [2, 3, 4, 4]);
  noGrad(() => {
    assert.deepEqual(new AvgPool2d(2).forward(x).shape, [2, 3, 2, 2]);
    assert.deepEqual(new AdaptiveAvgPool2d(1).forward(x).shape, [2, 3, 1, 1]);
    assert.deepEqual(new Flatten().forward(x).shape, [2, 48]);
    const h = new Hardtanh().forward(x).data;
    assert.ok(h.every((v) => v >= -1 && v <= 1));
    const d = new Dropout(0.5, new Rng(1));
    d.eval();
    assert.equal(d.forward(x), x, 'dropout is the identity in eval mode');
    d.train();
    const zeros = d.forward(x).data.filter((v) => v === 0).length;
    assert.ok(zeros > 0.3 * x.numel && zeros < 0.7 * x.numel, `dropout zeroed ${zeros}/${x.numel}`);
  });
});

test('initialisation follows the PyTorch formulas and the seed', () => {
  manualSeed(11);
  const a = new Conv2d(64, 32, 3);
  manualSeed(11);
  const b = new Conv2d(64, 32, 3);
  assert.deepEqual([...a.weight.data], [...b.weight.data], 'same seed, same weights');
  const bound = 1 / Math.sqrt(64 * 9);
  assert.ok(a.weight.data.every((v) => Math.abs(v) <= bound));
  assert.ok(a.weight.data.some((v) => Math.abs(v) > 0.9 * bound), 'fills the whole range');
  const t = new Tensor(new Float32Array(256 * 128 * 9), [256, 128, 3, 3]);
  init.kaimingNormal(t, { mode: 'fan_out' });
  const std = Math.sqrt(t.data.reduce((s, v) => s + v * v, 0) / t.numel);
  assert.ok(Math.abs(std / Math.sqrt(2 / (256 * 9)) - 1) < 0.01, `kaiming std ${std}`);
});

test('PRNG: same seed same stream, state save/restore, sane distribution', () => {
  const a = new Rng(42), b = new Rng(42), c = new Rng(43);
  const sa = Array.from({ length: 5 }, () => a.nextU32());
  assert.deepEqual(sa, Array.from({ length: 5 }, () => b.nextU32()));
  assert.notDeepEqual(sa, Array.from({ length: 5 }, () => c.nextU32()));
  a.normal();
  const state = a.getState();
  const next = [a.normal(), a.uniform(), a.normal()];
  const d = new Rng(0);
  d.setState(JSON.parse(JSON.stringify(state)));
  assert.deepEqual([d.normal(), d.uniform(), d.normal()], next);
  let s = 0, s2 = 0;
  const r = new Rng(1);
  for (let i = 0; i < 100000; i++) { const v = r.normal(); s += v; s2 += v * v; }
  assert.ok(Math.abs(s / 1e5) < 0.02 && Math.abs(s2 / 1e5 - 1) < 0.02);
});

function paramWithGrad(p: number[], g: number[]) {
  const lin = new Linear(p.length, 1, { bias: false });
  lin.weight.data.set(p);
  lin.weight.gradData = Float32Array.from(g);
  return lin.weight;
}

test('SGD matches the PyTorch update rule (momentum, nesterov, weight decay)', () => {
  const w = paramWithGrad([1, -2], [0.5, 0.25]);
  const opt = new SGD([w], { lr: 0.1, momentum: 0.9, weightDecay: 0.01, nesterov: true });
  opt.step();
  // d = g + wd p; buf = d (first step); update = d + m buf
  let p = [1, -2], g = [0.5, 0.25];
  let buf = p.map((pi, i) => g[i] + 0.01 * pi);
  p = p.map((pi, i) => pi - 0.1 * (buf[i] + 0.9 * buf[i]));
  assertClose(w.data, p, { rtol: 1e-6 }, 'step 1');
  opt.step();
  const d = p.map((pi, i) => g[i] + 0.01 * pi);
  buf = buf.map((b, i) => 0.9 * b + d[i]);
  p = p.map((pi, i) => pi - 0.1 * (d[i] + 0.9 * buf[i]));
  assertClose(w.data, p, { rtol: 1e-6 }, 'step 2');
  g = [0, 0];
  w.zeroGrad();
  const before = w.data.slice();
  opt.step(); // a zeroed (stale) gradient means the parameter had no gradient this step
  assert.deepEqual([...w.data], [...before]);
});

test('Adam and AdamW: bias-corrected first step and decoupled decay', () => {
  const w = paramWithGrad([1, -1], [3, -0.001]);
  new Adam([w], { lr: 0.01 }).step();
  assertClose(w.data, [0.99, -0.99], { rtol: 1e-4 }, 'first Adam step moves each weight by lr');
  const v = paramWithGrad([2, 2], [0, 0]);
  new AdamW([v], { lr: 0.1, weightDecay: 0.5 }).step();
  assertClose(v.data, [2 * (1 - 0.05), 2 * (1 - 0.05)], { rtol: 1e-6 }, 'AdamW decays without touching the moments');
  const opt = new Adam([paramWithGrad([1], [1])], { lr: 0.1 });
  opt.step();
  const copy = new Adam([paramWithGrad([1], [1])], { lr: 0.1 });
  copy.loadStateDict(opt.stateDict());
  assert.equal(copy.stepCount, 1);
  assert.throws(() => new SGD([w], { lr: 0.1 }).loadStateDict(opt.stateDict()), UserError);
});

test('learning-rate schedules', () => {
  const opt = new SGD([paramWithGrad([0], [0])], { lr: 0.1 });
  const sched = new LRScheduler(opt, cosine(10));
  assert.equal(opt.lr, 0.1);
  for (let i = 0; i < 5; i++) sched.step();
  assertClose([opt.lr], [0.05], { rtol: 1e-12 }, 'cosine halfway');
  for (let i = 0; i < 5; i++) sched.step();
  assertClose([opt.lr], [0], { atol: 1e-12 }, 'cosine end');
  const ms = multiStep([150, 250, 320], 0.1);
  assert.deepEqual([0, 149, 150, 250, 320, 349].map((t) => +ms(t, 0.1).toPrecision(6)), [0.1, 0.1, 0.01, 0.001, 0.0001, 0.0001]);
  const wu = linearWarmup(cosine(100), 5, 0.2);
  assertClose([wu(0, 1), wu(2.5, 1), wu(5, 1), wu(55, 1)], [0.2, 0.6, 1, 0.5], { rtol: 1e-12 }, 'warm-up then cosine');
  const resumed = new LRScheduler(opt, cosine(10));
  resumed.loadStateDict({ t: 5, baseLr: 0.1 });
  assertClose([opt.lr], [0.05], { rtol: 1e-12 }, 'resume restores the lr');
});

test('a tiny regression converges with SGD through the whole stack', () => {
  manualSeed(3);
  const net = new Sequential(new Linear(2, 8), new ReLU(), new Linear(8, 1));
  const opt = new SGD(net.parameters(), { lr: 0.05, momentum: 0.9 });
  const rng = new Rng(4);
  const xs = randn(rng, 64 * 2);
  const target = Float32Array.from({ length: 64 }, (_, i) => xs[2 * i] - 2 * xs[2 * i + 1]);
  let last = Infinity;
  for (let step = 0; step < 300; step++) {
    last = tidy(() => {
      opt.zeroGrad();
      const y = net.forward(new Tensor(xs, [64, 2]));
      // Mean squared error built from the ops, with the target as a constant tensor.
      const err = add(y.reshape([64]), new Tensor(target.map((v) => -v), [64]));
      const e = mean(mul(err, err));
      e.backward();
      return e.item();
    });
    opt.step();
  }
  assert.ok(last < 0.05, `mse ${last}`);
});


test('watchReLUs counts positive inputs and never-positive units, leaves outputs alone, and stops', () => {
  const net = new Sequential(new ReLU());
  const w = watchReLUs(net);
  // units 1 and 2 are never > 0 (0 is not positive); unit 0 is positive on both images
  const y = noGrad(() => net.forward(Tensor.from([1, -1, 0, 2, -3, -1], [2, 3])));
  assert.deepEqual([...y.data], [1, 0, 0, 2, 0, 0]);
  noGrad(() => net.forward(Tensor.from([0.5, -2, -4], [1, 3])));
  assert.deepEqual(w.stats(), [{ name: '0', positiveFraction: 3 / 9, deadUnits: 2, units: 3, images: 3 }]);
  w.stop();
  noGrad(() => net.forward(Tensor.from([1, 1, 1], [1, 3])));
  assert.equal(w.stats()[0].images, 3, 'no counting after stop()');
  assert.ok(!Object.hasOwn(net.layers[0], 'forward'), 'the ReLU has its own forward back');
});

test('conv2 without batch norm: at p = 0.2 the ReLU after the second conv is almost never positive, at p = 0.5 mostly positive', () => {
  const positive = (ratio: number) => {
    manualSeed(3);
    const m = createModel('conv2', { imageSize: 8, weights: { name: 'bihalf', ratio } }).eval();
    const w = watchReLUs(m);
    noGrad(() => tidy(() => m.forward(new Tensor(randn(new Rng(4), 16 * 3 * 8 * 8), [16, 3, 8, 8]))));
    return Object.fromEntries(w.stats().map((s) => [s.name, s.positiveFraction]));
  };
  const skewed = positive(0.2), equal = positive(0.5);
  // The first conv sees zero-mean images, so its outputs are positive about half the time either way;
  // the second sees the first's ReLU output (>= 0) through filters 80% -1. (Its ReLU comes after
  // the 2x2 max pool, so at p = 0.5 it sees the max of 4 values, each positive about half the time.)
  assert.ok(skewed['convs.1'] > 0.3 && skewed['convs.1'] < 0.7, `p = 0.2, first ReLU: ${skewed['convs.1']}`);
  assert.ok(skewed['convs.4'] < 0.05, `p = 0.2, second ReLU: ${skewed['convs.4']}`);
  assert.ok(equal['convs.4'] > 0.8, `p = 0.5, second ReLU: ${equal['convs.4']}`);
});
