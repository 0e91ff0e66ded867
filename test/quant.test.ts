// Quantizers: exact bit counts, deterministic ties, native = reference codes,
// straight-through gradients, paired flips during training, caching, stats.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, tidy, noGrad, sum, mul, crossEntropy, conv2d } from '../src/autograd/index.js';
import { linear } from '../src/autograd/index.js';
import { Sequential, ReLU, Flatten } from '../src/nn/index.js';
import { SGD } from '../src/train/index.js';
import { kernels, referenceKernels, nativeKernels, checked, nativeLoadError } from '../src/native/index.js';
import {
  BiHalfQuantizer, HalfMaskQuantizer, SignQuantizer, IrNetQuantizer, weightQuantizer, activationQuantizer, binarySign,
  BinaryLinear, BinaryConv2d, bitStats, snapshotBits, entropyBits, setTrainingProgress, inputQuantizers, type EdeSign,
} from '../src/quant/index.js';
import { createModel } from '../src/models/index.js';
import { UserError } from '../src/util/errors.js';
import { Rng, manualSeed } from '../src/util/prng.js';
import { randn, assertClose, assertExact, checkGradient, nanFilled } from './helpers.js';

const native = nativeKernels ? checked(nativeKernels) : null;
const sizes = [...Array.from({ length: 600 }, (_, i) => i + 1), 4608, 16384];

function countCodes(codes: Int8Array, start: number, n: number): { minus: number; zero: number; plus: number } {
  let minus = 0, zero = 0;
  for (let i = start; i < start + n; i++) { if (codes[i] < 0) minus++; else if (codes[i] === 0) zero++; }
  return { minus, zero, plus: n - minus - zero };
}

test('native quantizer kernels are loaded', () => {
  assert.ok(native, `native addon did not load: ${nativeLoadError()}`);
});

test('bihalf(p): exactly floor((1-p) n) minus ones in every group, for n = 1..600, 4608, 16384 and p = 0.1..0.9', () => {
  const rng = new Rng(1);
  for (let tenths = 1; tenths <= 9; tenths++) {
    const q = new BiHalfQuantizer({ ratio: tenths / 10 });
    for (const n of sizes) {
      const groups = n > 1000 ? 1 : 3;
      const latent = randn(rng, groups * n);
      const codes = new Int8Array(groups * n);
      q.encode(latent, groups, n, codes);
      const want = Math.floor(((10 - tenths) * n) / 10); // exact integer arithmetic
      for (let g = 0; g < groups; g++) {
        const c = countCodes(codes, g * n, n);
        if (c.minus !== want || c.zero !== 0) assert.fail(`p=${tenths / 10} n=${n} group ${g}: ${c.minus} minus ones, want ${want}`);
        if (tenths === 5 && n % 2 === 0) assert.equal(entropyBits([c.plus, c.minus]), 1, `entropy of n=${n}`);
      }
      // Optimal transport is monotone: every -1 latent is <= every +1 latent.
      let maxMinus = -Infinity, minPlus = Infinity;
      for (let i = 0; i < n; i++) codes[i] < 0 ? (maxMinus = Math.max(maxMinus, latent[i])) : (minPlus = Math.min(minPlus, latent[i]));
      assert.ok(maxMinus <= minPlus, `p=${tenths / 10} n=${n}: codes are not a cut of the sorted latents`);
    }
  }
});

