// What an epoch looks like, as a pure function of (seed, epoch): the order of
// the images and each position's crop offset and flip. The in-thread loader
// and every worker compute the same plan from the same numbers, which is why
// their batches are identical, and why a run resumed at epoch e sees exactly
// the batches an uninterrupted run would.
import { Rng } from '../util/prng.js';
import { transformInto } from './transforms.js';

export interface PlanConfig {
  seed: number;
  shuffle: boolean;
  /** Zero padding of the random crop; 0 = no crop. */
  pad: number;
  /** Probability of a horizontal flip; 0 = never. */
  flipP: number;
  batchSize: number;
  dropLast: boolean;
}

export interface EpochPlan {
  order: Int32Array;
  /** Per position (not per image): crop offsets in 0..2*pad, flip flags. Null when unused. */
  ox: Uint8Array | null;
  oy: Uint8Array | null;
  flip: Uint8Array | null;
  batches: number;
}

function fmix32(h: number): number {
  h ^= h >>> 16; h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13; h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** A 32-bit seed that depends on both numbers (seed and epoch mixed, not added, so (s, e+1) and (s+1, e) differ). */
export function epochSeed(seed: number, epoch: number): number {
  return fmix32((fmix32(seed >>> 0) ^ Math.imul((epoch >>> 0) + 1, 0x9e3779b1)) >>> 0);
}

export function batchCount(n: number, batchSize: number, dropLast: boolean): number {
  return dropLast ? Math.floor(n / batchSize) : Math.ceil(n / batchSize);
}

/** The order and augmentation of one epoch. Random draws: the shuffle first, then per position ox, oy, flip. */
export function makePlan(n: number, epoch: number, cfg: PlanConfig): EpochPlan {
  const rng = new Rng(epochSeed(cfg.seed, epoch));
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  if (cfg.shuffle) rng.shuffle(order);
  const ox = cfg.pad > 0 ? new Uint8Array(n) : null, oy = cfg.pad > 0 ? new Uint8Array(n) : null;
  const flip = cfg.flipP > 0 ? new Uint8Array(n) : null;
  if (ox || flip) {
    const span = 2 * cfg.pad + 1;
    for (let i = 0; i < n; i++) {
      if (ox && oy) { ox[i] = rng.int(span); oy[i] = rng.int(span); }
      if (flip) flip[i] = rng.uniform() < cfg.flipP ? 1 : 0;
    }
  }
  return { order, ox, oy, flip, batches: batchCount(n, cfg.batchSize, cfg.dropLast) };
}

export interface PixelSource { pixels: Uint8Array; labels: Int32Array; n: number; c: number; h: number; w: number }

/** Fills x [size, c, h, w] and y [size] with batch b of the plan; returns size. */
export function fillBatch(ds: PixelSource, plan: EpochPlan, b: number, cfg: PlanConfig, lut: Float32Array, x: Float32Array, y: Int32Array): number {
  const start = b * cfg.batchSize;
  const size = Math.min(cfg.batchSize, ds.n - start);
  const per = ds.c * ds.h * ds.w;
  const { order, ox, oy, flip } = plan;
  for (let i = 0; i < size; i++) {
    const pos = start + i, src = order[pos];
    transformInto(ds.pixels, src * per, ds.c, ds.h, ds.w, cfg.pad,
      ox ? ox[pos] : cfg.pad, oy ? oy[pos] : cfg.pad, flip ? flip[pos] === 1 : false, lut, x, i * per);
    y[i] = ds.labels[src];
  }
  return size;
}
