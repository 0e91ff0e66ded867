// The batch loader: determinism per (seed, epoch), workers equal to the
// in-thread path, labels matched to their images, dropLast, early exit, speed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  BatchLoader, makeSynthetic, toFloatImages, CIFAR10_NORMALIZATION, type Batch, type BatchLoaderOptions, type ImageDataset,
} from '../src/data/index.js';
import { UserError } from '../src/util/errors.js';

interface Copy { x: Float32Array; y: Int32Array; size: number }

/** Copies every batch of an epoch (the loader reuses its buffers). */
async function collect(batches: AsyncIterable<Batch> | Iterable<Batch>): Promise<Copy[]> {
  const out: Copy[] = [];
  for await (const b of batches) out.push({ x: b.x.slice(), y: b.y.slice(), size: b.size });
  return out;
}

/**
 * n images of 2 x 4 x 4 whose channel 0 is i + 1 everywhere, so the image
 * index can be read back from any batch; labels i % 5.
 */
function indexed(n: number): ImageDataset {
  const per = 32;
  const pixels = new Uint8Array(n * per), labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    pixels.fill(i + 1, i * per, i * per + 16);
    pixels.fill(255 - i, i * per + 16, (i + 1) * per);
    labels[i] = i % 5;
  }
  return { name: 'indexed', n, c: 2, h: 4, w: 4, classes: 5, pixels, labels };
}

/** The image index of every item of a batch: with crop padding <= 1, pixel (1, 1) of a 4x4 image always comes from the image. */
function indicesOf(b: Copy): number[] {
  return Array.from({ length: b.size }, (_, i) => Math.round(b.x[i * 32 + 5] * 255) - 1);
}

const synth = makeSynthetic({ n: 203, c: 3, h: 8, w: 8, classes: 7, seed: 11 });
const augmented: BatchLoaderOptions = { batchSize: 16, shuffle: true, augment: { crop: 2, flip: true }, normalize: { mean: [0.4, 0.5, 0.6], std: [0.2, 0.25, 0.3] }, seed: 42 };

test('same seed and epoch give identical batches; another epoch, another order', async () => {
  const a = new BatchLoader(synth, { ...augmented, workers: 0 });
  const b = new BatchLoader(synth, { ...augmented, workers: 0 });
  const e3 = await collect(a.epoch(3));
  assert.deepEqual(await collect(b.epoch(3)), e3, 'two loaders, same seed and epoch');
  assert.deepEqual(await collect(a.epoch(3)), e3, 'the same loader, the epoch again');
  assert.deepEqual(await collect(a.epochSync(3)), e3, 'the synchronous iterator');
  const e4 = await collect(a.epoch(4));
  assert.notDeepEqual(e4.map((x) => [...x.y]), e3.map((x) => [...x.y]), 'epoch 4 has another order');
  const otherSeed = await collect(new BatchLoader(synth, { ...augmented, seed: 43, workers: 0 }).epoch(3));
  assert.notDeepEqual(otherSeed.map((x) => [...x.y]), e3.map((x) => [...x.y]), 'another seed, another order');
  // Same order, but with augmentation off the pixels differ: augmentation really happens.
  const plain = await collect(new BatchLoader(synth, { ...augmented, augment: {}, workers: 0 }).epoch(3));
  assert.deepEqual(plain.map((x) => [...x.y]), e3.map((x) => [...x.y]));
  assert.notDeepEqual(plain[0].x, e3[0].x);
});

test('a run resumed at epoch e sees the batches of an uninterrupted run', async () => {
  const full = new BatchLoader(synth, { ...augmented, workers: 0 });
  let third: Copy[] = [];
  for (let e = 0; e < 3; e++) third = await collect(full.epoch(e));
  const resumed = new BatchLoader(synth, { ...augmented, workers: 1 });
  assert.deepEqual(await collect(resumed.epoch(2)), third);
});

