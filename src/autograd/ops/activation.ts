// Activations: ReLU, PReLU (one slope per channel), hardtanh, sigmoid.
import { traceOp } from '../trace.js';
import { Tensor, accumulateGrad, record } from '../tensor.js';
import { floatPool } from '../pool.js';
import { kernels } from '../../native/index.js';
import { ShapeError } from '../../util/errors.js';
import { gradOrScratch } from './common.js';

export function relu(x: Tensor): Tensor {
  const y = Tensor.empty(x.shape);
  kernels.relu(x.numel, x.data, y.data);
  traceOp('relu', [x], y);
  record(y, [x], (gy) => accumulateGrad(x, (dx) => kernels.reluBackward(x.numel, x.data, gy, dx)));
  return y;
}

/** y = x for x > 0, alpha[c] * x otherwise; x is [N, C, ...]. */
export function prelu(x: Tensor, alpha: Tensor): Tensor {
  if (x.shape.length < 2) throw new ShapeError(`prelu: expected [N, C, ...], got [${x.shape.join(', ')}]`);
  const [n, c] = x.shape;
  if (alpha.numel !== c) throw new ShapeError(`prelu: ${alpha.numel} slopes for ${c} channels`);
  const hw = x.numel / (n * c);
  const y = Tensor.empty(x.shape);
  kernels.prelu(n, c, hw, x.data, alpha.data, y.data);
  traceOp('prelu', [x, alpha], y);
  record(y, [x, alpha], (gy) => {
    const dalpha = floatPool.acquire(c);
    gradOrScratch(x, (dx) => kernels.preluBackward(n, c, hw, x.data, alpha.data, gy, dx, dalpha));
    accumulateGrad(alpha, (d) => d.set(dalpha));
    floatPool.release(dalpha);
  });
  return y;
}

export function hardtanh(x: Tensor, lo = -1, hi = 1): Tensor {
  const y = Tensor.empty(x.shape);
  kernels.hardtanh(x.numel, x.data, lo, hi, y.data);
  traceOp('hardtanh', [x], y, { lo, hi });
  record(y, [x], (gy) => accumulateGrad(x, (dx) => kernels.hardtanhBackward(x.numel, x.data, lo, hi, gy, dx)));
  return y;
}

/**
 * Logistic sigmoid, in plain TypeScript: only the toy network uses it, on a
 * handful of values. Written so that exp never overflows.
 */
export function sigmoid(x: Tensor): Tensor {
  const y = Tensor.empty(x.shape);
  const xd = x.data, yd = y.data;
  for (let i = 0; i < xd.length; i++) {
    const v = xd[i];
    if (v >= 0) yd[i] = 1 / (1 + Math.exp(-v));
    else { const e = Math.exp(v); yd[i] = e / (1 + e); }
  }
  traceOp('sigmoid', [x], y);
  // dy/dx = y (1 - y), from the saved output.
  record(y, [x], (gy) => accumulateGrad(x, (dx) => {
    for (let i = 0; i < dx.length; i++) dx[i] = gy[i] * yd[i] * (1 - yd[i]);
  }));
  return y;
}
