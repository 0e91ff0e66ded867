// Inverted dropout: zeroes each element with probability p and scales the
// rest by 1/(1-p) in training, so evaluation needs no rescaling.
import { Tensor, accumulateGrad, record } from '../tensor.js';
import { floatPool } from '../pool.js';
import { kernels } from '../../native/index.js';
import { Rng, globalRng } from '../../util/prng.js';
import { UserError } from '../../util/errors.js';

export function dropout(x: Tensor, p: number, training: boolean, rng: Rng = globalRng): Tensor {
  if (!(p >= 0 && p < 1)) throw new UserError(`dropout: p must be in [0, 1), got ${p}`);
  if (!training || p === 0) return x;
  const mask = floatPool.acquire(x.numel);
  const keepScale = 1 / (1 - p);
  for (let i = 0; i < mask.length; i++) mask[i] = rng.uniform() < p ? 0 : keepScale;
  const y = Tensor.empty(x.shape);
  kernels.mul(x.numel, x.data, mask, y.data);
  record(y, [x], (gy) => accumulateGrad(x, (dx) => kernels.mul(x.numel, gy, mask, dx)), () => floatPool.release(mask));
  return y;
}
