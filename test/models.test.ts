// The model zoo: every model builds in its float, 1W/32A and (where it
// applies) 1W/1A form, gives [batch, classes] finite outputs, sends a gradient
// to every parameter, and has exactly the parameter counts of the same
// architecture in PyTorch. Plus the registry, configs, and the zoo's own ops.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, tidy, noGrad, sigmoid, crossEntropy, sum } from '../src/autograd/index.js';
import type { Module } from '../src/nn/index.js';
import { isBinaryLayer, bitStats, BinaryConv2d } from '../src/quant/index.js';
import {
  createModel, modelNames, modelSpec, modelConfig, modelFromConfig, describeModel, describeModule, listModels,
  subsamplePadChannels, sliceFlat, ToyNet, ResNet20, ActQuantConv2d, type ModelOptions,
} from '../src/models/index.js';
import { UserError } from '../src/util/errors.js';
import { manualSeed } from '../src/util/prng.js';
import { Rng, randn, randu, randLabels, checkGradient, dot, assertClose } from './helpers.js';

/** d(w . f(x))/dx against finite differences, for a single-input op. */
function gradcheck1(what: string, op: (x: Tensor) => Tensor, x0: Float32Array, shape: number[], h = 1e-2): void {
  const rng = new Rng(11);
  const x = new Tensor(x0.slice(), shape, { requiresGrad: true });
  const y = op(x);
  const w = randn(rng, y.numel);
  y.backward(w);
  assert.ok(x.gradData, `${what}: no gradient`);
  const f = (xi: Float32Array) => noGrad(() => tidy(() => dot(w, op(new Tensor(xi, shape)).data)));
  checkGradient({ f, x: x0, grad: x.gradData!, rng, h, what });
}

test('sigmoid: values (stable for large |x|) and gradient', () => {
  const y = sigmoid(Tensor.from([0, 2, -2, 100, -100]));
  assertClose(y.data, [0.5, 1 / (1 + Math.exp(-2)), 1 / (1 + Math.exp(2)), 1, 0], { atol: 1e-7 }, 'sigmoid values');
  assert.ok(y.data.every(Number.isFinite));
  gradcheck1('sigmoid', sigmoid, randu(new Rng(1), 2 * 7, -4, 4), [2, 7]);
});

test('option-A shortcut: x[:, :, ::2, ::2] padded with zero channels; gradient', () => {
  const x = Tensor.from(Array.from({ length: 1 * 2 * 3 * 3 }, (_, i) => i + 1), [1, 2, 3, 3]);
  const y = subsamplePadChannels(x, 1);
  assert.deepEqual(y.shape, [1, 4, 2, 2]);
  // channel 0 and 3 are zero; channels 1, 2 hold rows/cols 0 and 2 of the input channels.
  assert.deepEqual([...y.data], [0, 0, 0, 0, 1, 3, 7, 9, 10, 12, 16, 18, 0, 0, 0, 0]);
  gradcheck1('option-A shortcut', (t) => subsamplePadChannels(t, 2), randn(new Rng(2), 2 * 4 * 5 * 4), [2, 4, 5, 4]);
});

test('sliceFlat: a range as its own tensor; gradient lands in that range only', () => {
  gradcheck1('sliceFlat', (t) => sliceFlat(t, 3, [2, 2]), randn(new Rng(3), 9), [9]);
  const t = new Tensor(new Float32Array(5), [5], { requiresGrad: true });
  sliceFlat(t, 1, [2]).backward(Float32Array.from([7, 8]));
  assert.deepEqual([...t.gradData!], [0, 7, 8, 0, 0]);
});

// ---- every model, every form ---------------------------------------------

const BIHALF: ModelOptions = { weights: { name: 'bihalf' } };
const ONE_BIT: ModelOptions = { weights: { name: 'bihalf' }, activations: 'ste_sign' };

interface Variant { label: string; opts: ModelOptions }
function variants(name: string): Variant[] {
  const v: Variant[] = [{ label: 'float', opts: { weights: 'float' } }, { label: '1W/32A bihalf', opts: BIHALF }];
  if (modelSpec(name).binaryActivations) v.push({ label: '1W/1A bihalf', opts: ONE_BIT });
  return v;
}

