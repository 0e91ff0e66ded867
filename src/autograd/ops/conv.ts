// 2-D convolution (dilation 1, groups 1); the kernels do im2col + sgemm, or
// Winograd for 3x3 stride-1 convs.
import { Tensor, accumulateGrad, record } from '../tensor.js';
import { floatPool } from '../pool.js';
import { kernels, outSize, type ConvGeometry } from '../../native/index.js';
import { ShapeError } from '../../util/errors.js';
import { expectRank, expectShape, pair, type Pair } from './common.js';

export interface Conv2dOptions {
  stride?: Pair;
  padding?: Pair;
  /**
   * Writes y (bias included) in place of the float conv kernel, for operands
   * that allow a faster exact form (XNOR + popcount for +-1 inputs and
   * weights). The backward is the float conv's either way.
   */
  forward?: (g: ConvGeometry, y: Float32Array) => void;
}

/** y[N, cout, oh, ow] = conv(x[N, cin, h, w], w[cout, cin, kh, kw]) + b[cout]. */
export function conv2d(x: Tensor, w: Tensor, b: Tensor | null = null, opts: Conv2dOptions = {}): Tensor {
  expectRank('conv2d', x, [4]);
  expectRank('conv2d weight', w, [4]);
  const [sh, sw] = pair(opts.stride ?? 1), [ph, pw] = pair(opts.padding ?? 0);
  const [n, cin, h, wd] = x.shape, [cout, wcin, kh, kw] = w.shape;
  if (wcin !== cin) throw new ShapeError(`conv2d: input has ${cin} channels, weight expects ${wcin}`);
  if (b) expectShape('conv2d', 'bias', b, [cout]);
  const g: ConvGeometry = { n, cin, h, w: wd, cout, kh, kw, sh, sw, ph, pw };
  const y = Tensor.empty([n, cout, outSize(h, kh, sh, ph), outSize(wd, kw, sw, pw)]);
  if (opts.forward) opts.forward(g, y.data);
  else kernels.conv2dForward(g, x.data, w.data, b ? b.data : null, y.data);
  record(y, [x, w, b], (gy) => {
    accumulateGrad(x, (dx) => kernels.conv2dBackwardData(g, gy, w.data, dx));
    if (w.requiresGrad) {
      // The kernel gets the bias gradient almost for free inside the weight GEMM.
      const db = b?.requiresGrad ? floatPool.acquire(cout) : null;
      accumulateGrad(w, (dw) => kernels.conv2dBackwardWeight(g, x.data, gy, dw, db));
      if (db) { accumulateGrad(b!, (dst) => dst.set(db)); floatPool.release(db); }
    } else if (b) {
      accumulateGrad(b, (db) => kernels.biasGrad(n, cout, y.shape[2] * y.shape[3], gy, db));
    }
  });
  return y;
}