test('halfmask(k): counts of -1, 0, +1 match method.md for k = 0, 0.3, 0.5, 0.7, 0.9', () => {
  const rng = new Rng(2);
  for (const k10 of [0, 3, 5, 7, 9]) {
    const q = new HalfMaskQuantizer({ pruneRate: k10 / 10 });
    for (const n of sizes) {
      const latent = randn(rng, n);
      const codes = new Int8Array(n);
      q.encode(latent, 1, n, codes);
      const i = Math.floor(((10 - k10) * n) / 20), j = Math.floor(((10 + k10) * n) / 20);
      const c = countCodes(codes, 0, n);
      if (c.minus !== i || c.zero !== j - i || c.plus !== n - j) {
        assert.fail(`k=${k10 / 10} n=${n}: got -1/0/+1 = ${c.minus}/${c.zero}/${c.plus}, want ${i}/${j - i}/${n - j}`);
      }
      // The zeros are the weights around the median: ordered -1 <= 0 <= +1.
      const lat = (code: number) => [...latent].filter((_, t) => codes[t] === code);
      const hi = (xs: number[]) => Math.max(-Infinity, ...xs), lo = (xs: number[]) => Math.min(Infinity, ...xs);
      assert.ok(hi(lat(-1)) <= lo(lat(0)) && hi(lat(0)) <= lo(lat(1)), `k=${k10 / 10} n=${n}: zeros are not the middle ranks`);
    }
  }
});

test('ties are broken by index, identically on every run and in both backends', () => {
  const backends = native ? [kernels, referenceKernels, native] : [kernels, referenceKernels];
  const cases: [string, Float32Array][] = [
    ['all equal', new Float32Array(101).fill(0.25)],
    ['all zero, both signs', Float32Array.from({ length: 64 }, (_, i) => (i % 3 ? 0 : -0))],
    ['repeated values', Float32Array.from({ length: 257 }, (_, i) => (i * 7) % 5 - 2)],
    ['two values', Float32Array.from({ length: 50 }, (_, i) => (i % 2 ? 1 : -1))],
  ];
  for (const [what, latent] of cases) {
    const n = latent.length;
    const first = new Int8Array(n);
    kernels.rankCodes(1, n, latent, Math.floor(n / 2), Math.floor(n / 2), first);
    for (const k of backends) {
      for (let run = 0; run < 3; run++) {
        const codes = new Int8Array(n);
        k.rankCodes(1, n, latent, Math.floor(n / 2), Math.floor(n / 2), codes);
        assertExact(codes, first, `${what}, run ${run}`);
      }
    }
    if (what === 'all equal') {
      // Equal values: the lower indices take the -1 codes.
      assertExact(first, Int8Array.from({ length: n }, (_, i) => (i < 50 ? -1 : 1)), 'all equal: -1 go to the first indices');
    }
  }
});

test('native and reference rankCodes agree on every vector of up to 6 values from {0, 1, 2} and every pair of cuts', () => {
  assert.ok(native, nativeLoadError());
  // Every way ties can straddle one or both cuts, including a cut that leaves exactly one equal key out.
  let cases = 0;
  for (let n = 1; n <= 6; n++) {
    for (let v = 0; v < 3 ** n; v++) {
      const latent = Float32Array.from({ length: n }, (_, i) => Math.floor(v / 3 ** i) % 3);
      for (let low = 0; low <= n; low++) {
        for (let high = low; high <= n; high++) {
          const a = new Int8Array(n), b = new Int8Array(n);
          native!.rankCodes(1, n, latent, low, high, a);
          referenceKernels.rankCodes(1, n, latent, low, high, b);
          assertExact(a, b, `rankCodes [${latent.join(', ')}] cuts ${low},${high}`);
          cases++;
        }
      }
    }
  }
  assert.equal(cases, [1, 2, 3, 4, 5, 6].reduce((s, n) => s + 3 ** n * ((n + 1) * (n + 2)) / 2, 0));
});

