// The training run: resume gives bit-identical weights, Ctrl-C leaves a
// loadable checkpoint, NaN stops the run without touching the last good
// checkpoint, and the CLI answers bad input with one line and exit code 2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { train, readCheckpoint, topk, CHECKPOINT_FILE, METRICS_FILE } from '../src/train/trainer.js';
import { resolveConfig, defaultConfig, type TrainConfig } from '../src/train/config.js';
import { NumericError } from '../src/util/errors.js';
import { inputQuantizers, type EdeSign } from '../src/quant/index.js';

const CLI = fileURLToPath(new URL('../src/cli/ebnn.js', import.meta.url));
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'ebnn-train-'));

function config(out: string, extra: Partial<TrainConfig> = {}): TrainConfig {
  return resolveConfig(defaultConfig, {
    model: 'resnet20', dataset: 'synthetic', weights: 'bihalf', activations: 'ste_sign', trainLimit: 384, testLimit: 128,
    epochs: 2, batchSize: 64, evalBatchSize: 128, lr: 0.1, seed: 3, out, workers: 1,
  }, extra);
}

function weightsOf(out: string): Map<string, Float32Array> {
  const ck = readCheckpoint(path.join(out, CHECKPOINT_FILE));
  return new Map(Object.entries(ck.state).map(([k, v]) => [k, v.data]));
}

test('ede: in epoch e of E every input quantizer uses t = 0.1 * 100^(e/E), k = max(1/t, 1)', async () => {
  let quantizers: EdeSign[] = [];
  const seen: [number, number[], number[]][] = [];
  await train(config(tmp(), { activations: 'ede', epochs: 3, trainLimit: 128, testLimit: 64 }), {
    onStart: ({ model }) => { quantizers = inputQuantizers(model).filter((q) => q.name === 'ede') as EdeSign[]; },
    onEpochStart: (epoch) => { seen.push([epoch, quantizers.map((q) => q.t), quantizers.map((q) => q.k)]); },
  });
  assert.equal(quantizers.length, 18);
  assert.deepEqual(seen.map(([e]) => e), [0, 1, 2]);
  for (const [e, ts, ks] of seen) {
    const t = 0.1 * 100 ** (e / 3);
    assert.ok(ts.every((v) => Math.abs(v - t) < 1e-12), `epoch ${e}: t ${ts[0]} != ${t}`);
    assert.ok(ks.every((v) => Math.abs(v - Math.max(1 / t, 1)) < 1e-12), `epoch ${e}: k ${ks[0]}`);
  }
});