/** Forward on a small random batch, a loss, backward; returns the logits' shape. */
function forwardBackward(model: Module, name: string, batch: number): number[] {
  const spec = modelSpec(name);
  const rng = new Rng(5);
  const x = new Tensor(randn(rng, batch * spec.inputShape.reduce((a, b) => a * b, 1)), [batch, ...spec.inputShape]);
  model.train();
  return tidy(() => {
    model.zeroGrad();
    const out = model.forward(x);
    assert.ok(out.data.every(Number.isFinite), `${name}: non-finite output`);
    const loss = out.shape[1] === 1 ? sum(out) : crossEntropy(out, randLabels(rng, batch, out.shape[1]));
    loss.backward();
    return [...out.shape];
  });
}

for (const name of modelNames()) {
  test(`${name}: forward gives [batch, classes] and backward reaches every parameter, in every form`, () => {
    const spec = modelSpec(name);
    // ResNet-34 at batch 1 keeps the test quick (its BN still sees 16+ values per channel).
    const batch = name === 'resnet34' ? 1 : 2;
    for (const { label, opts } of variants(name)) {
      manualSeed(1);
      const model = createModel(name, opts);
      assert.deepEqual(forwardBackward(model, name, batch), [batch, spec.defaultClasses], `${name} ${label}: output shape`);
      for (const [pname, p] of model.namedParameters()) {
        const g = p.gradData;
        assert.ok(g, `${name} ${label}: ${pname} got no gradient`);
        assert.ok(g.every(Number.isFinite), `${name} ${label}: ${pname} has a non-finite gradient`);
        assert.ok(g.some((v) => v !== 0), `${name} ${label}: ${pname} has an all-zero gradient`);
      }
      const binary = model.namedModules().filter(([, m]) => isBinaryLayer(m)).length;
      assert.equal(binary > 0, label !== 'float', `${name} ${label}: binary layers present iff weights are quantized`);
    }
  });
}

test('other class counts, input channels and image sizes', () => {
  const out = (name: string, opts: ModelOptions, shape: number[]) => noGrad(() => tidy(() => {
    const m = createModel(name, opts).eval();
    return [...m.forward(new Tensor(randn(new Rng(1), shape.reduce((a, b) => a * b, 1)), shape)).shape];
  }));
  assert.deepEqual(out('conv4', { numClasses: 100 }, [2, 3, 32, 32]), [2, 100]);
  assert.deepEqual(out('lenet', { inChannels: 3, imageSize: 32, weights: 'bihalf' }, [2, 3, 32, 32]), [2, 10]);
  assert.deepEqual(out('resnet20', { imageSize: 28, inChannels: 1, numClasses: 7 }, [1, 1, 28, 28]), [1, 7]);
  assert.deepEqual(out('vgg-small', { numClasses: 100, imageSize: 16 }, [1, 3, 16, 16]), [1, 100]);
  assert.throws(() => createModel('conv8', { imageSize: 8 }), UserError, 'four pools need at least 16 pixels');
});

// ---- parameter counts (PyTorch's numbers for the same architectures) ------

const conv = (cin: number, cout: number, k: number) => cin * cout * k * k; // no bias
const bn = (c: number) => 2 * c; // weight + bias
const bnBuf = (c: number) => 2 * c + 1; // running_mean, running_var, num_batches_tracked

interface Counts { total: number; binary: number; buffers: number }

function resnetEbCounts(blocks: number[], classes: number): Counts {
  // stem conv 3->64 + BN(64) + PReLU(64); per block: 2 binary 3x3 convs, 2 BN,
  // ONE PReLU(planes) shared by both convs, and a 1x1 conv + BN shortcut where
  // the shape changes; linear 512 -> classes with bias.
  let total = conv(3, 64, 3) + bn(64) + 64, binary = 0, buffers = bnBuf(64), inPlanes = 64;
  [64, 128, 256, 512].forEach((planes, s) => {
    for (let i = 0; i < blocks[s]; i++) {
      const stride = i === 0 && s > 0 ? 2 : 1;
      const b = conv(inPlanes, planes, 3) + conv(planes, planes, 3);
      binary += b;
      total += b + 2 * bn(planes) + planes;
      buffers += 2 * bnBuf(planes);
      if (stride !== 1 || inPlanes !== planes) { total += conv(inPlanes, planes, 1) + bn(planes); buffers += bnBuf(planes); }
      inPlanes = planes;
    }
  });
  total += 512 * classes + classes;
  return { total, binary, buffers };
}