test('native and reference quantizers give identical codes on random tensors', () => {
  assert.ok(native, nativeLoadError());
  const rng = new Rng(3);
  for (const [groups, n, distinct] of [[1, 1, 0], [7, 9, 0], [64, 576, 0], [3, 4608, 0], [2, 16384, 0], [5, 1000, 0], [4, 2000, 7], [3, 577, 2]]) {
    // distinct > 0: only that many values, so every cut falls inside a run of equal keys.
    const latent = randn(rng, groups * n).map((v) => (distinct ? Math.min(distinct - 1, Math.floor(Math.abs(v) * 2)) - 1.5 : v));
    latent[0] = -0; if (latent.length > 3) { latent[1] = 0; latent[2] = Infinity; latent[3] = -Infinity; }
    for (const [low, high] of [[0, 0], [Math.floor(n / 2), Math.floor(n / 2)], [Math.floor(n / 4), Math.floor((3 * n) / 4)], [n, n], [Math.floor(n / 10), n]]) {
      const a = new Int8Array(groups * n), b = new Int8Array(groups * n);
      native!.rankCodes(groups, n, latent, low, high, a);
      referenceKernels.rankCodes(groups, n, latent, low, high, b);
      assertExact(a, b, `rankCodes ${groups}x${n} cuts ${low},${high}`);
    }
    const sa = new Int8Array(latent.length), sb = new Int8Array(latent.length);
    native!.signCodes(latent.length, latent, sa);
    referenceKernels.signCodes(latent.length, latent, sb);
    assertExact(sa, sb, 'signCodes');
  }
});

test('native = reference for IR-Net balanced codes, power-of-two factors and the standardisation gradient', () => {
  assert.ok(native, nativeLoadError());
  const rng = new Rng(31);
  // Shapes of conv2 (27, 576 and 16384 per filter), a 1-weight filter, a constant
  // filter (no spread), and a large mean beside a small spread (cancellation).
  for (const [filters, n, mean, sd] of [[64, 27, 0, 0.2], [64, 576, 0.01, 0.05], [256, 16384, 0, 0.005], [3, 1, 0, 1], [5, 1001, 1000, 1e-3], [2, 64, 0.5, 0]]) {
    const latent = randn(rng, filters * n, sd, mean), g = randn(rng, filters * n);
    const what = `${filters}x${n} mean ${mean} sd ${sd}`;
    const [ca, cb] = [new Int8Array(latent.length), new Int8Array(latent.length)];
    native!.balancedCodes(filters, n, latent, ca); referenceKernels.balancedCodes(filters, n, latent, cb);
    // The two sum in different orders, so a weight within rounding of its filter's mean may differ.
    let differ = 0;
    for (let i = 0; i < ca.length; i++) if (ca[i] !== cb[i]) differ++;
    assert.ok(differ <= 2, `${what}: ${differ} codes differ`);
    if (sd === 0) assert.ok(ca.every((c) => c === 1), `${what}: no spread gives +1 codes`);
    const [fa, fb] = [new Float32Array(filters), new Float32Array(filters)];
    native!.balancedScales(filters, n, latent, fa); referenceKernels.balancedScales(filters, n, latent, fb);
    assertExact(fa, fb, `${what}: factors`);
    if (n > 100 && sd > 0) assert.ok(fa.every((f) => f === 1), `${what}: normal weights give factor 1`);
    const [ga, gb] = [nanFilled(latent.length), nanFilled(latent.length)];
    native!.balancedBackward(filters, n, latent, g, ga); referenceKernels.balancedBackward(filters, n, latent, g, gb);
    const big = Math.max(...Array.from(gb.subarray(0, 4096), Math.abs), 1e-30);
    assertClose(ga, gb, { rtol: 1e-4, atol: 1e-5 * big }, `${what}: gradient`);
  }
  assert.throws(() => kernels.balancedCodes(2, 3, new Float32Array(5), new Int8Array(6)), /balancedCodes latent: buffer has 5 elements, shape needs 6/);
});