test('a run stopped mid-epoch and at an epoch boundary, then resumed, ends with bit-identical weights', async () => {
  const a = tmp(), b = tmp();
  await train(config(a));
  // Stop after step 2 of epoch 1, resume, stop again at the end of epoch 1, resume to the end.
  let steps = 0;
  const first = await train(config(b), { shouldStop: () => ++steps === 2 });
  assert.equal(first.interrupted, true);
  const mid = readCheckpoint(path.join(b, CHECKPOINT_FILE));
  assert.deepEqual([mid.epoch, mid.step], [0, 2]);
  const second = await train(config(b), { onEpochEnd: () => {}, shouldStop: () => steps++ >= 2 + 4 }, { resume: true });
  assert.equal(second.completedEpochs, 1);
  await train(config(b), {}, { resume: true });
  const wa = weightsOf(a), wb = weightsOf(b);
  assert.deepEqual([...wa.keys()], [...wb.keys()]);
  for (const [k, v] of wa) assert.ok(Buffer.from(v.buffer).equals(Buffer.from(wb.get(k)!.buffer)), `${k} differs after resume`);
  const ma = fs.readFileSync(path.join(a, METRICS_FILE), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const mb = fs.readFileSync(path.join(b, METRICS_FILE), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(mb.length, 2);
  assert.deepEqual(mb.map((m) => m.test), ma.map((m) => m.test), 'same test metrics');
  // Flips of the epoch resumed mid-way are counted from its start (the checkpoint keeps the snapshot).
  const flips = (ms: { bits: { flipsUp: number; flipsDown: number }[] }[]) => ms.map((m) => m.bits.map((l) => [l.flipsUp, l.flipsDown]));
  assert.deepEqual(flips(mb), flips(ma), 'same flips per epoch');
  assert.ok(flips(ma)[0].some(([u]) => u > 0), 'the first epoch flips some bits');
  assert.equal(ma[1].bits[0].plusFraction, 0.5);
  for (const d of [a, b]) fs.rmSync(d, { recursive: true });
});

test('checkpointMinutes saves within the epoch (0: only at epoch ends)', async () => {
  for (const [minutes, want] of [[1e-9, [0, 2]], [0, null]] as const) {
    const out = tmp();
    let seen: number[] | null | undefined;
    await train(config(out, { epochs: 1, checkpointMinutes: minutes }), {
      onStep: ({ epoch, step }) => {
        if (epoch !== 0 || step !== 3) return;  // the last save came after step 2, if any
        const file = path.join(out, CHECKPOINT_FILE);
        seen = fs.existsSync(file) ? [readCheckpoint(file).epoch, readCheckpoint(file).step] : null;
      },
    });
    assert.deepEqual(seen, want, `checkpointMinutes ${minutes}`);
    fs.rmSync(out, { recursive: true });
  }
});

test('a stop requested from the event loop (a signal) is seen at once, not at the end of the epoch', async () => {
  const out = tmp();
  // workers: 0 prepares batches on the main thread, so the loop never waits for a message:
  // only the trainer's own yield lets the scheduled callback (standing in for a signal) run.
  let stop = false;
  const r = await train(config(out, { workers: 0, epochs: 1 }), {
    onStep: (st) => { if (st.step === 2) setImmediate(() => { stop = true; }); },
    shouldStop: () => stop,
  });
  assert.equal(r.interrupted, true);
  const ck = readCheckpoint(path.join(out, CHECKPOINT_FILE));
  assert.deepEqual([ck.epoch, ck.step], [0, 2], 'stopped at once, not at the end of the epoch (6 steps)');
  fs.rmSync(out, { recursive: true });
});

test('NaN in the loss stops training with a clear error and keeps the last good checkpoint', async () => {
  const out = tmp();
  await train(config(out, { epochs: 1 }));
  const before = fs.readFileSync(path.join(out, CHECKPOINT_FILE));
  await assert.rejects(train(config(out, { epochs: 3, lr: 1e30, weightDecay: 0 }), {}, { resume: true }),
    (e: unknown) => e instanceof NumericError && /loss became (NaN|Infinity|-Infinity) at epoch 2/.test(e.message) && e.message.includes(CHECKPOINT_FILE));
  assert.ok(fs.readFileSync(path.join(out, CHECKPOINT_FILE)).equals(before), 'checkpoint untouched');
  assert.equal(readCheckpoint(path.join(out, CHECKPOINT_FILE)).epoch, 1);
  fs.rmSync(out, { recursive: true });
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) test(`${signal} (Ctrl-C, or a kill) during \`ebnn train\` saves a loadable checkpoint and exits 0`, async () => {
  const out = tmp();
  const child = spawn(process.execPath, [CLI, 'train', '--model', 'resnet20', '--dataset', 'synthetic', '--train-limit', '256', '--test-limit', '64',
    '--batch-size', '32', '--epochs', '200', '--json', '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  // Wait for the first epoch to finish, then interrupt during the second.
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  child.kill(signal);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.equal(code, 0, stderr);
  assert.match(stderr, /checkpoint saved/);
  const ck = readCheckpoint(path.join(out, CHECKPOINT_FILE));
  assert.ok(ck.epoch >= 1 && ck.epoch < 200, `checkpoint at epoch ${ck.epoch}`);
  fs.rmSync(out, { recursive: true });
});

test('the CLI answers bad input with one line on stderr and exit code 2', () => {
  const dir = tmp();
  const cases: [string[], RegExp][] = [
    [['train', '--epochs', 'abc'], /"abc" is not/],
    [['train', '--dataset', 'imagenet', '--out', dir], /dataset/],
    [['train', '--model', 'nope', '--dataset', 'synthetic', '--out', path.join(dir, 'm')], /unknown model/i],
    [['train', '--dataset', 'cifar10', '--data-dir', path.join(dir, 'missing'), '--out', path.join(dir, 'c')], /missing/],
    [['train', '--config', path.join(dir, 'none.json')], /none\.json/],
    [['eval', path.join(dir, 'nope.ebck')], /nope\.ebck/],
    [['frobnicate'], /unknown command/],
  ];
  fs.writeFileSync(path.join(dir, 'bad.ebck'), 'EBCK garbage');
  cases.push([['eval', path.join(dir, 'bad.ebck')], /bad\.ebck/]);
  // A truncated IDX image file: the header promises 10 images of 28x28, the file holds 84 bytes.
  const idx = path.join(dir, 'fmnist');
  fs.mkdirSync(idx);
  const header = Buffer.alloc(16);
  header.writeUInt32BE(0x0803, 0); header.writeUInt32BE(10, 4); header.writeUInt32BE(28, 8); header.writeUInt32BE(28, 12);
  fs.writeFileSync(path.join(idx, 'train-images-idx3-ubyte'), Buffer.concat([header, Buffer.alloc(68)]));
  const labels = Buffer.alloc(18);
  labels.writeUInt32BE(0x0801, 0); labels.writeUInt32BE(10, 4);
  fs.writeFileSync(path.join(idx, 'train-labels-idx1-ubyte'), labels);
  cases.push([['train', '--dataset', 'fashion-mnist', '--data-dir', idx, '--out', path.join(dir, 'f')], /train-images-idx3-ubyte/]);
  for (const [args, pattern] of cases) {
    const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
    assert.equal(r.status, 2, `${args.join(' ')}: exit ${r.status}, stderr ${r.stderr}`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `${args.join(' ')}: one line, got ${r.stderr}`);
    assert.match(lines[0], /^error: /);
    assert.match(lines[0], pattern, args.join(' '));
  }
  fs.rmSync(dir, { recursive: true });
});

test('topk: ties rank by class index as argmax does, so all-equal logits score class 0\'s share; NaN is a miss', async () => {
  const { Tensor } = await import('../src/autograd/index.js');
  // 10 images of 10 classes, label i for image i, every logit 0: only label 0 is a top-1 hit, labels 0-4 top-5.
  const flat = new Tensor(new Float32Array(100), [10, 10]);
  assert.deepEqual(topk(flat, Int32Array.from({ length: 10 }, (_, i) => i)), { top1: 1, top5: 5, constant: 10 });
  const rows = new Tensor(Float32Array.from([
    0.1, 0.9, 0.5, 0.9, // label 3 ties class 1 ahead of it: rank 1, a top-5 hit only
    0.1, 0.9, 0.5, 0.9, // label 1: the first of the tied maxima, a top-1 hit
    NaN, 0.2, 0.1, 0.0, // label 0 is NaN: a miss, even though no logit is above it
    0.3, 0.2, 0.1, 0.0, // label 0: a plain hit
  ]), [4, 4]);
  assert.deepEqual(topk(rows, Int32Array.from([3, 1, 0, 0])), { top1: 2, top5: 3, constant: 0 });
  // The epoch line warns when most test images got all-equal logits.
  const { deadNetworkWarning } = await import('../src/cli/format.js');
  assert.match(deadNetworkWarning({ constant: 0.9 }), /all logits equal on 90\.00% of test images \(a dead network\?\)/);
  assert.equal(deadNetworkWarning({ constant: 0.1 }), '');
  assert.equal(deadNetworkWarning({}), '', 'older logs have no constant field');
});
