// A synthetic image dataset for fast tests: every class has a smooth random
// prototype (a sum of a few low-frequency waves per channel), and each image is
// its class prototype with a random brightness shift and per-pixel noise.
// Everything comes from the seed, so the same options give the same bytes.
// The classes are separable (a linear model does well) but not trivially: the
// noise is comparable to the prototype's contrast.
import { Rng } from '../util/prng.js';
import { UserError } from '../util/errors.js';
import { type ImageDataset, sharedBytes, sharedInt32 } from './dataset.js';
import { epochSeed } from './plan.js';

export interface SyntheticOptions {
  n: number;
  c?: number;
  h?: number;
  w?: number;
  classes?: number;
  /** Seed of the class prototypes; train and test share them. */
  seed?: number;
  /** Which sample stream: train and test images differ, prototypes do not. */
  split?: 'train' | 'test';
  /** Standard deviation of the pixel noise, in pixel units (default 32). */
  noise?: number;
  name?: string;
}

export function makeSynthetic(opts: SyntheticOptions): ImageDataset {
  const { n, c = 3, h = 16, w = 16, classes = 10, seed = 0, split = 'train', noise = 32 } = opts;
  for (const [k, v] of Object.entries({ n, c, h, w, classes })) {
    if (!Number.isInteger(v) || v < (k === 'n' ? 0 : 1)) throw new UserError(`synthetic dataset: ${k} must be a positive integer, got ${v}`);
  }
  if (!(noise >= 0)) throw new UserError(`synthetic dataset: noise must be >= 0, got ${noise}`);
  const plane = h * w, per = c * plane;

  // Prototypes in roughly [-64, 64] around mid-grey.
  const protoRng = new Rng(seed);
  const proto = new Float32Array(classes * per);
  for (let k = 0; k < classes; k++) {
    for (let ch = 0; ch < c; ch++) {
      const base = (k * c + ch) * plane;
      for (let wave = 0; wave < 3; wave++) {
        const fx = protoRng.int(3), fy = protoRng.int(3);
        const phase = 2 * Math.PI * protoRng.uniform(), amp = 16 + 16 * protoRng.uniform();
        for (let y = 0; y < h; y++) {
          for (let x = 0; x < w; x++) proto[base + y * w + x] += amp * Math.cos(2 * Math.PI * (fx * x / w + fy * y / h) + phase);
        }
      }
    }
  }

  const rng = new Rng(epochSeed(seed, split === 'train' ? 0x7261 : 0x7465));
  const labels = sharedInt32(n);
  for (let i = 0; i < n; i++) labels[i] = i % classes; // balanced, then shuffled
  rng.shuffle(labels);
  const pixels = sharedBytes(n * per);
  for (let i = 0; i < n; i++) {
    const shift = 128 + 24 * (rng.uniform() - 0.5);
    const base = labels[i] * per;
    for (let k = 0; k < per; k++) {
      const v = Math.round(shift + proto[base + k] + noise * rng.normal());
      pixels[i * per + k] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
  const classNames = Array.from({ length: classes }, (_, k) => `class ${k}`);
  return { name: opts.name ?? `synthetic/${split}`, n, c, h, w, classes, classNames, pixels, labels };
}
