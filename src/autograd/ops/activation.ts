// Activations: ReLU, PReLU (one slope per channel), hardtanh.
import { Tensor, accumulateGrad, record } from '../tensor.js';
import { floatPool } from '../pool.js';
import { kernels } from '../../native/index.js';
import { ShapeError } from '../../util/errors.js';
import { gradOrScratch } from './common.js';

export function relu(x: Tensor): Tensor {
  const y = Tensor.empty(x.shape);
  kernels.relu(x.numel, x.data, y.data);
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
  record(y, [x], (gy) => accumulateGrad(x, (dx) => kernels.hardtanhBackward(x.numel, x.data, lo, hi, gy, dx)));
  return y;
}
