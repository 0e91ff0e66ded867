// Image transforms on uint8 [c, h, w] images: random crop with zero padding,
// horizontal flip, per-channel normalisation to float. The order is the usual
// one (crop, flip, then normalise), so padded pixels are black before
// normalisation, i.e. (0 - mean) / std afterwards, as in torchvision's
// RandomCrop(padding) + ToTensor + Normalize.
//
// The loader uses transformInto, which does all three in one pass over the
// output with a 256-entry lookup table per channel; the single-step functions
// are the readable definitions the tests check it against.
import type { Rng } from '../util/prng.js';
import type { Normalization } from './dataset.js';
import { checkNormalization } from './dataset.js';
import { UserError } from '../util/errors.js';

/** Crop offset into the padded image (each in 0..2*pad) and whether to flip. */
export interface AugmentParams { ox: number; oy: number; flip: boolean }

/**
 * Pads the image with `pad` zero pixels on every side and cuts the h x w
 * window whose top-left corner is (oy, ox) in the padded image: ox = oy = pad
 * gives the image back unchanged.
 */
export function cropPadded(src: Uint8Array, c: number, h: number, w: number, pad: number, ox: number, oy: number, out: Uint8Array = new Uint8Array(c * h * w)): Uint8Array {
  for (let ch = 0; ch < c; ch++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const sy = y + oy - pad, sx = x + ox - pad;
        out[(ch * h + y) * w + x] = sy >= 0 && sy < h && sx >= 0 && sx < w ? src[(ch * h + sy) * w + sx] : 0;
      }
    }
  }
  return out;
}

/** Mirrors the image left to right. */
export function flipHorizontal(src: Uint8Array, c: number, h: number, w: number, out: Uint8Array = new Uint8Array(c * h * w)): Uint8Array {
  for (let row = 0; row < c * h; row++) {
    for (let x = 0; x < w; x++) out[row * w + x] = src[row * w + (w - 1 - x)];
  }
  return out;
}

/** uint8 -> float: (v / 255 - mean[c]) / std[c]; without a normalisation, v / 255. */
export function normalizeImage(src: Uint8Array, c: number, h: number, w: number, norm?: Normalization, out: Float32Array = new Float32Array(c * h * w)): Float32Array {
  if (norm) checkNormalization(norm, c);
  for (let ch = 0; ch < c; ch++) {
    const m = norm ? norm.mean[ch] : 0, s = norm ? norm.std[ch] : 1;
    for (let k = ch * h * w; k < (ch + 1) * h * w; k++) out[k] = (src[k] / 255 - m) / s;
  }
  return out;
}

/** Draws a crop offset (ox, oy each uniform in 0..2*pad), x first. */
export function sampleCrop(rng: Rng, pad: number): { ox: number; oy: number } {
  const ox = rng.int(2 * pad + 1);
  const oy = rng.int(2 * pad + 1);
  return { ox, oy };
}

/** True with probability p. */
export function sampleFlip(rng: Rng, p = 0.5): boolean {
  return rng.uniform() < p;
}

/** Random crop with zero padding, e.g. pad 4 for CIFAR's 32x32 images. */
export function randomCrop(src: Uint8Array, c: number, h: number, w: number, pad: number, rng: Rng, out?: Uint8Array): Uint8Array {
  const { ox, oy } = sampleCrop(rng, pad);
  return cropPadded(src, c, h, w, pad, ox, oy, out);
}

/** Horizontal flip with probability p; otherwise a copy. */
export function randomFlip(src: Uint8Array, c: number, h: number, w: number, rng: Rng, p = 0.5, out?: Uint8Array): Uint8Array {
  return sampleFlip(rng, p) ? flipHorizontal(src, c, h, w, out) : (out ? (out.set(src), out) : src.slice());
}

/** Lookup table [c, 256]: the normalised float of every byte value in every channel. */
export function normalizeTable(c: number, norm?: Normalization): Float32Array {
  if (norm) checkNormalization(norm, c);
  const lut = new Float32Array(c * 256);
  for (let ch = 0; ch < c; ch++) {
    const m = norm ? norm.mean[ch] : 0, s = norm ? norm.std[ch] : 1;
    for (let v = 0; v < 256; v++) lut[ch * 256 + v] = (v / 255 - m) / s;
  }
  return lut;
}

/**
 * Crop (offset ox, oy into the image padded by `pad`), optional flip and
 * normalisation of one image in one pass: reads src[srcAt ..] and writes
 * out[outAt ..], c*h*w values each. pad = 0 with ox = oy = 0 means no crop.
 * Equal to normalizeImage(flip(cropPadded(...))) value for value.
 */
export function transformInto(src: Uint8Array, srcAt: number, c: number, h: number, w: number,
  pad: number, ox: number, oy: number, flip: boolean, lut: Float32Array, out: Float32Array, outAt: number): void {
  if (ox < 0 || oy < 0 || ox > 2 * pad || oy > 2 * pad) throw new UserError(`transformInto: crop offset (${ox}, ${oy}) outside 0..${2 * pad}`);
  const dx = ox - pad, dy = oy - pad;
  // Output columns x whose source column lies inside the image; the rest are padding.
  // Without flip the source column is x + dx, with flip (w - 1 - x) + dx.
  const x0 = Math.min(w, flip ? Math.max(0, dx) : Math.max(0, -dx));
  const x1 = Math.max(x0, flip ? Math.min(w, w + dx) : Math.min(w, w - dx));
  for (let ch = 0; ch < c; ch++) {
    const table = ch * 256;
    const padValue = lut[table];
    const plane = srcAt + ch * h * w;
    for (let y = 0; y < h; y++) {
      const o = outAt + (ch * h + y) * w;
      const sy = y + dy;
      if (sy < 0 || sy >= h) {
        for (let x = 0; x < w; x++) out[o + x] = padValue;
        continue;
      }
      for (let x = 0; x < x0; x++) out[o + x] = padValue;
      const row = plane + sy * w;
      if (flip) {
        const base = row + w - 1 + dx; // source index of output column x is base - x
        for (let x = x0; x < x1; x++) out[o + x] = lut[table + src[base - x]];
      } else {
        const base = row + dx;
        for (let x = x0; x < x1; x++) out[o + x] = lut[table + src[base + x]];
      }
      for (let x = x1; x < w; x++) out[o + x] = padValue;
    }
  }
}