test('native = reference for sign activations, code scaling and per-channel scaling', () => {
  assert.ok(native, nativeLoadError());
  const rng = new Rng(12);
  for (const len of [1, 7, 1000, 200003]) {
    const x = randn(rng, len, 1.2);
    x[0] = 0; if (len > 3) { x[1] = -0; x[2] = 1; x[3] = -1; }
    const dy = randn(rng, len);
    const [ya, yb] = [new Float32Array(len), new Float32Array(len)];
    native!.signForward(len, x, ya); referenceKernels.signForward(len, x, yb);
    assertExact(ya, yb, `signForward ${len}`);
    // EDE (mode 2) at the start, middle and end of its schedule: (t, k) = (0.1, 10), (1, 1), (10, 1).
    for (const [mode, t, k] of [[0, 1, 1], [1, 1, 1], [2, 0.1, 10], [2, 1, 1], [2, 10, 1]]) {
      const what = `signBackward mode ${mode} t ${t} k ${k} ${len}`;
      native!.signBackward(len, x, dy, mode, ya, false, t, k); referenceKernels.signBackward(len, x, dy, mode, yb, false, t, k);
      assertClose(ya, yb, { rtol: 1e-6 }, what);
      // Accumulating form: dx += gradient, on a non-zero dx.
      const base = randn(rng, len), [aa, ab] = [base.slice(), base.slice()];
      native!.signBackward(len, x, dy, mode, aa, true, t, k); referenceKernels.signBackward(len, x, dy, mode, ab, true, t, k);
      assertClose(aa, ab, { rtol: 1e-6 }, `${what} accumulate`);
      for (let i = 0; i < len; i++) ab[i] = base[i] + yb[i];
      assertClose(aa, ab, { rtol: 1e-6 }, `${what}: accumulate = dx + gradient`);
    }
  }
  for (const [groups, n] of [[1, 5], [64, 576], [300, 1000]]) {
    const codes = Int8Array.from({ length: groups * n }, () => rng.int(3) - 1);
    const scales = randn(rng, groups);
    const [a, b] = [new Float32Array(groups * n), new Float32Array(groups * n)];
    native!.codesToWeights(groups, n, codes, scales, a); referenceKernels.codesToWeights(groups, n, codes, scales, b);
    assertExact(a, b, `codesToWeights ${groups}x${n}`);
    const x = randn(rng, 2 * groups * n);
    const [c, d] = [new Float32Array(x.length), new Float32Array(x.length)];
    native!.channelScale(2, groups, n, x, scales, c); referenceKernels.channelScale(2, groups, n, x, scales, d);
    assertExact(c, d, `channelScale 2x${groups}x${n}`);
  }
});

test('sign: sign(0) = +1, and the codes are plain signs', () => {
  const codes = new Int8Array(5);
  new SignQuantizer().encode(Float32Array.from([-1, -0, 0, 2, -1e-30]), 1, 5, codes);
  assertExact(codes, [-1, 1, 1, 1, -1], 'sign codes');
});

/** d(sum(r * layer(x)))/d(latent) must equal d/d(effective weight) times the per-filter scale. */
function checkStraightThrough(opts: ConstructorParameters<typeof BinaryLinear>[2], what: string): void {
  manualSeed(4);
  const layer = new BinaryLinear(12, 5, opts);
  const rng = new Rng(5);
  const x = new Tensor(randn(rng, 3 * 12), [3, 12]);
  const r = new Tensor(randn(rng, 3 * 5), [3, 5]);
  tidy(() => sum(mul(layer.forward(x), r)).backward());
  const bw = layer.binaryWeight();
  const weff = new Tensor(bw.values.slice(), [5, 12], { requiresGrad: true });
  tidy(() => sum(mul(linear(x, weff), r)).backward());
  const want = weff.gradData!.map((g, i) => g * bw.scales[Math.floor(i / 12)]);
  assertClose(layer.weight.gradData!, want, { rtol: 1e-6 }, what);
}