const EXPECTED: Record<string, Counts> = {
  // hidden-networks Conv-N: no biases, no BN, all layers binary.
  // conv2 = 3*64*9 + 64*64*9 + (64*16*16)*256 + 256*256 + 256*10
  conv2: { total: 1728 + 36864 + 16384 * 256 + 65536 + 2560, binary: 4300992, buffers: 0 },
  // conv4 = conv2's convs + 64*128*9 + 128*128*9, FC in 128*8*8 = 8192
  conv4: { total: 1728 + 36864 + 73728 + 147456 + 8192 * 256 + 65536 + 2560, binary: 2425024, buffers: 0 },
  // conv6 adds 128*256*9 + 256*256*9, FC in 256*4*4 = 4096
  conv6: { total: 1728 + 36864 + 73728 + 147456 + 294912 + 589824 + 4096 * 256 + 65536 + 2560, binary: 2261184, buffers: 0 },
  // conv8 adds 256*512*9 + 512*512*9, FC in 512*2*2 = 2048
  conv8: { total: 1728 + 36864 + 73728 + 147456 + 294912 + 589824 + 1179648 + 2359296 + 2048 * 256 + 65536 + 2560, binary: 5275840, buffers: 0 },
  // IR-Net ResNet-20: stem 3*16*9 + BN(16); 18 binary convs: stage1 6 x 16*16*9,
  // stage2 32*16*9 + 5 x 32*32*9, stage3 64*32*9 + 5 x 64*64*9; 18 BNs; option-A
  // shortcuts have no weights; BN1d(64); linear 64*10 + 10. Total 269,850
  // (= the usual 269,722 of ResNet-20 + the 128 of IR-Net's BatchNorm1d).
  resnet20: {
    total: 432 + 32 + (6 * 2304 + 4608 + 5 * 9216 + 18432 + 5 * 36864) + 6 * bn(16) + 6 * bn(32) + 6 * bn(64) + bn(64) + 650,
    binary: 6 * 2304 + 4608 + 5 * 9216 + 18432 + 5 * 36864,
    buffers: bnBuf(16) * 7 + bnBuf(32) * 6 + bnBuf(64) * 7,
  },
  // IR-Net VGG-Small: conv0 3*128*9 (float), binary 128*128*9, 128*256*9, 256*256*9,
  // 256*512*9, 512*512*9; 6 BNs; fc 512*4*4*10 + 10.
  'vgg-small': {
    total: 3456 + (147456 + 294912 + 589824 + 1179648 + 2359296) + bn(128) * 2 + bn(256) * 2 + bn(512) * 2 + 8192 * 10 + 10,
    binary: 147456 + 294912 + 589824 + 1179648 + 2359296,
    buffers: bnBuf(128) * 2 + bnBuf(256) * 2 + bnBuf(512) * 2,
  },
  // 11,175,946 = torchvision-style CIFAR ResNet-18's 11,173,962 + 1,984 PReLU slopes
  // (64 in the stem + 64*2 + 128*2 + 256*2 + 512*2 in the blocks, one PReLU per block).
  resnet18: resnetEbCounts([2, 2, 2, 2], 10),
  resnet34: resnetEbCounts([3, 4, 6, 3], 10),
  // lenet: conv1 1*32*9 (float) + BN(32); conv2 32*64*9 (binary) + BN(64);
  // fc1 3136*256 (binary, no bias) + BN1d(256); fc2 256*10 + 10 (float).
  lenet: { total: 288 + bn(32) + 18432 + bn(64) + 802816 + bn(256) + 2570, binary: 18432 + 802816, buffers: bnBuf(32) + bnBuf(64) + bnBuf(256) },
  // toy: W1 2*3 + b1 3 + W2 3*1 = 12, all binary.
  toy: { total: 12, binary: 12, buffers: 0 },
};

