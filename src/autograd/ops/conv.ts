// 2-D convolution (dilation 1, groups 1); the kernels do im2col + sgemm, or
// Winograd for 3x3 stride-1 convs.
import { traceOp } from '../trace.js';
import { Tensor, accumulateGrad, record } from '../tensor.js';
import { floatPool } from '../pool.js';
import { kernels, outSize, type ConvGeometry } from '../../native/index.js';
import { ShapeError } from '../../util/errors.js';
import { expectRank, expectShape, pair, type Pair } from './common.js';

/**
 * An elementwise function f applied to the conv's input on the fly (an
 * activation quantizer): the conv sees f(x), but only x is kept for the
 * backward, which saves holding f(x) (one activation-sized buffer per layer).
 */
export interface InputMap {
  /** What f is, for exporters ("sign": -1 where x < 0, else +1). */
  readonly kind?: string;
  /** out = f(x) */
  forward(x: Float32Array, out: Float32Array): void;
  /** dx = f'(x) * g, or dx += f'(x) * g when accumulate. */
  backward(x: Float32Array, g: Float32Array, dx: Float32Array, accumulate: boolean): void;
}

export interface Conv2dOptions {
  stride?: Pair;
  padding?: Pair;
  /** Convolve f(x) instead of x, without storing f(x). */
  inputMap?: InputMap;
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
  const map = opts.inputMap;
  traceOp('conv2d', b ? [x, w, b] : [x, w], y, { stride: [sh, sw], padding: [ph, pw], inputMap: map ?? null });
  /** Runs fn on f(x) in a pooled buffer (or on x itself without a map). */
  const withInput = (fn: (xin: Float32Array) => void) => {
    if (!map) return fn(x.data);
    const t = floatPool.acquire(x.numel);
    map.forward(x.data, t);
    fn(t);
    floatPool.release(t);
  };
  if (opts.forward) opts.forward(g, y.data);
  else withInput((xin) => kernels.conv2dForward(g, xin, w.data, b ? b.data : null, y.data));
  record(y, [x, w, b], (gy) => {
    if (w.requiresGrad) {
      // The kernel gets the bias gradient almost for free inside the weight GEMM.
      const db = b?.requiresGrad ? floatPool.acquire(cout) : null;
      withInput((xin) => accumulateGrad(w, (dw) => kernels.conv2dBackwardWeight(g, xin, gy, dw, db)));
      if (db) { accumulateGrad(b!, (dst) => dst.set(db)); floatPool.release(db); }
    } else if (b) {
      accumulateGrad(b, (db) => kernels.biasGrad(n, cout, y.shape[2] * y.shape[3], gy, db));
    }
    if (!x.requiresGrad) return;
    if (!map) { accumulateGrad(x, (dx) => kernels.conv2dBackwardData(g, gy, w.data, dx)); return; }
    const dfx = floatPool.acquire(x.numel);
    kernels.conv2dBackwardData(g, gy, w.data, dfx);
    accumulateGrad(x, (dx) => map.backward(x.data, dfx, dx, false), (dx) => map.backward(x.data, dfx, dx, true));
    floatPool.release(dfx);
  });
  return y;
}
