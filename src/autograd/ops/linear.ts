// Fully connected layer and plain matrix product, both on sgemm.
import { traceOp } from '../trace.js';
import { Tensor, accumulateGrad, record } from '../tensor.js';
import { kernels } from '../../native/index.js';
import { ShapeError } from '../../util/errors.js';
import { expectRank, expectShape } from './common.js';

/** y[N, out] = x[N, in] W[out, in]^T + b[out]. */
export function linear(x: Tensor, w: Tensor, b: Tensor | null = null): Tensor {
  expectRank('linear', x, [2]);
  expectRank('linear weight', w, [2]);
  const [n, inF] = x.shape, outF = w.shape[0];
  if (w.shape[1] !== inF) throw new ShapeError(`linear: input has ${inF} features, weight expects ${w.shape[1]}`);
  if (b) expectShape('linear', 'bias', b, [outF]);
  const y = Tensor.empty([n, outF]);
  kernels.sgemm(false, true, n, outF, inF, 1, x.data, w.data, 0, y.data);
  if (b) kernels.biasAdd(n, outF, 1, b.data, y.data);
  traceOp('linear', b ? [x, w, b] : [x, w], y);
  record(y, [x, w, b], (gy) => {
    accumulateGrad(x, (dx) => kernels.sgemm(false, false, n, inF, outF, 1, gy, w.data, 0, dx));
    accumulateGrad(w, (dw) => kernels.sgemm(true, false, outF, inF, n, 1, gy, x.data, 0, dw));
    if (b) accumulateGrad(b, (db) => kernels.biasGrad(n, outF, 1, gy, db));
  });
  return y;
}

/** c[m, n] = a[m, k] b[k, n]. */
export function matmul(a: Tensor, b: Tensor): Tensor {
  expectRank('matmul', a, [2]);
  expectRank('matmul', b, [2]);
  const [m, k] = a.shape, n = b.shape[1];
  if (b.shape[0] !== k) throw new ShapeError(`matmul: [${a.shape.join(', ')}] x [${b.shape.join(', ')}] do not match`);
  const c = Tensor.empty([m, n]);
  kernels.sgemm(false, false, m, n, k, 1, a.data, b.data, 0, c.data);
  record(c, [a, b], (gc) => {
    accumulateGrad(a, (da) => kernels.sgemm(false, true, m, k, n, 1, gc, b.data, 0, da));
    accumulateGrad(b, (db) => kernels.sgemm(true, false, k, n, m, 1, a.data, gc, 0, db));
  });
  return c;
}