test('parameter counts (listModels / describeModel): total, binary and float, and the packed size', () => {
  assert.equal(EXPECTED.resnet18.total, 11175946);
  assert.equal(EXPECTED.resnet20.total, 269850);
  assert.equal(EXPECTED.conv2.total, 4300992);
  // listModels builds every model once per call: float, then 1W/32A bi-half.
  const floats = listModels({ weights: 'float' }), bihalves = listModels(BIHALF);
  assert.deepEqual(floats.map((d) => d.name), modelNames());
  for (const [i, name] of modelNames().entries()) {
    const e = EXPECTED[name];
    assert.ok(e, `no expected counts for ${name}`);
    const f = floats[i];
    assert.deepEqual([f.totalParams, f.binaryParams, f.floatParams, f.bufferValues], [e.total, 0, e.total, e.buffers], `${name} float`);
    assert.equal(f.packedBytes, 4 * (e.total + e.buffers));
    const b = bihalves[i];
    assert.deepEqual([b.config?.name, b.config?.options.weights], [name, { name: 'bihalf', ratio: 0.5, group: 'filter' }]);
    assert.deepEqual([b.totalParams, b.binaryParams, b.floatParams, b.bufferValues], [e.total, e.binary, e.total - e.binary, e.buffers], `${name} bihalf`);
    assert.equal(b.packedBytes, Math.ceil(e.binary / 8) + 4 * (e.total - e.binary + e.buffers), `${name} packed bytes`);
    assert.equal(b.floatBytes, 4 * (e.total + e.buffers));
  }
  // Ternary codes (halfmask) take two bits a weight.
  assert.equal(describeModel('conv2', { weights: { name: 'halfmask', pruneRate: 0.5 } }).packedBytes, Math.ceil((2 * 4300992) / 8));
});

test('resnet18: one PReLU per block, shared by both convs, listed once', () => {
  const m = createModel('resnet18', BIHALF);
  const names = m.namedParameters().map(([n]) => n);
  const prelus = names.filter((n) => n.endsWith('nonlinear.weight'));
  assert.deepEqual(prelus, ['layer1.0', 'layer1.1', 'layer2.0', 'layer2.1', 'layer3.0', 'layer3.1', 'layer4.0', 'layer4.1'].map((b) => `${b}.nonlinear.weight`));
  const p = new Map(m.namedParameters());
  assert.deepEqual(p.get('layer3.1.nonlinear.weight')!.shape, [256]);
  assert.deepEqual(p.get('prelu.weight')!.shape, [64]);
  // PyTorch's names for the reference model.
  for (const n of ['conv1.weight', 'bn1.weight', 'layer2.0.conv1.weight', 'layer2.0.shortcut.0.weight', 'layer2.0.shortcut.1.bias', 'linear.weight', 'linear.bias']) {
    assert.ok(p.has(n), `missing ${n}`);
  }
  assert.ok(!p.has('layer1.0.shortcut.0.weight'), 'identity shortcut has no conv');
  const block = (m as unknown as { layer1: { layers: Module[] } }).layer1.layers[0] as unknown as Record<string, Module>;
  assert.ok(block.conv1 instanceof BinaryConv2d && block.conv2 instanceof BinaryConv2d);
  assert.equal((block.conv1 as BinaryConv2d).inputQuantizer.name, 'identity', 'float activations: sign() is the identity');
  const m1 = createModel('resnet18', ONE_BIT) as unknown as { layer1: { layers: Record<string, BinaryConv2d>[] } };
  assert.equal(m1.layer1.layers[0].conv2.inputQuantizer.name, 'ste_sign');
});

test('resnet20: IR-Net layout for 1W/1A (hardtanh, shortcut per conv) and 1W/32A; float stem and classifier', () => {
  const a = createModel('resnet20', ONE_BIT) as ResNet20;
  const b = createModel('resnet20', BIHALF) as ResNet20;
  assert.equal(a.binaryActs, true);
  assert.equal(b.binaryActs, false);
  assert.deepEqual(a.namedParameters().map(([n, t]) => `${n}:${t.shape}`), b.namedParameters().map(([n, t]) => `${n}:${t.shape}`));
  const binaryNames = a.namedModules().filter(([, m]) => isBinaryLayer(m)).map(([n]) => n);
  assert.equal(binaryNames.length, 18);
  assert.ok(binaryNames.every((n) => /^layer\d\.\d\.conv[12]$/.test(n)));
  assert.ok(!isBinaryLayer(a.conv1));
});

