// Reference softmax cross-entropy, in float64 per row.
import type { F32, I32 } from '../api.js';

export function softmaxCrossEntropy(n: number, classes: number, logits: F32, labels: I32, dlogits: F32 | null): number {
  let total = 0;
  for (let r = 0; r < n; r++) {
    const row = r * classes;
    // Subtracting the row max keeps exp() from overflowing for large logits.
    let max = -Infinity;
    for (let j = 0; j < classes; j++) max = Math.max(max, logits[row + j]);
    let sumExp = 0;
    for (let j = 0; j < classes; j++) sumExp += Math.exp(logits[row + j] - max);
    const logSumExp = max + Math.log(sumExp);
    // -log softmax[label] = logsumexp - logit[label]
    total += logSumExp - logits[row + labels[r]];
    if (dlogits) {
      for (let j = 0; j < classes; j++) {
        const p = Math.exp(logits[row + j] - logSumExp);
        dlogits[row + j] = (p - (j === labels[r] ? 1 : 0)) / n;
      }
    }
  }
  return total / n; // an empty batch gives 0 / 0 = NaN, the mean of nothing (as PyTorch)
}