test('the latent weights receive the straight-through gradient times the scale', () => {
  checkStraightThrough({ weightQuantizer: 'bihalf' }, 'bihalf, fixed scale');
  checkStraightThrough({ weightQuantizer: 'sign', scaling: 'none' }, 'sign, no scale');
  checkStraightThrough({ weightQuantizer: { name: 'halfmask', pruneRate: 0.5 }, scaleFan: true }, 'halfmask, scaled fan');
  checkStraightThrough({ weightQuantizer: { name: 'bihalf', group: 'layer' }, scaling: 'xnor' }, 'bihalf per layer, xnor scale');
  const layer = new BinaryLinear(12, 5);
  assertClose(layer.binaryWeight().scales, new Array(5).fill(Math.SQRT2 / Math.sqrt(12)), { rtol: 1e-7 }, 'fixed scale = sqrt(2)/sqrt(fan_in)');
  const hm = new BinaryLinear(20, 2, { weightQuantizer: { name: 'halfmask', pruneRate: 0.5 }, scaleFan: true });
  assertClose(hm.binaryWeight().scales, [Math.SQRT2 / Math.sqrt(10), Math.SQRT2 / Math.sqrt(10)], { rtol: 1e-7 }, 'scale_fan uses the unpruned fan-in');
});

test('IR-Net: balanced codes, power-of-two scales, exact gradient through the standardisation', () => {
  const rng = new Rng(6);
  const n = 30, filters = 3;
  const latent = randn(rng, filters * n, 0.3, 0.2);
  const q = new IrNetQuantizer();
  const codes = new Int8Array(latent.length), scales = new Float32Array(filters);
  q.encode(latent, filters, n, codes);
  q.scaleFactors!(latent, filters, n, scales);
  for (const s of scales) assert.equal(Math.log2(s), Math.round(Math.log2(s)), `scale ${s} is a power of two`);
  // Standardised normal weights have mean |w'| = sqrt(2/pi) = 0.8, so the factor rounds to 1;
  // weights that are mostly one magnitude (+-1 with one outlier) give mean |w'| near 1 too,
  // and a filter with one huge outlier gives mean |w'| ~ 2/sqrt(n), far below 1.
  assert.deepEqual([...scales], [1, 1, 1]);
  const outlier = new Float32Array(64).fill(0); outlier[0] = 1;
  const one = new Float32Array(1);
  q.scaleFactors!(outlier, 1, 64, one);
  assert.equal(one[0], 2 ** Math.round(Math.log2(2 / Math.sqrt(64))), 'an outlier filter: a smaller power of two');
  // In a layer the factor multiplies the layer's scaling (gain / sqrt(fan_in) here): IR-Net
  // networks have batch norm after each conv, the shallow models do not.
  const layer = new BinaryLinear(1024, 3, { weightQuantizer: 'irnet' });
  assertClose(layer.binaryWeight().scales, new Array(3).fill(Math.SQRT2 / 32), { rtol: 1e-7 }, 'irnet in a layer: fixed scale x 1');
  const none = new BinaryLinear(1024, 3, { weightQuantizer: 'irnet', scaling: 'none' });
  assertExact(none.binaryWeight().scales, [1, 1, 1], 'irnet with scaling none: the power of two alone');
  const mean0 = latent.subarray(0, n).reduce((a, b) => a + b, 0) / n;
  for (let i = 0; i < n; i++) assert.equal(codes[i], latent[i] < mean0 ? -1 : 1);
  // The backward is the exact derivative of sum(g * standardise(w)); check it numerically.
  const g = randn(rng, latent.length);
  const grad = new Float32Array(latent.length);
  q.backward!(latent, filters, n, g, grad);
  const f = (w: Float32Array) => {
    let s = 0;
    for (let fl = 0; fl < filters; fl++) {
      const part = Array.from(w.subarray(fl * n, (fl + 1) * n));
      const m = part.reduce((a, b) => a + b, 0) / n;
      const sd = Math.sqrt(part.reduce((a, b) => a + (b - m) ** 2, 0) / (n - 1));
      part.forEach((v, i) => (s += g[fl * n + i] * (v - m) / sd));
    }
    return s;
  };
  checkGradient({ f, x: latent, grad, rng, h: 1e-3, what: 'IR-Net standardisation' });
});

