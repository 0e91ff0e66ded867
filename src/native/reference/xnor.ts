// Reference binary conv: the reference conv of sign(x) and the codes as +-1,
// which sums +-1 products in float64 and so gives the exact integer count;
// then scale * count + bias rounded once, as the kernel's fused multiply-add.
import type { ConvGeometry, F32, I8 } from '../api.js';
import { outSize } from '../api.js';
import { conv2dForward } from './conv.js';

export function xnorConv2dForward(g: ConvGeometry, x: F32, codes: I8, scales: F32, bias: F32 | null, y: F32): void {
  const sx = Float32Array.from(x, (v) => (v < 0 ? -1 : 1));
  const sw = Float32Array.from(codes, (c) => (c < 0 ? -1 : 1));
  const counts = new Float32Array(y.length);
  conv2dForward(g, sx, sw, null, counts);
  const plane = outSize(g.h, g.kh, g.sh, g.ph) * outSize(g.w, g.kw, g.sw, g.pw);
  for (let i = 0; i < y.length; i++) {
    const co = Math.floor(i / plane) % g.cout;
    // scale * count is exact in float64; one rounding to float32 with the bias.
    y[i] = Math.fround(scales[co] * counts[i] + (bias ? bias[co] : 0));
  }
}
