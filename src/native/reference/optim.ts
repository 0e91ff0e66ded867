// Reference optimizer steps, element by element, in the exact order of the
// formulas in api.ts (which are PyTorch's).
import type { F32 } from '../api.js';

export function sgdStep(len: number, param: F32, grad: F32, momentumBuf: F32, lr: number, momentum: number,
                        dampening: number, weightDecay: number, nesterov: boolean, firstStep: boolean): void {
  for (let i = 0; i < len; i++) {
    let d = grad[i] + weightDecay * param[i];
    if (momentum !== 0) {
      // PyTorch starts the buffer at the first gradient, without dampening.
      const buf = firstStep ? d : momentum * momentumBuf[i] + (1 - dampening) * d;
      momentumBuf[i] = buf;
      d = nesterov ? d + momentum * buf : buf;
    }
    param[i] -= lr * d;
  }
}

export function adamStep(len: number, param: F32, grad: F32, m: F32, v: F32, lr: number, beta1: number,
                         beta2: number, eps: number, weightDecay: number, decoupled: boolean, step: number): void {
  const bias1 = 1 - Math.pow(beta1, step);
  const bias2 = 1 - Math.pow(beta2, step);
  for (let i = 0; i < len; i++) {
    let p = param[i];
    let g = grad[i];
    // AdamW decays the weight directly; Adam folds the decay into the gradient.
    if (decoupled) p *= 1 - lr * weightDecay;
    else g += weightDecay * p;
    const mi = beta1 * m[i] + (1 - beta1) * g;
    const vi = beta2 * v[i] + (1 - beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    param[i] = p - lr * (mi / bias1) / (Math.sqrt(vi / bias2) + eps);
  }
}
