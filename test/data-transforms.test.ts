// Transforms against cases worked out by hand on a 1x3x3 image, then the
// fused one-pass transform against the composition of the single steps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  cropPadded, flipHorizontal, normalizeImage, normalizeTable, transformInto, randomCrop, randomFlip, sampleCrop,
  CIFAR10_NORMALIZATION, FASHION_MNIST_NORMALIZATION, channelStats, makeSynthetic,
} from '../src/data/index.js';
import { Rng } from '../src/util/prng.js';
import { UserError } from '../src/util/errors.js';

// 10 20 30
// 40 50 60
// 70 80 90
const img = Uint8Array.from([10, 20, 30, 40, 50, 60, 70, 80, 90]);

function close(actual: Float32Array, expected: number[], what: string): void {
  assert.equal(actual.length, expected.length, what);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) < 1e-6, `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
}

test('crop with zero padding, by hand', () => {
  // Pad 1 makes a 5x5 image; (ox, oy) is the top-left corner of the 3x3 window in it.
  assert.deepEqual([...cropPadded(img, 1, 3, 3, 1, 1, 1)], [10, 20, 30, 40, 50, 60, 70, 80, 90], 'centre window = identity');
  assert.deepEqual([...cropPadded(img, 1, 3, 3, 1, 0, 0)], [0, 0, 0, 0, 10, 20, 0, 40, 50], 'top-left window');
  assert.deepEqual([...cropPadded(img, 1, 3, 3, 1, 2, 1)], [20, 30, 0, 50, 60, 0, 80, 90, 0], 'shifted left');
  assert.deepEqual([...cropPadded(img, 1, 3, 3, 1, 1, 2)], [40, 50, 60, 70, 80, 90, 0, 0, 0], 'shifted up');
  assert.deepEqual([...cropPadded(img, 1, 3, 3, 4, 0, 0)], [0, 0, 0, 0, 0, 0, 0, 0, 0], 'window entirely in the padding');
});

test('horizontal flip, by hand', () => {
  assert.deepEqual([...flipHorizontal(img, 1, 3, 3)], [30, 20, 10, 60, 50, 40, 90, 80, 70]);
  const two = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]); // c=2, h=2, w=2
  assert.deepEqual([...flipHorizontal(two, 2, 2, 2)], [2, 1, 4, 3, 6, 5, 8, 7]);
});

test('normalisation, by hand', () => {
  // v = 51k is 0.2k on the [0, 1] scale; (0.2k - 0.5) / 0.25 = 0.8k - 2.
  const ramp = Uint8Array.from([0, 51, 102, 153, 204, 255]);
  close(normalizeImage(ramp, 1, 2, 3, { mean: [0.5], std: [0.25] }), [-2, -1.2, -0.4, 0.4, 1.2, 2], 'ramp');
  close(normalizeImage(ramp, 1, 2, 3), [0, 0.2, 0.4, 0.6, 0.8, 1], 'no normalisation = v / 255');
  // One pixel per channel, CIFAR-10 constants.
  const rgb = Uint8Array.from([255, 0, 51]);
  close(normalizeImage(rgb, 3, 1, 1, CIFAR10_NORMALIZATION),
    [(1 - 0.4914) / 0.2023, (0 - 0.4822) / 0.1994, (0.2 - 0.4465) / 0.2010], 'CIFAR-10 channels');
  close(normalizeImage(Uint8Array.from([102]), 1, 1, 1, FASHION_MNIST_NORMALIZATION), [(0.4 - 0.2860) / 0.3530], 'Fashion-MNIST');
  assert.throws(() => normalizeImage(rgb, 3, 1, 1, FASHION_MNIST_NORMALIZATION), UserError, 'one mean for three channels');
  assert.throws(() => normalizeImage(img, 1, 3, 3, { mean: [0], std: [0] }), UserError, 'zero std');
});

test('crop + flip + normalise in one pass, by hand', () => {
  // Window at (ox 0, oy 2) of the 1-padded image: 0 40 50 / 0 70 80 / 0 0 0;
  // flipped: 50 40 0 / 80 70 0 / 0 0 0; then (v / 255 - 0.5) / 0.25.
  const n = (v: number) => (v / 255 - 0.5) / 0.25;
  const out = new Float32Array(9);
  transformInto(img, 0, 1, 3, 3, 1, 0, 2, true, normalizeTable(1, { mean: [0.5], std: [0.25] }), out, 0);
  close(out, [n(50), n(40), n(0), n(80), n(70), n(0), n(0), n(0), n(0)], 'fused');
  // Offsets and flags that mean "no augmentation" give plain normalisation.
  transformInto(img, 0, 1, 3, 3, 0, 0, 0, false, normalizeTable(1), out, 0);
  close(out, [...img].map((v) => v / 255), 'identity');
  assert.throws(() => transformInto(img, 0, 1, 3, 3, 1, 3, 0, false, normalizeTable(1), out, 0), UserError);
});

test('the fused transform equals crop, then flip, then normalise, for every offset', () => {
  const rng = new Rng(5);
  const shapes: [number, number, number, number][] = [[3, 5, 4, 2], [1, 4, 4, 6], [2, 3, 7, 1], [3, 32, 32, 4]];
  for (const [c, h, w, pad] of shapes) {
    const per = c * h * w;
    const src = new Uint8Array(2 * per);
    for (let i = 0; i < src.length; i++) src[i] = rng.int(256);
    const norm = { mean: Array.from({ length: c }, () => rng.uniform()), std: Array.from({ length: c }, () => 0.1 + rng.uniform()) };
    const lut = normalizeTable(c, norm);
    const image = src.subarray(per); // the second image: checks the source offset
    const out = new Float32Array(3 * per).fill(NaN);
    for (let oy = 0; oy <= 2 * pad; oy++) {
      for (let ox = 0; ox <= 2 * pad; ox++) {
        for (const flip of [false, true]) {
          const cropped = cropPadded(image, c, h, w, pad, ox, oy);
          const expected = normalizeImage(flip ? flipHorizontal(cropped, c, h, w) : cropped, c, h, w, norm);
          transformInto(src, per, c, h, w, pad, ox, oy, flip, lut, out, per);
          assert.deepEqual(out.subarray(per, 2 * per), expected, `shape ${[c, h, w]} pad ${pad} offset (${ox}, ${oy}) flip ${flip}`);
        }
      }
    }
    assert.ok(Number.isNaN(out[0]) && Number.isNaN(out[2 * per]), 'writes stay inside the target image');
  }
});

test('random crop and flip are deterministic for a given Rng and cover every offset', () => {
  const a = randomCrop(img, 1, 3, 3, 1, new Rng(9));
  const b = randomCrop(img, 1, 3, 3, 1, new Rng(9));
  assert.deepEqual(a, b);
  const rng = new Rng(1);
  const seen = new Set<string>();
  let flips = 0;
  for (let i = 0; i < 2000; i++) {
    const { ox, oy } = sampleCrop(rng, 4);
    assert.ok(ox >= 0 && ox <= 8 && oy >= 0 && oy <= 8);
    seen.add(`${ox},${oy}`);
    if (randomFlip(img, 1, 3, 3, rng)[0] === 30) flips++;
  }
  assert.equal(seen.size, 81, 'all 9 x 9 offsets of pad 4 occur');
  assert.ok(flips > 900 && flips < 1100, `flipped ${flips} of 2000 (p = 0.5)`);
  assert.deepEqual([...randomFlip(img, 1, 3, 3, new Rng(0), 0)], [...img], 'p = 0 never flips');
  assert.deepEqual([...randomFlip(img, 1, 3, 3, new Rng(0), 1)], [30, 20, 10, 60, 50, 40, 90, 80, 70], 'p = 1 always flips');
});

test('channel statistics match a direct computation', () => {
  const ds = makeSynthetic({ n: 30, c: 2, h: 4, w: 4, seed: 1 });
  const stats = channelStats(ds);
  for (let ch = 0; ch < 2; ch++) {
    const values: number[] = [];
    for (let i = 0; i < ds.n; i++) for (let k = 0; k < 16; k++) values.push(ds.pixels[(i * 2 + ch) * 16 + k] / 255);
    const mean = values.reduce((s, v) => s + v, 0) / values.length;
    const std = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length);
    assert.ok(Math.abs(stats.mean[ch] - mean) < 1e-9 && Math.abs(stats.std[ch] - std) < 1e-9);
  }
});
