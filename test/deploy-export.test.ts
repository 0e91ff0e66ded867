// Export + packed engine: the packed model's outputs match the training
// forward (binary, ternary and float layers, batch norm folded, 1W/1A and
// 1W/32A), on both kernel backends; the file is as small as the issue asks;
// and 10,000 mutated model files each load (and run) or fail with a DataError.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, noGrad } from '../src/autograd/index.js';
import { createModel, type ModelOptions } from '../src/models/index.js';
import { exportModel } from '../src/train/export.js';
import { encodePacked } from '../src/deploy/format.js';
import { PackedModel } from '../src/deploy/engine.js';
import { packedBackend } from '../src/deploy/node-backends.js';
import { isBinaryLayer } from '../src/quant/index.js';
import { crc32 } from '../src/util/crc32.js';
import { DataError } from '../src/util/errors.js';
import { manualSeed } from '../src/util/prng.js';
import { Rng, assertClose } from './helpers.js';

interface Case { name: string; model: string; options: ModelOptions; shape: [number, number, number] }
const cases: Case[] = [
  { name: 'lenet 1W/32A bihalf', model: 'lenet', options: { weights: { name: 'bihalf' }, activations: 'float', numClasses: 10, inChannels: 1, imageSize: 28 }, shape: [1, 28, 28] },
  { name: 'lenet 1W/1A halfmask (ternary, sign nodes)', model: 'lenet', options: { weights: { name: 'halfmask', pruneRate: 0.5 }, activations: 'ste_sign', numClasses: 10, inChannels: 1, imageSize: 28 }, shape: [1, 28, 28] },
  { name: 'resnet20 1W/1A bihalf (XNOR)', model: 'resnet20', options: { weights: { name: 'bihalf' }, activations: 'ste_sign', numClasses: 10, inChannels: 3, imageSize: 32 }, shape: [3, 32, 32] },
  { name: 'resnet20 1W/32A sign', model: 'resnet20', options: { weights: { name: 'sign' }, activations: 'float', numClasses: 10, inChannels: 3, imageSize: 32 }, shape: [3, 32, 32] },
];

function build(c: Case, seed: number) {
  manualSeed(seed);
  const model = createModel(c.model, c.options);
  // Non-trivial batch-norm statistics, so that folding them is tested.
  const rng = new Rng(seed + 100);
  for (const [n, t] of model.namedBuffers()) {
    if (n.endsWith('running_mean')) rng.fillNormal(t.data, 0, 0.3);
    if (n.endsWith('running_var')) for (let i = 0; i < t.numel; i++) t.data[i] = 0.5 + rng.uniform();
  }
  for (const [n, p] of model.namedParameters()) if (/bn\d*\.(weight|bias)$|\.bn\d\.(weight|bias)$/.test(n)) rng.fillNormal(p.data, n.endsWith('weight') ? 1 : 0, 0.2);
  model.eval();
  return model;
}

test('exported models match the training forward; native, wasm and js engines agree exactly', () => {
  for (const c of cases) {
    const model = build(c, 1);
    const { graph, sections } = exportModel(model, { shape: c.shape, mean: Array(c.shape[0]).fill(0), std: Array(c.shape[0]).fill(1) });
    const bytes = encodePacked(graph, sections);
    // ResNet-20's 19 conv batch norms fold into their convs; only the one after the pooling stays.
    if (c.model === 'resnet20') assert.equal(graph.nodes.filter((nd) => nd.op === 'affine').length, 1, `${c.name}: batch norms folded`);
    const n = 6, rng = new Rng(7);
    const x = rng.fillNormal(new Float32Array(n * c.shape[0] * c.shape[1] * c.shape[2]));
    const want = noGrad(() => model.forward(new Tensor(x, [n, ...c.shape]))).data;
    const outs = ['native', 'wasm', 'js'].map((b) => PackedModel.load(bytes, packedBackend(b), c.name).run(x, n));
    assertClose(outs[0], want, { rtol: 2e-4, atol: 1e-5 }, `${c.name} (native)`);
    // The three backends agree bit for bit.
    assert.deepEqual(new Uint32Array(outs[1].buffer), new Uint32Array(outs[0].buffer), `${c.name}: wasm vs native`);
    assert.deepEqual(new Uint32Array(outs[2].buffer), new Uint32Array(outs[0].buffer), `${c.name}: js vs native`);
    // Size bound of the issue: binary bits / 8 (x2 ternary) + 4 bytes per float parameter + 16 KiB.
    let binaryBits = 0, floats = 0;
    for (const [, m] of model.namedModules()) if (isBinaryLayer(m)) binaryBits += m.weight.numel * (m.weightQuantizer.ternary ? 2 : 1);
    for (const p of model.parameters()) floats += p.numel;
    floats -= model.namedModules().reduce((s, [, m]) => s + (isBinaryLayer(m) ? m.weight.numel : 0), 0);
    assert.ok(bytes.length <= binaryBits / 8 + 4 * floats + 16384, `${c.name}: ${bytes.length} bytes > bound`);
  }
});

