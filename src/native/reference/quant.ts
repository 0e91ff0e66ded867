// Reference quantizer kernels: rank codes by a full sort of (key, index)
// pairs -- the obvious O(n log n) definition that the native O(n) selection
// must reproduce code for code -- plus the sign and scaling helpers.
import type { F32, I8 } from '../api.js';

const bits = new Uint32Array(1);
const asFloat = new Float32Array(bits.buffer);

/**
 * Maps a float32 to a uint32 that sorts in IEEE-754 total order: negative
 * values have all bits flipped (so larger magnitudes sort first), positive
 * values get the sign bit set (so they sort after every negative).
 */
export function totalOrderKey(v: number): number {
  asFloat[0] = v;
  const b = bits[0];
  return (b & 0x80000000 ? ~b : b | 0x80000000) >>> 0;
}

export function rankCodes(groups: number, groupSize: number, latent: F32, low: number, high: number, codes: I8): void {
  const keys = new Float64Array(groupSize);
  const order = Array.from({ length: groupSize }, (_, i) => i);
  for (let g = 0; g < groups; g++) {
    const base = g * groupSize;
    for (let i = 0; i < groupSize; i++) keys[i] = totalOrderKey(latent[base + i]);
    order.sort((a, b) => keys[a] - keys[b] || a - b); // ties: lower index first
    for (let r = 0; r < groupSize; r++) codes[base + order[r]] = r < low ? -1 : r < high ? 0 : 1;
    for (let i = 0; i < groupSize; i++) order[i] = i;
  }
}

export function signCodes(len: number, latent: F32, codes: I8): void {
  for (let i = 0; i < len; i++) codes[i] = latent[i] < 0 ? -1 : 1;
}

/** Per-filter [mean, std] (std unbiased, 1 for no spread), in float64, one filter at a time. */
function filterMoments(latent: F32, f: number, n: number): [number, number] {
  let s = 0;
  for (let i = f * n; i < (f + 1) * n; i++) s += latent[i];
  const mean = s / n;
  let v = 0;
  for (let i = f * n; i < (f + 1) * n; i++) v += (latent[i] - mean) * (latent[i] - mean);
  const std = n > 1 ? Math.sqrt(v / (n - 1)) : 0;
  return [mean, std > 0 ? std : 1];
}

export function balancedCodes(filters: number, n: number, latent: F32, codes: I8): void {
  for (let f = 0; f < filters; f++) {
    const [mean] = filterMoments(latent, f, n);
    for (let i = f * n; i < (f + 1) * n; i++) codes[i] = latent[i] < mean ? -1 : 1;
  }
}

export function balancedScales(filters: number, n: number, latent: F32, factors: F32): void {
  for (let f = 0; f < filters; f++) {
    const [mean, std] = filterMoments(latent, f, n);
    let a = 0;
    for (let i = f * n; i < (f + 1) * n; i++) a += Math.abs(latent[i] - mean);
    factors[f] = a > 0 ? 2 ** Math.round(Math.log2(a / std / n)) : 1;
  }
}

export function balancedBackward(filters: number, n: number, latent: F32, g: F32, out: F32): void {
  for (let f = 0; f < filters; f++) {
    const [mean, std] = filterMoments(latent, f, n);
    let gm = 0, gz = 0;
    for (let i = f * n; i < (f + 1) * n; i++) { gm += g[i]; gz += g[i] * (latent[i] - mean) / std; }
    gm /= n;
    gz /= n > 1 ? n - 1 : 1;
    for (let i = f * n; i < (f + 1) * n; i++) out[i] = (g[i] - gm - ((latent[i] - mean) / std) * gz) / std;
  }
}

export function codesToWeights(groups: number, groupSize: number, codes: I8, scales: F32, out: F32): void {
  for (let g = 0; g < groups; g++) {
    for (let i = g * groupSize; i < (g + 1) * groupSize; i++) out[i] = scales[g] * codes[i];
  }
}

export function signForward(len: number, x: F32, y: F32): void {
  for (let i = 0; i < len; i++) y[i] = x[i] < 0 ? -1 : 1;
}

export function signBackward(len: number, x: F32, dy: F32, mode: number, dx: F32, accumulate = false, t = 1, k = 1): void {
  for (let i = 0; i < len; i++) {
    const a = Math.abs(x[i]);
    let g: number;
    if (mode === 2) {
      const th = Math.tanh(t * x[i]);
      g = Math.fround(dy[i] * k * t * (1 - th * th));
    } else {
      g = a < 1 ? (mode === 0 ? dy[i] : Math.fround(dy[i] * (2 - 2 * a))) : 0;
    }
    dx[i] = accumulate ? dx[i] + g : g;
  }
}