test('workers produce exactly the in-thread batches', async () => {
  const reference = await collect(new BatchLoader(synth, { ...augmented, workers: 0 }).epoch(1));
  assert.equal(reference.length, 13);
  assert.equal(reference[12].size, 203 - 12 * 16);
  for (const [workers, prefetch] of [[1, 2], [2, 1], [1, 1]]) {
    const got = await collect(new BatchLoader(synth, { ...augmented, workers, prefetch }).epoch(1));
    assert.deepEqual(got, reference, `workers ${workers}, prefetch ${prefetch}`);
  }
  // A dataset on ordinary (not shared) memory is copied once and gives the same batches.
  const unshared = { ...synth, pixels: Uint8Array.from(synth.pixels), labels: Int32Array.from(synth.labels) };
  assert.ok(!(unshared.pixels.buffer instanceof SharedArrayBuffer));
  assert.deepEqual(await collect(new BatchLoader(unshared, { ...augmented, workers: 1 }).epoch(1)), reference);
});

test('labels stay matched to their images; every image once per epoch', async () => {
  const ds = indexed(37);
  for (const workers of [0, 1]) {
    const loader = new BatchLoader(ds, { batchSize: 8, shuffle: true, augment: { crop: 1, flip: true }, seed: 7, workers });
    for (const e of [0, 1]) {
      const seen: number[] = [];
      for (const b of await collect(loader.epoch(e))) {
        const idx = indicesOf(b);
        idx.forEach((i, k) => assert.equal(b.y[k], ds.labels[i], `workers ${workers}: image ${i} got label ${b.y[k]}`));
        seen.push(...idx);
      }
      assert.deepEqual([...seen].sort((a, b) => a - b), Array.from({ length: 37 }, (_, i) => i), 'a permutation of all images');
      assert.notDeepEqual(seen, Array.from({ length: 37 }, (_, i) => i), 'shuffled');
    }
  }
});

test('without shuffle or augmentation, batches are the dataset in order', async () => {
  const ds = makeSynthetic({ n: 10, c: 3, h: 5, w: 5, seed: 2 });
  const loader = new BatchLoader(ds, { batchSize: 4, normalize: CIFAR10_NORMALIZATION, workers: 1 });
  const all = toFloatImages(ds, CIFAR10_NORMALIZATION);
  const batches = await collect(loader.epoch(0));
  assert.deepEqual(batches.map((b) => b.size), [4, 4, 2]);
  assert.deepEqual(Float32Array.from(batches.flatMap((b) => [...b.x])), all.images);
  assert.deepEqual(Int32Array.from(batches.flatMap((b) => [...b.y])), ds.labels);
});

test('dropLast drops the short last batch', async () => {
  const ds = indexed(37);
  for (const workers of [0, 1]) {
    const keep = new BatchLoader(ds, { batchSize: 8, shuffle: true, seed: 1, workers });
    const drop = new BatchLoader(ds, { batchSize: 8, shuffle: true, seed: 1, dropLast: true, workers });
    assert.deepEqual([keep.batchesPerEpoch, keep.imagesPerEpoch, drop.batchesPerEpoch, drop.imagesPerEpoch], [5, 37, 4, 32]);
    const kept = await collect(keep.epoch(0)), dropped = await collect(drop.epoch(0));
    assert.deepEqual(kept.map((b) => b.size), [8, 8, 8, 8, 5]);
    assert.deepEqual(kept[4].x.length, 5 * 32);
    assert.deepEqual(dropped, kept.slice(0, 4), 'the same order, minus the last batch');
  }
  const tiny = new BatchLoader(indexed(3), { batchSize: 8, dropLast: true });
  assert.deepEqual(await collect(tiny.epoch(0)), [], 'fewer images than a batch: no batch');
});

