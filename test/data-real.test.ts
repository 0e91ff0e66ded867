// The readers on real data: Fashion-MNIST from Debian's dataset-fashion-mnist
// (installed by scripts/setup.sh), and CIFAR-10 from shared/data when that
// folder is there. The project must not depend on it, so without it the CIFAR
// test runs the same checks on a small fixture in the official layout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadDataset, channelStats, BatchLoader, CIFAR10_NORMALIZATION, DEBIAN_FASHION_MNIST, type ImageDataset } from '../src/data/index.js';

function classCounts(ds: ImageDataset): number[] {
  const counts = new Array(ds.classes).fill(0);
  for (const l of ds.labels) counts[l]++;
  return counts;
}

test('real Fashion-MNIST: 60,000 + 10,000 images of 28x28, labels 0-9', () => {
  const train = loadDataset('fashion-mnist', 'train', { dir: DEBIAN_FASHION_MNIST });
  const testSet = loadDataset('fashion-mnist', 'test');
  assert.deepEqual([train.n, train.c, train.h, train.w, train.classes], [60000, 1, 28, 28, 10]);
  assert.deepEqual([testSet.n, testSet.c, testSet.h, testSet.w], [10000, 1, 28, 28]);
  assert.deepEqual(classCounts(train), new Array(10).fill(6000));
  assert.deepEqual(classCounts(testSet), new Array(10).fill(1000));
  assert.equal(train.classNames?.[9], 'Ankle boot');
  assert.equal(train.labels[0], 9, 'the first training image is an ankle boot');
  const { mean, std } = channelStats(train);
  assert.ok(Math.abs(mean[0] - 0.2860) < 1e-3 && Math.abs(std[0] - 0.3530) < 1e-3, `mean ${mean[0]}, std ${std[0]}`);
});

// shared/ sits beside the repository; from dist/test that is three folders up.
const REAL_CIFAR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shared', 'data', 'cifar-10-batches-bin');

/** A CIFAR-10 folder in the official layout: 5 batches of 20 records, a test batch of 10, labels i % 10. */
function cifarFixture(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'equalbits-data-real-'));
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  const batch = (n: number, first: number) => {
    const out = Buffer.alloc(n * 3073);
    for (let i = 0; i < n; i++) {
      out[i * 3073] = (first + i) % 10;
      for (let k = 0; k < 3072; k++) out[i * 3073 + 1 + k] = (k >> 10) * 60 + ((first + i + k) & 63); // R, G, B planes differ
    }
    return out;
  };
  for (let b = 1; b <= 5; b++) fs.writeFileSync(path.join(dir, `data_batch_${b}.bin`), batch(20, (b - 1) * 20));
  fs.writeFileSync(path.join(dir, 'test_batch.bin'), batch(10, 0));
  return dir;
}

test('CIFAR-10: the real data set when shared/data has it, else a fixture in the same layout', async (t) => {
  const real = fs.existsSync(path.join(REAL_CIFAR, 'data_batch_1.bin'));
  const dir = real ? REAL_CIFAR : cifarFixture();
  t.diagnostic(real ? `reading ${REAL_CIFAR}` : `${REAL_CIFAR} is absent: checking a fixture instead`);
  const train = loadDataset('cifar10', 'train', { dir });
  const testSet = loadDataset('cifar10', 'test', { dir });
  const [nTrain, nTest] = real ? [50000, 10000] : [100, 10];
  assert.deepEqual([train.n, train.c, train.h, train.w, train.classes], [nTrain, 3, 32, 32, 10]);
  assert.equal(testSet.n, nTest);
  assert.deepEqual(classCounts(train), new Array(10).fill(nTrain / 10));
  assert.equal(train.classNames?.[6], 'frog');
  if (real) {
    assert.equal(train.labels[0], 6, 'the first training image is a frog');
    assert.equal(testSet.labels[0], 3, 'the first test image is a cat');
    const { mean } = channelStats(train);
    for (let ch = 0; ch < 3; ch++) {
      const m = CIFAR10_NORMALIZATION.mean[ch];
      assert.ok(Math.abs(mean[ch] - m) < 1e-3, `channel ${ch} mean ${mean[ch]}, expected about ${m}`);
    }
  } else {
    assert.deepEqual([...train.labels.subarray(0, 12)], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
    assert.equal(train.pixels[41 * 3072 + 2048 + 5], 120 + ((41 + 2048 + 5) & 63), 'image 41, blue plane');
  }
  // One epoch's first batches through a worker, labels intact.
  const loader = new BatchLoader(train, { batchSize: 128, shuffle: true, augment: { crop: 4, flip: true }, normalize: CIFAR10_NORMALIZATION, seed: 1 });
  let batches = 0;
  for await (const b of loader.epoch(0)) {
    assert.equal(b.x.length, b.size * 3072);
    assert.ok(b.y.every((l) => l >= 0 && l < 10));
    if (++batches === 3) break;
  }
  assert.equal(batches, Math.min(3, loader.batchesPerEpoch));
});
