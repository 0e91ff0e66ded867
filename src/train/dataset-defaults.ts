// Per-dataset training defaults: normalisation constants and the standard
// augmentation (method.md: CIFAR uses random crop 32 with padding 4 and
// horizontal flips; the 28x28 sets are not augmented).
import type { TrainConfig } from './config.js';

export interface DatasetDefaults {
  normalize: { mean: number[]; std: number[] };
  augment: { crop?: number; flip?: boolean };
}

const table: Record<TrainConfig['dataset'], DatasetDefaults> = {
  cifar10: { normalize: { mean: [0.4914, 0.4822, 0.4465], std: [0.2023, 0.1994, 0.2010] }, augment: { crop: 4, flip: true } },
  cifar100: { normalize: { mean: [0.5071, 0.4865, 0.4409], std: [0.2673, 0.2564, 0.2762] }, augment: { crop: 4, flip: true } },
  'fashion-mnist': { normalize: { mean: [0.2860], std: [0.3530] }, augment: {} },
  mnist: { normalize: { mean: [0.1307], std: [0.3081] }, augment: {} },
  synthetic: { normalize: { mean: [0.5], std: [0.25] }, augment: {} },
};

export function datasetDefaults(name: TrainConfig['dataset']): DatasetDefaults {
  return table[name];
}