test('float weights with binary activations (32W/1A): float convs that binarize their input', () => {
  manualSeed(2);
  const m = createModel('resnet20', { activations: 'approx_sign' }) as ResNet20;
  const convs = m.namedModules().filter(([, l]) => l instanceof ActQuantConv2d).map(([, l]) => l as ActQuantConv2d);
  assert.equal(convs.length, 18);
  assert.ok(convs.every((c) => c.inputQuantizer.name === 'approx_sign'));
  assert.equal(m.namedModules().filter(([, l]) => isBinaryLayer(l)).length, 0);
  assert.deepEqual(forwardBackward(m, 'resnet20', 2), [2, 10]);
  assert.ok(m.parameters().every((p) => p.gradData !== null));
  assert.equal(describeModule(m).binaryParams, 0);
});

test('toy: 12 weights as one group; bi-half gives six -1 and six +1; the reference weight order', () => {
  const m = createModel('toy', { weights: 'bihalf' }) as ToyNet;
  const [s] = bitStats(m, { perGroup: true });
  assert.equal(s.groups, 1);
  assert.deepEqual([s.perGroup![0].plus, s.perGroup![0].minus], [6, 6]);
  // Float toy, weights given in the reference script's order: W1 [in=2, hidden=3], b1, W2.
  const f = createModel('toy') as ToyNet;
  const v = [-1, -1, 1, -1, -1, 1, 1, 1, -1, -1, 1, 1]; // six of each sign
  f.setReferenceWeights(v);
  const pts = [[0.5, -2], [3, 1], [-4, 4]];
  const y = noGrad(() => f.forward(Tensor.from(pts.flat(), [3, 2])));
  const sig = (z: number) => 1 / (1 + Math.exp(-z));
  const want = pts.map(([x1, x2]) => {
    let z = 0;
    for (let j = 0; j < 3; j++) z += v[9 + j] * sig(x1 * v[j] + x2 * v[3 + j] + v[6 + j]);
    return sig(z);
  });
  assertClose(y.data, want, { atol: 1e-6 }, 'toy forward vs reference formula');
  // With bi-half codes and no scaling, the effective network is the code vector itself.
  const q = createModel('toy', { weights: 'bihalf' }) as ToyNet;
  q.setReferenceWeights(v.map((c, i) => c * (1 + i / 100))); // same signs, six of each, distinct magnitudes
  const yq = noGrad(() => q.forward(Tensor.from(pts.flat(), [3, 2])));
  assertClose(yq.data, want, { atol: 1e-6 }, 'bi-half toy = the +-1 network');
  assert.throws(() => createModel('toy', { numClasses: 2 }), UserError);
  assert.throws(() => createModel('toy', { activations: 'ste_sign' }), UserError);
});

// ---- registry and configs -------------------------------------------------

test('registry: names, specs, unknown names and bad options are UserErrors', () => {
  assert.deepEqual(modelNames(), ['conv2', 'conv4', 'conv6', 'conv8', 'resnet20', 'vgg-small', 'resnet18', 'resnet34', 'lenet', 'toy']);
  assert.deepEqual(modelSpec('lenet').inputShape, [1, 28, 28]);
  assert.deepEqual(modelSpec('resnet18').inputShape, [3, 32, 32]);
  assert.deepEqual(modelSpec('toy').inputShape, [2]);
  assert.equal(modelSpec('VGG-Small').name, 'vgg-small');
  assert.throws(() => createModel('resnet50', {}), (e: unknown) => e instanceof UserError && /unknown model "resnet50"/.test(e.message) && e.message.includes('conv2, conv4') && e.message.includes('toy'));
  assert.throws(() => modelSpec('nope'), UserError);
  assert.throws(() => createModel('conv2', { weights: 'fancy' }), (e: unknown) => e instanceof UserError && /weight quantizer "fancy"/.test(e.message));
  assert.throws(() => createModel('conv2', { activations: 'relu' }), UserError);
  assert.throws(() => createModel('conv2', { activations: 'ste_sign', weights: 'bihalf' }), (e: unknown) => e instanceof UserError && /ReLU/.test(e.message));
  assert.throws(() => createModel('conv2', { numClasses: 0 }), UserError);
  assert.throws(() => createModel('conv2', { scaling: 'huge' as never }), UserError);
  assert.throws(() => createModel('conv2', { width: 2 } as ModelOptions), (e: unknown) => e instanceof UserError && /unknown option/.test(e.message));
  assert.throws(() => createModel('conv2', { weights: { name: 'bihalf', ratio: 2 } }), UserError);
  assert.throws(() => modelFromConfig({ options: {} }), UserError);
  assert.throws(() => modelConfig(createModel('toy').namedModules()[1][1]), UserError);
});

