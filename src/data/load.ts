// One entry point for every dataset by name. Readers are synchronous (even
// the .tar.gz path), so `loadDataset(...)` and `await loadDataset(...)` both work.
import fs from 'node:fs';
import { UserError } from '../util/errors.js';
import { type ImageDataset, CIFAR10_CLASSES, CIFAR100_CLASSES, FASHION_MNIST_CLASSES, MNIST_CLASSES } from './dataset.js';
import { readIdxDataset, DEBIAN_FASHION_MNIST } from './idx.js';
import { readCifar } from './cifar.js';
import { makeSynthetic, type SyntheticOptions } from './synthetic.js';
import { defaultDataDir } from './download.js';

export type DatasetName = 'fashion-mnist' | 'mnist' | 'cifar10' | 'cifar100' | 'synthetic';
export const DATASET_NAMES: readonly DatasetName[] = ['fashion-mnist', 'mnist', 'cifar10', 'cifar100', 'synthetic'];

export interface LoadOptions {
  /** Folder with the files (default: Debian's folder for Fashion-MNIST when installed, else defaultDataDir(name)). */
  dir?: string;
  /** Synthetic: images in the requested split (default 2048 train, 512 test). */
  syntheticSize?: number;
  /** Synthetic: seed of the class prototypes (default 0). */
  seed?: number;
  /** Synthetic: shape, classes and noise (default 3x16x16, 10 classes). */
  synthetic?: Partial<Omit<SyntheticOptions, 'n' | 'seed' | 'split'>>;
}

/** Where loadDataset looks for `name` when no dir is given. */
export function datasetDir(name: DatasetName, dir?: string): string {
  if (dir !== undefined) return dir;
  if (name === 'fashion-mnist' && fs.existsSync(DEBIAN_FASHION_MNIST)) return DEBIAN_FASHION_MNIST;
  return defaultDataDir(name);
}

/** The standard class names of a dataset, without reading it (synthetic data has none). */
export function standardClassNames(name: DatasetName): string[] | undefined {
  return { 'fashion-mnist': FASHION_MNIST_CLASSES, mnist: MNIST_CLASSES, cifar10: CIFAR10_CLASSES, cifar100: CIFAR100_CLASSES, synthetic: undefined }[name];
}

export function loadDataset(name: DatasetName, split: 'train' | 'test', opts: LoadOptions = {}): ImageDataset {
  if (split !== 'train' && split !== 'test') throw new UserError(`loadDataset: split must be 'train' or 'test', got '${split}'`);
  switch (name) {
    case 'fashion-mnist':
    case 'mnist':
      return readIdxDataset(datasetDir(name, opts.dir), split, { name: `${name}/${split}`, classNames: standardClassNames(name) });
    case 'cifar10':
    case 'cifar100':
      return readCifar(datasetDir(name, opts.dir), name, split);
    case 'synthetic':
      return makeSynthetic({ ...opts.synthetic, n: opts.syntheticSize ?? (split === 'train' ? 2048 : 512), seed: opts.seed ?? 0, split });
    default:
      throw new UserError(`unknown dataset '${name as string}' (known: ${DATASET_NAMES.join(', ')})`);
  }
}
