// A minimal supervised training loop: shuffled mini-batches, forward, loss,
// backward, optimizer step, all inside tidy() so every step reuses the same
// pooled buffers. The full CLI loop (checkpoints, metrics) builds on this.
import { Tensor, tidy, noGrad, crossEntropy } from '../autograd/index.js';
import type { Module } from '../nn/index.js';
import type { Optimizer } from './optim.js';
import { Rng } from '../util/prng.js';
import { NumericError } from '../util/errors.js';

/** Images [n, c, h, w] as float32 and integer labels. */
export interface LabelledImages { images: Float32Array; labels: Int32Array; n: number; c: number; h: number; w: number }

export interface Batch { x: Tensor; y: Int32Array; size: number }

/**
 * Yields mini-batches in a shuffled (rng given) or fixed order. The batch
 * buffers are reused: consume each batch before asking for the next.
 */
export function* batches(ds: LabelledImages, batchSize: number, rng: Rng | null, dropLast = false): Generator<Batch> {
  const order = Int32Array.from({ length: ds.n }, (_, i) => i);
  if (rng) rng.shuffle(order);
  const per = ds.c * ds.h * ds.w;
  const xb = new Float32Array(batchSize * per), yb = new Int32Array(batchSize);
  for (let start = 0; start < ds.n; start += batchSize) {
    const size = Math.min(batchSize, ds.n - start);
    if (dropLast && size < batchSize) break;
    for (let i = 0; i < size; i++) {
      const src = order[start + i];
      xb.set(ds.images.subarray(src * per, (src + 1) * per), i * per);
      yb[i] = ds.labels[src];
    }
    const x = size === batchSize ? xb : xb.subarray(0, size * per);
    yield { x: new Tensor(x, [size, ds.c, ds.h, ds.w], { track: false }), y: size === batchSize ? yb : yb.subarray(0, size), size };
  }
}

/** Number of correct top-1 predictions in logits [n, classes]. */
export function countCorrect(logits: Tensor, labels: Int32Array): number {
  const [n, classes] = logits.shape;
  let correct = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < classes; j++) if (logits.data[i * classes + j] > logits.data[i * classes + best]) best = j;
    if (best === labels[i]) correct++;
  }
  return correct;
}

export interface StepInfo { step: number; steps: number; loss: number; images: number; correct: number }
export interface EpochResult { loss: number; accuracy: number; images: number; seconds: number }

/** One epoch of training; onStep sees running totals after every batch. */
export function trainEpoch(model: Module, optimizer: Optimizer, ds: LabelledImages,
  opts: { batchSize: number; rng: Rng; onStep?: (info: StepInfo) => void }): EpochResult {
  model.train();
  const t0 = performance.now();
  const steps = Math.floor(ds.n / opts.batchSize);
  let lossSum = 0, images = 0, correct = 0, step = 0;
  // Drop the last partial batch: batch norm needs more than one sample, and equal batches reuse the same buffers.
  for (const b of batches(ds, opts.batchSize, opts.rng, true)) {
    const [loss, right] = tidy(() => {
      optimizer.zeroGrad();
      const logits = model.forward(b.x);
      const l = crossEntropy(logits, b.y);
      l.backward();
      return [l.item(), countCorrect(logits, b.y)];
    });
    if (!Number.isFinite(loss)) throw new NumericError(`loss became ${loss} at step ${step + 1}; stopping (lower the learning rate?)`);
    optimizer.step();
    lossSum += loss * b.size; images += b.size; correct += right; step++;
    opts.onStep?.({ step, steps, loss: lossSum / images, images, correct });
  }
  return { loss: lossSum / images, accuracy: correct / images, images, seconds: (performance.now() - t0) / 1000 };
}

/** Loss and top-1 accuracy in eval mode, without recording a graph. */
export function evaluate(model: Module, ds: LabelledImages, batchSize = 256): { loss: number; accuracy: number } {
  model.eval();
  let lossSum = 0, correct = 0;
  noGrad(() => {
    for (const b of batches(ds, batchSize, null)) {
      tidy(() => {
        const logits = model.forward(b.x);
        lossSum += crossEntropy(logits, b.y).item() * b.size;
        correct += countCorrect(logits, b.y);
      });
    }
  });
  return { loss: lossSum / ds.n, accuracy: correct / ds.n };
}
