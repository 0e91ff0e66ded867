// Reference pooling: one loop per window, written straight from the definition.
import type { F32, I32, PoolGeometry } from '../api.js';
import { outSize } from '../api.js';

export function maxPool2dForward(g: PoolGeometry, x: F32, y: F32, argmax: I32): void {
  const { n, c, h, w, kh, kw, sh, sw, ph, pw } = g;
  const oh = outSize(h, kh, sh, ph), ow = outSize(w, kw, sw, pw);
  for (let p = 0; p < n * c; p++) {
    const plane = p * h * w;
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        // Padding is -Infinity, so it can never win over a real input: just skip it.
        // Strict '>' keeps the first of equal values in row-major window order.
        let best = -Infinity, bestIdx = -1;
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sh - ph + ky;
          if (iy < 0 || iy >= h) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * sw - pw + kx;
            if (ix < 0 || ix >= w) continue;
            const v = x[plane + iy * w + ix];
            if (bestIdx < 0 || v > best) { best = v; bestIdx = iy * w + ix; }
          }
        }
        const o = (p * oh + oy) * ow + ox;
        y[o] = best;
        argmax[o] = bestIdx;
      }
    }
  }
}

export function maxPool2dBackward(g: PoolGeometry, dy: F32, argmax: I32, dx: F32): void {
  const { n, c, h, w, kh, kw, sh, sw, ph, pw } = g;
  const oh = outSize(h, kh, sh, ph), ow = outSize(w, kw, sw, pw);
  dx.fill(0);
  // Each output sends its gradient to the input it picked; overlapping windows
  // that picked the same input add up.
  for (let p = 0; p < n * c; p++) {
    for (let o = 0; o < oh * ow; o++) dx[p * h * w + argmax[p * oh * ow + o]] += dy[p * oh * ow + o];
  }
}

export function avgPool2dForward(g: PoolGeometry, x: F32, y: F32): void {
  const { n, c, h, w, kh, kw, sh, sw, ph, pw } = g;
  const oh = outSize(h, kh, sh, ph), ow = outSize(w, kw, sw, pw);
  const area = kh * kw; // count_include_pad: padded zeros count in the divisor
  for (let p = 0; p < n * c; p++) {
    const plane = p * h * w;
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        let sum = 0;
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sh - ph + ky;
          if (iy < 0 || iy >= h) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * sw - pw + kx;
            if (ix < 0 || ix >= w) continue;
            sum += x[plane + iy * w + ix];
          }
        }
        y[(p * oh + oy) * ow + ox] = sum / area;
      }
    }
  }
}

export function avgPool2dBackward(g: PoolGeometry, dy: F32, dx: F32): void {
  const { n, c, h, w, kh, kw, sh, sw, ph, pw } = g;
  const oh = outSize(h, kh, sh, ph), ow = outSize(w, kw, sw, pw);
  const area = kh * kw;
  dx.fill(0);
  // The adjoint of the forward: each output spreads dy / area over its window.
  for (let p = 0; p < n * c; p++) {
    const plane = p * h * w;
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const share = dy[(p * oh + oy) * ow + ox] / area;
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sh - ph + ky;
          if (iy < 0 || iy >= h) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * sw - pw + kx;
            if (ix < 0 || ix >= w) continue;
            dx[plane + iy * w + ix] += share;
          }
        }
      }
    }
  }
}

export function globalAvgPoolForward(n: number, c: number, hw: number, x: F32, y: F32): void {
  for (let p = 0; p < n * c; p++) {
    let sum = 0;
    for (let j = 0; j < hw; j++) sum += x[p * hw + j];
    y[p] = sum / hw;
  }
}

export function globalAvgPoolBackward(n: number, c: number, hw: number, dy: F32, dx: F32): void {
  for (let p = 0; p < n * c; p++) {
    const share = dy[p] / hw;
    for (let j = 0; j < hw; j++) dx[p * hw + j] = share;
  }
}
