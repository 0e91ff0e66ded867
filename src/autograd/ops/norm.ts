// Batch normalisation over [N, C, H, W] (BatchNorm2d) or [N, C] (BatchNorm1d).
import { traceOp } from '../trace.js';
import { Tensor, accumulateGrad, record } from '../tensor.js';
import { floatPool } from '../pool.js';
import { kernels } from '../../native/index.js';
import { expectRank, expectShape, gradOrScratch } from './common.js';

export interface BatchNormOptions { training: boolean; momentum: number; eps: number }

/**
 * In training mode normalises with batch statistics and updates the running
 * statistics in place; in eval mode uses the running statistics.
 */
export function batchNorm(x: Tensor, gamma: Tensor, beta: Tensor, runningMean: Tensor, runningVar: Tensor, opts: BatchNormOptions): Tensor {
  expectRank('batchnorm', x, [2, 4]);
  const [n, c] = x.shape;
  const hw = x.shape.length === 4 ? x.shape[2] * x.shape[3] : 1;
  for (const [what, t] of [['weight', gamma], ['bias', beta], ['running_mean', runningMean], ['running_var', runningVar]] as const) {
    expectShape('batchnorm', what, t, [c]);
  }
  const y = Tensor.empty(x.shape);
  const mean = floatPool.acquire(c), invStd = floatPool.acquire(c);
  if (opts.training) {
    kernels.batchNormForwardTrain(n, c, hw, x.data, gamma.data, beta.data, opts.eps, opts.momentum, runningMean.data, runningVar.data, y.data, mean, invStd);
  } else {
    kernels.batchNormForwardEval(n, c, hw, x.data, gamma.data, beta.data, opts.eps, runningMean.data, runningVar.data, y.data, mean, invStd);
  }
  traceOp('batchnorm', [x, gamma, beta, runningMean, runningVar], y, { eps: opts.eps, training: opts.training });
  const release = () => { floatPool.release(mean); floatPool.release(invStd); };
  record(y, [x, gamma, beta], (gy) => {
    const dgamma = floatPool.acquire(c), dbeta = floatPool.acquire(c);
    gradOrScratch(x, (dx) => kernels.batchNormBackward(n, c, hw, x.data, gy, gamma.data, mean, invStd, opts.training, dx, dgamma, dbeta));
    accumulateGrad(gamma, (d) => d.set(dgamma));
    accumulateGrad(beta, (d) => d.set(dbeta));
    floatPool.release(dgamma); floatPool.release(dbeta);
  }, release);
  return y;
}