test('modelConfig is plain JSON and modelFromConfig rebuilds the same model', () => {
  for (const [name, opts] of [['lenet', { weights: { name: 'bihalf', ratio: 0.4 }, activations: 'approx_sign', scaling: 'xnor' }], ['resnet20', ONE_BIT], ['conv6', { numClasses: 100 }], ['vgg-small', { weights: 'sign' }], ['toy', { weights: 'halfmask' }]] as const) {
    manualSeed(3);
    const a = createModel(name, opts as ModelOptions);
    const cfg = JSON.parse(JSON.stringify(modelConfig(a)));
    assert.deepEqual(cfg, modelConfig(a), `${name}: config survives JSON`);
    assert.equal(cfg.name, name);
    const b = modelFromConfig(cfg);
    const layout = (m: Module) => Object.entries(m.stateDict()).map(([k, v]) => `${k}:${v.shape.join('x')}`);
    assert.deepEqual(layout(b), layout(a), `${name}: state dict layout`);
    assert.deepEqual(modelConfig(b), cfg);
    assert.deepEqual(describeModule(b).binaryParams, describeModule(a).binaryParams);
  }
  const lenet = modelConfig(createModel('lenet', { weights: 'bihalf' }));
  assert.deepEqual(lenet, {
    name: 'lenet',
    options: { numClasses: 10, inChannels: 1, imageSize: 28, weights: { name: 'bihalf', ratio: 0.5, group: 'filter' }, activations: 'float', scaling: 'fixed', scaleFan: false },
  });
  // Loading a's state into the rebuilt model gives the same outputs.
  manualSeed(4);
  const a = createModel('lenet', ONE_BIT);
  const x = new Tensor(randn(new Rng(9), 4 * 784), [4, 1, 28, 28]);
  tidy(() => { a.train(); a.forward(x); }); // move the running statistics
  const b = modelFromConfig(JSON.parse(JSON.stringify(modelConfig(a))));
  b.loadStateDict(a.stateDict());
  a.eval(); b.eval();
  assert.deepEqual([...noGrad(() => b.forward(x)).data], [...noGrad(() => a.forward(x)).data]);
});

test('conv4: pooling before the pair\'s second ReLU gives the same bits as ReLU then pool (hidden-networks\' order)', () => {
  manualSeed(3);
  const model = createModel('conv4', BIHALF) as unknown as { convs: { layers: Module[] }; linear: Module; featureSize: number } & Module;
  const layers = model.convs.layers;
  // Each pair is [conv, ReLU, conv, MaxPool, ReLU]; the reference runs [conv, ReLU, conv, ReLU, MaxPool].
  const reference: Module[] = [];
  for (let i = 0; i < layers.length; i += 5) {
    assert.deepEqual(layers.slice(i, i + 5).map((m) => m.constructor.name), ['BinaryConv2d', 'ReLU', 'BinaryConv2d', 'MaxPool2d', 'ReLU']);
    reference.push(layers[i], layers[i + 1], layers[i + 2], layers[i + 4], layers[i + 3]);
  }
  const rng = new Rng(8), batch = 4;
  const x = new Tensor(randn(rng, batch * 3 * 32 * 32), [batch, 3, 32, 32]);
  const labels = randLabels(rng, batch, 10);
  const run = (forward: () => Tensor) => tidy(() => {
    model.zeroGrad();
    const out = forward();
    crossEntropy(out, labels).backward();
    return { out: Float32Array.from(out.data), grads: model.parameters().map((p) => Float32Array.from(p.gradData!)) };
  });
  model.train();
  const ours = run(() => model.forward(x));
  const theirs = run(() => {
    let h = x;
    for (const m of reference) h = m.forward(h);
    return model.linear.forward(h.reshape([batch, model.featureSize]));
  });
  assert.deepEqual(ours.out, theirs.out);
  ours.grads.forEach((g, i) => assert.deepEqual(g, theirs.grads[i], `gradient ${i}`));
  assert.ok(ours.grads.every((g) => g.some((v) => v !== 0)), 'every parameter gets a gradient');
});
