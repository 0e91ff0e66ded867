// Reference batch norm over [n, c, hw]. Statistics are accumulated in float64
// (JS numbers) with a two-pass variance, so they stay accurate even when the
// mean is large compared with the spread (where E[x^2] - E[x]^2 in float32
// would cancel catastrophically).
import type { F32 } from '../api.js';

/** Index of element (b, ch, j) in [n, c, hw]. */
function at(c: number, hw: number, b: number, ch: number, j: number): number {
  return (b * c + ch) * hw + j;
}

export function batchNormForwardTrain(n: number, c: number, hw: number, x: F32, gamma: F32, beta: F32,
                                      eps: number, momentum: number, runningMean: F32, runningVar: F32,
                                      y: F32, saveMean: F32, saveInvStd: F32): void {
  const count = n * hw;
  for (let ch = 0; ch < c; ch++) {
    let sum = 0;
    for (let b = 0; b < n; b++) for (let j = 0; j < hw; j++) sum += x[at(c, hw, b, ch, j)];
    const mean = sum / count;
    let sq = 0;
    for (let b = 0; b < n; b++) {
      for (let j = 0; j < hw; j++) { const d = x[at(c, hw, b, ch, j)] - mean; sq += d * d; }
    }
    const variance = sq / count; // biased: what normalises the batch
    const invStd = 1 / Math.sqrt(variance + eps);
    for (let b = 0; b < n; b++) {
      for (let j = 0; j < hw; j++) {
        const i = at(c, hw, b, ch, j);
        y[i] = gamma[ch] * (x[i] - mean) * invStd + beta[ch];
      }
    }
    saveMean[ch] = mean;
    saveInvStd[ch] = invStd;
    // PyTorch tracks the unbiased variance in the running estimate.
    const unbiased = sq / (count - 1);
    runningMean[ch] = (1 - momentum) * runningMean[ch] + momentum * mean;
    runningVar[ch] = (1 - momentum) * runningVar[ch] + momentum * unbiased;
  }
}

export function batchNormForwardEval(n: number, c: number, hw: number, x: F32, gamma: F32, beta: F32,
                                     eps: number, runningMean: F32, runningVar: F32,
                                     y: F32, saveMean: F32, saveInvStd: F32): void {
  for (let ch = 0; ch < c; ch++) {
    const mean = runningMean[ch];
    const invStd = 1 / Math.sqrt(runningVar[ch] + eps);
    for (let b = 0; b < n; b++) {
      for (let j = 0; j < hw; j++) {
        const i = at(c, hw, b, ch, j);
        y[i] = gamma[ch] * (x[i] - mean) * invStd + beta[ch];
      }
    }
    saveMean[ch] = mean;
    saveInvStd[ch] = invStd;
  }
}

/**
 * With xhat = (x - mean) * invStd and N = n * hw:
 *   dbeta = sum dy, dgamma = sum dy * xhat,
 *   batchStats:  dx = gamma * invStd / N * (N * dy - dbeta - xhat * dgamma)
 *     (the mean and variance depend on x, which adds the last two terms);
 *   otherwise:   dx = gamma * invStd * dy (the statistics are constants).
 */
export function batchNormBackward(n: number, c: number, hw: number, x: F32, dy: F32, gamma: F32,
                                  saveMean: F32, saveInvStd: F32, batchStats: boolean,
                                  dx: F32, dgamma: F32, dbeta: F32): void {
  const count = n * hw;
  for (let ch = 0; ch < c; ch++) {
    const mean = saveMean[ch], invStd = saveInvStd[ch];
    let sumDy = 0, sumDyXhat = 0;
    for (let b = 0; b < n; b++) {
      for (let j = 0; j < hw; j++) {
        const i = at(c, hw, b, ch, j);
        sumDy += dy[i];
        sumDyXhat += dy[i] * (x[i] - mean) * invStd;
      }
    }
    for (let b = 0; b < n; b++) {
      for (let j = 0; j < hw; j++) {
        const i = at(c, hw, b, ch, j);
        if (batchStats) {
          const xhat = (x[i] - mean) * invStd;
          dx[i] = gamma[ch] * invStd / count * (count * dy[i] - sumDy - xhat * sumDyXhat);
        } else {
          dx[i] = gamma[ch] * invStd * dy[i];
        }
      }
    }
    dgamma[ch] = sumDyXhat;
    dbeta[ch] = sumDy;
  }
}