test('a batch is valid until the next one is requested, and buffers are reused', async () => {
  const loader = new BatchLoader(synth, { ...augmented, workers: 1, prefetch: 1 });
  const reference = await collect(new BatchLoader(synth, { ...augmented, workers: 0 }).epoch(0));
  const buffers = new Set<ArrayBufferLike>();
  let i = 0;
  for await (const b of loader.epoch(0)) {
    // While the consumer holds batch i the workers run ahead; batch i must not change.
    await new Promise((r) => setTimeout(r, 2));
    assert.deepEqual(b.x.slice(), reference[i].x, `batch ${i}`);
    buffers.add(b.x.buffer);
    i++;
  }
  assert.equal(buffers.size, 2, 'a ring of workers * prefetch + 1 slots');
});

test('ending the loop early stops the workers', async () => {
  const loader = new BatchLoader(synth, { ...augmented, workers: 2 });
  let n = 0;
  for await (const b of loader.epoch(0)) {
    assert.equal(loader.activeWorkers, 2);
    if (++n === 2 && b.size > 0) break;
  }
  assert.equal(loader.activeWorkers, 0, 'break terminated them');
  await assert.rejects(async () => { for await (const _ of loader.epoch(1)) throw new Error('consumer failed'); }, /consumer failed/);
  assert.equal(loader.activeWorkers, 0, 'an exception in the loop terminated them');
  for await (const _ of loader.epoch(2)) { /* run to the end */ }
  assert.equal(loader.activeWorkers, 0, 'the end of the epoch terminated them');
});

test('the process exits after an early break or an abandoned iterator', () => {
  const index = fileURLToPath(new URL('../src/data/index.js', import.meta.url));
  const script = `
    const { BatchLoader, makeSynthetic } = await import(${JSON.stringify(index)});
    const ds = makeSynthetic({ n: 500, c: 3, h: 8, w: 8 });
    const loader = new BatchLoader(ds, { batchSize: 10, shuffle: true, workers: 1 });
    let n = 0;
    for await (const b of loader.epoch(0)) { if (++n === 3) break; }
    try { for await (const b of loader.epoch(1)) throw new Error('stop'); } catch {}
    // An iterator that is never finished must not keep the process alive either.
    const it = loader.epoch(2)[Symbol.asyncIterator]();
    await it.next();
    console.log('done', n);
  `;
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 15_000 });
  assert.equal(r.status, 0, `exit status ${r.status} (signal ${r.signal}); stderr: ${r.stderr}`);
  assert.match(r.stdout, /done 3/);
  assert.ok(Date.now() - t0 < 10_000);
});

test('workers start when node runs with a flag that workers refuse (node --perf-basic-prof)', () => {
  const index = fileURLToPath(new URL('../src/data/index.js', import.meta.url));
  const script = `
    const { BatchLoader, makeSynthetic } = await import(${JSON.stringify(index)});
    const loader = new BatchLoader(makeSynthetic({ n: 40, c: 3, h: 8, w: 8 }), { batchSize: 10, workers: 1 });
    let n = 0;
    for await (const b of loader.epoch(0)) n += b.size;
    console.log('done', n);
  `;
  const r = spawnSync(process.execPath, ['--perf-basic-prof', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 15_000 });
  if (r.pid) fs.rmSync(`/tmp/perf-${r.pid}.map`, { force: true });
  assert.equal(r.status, 0, `exit status ${r.status}; stderr: ${r.stderr}`);
  assert.match(r.stdout, /done 40/);
});

test('bad options are UserErrors', () => {
  const ds = indexed(4);
  assert.throws(() => new BatchLoader(ds, { batchSize: 0 }), UserError);
  assert.throws(() => new BatchLoader(ds, { batchSize: 2.5 }), UserError);
  assert.throws(() => new BatchLoader(ds, { batchSize: 2, workers: -1 }), UserError);
  assert.throws(() => new BatchLoader(ds, { batchSize: 2, augment: { crop: -1 } }), UserError);
  assert.throws(() => new BatchLoader(ds, { batchSize: 2, augment: { flip: 2 } }), UserError);
  assert.throws(() => new BatchLoader(ds, { batchSize: 2, normalize: CIFAR10_NORMALIZATION }), UserError, '3 means for 2 channels');
  assert.throws(() => new BatchLoader(ds, { batchSize: 2 }).epoch(-1), UserError);
});