test('ste_sign passes the gradient only where |x| < 1; approx_sign uses 2 - 2|x|', () => {
  const xs = Float32Array.from([-2, -1, -0.999, -0.5, 0, 0.5, 0.999, 1, 1.5]);
  for (const [name, want] of [
    ['ste_sign', xs.map((v) => (Math.abs(v) < 1 ? 1 : 0))],
    ['approx_sign', xs.map((v) => (Math.abs(v) < 1 ? 2 - 2 * Math.abs(v) : 0))],
  ] as const) {
    const x = new Tensor(xs.slice(), [xs.length], { requiresGrad: true });
    const y = activationQuantizer(name).apply(x);
    assertExact(y.data, xs.map((v) => (v < 0 ? -1 : 1)), `${name} forward`);
    sum(y).backward();
    assertClose(x.gradData!, want, { atol: 1e-6 }, `${name} gradient`);
    for (const i of [0, 1, 7, 8]) assert.equal(x.gradData![i], 0, `${name}: exactly zero at |x| = ${Math.abs(xs[i])}`);
  }
  assert.equal(activationQuantizer(null).apply(new Tensor(xs, [9])).data, xs, 'identity');
  assert.equal(binarySign(new Tensor(xs, [9]), 0).data[4], 1, 'sign(0) = +1');
});

test('ede: sign forward, gradient = d/dx k tanh(t x) (central differences), t from 0.1 to 10 over training', () => {
  const xs = Float32Array.from([-3, -1, -0.4, -0.05, 0, 0.05, 0.4, 1, 3]);
  const q = activationQuantizer('ede') as EdeSign;
  for (const [progress, t, k] of [[0, 0.1, 10], [0.25, 10 ** -0.5, 10 ** 0.5], [0.5, 1, 1], [1, 10, 1]]) {
    q.setProgress(progress);
    assert.ok(Math.abs(q.t - t) < 1e-12 && Math.abs(q.k - k) < 1e-12, `progress ${progress}: t ${q.t}, k ${q.k}`);
    const x = new Tensor(xs.slice(), [xs.length], { requiresGrad: true });
    const y = q.apply(x);
    assertExact(y.data, xs.map((v) => (v < 0 ? -1 : 1)), `ede forward at ${progress}`);
    sum(y).backward();
    const h = 1e-4, surrogate = (v: number) => k * Math.tanh(t * v);
    const want = Array.from(xs, (v) => (surrogate(v + h) - surrogate(v - h)) / (2 * h));
    assertClose(x.gradData!, want, { rtol: 1e-5 }, `ede gradient at progress ${progress}`);
  }
  assert.throws(() => q.setProgress(1.5), UserError);
  assert.throws(() => q.setProgress(Number.NaN), UserError);
});

test('setTrainingProgress reaches every input quantizer of a model', () => {
  const m = createModel('resnet20', { activations: 'ede' });
  const quantizers = inputQuantizers(m).filter((q) => q.name === 'ede') as EdeSign[];
  assert.equal(quantizers.length, 18);
  setTrainingProgress(m, 0.5);
  assert.ok(quantizers.every((q) => q.t === 1 && q.k === 1));
});

test('in eval mode the binary weight is computed once and cached until the latent weights change', () => {
  manualSeed(7);
  const layer = new BinaryConv2d(3, 4, 3, { padding: 1 });
  const x = new Tensor(randn(new Rng(8), 2 * 3 * 5 * 5), [2, 3, 5, 5]);
  layer.eval();
  const before = layer._binary.encodeCount;
  noGrad(() => { layer.forward(x); layer.forward(x); layer.forward(x); });
  assert.equal(layer._binary.encodeCount, before + 1, 'three eval forwards, one encode');
  layer.train();
  const opt = new SGD(layer.parameters(), { lr: 0.1 });
  tidy(() => sum(layer.forward(x)).backward());
  opt.step();
  noGrad(() => layer.forward(x));
  assert.equal(layer._binary.encodeCount, before + 2, 'an optimizer step invalidates the cache');
  layer.loadStateDict(layer.stateDict());
  noGrad(() => layer.forward(x));
  assert.equal(layer._binary.encodeCount, before + 3, 'loading a state dict invalidates the cache');
});

