// Reference binary conv: integer loops over sign(x) * code, the definition
// the XNOR + popcount kernel must reproduce (scale * exact count + bias).
import type { ConvGeometry, F32, I8 } from '../api.js';
import { outSize } from '../api.js';

export function xnorConv2dForward(g: ConvGeometry, x: F32, codes: I8, scales: F32, bias: F32 | null, y: F32): void {
  const { n, cin, h, w, cout, kh, kw, sh, sw, ph, pw } = g;
  const oh = outSize(h, kh, sh, ph), ow = outSize(w, kw, sw, pw);
  for (let b = 0; b < n; b++) {
    for (let co = 0; co < cout; co++) {
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++) {
          let count = 0;
          for (let ci = 0; ci < cin; ci++) {
            for (let ky = 0; ky < kh; ky++) {
              const iy = oy * sh - ph + ky;
              if (iy < 0 || iy >= h) continue;
              for (let kx = 0; kx < kw; kx++) {
                const ix = ox * sw - pw + kx;
                if (ix < 0 || ix >= w) continue;
                const s = x[((b * cin + ci) * h + iy) * w + ix] < 0 ? -1 : 1;
                const c = codes[((co * cin + ci) * kh + ky) * kw + kx] < 0 ? -1 : 1;
                count += s * c;
              }
            }
          }
          // scale * count is exact in float64; with a bias, one rounding to
          // float32 of the sum, as the kernel's fused multiply-add does.
          y[((b * cout + co) * oh + oy) * ow + ox] = Math.fround(scales[co] * count + (bias ? bias[co] : 0));
        }
      }
    }
  }
}
