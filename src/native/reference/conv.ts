// Reference 2-D convolution (cross-correlation, as in PyTorch) written as
// direct loops over every index, deliberately NOT im2col: it is meant to be an
// independent check of the native im2col + GEMM and Winograd paths. Every
// output element is a gather (one float64 sum, one store), so there is no
// float32 accumulation.
import type { ConvGeometry, F32 } from '../api.js';
import { outSize } from '../api.js';

export function conv2dForward(g: ConvGeometry, x: F32, weight: F32, bias: F32 | null, y: F32): void {
  const { n, cin, h, w, cout, kh, kw, sh, sw, ph, pw } = g;
  const oh = outSize(h, kh, sh, ph), ow = outSize(w, kw, sw, pw);
  for (let b = 0; b < n; b++) {
    for (let co = 0; co < cout; co++) {
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++) {
          let sum = bias ? bias[co] : 0;
          for (let ci = 0; ci < cin; ci++) {
            for (let ky = 0; ky < kh; ky++) {
              const iy = oy * sh - ph + ky;
              if (iy < 0 || iy >= h) continue; // zero padding contributes nothing
              for (let kx = 0; kx < kw; kx++) {
                const ix = ox * sw - pw + kx;
                if (ix < 0 || ix >= w) continue;
                sum += x[((b * cin + ci) * h + iy) * w + ix] * weight[((co * cin + ci) * kh + ky) * kw + kx];
              }
            }
          }
          y[((b * cout + co) * oh + oy) * ow + ox] = sum;
        }
      }
    }
  }
}

/**
 * dx[b, ci, iy, ix] = sum of dy[b, co, oy, ox] * w[co, ci, ky, kx] over every
 * (co, ky, kx) with iy = oy*sh - ph + ky (and the same for x), i.e. over the
 * outputs whose window covered this input.
 */
export function conv2dBackwardData(g: ConvGeometry, dy: F32, weight: F32, dx: F32): void {
  const { n, cin, h, w, cout, kh, kw, sh, sw, ph, pw } = g;
  const oh = outSize(h, kh, sh, ph), ow = outSize(w, kw, sw, pw);
  for (let b = 0; b < n; b++) {
    for (let ci = 0; ci < cin; ci++) {
      for (let iy = 0; iy < h; iy++) {
        for (let ix = 0; ix < w; ix++) {
          let sum = 0;
          for (let co = 0; co < cout; co++) {
            for (let ky = 0; ky < kh; ky++) {
              const ty = iy + ph - ky; // = oy * sh for the output that used this tap
              if (ty < 0 || ty % sh !== 0) continue;
              const oy = ty / sh;
              if (oy >= oh) continue;
              for (let kx = 0; kx < kw; kx++) {
                const tx = ix + pw - kx;
                if (tx < 0 || tx % sw !== 0) continue;
                const ox = tx / sw;
                if (ox >= ow) continue;
                sum += dy[((b * cout + co) * oh + oy) * ow + ox] * weight[((co * cin + ci) * kh + ky) * kw + kx];
              }
            }
          }
          dx[((b * cin + ci) * h + iy) * w + ix] = sum;
        }
      }
    }
  }
}

/** dw[co, ci, ky, kx] = sum over (b, oy, ox) of dy * x at the tapped input; db[co] = sum of dy. */
export function conv2dBackwardWeight(g: ConvGeometry, x: F32, dy: F32, dw: F32, db: F32 | null): void {
  const { n, cin, h, w, cout, kh, kw, sh, sw, ph, pw } = g;
  const oh = outSize(h, kh, sh, ph), ow = outSize(w, kw, sw, pw);
  for (let co = 0; co < cout; co++) {
    for (let ci = 0; ci < cin; ci++) {
      for (let ky = 0; ky < kh; ky++) {
        for (let kx = 0; kx < kw; kx++) {
          let sum = 0;
          for (let b = 0; b < n; b++) {
            for (let oy = 0; oy < oh; oy++) {
              const iy = oy * sh - ph + ky;
              if (iy < 0 || iy >= h) continue;
              for (let ox = 0; ox < ow; ox++) {
                const ix = ox * sw - pw + kx;
                if (ix < 0 || ix >= w) continue;
                sum += dy[((b * cout + co) * oh + oy) * ow + ox] * x[((b * cin + ci) * h + iy) * w + ix];
              }
            }
          }
          dw[((co * cin + ci) * kh + ky) * kw + kx] = sum;
        }
      }
    }
    if (db) {
      let sum = 0;
      for (let b = 0; b < n; b++) {
        for (let o = 0; o < oh * ow; o++) sum += dy[(b * cout + co) * oh * ow + o];
      }
      db[co] = sum;
    }
  }
}