test('quantizer configs round-trip; bad names and options are clear errors', () => {
  for (const cfg of [{ name: 'sign' }, { name: 'bihalf', ratio: 0.3, group: 'layer' }, { name: 'halfmask', pruneRate: 0.7, group: 'filter' }, { name: 'irnet' }]) {
    assert.deepEqual(weightQuantizer(JSON.parse(JSON.stringify(weightQuantizer(cfg).config()))).config(), weightQuantizer(cfg).config());
  }
  assert.deepEqual(weightQuantizer('bihalf').config(), { name: 'bihalf', ratio: 0.5, group: 'filter' });
  assert.throws(() => weightQuantizer('nope'), (e: unknown) => e instanceof UserError && /unknown weight quantizer "nope"/.test(e.message));
  assert.throws(() => weightQuantizer({ name: 'bihalf', ratio: 1.5 }), UserError);
  assert.throws(() => weightQuantizer({ name: 'bihalf', group: 'row' }), UserError);
  assert.throws(() => activationQuantizer('sigmoid'), UserError);
  assert.throws(() => new BinaryLinear(2, 2, { scaling: 'bogus' as 'none' }), UserError);
});

test('bit statistics: ratios, entropy, per-filter detail', () => {
  manualSeed(9);
  const net = new Sequential(new BinaryConv2d(3, 8, 3), new ReLU(), new Flatten(),
    new BinaryLinear(8 * 4 * 4, 10, { weightQuantizer: { name: 'halfmask', pruneRate: 0.5 } }),
    new BinaryLinear(10, 3, { weightQuantizer: 'sign' }));
  const [conv, hm, sg] = bitStats(net, { perGroup: true });
  assert.equal(conv.name, '0');
  assert.equal(conv.groups, 8);
  assert.equal(conv.groupSize, 27);
  assert.equal(conv.plusFraction, 14 / 27, 'odd n = 27: 13 minus ones, 14 plus ones');
  assert.ok(conv.perGroup!.every((g) => g.minus === 13 && g.plus === 14));
  assert.equal(hm.quantizer, 'halfmask');
  assert.equal(hm.zeroFraction, 0.5);
  assert.equal(hm.entropyBits, 1.5, 'a quarter -1, half 0, a quarter +1');
  assert.equal(sg.quantizer, 'sign');
  assert.equal(sg.flipsUp + sg.flipsDown, 0, 'no snapshot yet: no flips');
});

test('during training, every bihalf group flips as many -1 -> +1 as +1 -> -1 at every step', () => {
  manualSeed(10);
  const net = new Sequential(
    new BinaryConv2d(1, 8, 3, { padding: 1, stride: 2 }), new ReLU(), new Flatten(),
    new BinaryLinear(8 * 4 * 4, 16), new ReLU(), new BinaryLinear(16, 4, { weightQuantizer: { name: 'bihalf', group: 'layer' } }),
  );
  const opt = new SGD(net.parameters(), { lr: 0.05, momentum: 0.9 });
  const rng = new Rng(11);
  const x = new Tensor(randn(rng, 32 * 64), [32, 1, 8, 8]);
  const y = Int32Array.from({ length: 32 }, () => rng.int(4));
  snapshotBits(net);
  let totalFlips = 0;
  for (let step = 0; step < 300; step++) {
    tidy(() => { opt.zeroGrad(); crossEntropy(net.forward(x), y).backward(); });
    opt.step();
    for (const layer of bitStats(net, { perGroup: true, snapshot: true })) {
      layer.perGroup!.forEach((g, i) => {
        if (g.flipsUp !== g.flipsDown) assert.fail(`step ${step}, layer ${layer.name}, group ${i}: ${g.flipsUp} up vs ${g.flipsDown} down`);
      });
      totalFlips += layer.flipsUp + layer.flipsDown;
    }
  }
  assert.ok(totalFlips > 100, `the property was exercised: ${totalFlips} flips`);
});