test('fuzzing: 10,000 mutated model files each load and run, or fail with a DataError', () => {
  const c = cases[1];
  const model = build(c, 2);
  const { graph, sections } = exportModel(model, { shape: c.shape, mean: [0], std: [1] });
  const good = encodePacked(graph, sections);
  const headerLen = new DataView(good.buffer).getUint32(8, true);
  const rng = new Rng(3), x = rng.fillNormal(new Float32Array(28 * 28)), native = packedBackend('native');
  let loaded = 0;
  const fix = (b: Uint8Array) => { new DataView(b.buffer).setUint32(b.length - 4, crc32(b.subarray(0, b.length - 4)), true); return b; };
  for (let i = 0; i < 10000; i++) {
    let b: Uint8Array;
    if (i % 4 === 0) b = good.slice(0, rng.int(good.length));
    else if (i % 4 === 1) { b = good.slice(); for (let f = 1 + rng.int(6); f > 0; f--) b[rng.int(b.length)] = rng.int(256); }
    else {
      // Edits inside the header (graph structure, numbers, names) with the checksum repaired.
      b = good.slice();
      for (let f = 1 + rng.int(3); f > 0; f--) b[16 + rng.int(headerLen)] = '0123456789-,:[]{}"ae '.charCodeAt(rng.int(21));
      fix(b);
    }
    try {
      const m = PackedModel.load(b, native, 'fuzz');
      const y = m.run(x, 1);
      assert.equal(y.length, m.outputSize);
      loaded++;
    } catch (e) {
      if (!(e instanceof DataError)) throw new Error(`mutation ${i}: ${(e as Error).name}: ${(e as Error).message}`);
    }
  }
  assert.ok(loaded < 10000);
});

test('ebnn predict: a PNG and an IDX file give the engine\'s top classes; bad input is one line, exit 2', async () => {
  const { spawnSync } = await import('node:child_process');
  const fs = await import('node:fs'), os = await import('node:os'), path = await import('node:path');
  const { PNG } = await import('pngjs');
  const cli = path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'src', 'cli', 'ebnn.js');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eb-predict-'));
  const c = cases[0], model = build(c, 4);
  const mean = [0.25], std = [0.5];
  const { graph, sections } = exportModel(model, { shape: c.shape, mean, std }, { dataset: 'fashion-mnist' });
  const file = path.join(dir, 'm.ebnn');
  fs.writeFileSync(file, encodePacked(graph, sections));
  // Two 28x28 gray images: as a PNG (the first) and as an IDX file (both).
  const rng = new Rng(9), pixels = Uint8Array.from({ length: 2 * 784 }, () => rng.int(256));
  const png = new PNG({ width: 28, height: 28 });
  for (let p = 0; p < 784; p++) png.data.set([pixels[p], pixels[p], pixels[p], 255], 4 * p);
  fs.writeFileSync(path.join(dir, 'a.png'), PNG.sync.write(png));
  const idx = Buffer.alloc(16 + pixels.length);
  idx.set([0, 0, 8, 3], 0); idx.writeUInt32BE(2, 4); idx.writeUInt32BE(28, 8); idx.writeUInt32BE(28, 12); idx.set(pixels, 16);
  fs.writeFileSync(path.join(dir, 'a.idx'), idx);
  // What the engine says directly.
  const engine = PackedModel.load(fs.readFileSync(file), packedBackend('native'));
  const x = Float32Array.from(pixels, (v) => (v / 255 - mean[0]) / std[0]);
  const out = engine.run(x, 2), best = [0, 1].map((i) => { const r = Array.from(out.subarray(i * 10, i * 10 + 10)); return r.indexOf(Math.max(...r)); });
  const run = (...args: string[]) => spawnSync(process.execPath, [cli, 'predict', file, ...args, '--json'], { encoding: 'utf8' });
  const a = run(path.join(dir, 'a.png'));
  assert.equal(a.status, 0, a.stderr);
  assert.equal(JSON.parse(a.stdout.trim()).top[0].class, best[0]);
  const b = run(path.join(dir, 'a.idx'));
  assert.equal(b.status, 0, b.stderr);
  assert.deepEqual(b.stdout.trim().split('\n').map((l) => JSON.parse(l).top[0].class), best);
  const small = new PNG({ width: 10, height: 12 });
  fs.writeFileSync(path.join(dir, 'small.png'), PNG.sync.write(small));
  for (const bad of [run(path.join(dir, 'small.png')), run(path.join(dir, 'missing.png')), spawnSync(process.execPath, [cli, 'predict', path.join(dir, 'a.png'), path.join(dir, 'a.png')], { encoding: 'utf8' })]) {
    assert.equal(bad.status, 2, bad.stderr);
    assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
  }
});

test('export check: the first binarisation point where the packed model differs is found and measured', async () => {
  const { binarizationFlips } = await import('../src/train/export.js');
  const c = cases[2], model = build(c, 5);
  const { graph, sections } = exportModel(model, { shape: c.shape, mean: [0, 0, 0], std: [1, 1, 1] });
  const x = new Rng(6).fillNormal(new Float32Array(3 * 32 * 32));
  const same = binarizationFlips(model, PackedModel.load(encodePacked(graph, sections), packedBackend('native')), x);
  assert.equal(same.flips, 0, 'an unmodified export binarises exactly like the training forward');
  // Shift the stem's output by 0.3: signs near 0 flip at the first 1W/1A layer.
  const stem = graph.nodes[0], floats = sections.get('floats') as Float32Array;
  const [off, len] = stem.bias as [number, number];
  for (let i = off; i < off + len; i++) floats[i] += 0.3;
  const firstSign = graph.nodes.find((n) => n.input === 'sign')!;
  const r = binarizationFlips(model, PackedModel.load(encodePacked(graph, sections), packedBackend('native')), x);
  assert.equal(r.node, firstSign.out);
  assert.ok(r.flips > 0 && r.maxAbs > 1e-3 && r.maxAbs <= 0.3 + 1e-6, JSON.stringify(r));
});
