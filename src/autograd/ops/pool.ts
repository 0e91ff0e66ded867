// Max, average and global average pooling.
import { traceOp } from '../trace.js';
import { Tensor, accumulateGrad, record } from '../tensor.js';
import { intPool } from '../pool.js';
import { kernels, outSize, type PoolGeometry } from '../../native/index.js';
import { expectRank, pair, type Pair } from './common.js';

export interface PoolOptions { stride?: Pair; padding?: Pair }

function geometry(op: string, x: Tensor, kernel: Pair, opts: PoolOptions): PoolGeometry {
  expectRank(op, x, [4]);
  const [kh, kw] = pair(kernel), [sh, sw] = pair(opts.stride ?? kernel), [ph, pw] = pair(opts.padding ?? 0);
  const [n, c, h, w] = x.shape;
  return { n, c, h, w, kh, kw, sh, sw, ph, pw };
}

const outShape = (g: PoolGeometry) => [g.n, g.c, outSize(g.h, g.kh, g.sh, g.ph), outSize(g.w, g.kw, g.sw, g.pw)];

/** Max pooling; the stride defaults to the window size (as in PyTorch). */
export function maxPool2d(x: Tensor, kernel: Pair, opts: PoolOptions = {}): Tensor {
  const g = geometry('maxpool2d', x, kernel, opts);
  const y = Tensor.empty(outShape(g));
  const argmax = intPool.acquire(y.numel);
  kernels.maxPool2dForward(g, x.data, y.data, argmax);
  traceOp('maxpool2d', [x], y, { kernel: [g.kh, g.kw], stride: [g.sh, g.sw], padding: [g.ph, g.pw] });
  record(y, [x], (gy) => accumulateGrad(x, (dx) => kernels.maxPool2dBackward(g, gy, argmax, dx)), () => intPool.release(argmax));
  return y;
}

/** Average pooling (padding counts as zeros in the mean, as PyTorch's default). */
export function avgPool2d(x: Tensor, kernel: Pair, opts: PoolOptions = {}): Tensor {
  const g = geometry('avgpool2d', x, kernel, opts);
  const y = Tensor.empty(outShape(g));
  kernels.avgPool2dForward(g, x.data, y.data);
  traceOp('avgpool2d', [x], y, { kernel: [g.kh, g.kw], stride: [g.sh, g.sw], padding: [g.ph, g.pw] });
  record(y, [x], (gy) => accumulateGrad(x, (dx) => kernels.avgPool2dBackward(g, gy, dx)));
  return y;
}

/** Mean over H and W: [N, C, H, W] -> [N, C, 1, 1] (AdaptiveAvgPool2d(1)). */
export function globalAvgPool(x: Tensor): Tensor {
  expectRank('global avgpool', x, [4]);
  const [n, c, h, w] = x.shape;
  const y = Tensor.empty([n, c, 1, 1]);
  kernels.globalAvgPoolForward(n, c, h * w, x.data, y.data);
  traceOp('global_avgpool', [x], y);
  record(y, [x], (gy) => accumulateGrad(x, (dx) => kernels.globalAvgPoolBackward(n, c, h * w, gy, dx)));
  return y;
}
