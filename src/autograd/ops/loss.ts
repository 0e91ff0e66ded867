// Softmax cross-entropy with integer labels, mean over the batch.
import { Tensor, accumulateGrad, record, needsGrad } from '../tensor.js';
import { floatPool } from '../pool.js';
import { kernels } from '../../native/index.js';
import { ShapeError } from '../../util/errors.js';
import { expectRank } from './common.js';

export function crossEntropy(logits: Tensor, labels: Int32Array): Tensor {
  expectRank('cross-entropy', logits, [2]);
  const [n, classes] = logits.shape;
  if (labels.length !== n) throw new ShapeError(`cross-entropy: ${labels.length} labels for a batch of ${n}`);
  // The fused kernel writes the gradient during the forward; keep it for backward.
  const dlogits = needsGrad([logits]) ? floatPool.acquire(logits.numel) : null;
  const y = Tensor.empty([1]);
  y.data[0] = kernels.softmaxCrossEntropy(n, classes, logits.data, labels, dlogits);
  if (dlogits) {
    record(y, [logits], (gy) => accumulateGrad(logits, (dx) => kernels.scale(logits.numel, dlogits, gy[0], dx)), () => floatPool.release(dlogits));
  }
  return y;
}
