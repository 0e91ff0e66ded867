// Elementwise arithmetic and reductions to a scalar.
import { traceOp } from '../trace.js';
import { Tensor, accumulateGrad, passGrad, record } from '../tensor.js';
import { kernels } from '../../native/index.js';
import { expectShape } from './common.js';

export function add(a: Tensor, b: Tensor): Tensor {
  expectShape('add', 'second operand', b, a.shape);
  const y = Tensor.empty(a.shape);
  kernels.add(a.numel, a.data, b.data, y.data);
  traceOp('add', [a, b], y);
  // The second operand first: the first may take over y's gradient buffer.
  record(y, [a, b], (gy) => {
    passGrad(b, y, gy);
    passGrad(a, y, gy);
  });
  return y;
}

export function mul(a: Tensor, b: Tensor): Tensor {
  expectShape('mul', 'second operand', b, a.shape);
  const y = Tensor.empty(a.shape);
  kernels.mul(a.numel, a.data, b.data, y.data);
  record(y, [a, b], (gy) => {
    accumulateGrad(a, (da) => kernels.mul(a.numel, gy, b.data, da));
    accumulateGrad(b, (db) => kernels.mul(a.numel, gy, a.data, db));
  });
  return y;
}

export function scale(a: Tensor, alpha: number): Tensor {
  const y = Tensor.empty(a.shape);
  kernels.scale(a.numel, a.data, alpha, y.data);
  record(y, [a], (gy) => accumulateGrad(a, (da) => kernels.scale(a.numel, gy, alpha, da)));
  return y;
}

/** Sum of all elements (float64 accumulation), as a one-element tensor. */
export function sum(a: Tensor): Tensor {
  let s = 0;
  for (let i = 0; i < a.numel; i++) s += a.data[i];
  const y = Tensor.empty([1]);
  y.data[0] = s;
  record(y, [a], (gy) => accumulateGrad(a, (da) => da.fill(gy[0])));
  return y;
}

export function mean(a: Tensor): Tensor {
  return scale(sum(a), 1 / a.numel);
}