test('1W/1A binary convs run their forward as XNOR + popcount and match the float conv', () => {
  const rng = new Rng(21);
  for (const [quant, expectXnor] of [['bihalf', true], ['irnet', true], [{ name: 'halfmask', pruneRate: 0.5 }, false]] as const) {
    const layer = new BinaryConv2d(12, 8, 3, { weightQuantizer: quant, inputQuantizer: 'ste_sign', padding: 1, stride: 2, bias: true, rng });
    rng.fillNormal(layer.bias!.data);
    assert.equal(layer.xnorForward, expectXnor, `${JSON.stringify(quant)}: xnor path`);
    const x = new Tensor(randn(rng, 3 * 12 * 9 * 9), [3, 12, 9, 9]);
    // Under noGrad the signs come straight from x; with grad, from the quantizer.
    const y = noGrad(() => layer.forward(x)), yGrad = layer.forward(x);
    assertExact(yGrad.data, y.data, `${JSON.stringify(quant)}: same forward with and without grad`);
    const bw = layer.binaryWeight();
    const sx = new Float32Array(x.numel);
    referenceKernels.signForward(x.numel, x.data, sx);
    const want = new Float32Array(y.numel);
    referenceKernels.conv2dForward({ n: 3, cin: 12, h: 9, w: 9, cout: 8, kh: 3, kw: 3, sh: 2, sw: 2, ph: 1, pw: 1 }, sx, bw.values, layer.bias!.data, want);
    assertClose(y.data, want, { rtol: 1e-5, atol: 1e-6 }, `${JSON.stringify(quant)} forward`);
  }
  // Float activations never take the binary path.
  assert.equal(new BinaryConv2d(4, 4, 3, { inputQuantizer: 'identity' }).xnorForward, false);
});

test('1W/1A binary convs: gradients with sign applied on the fly equal sign-then-float-conv', () => {
  const rng = new Rng(22);
  for (const aq of ['ste_sign', 'approx_sign', 'ede']) {
    const layer = new BinaryConv2d(6, 5, 3, { weightQuantizer: 'bihalf', inputQuantizer: aq, padding: 1, bias: true, rng });
    layer.inputQuantizer.setProgress?.(0.7); // EDE mid-schedule: t = 2.5, k = 1
    assert.ok(layer.xnorForward);
    const x = new Tensor(randn(rng, 2 * 6 * 7 * 7, 0.8), [2, 6, 7, 7], { requiresGrad: true });
    const gy = randn(rng, 2 * 5 * 7 * 7);
    // The fused path, then the plain one: quantizer op, then the float conv.
    layer.zeroGrad(); x.zeroGrad();
    tidy(() => { sum(mul(layer.forward(x), new Tensor(gy, [2, 5, 7, 7]))).backward(); });
    const fused = [x.grad!.data.slice(), layer.weight.grad!.data.slice(), layer.bias!.grad!.data.slice()];
    layer.zeroGrad(); x.zeroGrad();
    tidy(() => {
      const y = conv2d(layer.inputQuantizer.apply(x), layer.binaryWeight().forward(), layer.bias, { padding: 1 });
      sum(mul(y, new Tensor(gy, [2, 5, 7, 7]))).backward();
    });
    const plain = [x.grad!.data, layer.weight.grad!.data, layer.bias!.grad!.data];
    for (const [i, what] of ['dx', 'dW', 'db'].entries()) assertClose(fused[i], plain[i], { rtol: 1e-6 }, `${aq} ${what}`);
    assert.ok(fused[0].some((v) => v !== 0), 'some input gradient passes the STE');
  }
});

