// Reference elementwise kernels. Each loop reads element i before writing
// element i, so out may alias an input (out === a) as the contract allows.
import type { F32 } from '../api.js';

export function add(len: number, a: F32, b: F32, out: F32): void {
  for (let i = 0; i < len; i++) out[i] = a[i] + b[i];
}

export function mul(len: number, a: F32, b: F32, out: F32): void {
  for (let i = 0; i < len; i++) out[i] = a[i] * b[i];
}

export function scale(len: number, a: F32, alpha: number, out: F32): void {
  for (let i = 0; i < len; i++) out[i] = alpha * a[i];
}

export function axpy(len: number, alpha: number, x: F32, y: F32): void {
  for (let i = 0; i < len; i++) y[i] += alpha * x[i];
}

export function channelScale(n: number, c: number, hw: number, x: F32, scales: F32, y: F32): void {
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      for (let j = 0; j < hw; j++) y[(b * c + ch) * hw + j] = x[(b * c + ch) * hw + j] * scales[ch];
    }
  }
}

export function biasAdd(n: number, c: number, hw: number, bias: F32, y: F32): void {
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      for (let j = 0; j < hw; j++) y[(b * c + ch) * hw + j] += bias[ch];
    }
  }
}

export function biasGrad(n: number, c: number, hw: number, dy: F32, db: F32): void {
  for (let ch = 0; ch < c; ch++) {
    let sum = 0;
    for (let b = 0; b < n; b++) {
      for (let j = 0; j < hw; j++) sum += dy[(b * c + ch) * hw + j];
    }
    db[ch] = sum;
  }
}

export function relu(len: number, x: F32, y: F32): void {
  for (let i = 0; i < len; i++) y[i] = x[i] > 0 ? x[i] : 0;
}

export function reluBackward(len: number, x: F32, dy: F32, dx: F32): void {
  for (let i = 0; i < len; i++) dx[i] = x[i] > 0 ? dy[i] : 0;
}

export function prelu(n: number, c: number, hw: number, x: F32, alpha: F32, y: F32): void {
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      for (let j = 0; j < hw; j++) {
        const i = (b * c + ch) * hw + j;
        y[i] = x[i] > 0 ? x[i] : alpha[ch] * x[i];
      }
    }
  }
}

export function preluBackward(n: number, c: number, hw: number, x: F32, alpha: F32, dy: F32,
                              dx: F32, dalpha: F32): void {
  for (let ch = 0; ch < c; ch++) {
    let sum = 0;
    for (let b = 0; b < n; b++) {
      for (let j = 0; j < hw; j++) {
        const i = (b * c + ch) * hw + j;
        const xi = x[i], g = dy[i]; // read both before dx[i] is written (dx may alias dy or x)
        if (xi > 0) {
          dx[i] = g;
        } else {
          dx[i] = alpha[ch] * g;
          sum += g * xi; // d(alpha * x)/d(alpha) = x on the negative side
        }
      }
    }
    dalpha[ch] = sum;
  }
}

export function hardtanh(len: number, x: F32, lo: number, hi: number, y: F32): void {
  for (let i = 0; i < len; i++) y[i] = Math.min(Math.max(x[i], lo), hi);
}

export function hardtanhBackward(len: number, x: F32, lo: number, hi: number, dy: F32, dx: F32): void {
  for (let i = 0; i < len; i++) dx[i] = x[i] > lo && x[i] < hi ? dy[i] : 0;
}
