// Per-dataset training defaults: normalisation constants and the standard
// augmentation (method.md: CIFAR uses random crop 32 with padding 4 and
// horizontal flips; the 28x28 sets are not augmented).
import {
  CIFAR10_NORMALIZATION, CIFAR100_NORMALIZATION, FASHION_MNIST_NORMALIZATION, MNIST_NORMALIZATION, type Normalization,
} from '../data/index.js';
import type { TrainConfig } from './config.js';

export interface DatasetDefaults {
  normalize: Normalization;
  augment: { crop?: number; flip?: boolean };
}

const cifarAugment = { crop: 4, flip: true };
const table: Record<TrainConfig['dataset'], DatasetDefaults> = {
  cifar10: { normalize: CIFAR10_NORMALIZATION, augment: cifarAugment },
  cifar100: { normalize: CIFAR100_NORMALIZATION, augment: cifarAugment },
  'fashion-mnist': { normalize: FASHION_MNIST_NORMALIZATION, augment: {} },
  mnist: { normalize: MNIST_NORMALIZATION, augment: {} },
  synthetic: { normalize: { mean: [0.5], std: [0.25] }, augment: {} },
};

export function datasetDefaults(name: TrainConfig['dataset']): DatasetDefaults {
  return table[name];
}

/** The dataset's normalisation with one constant per input channel (synthetic data may have any count). */
export function normalizationFor(name: TrainConfig['dataset'], channels: number): { mean: number[]; std: number[] } {
  const { mean, std } = table[name].normalize;
  const perChannel = (v: ArrayLike<number>) => Array.from({ length: channels }, (_, i) => v[i % v.length]);
  return { mean: perChannel(mean), std: perChannel(std) };
}
