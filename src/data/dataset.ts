// The in-memory dataset type every reader returns. Pixels stay uint8: CIFAR-10
// train is 150 MB this way and would be 600 MB as float32. The batch loader
// turns them into normalised floats one batch at a time.
import { DataError, UserError } from '../util/errors.js';

export interface ImageDataset {
  name: string;
  n: number;
  c: number;
  h: number;
  w: number;
  classes: number;
  classNames?: string[];
  /** [n, c, h, w], row-major; allocated on a SharedArrayBuffer by the readers so loader workers can read it without a copy. */
  pixels: Uint8Array;
  labels: Int32Array;
}

/** Per-channel normalisation constants: x = (v / 255 - mean[c]) / std[c]. */
export interface Normalization { mean: ArrayLike<number>; std: ArrayLike<number> }

export const CIFAR10_NORMALIZATION: Normalization = { mean: [0.4914, 0.4822, 0.4465], std: [0.2023, 0.1994, 0.2010] };
export const CIFAR100_NORMALIZATION: Normalization = { mean: [0.5071, 0.4865, 0.4409], std: [0.2673, 0.2564, 0.2762] };
export const FASHION_MNIST_NORMALIZATION: Normalization = { mean: [0.2860], std: [0.3530] };
export const MNIST_NORMALIZATION: Normalization = { mean: [0.1307], std: [0.3081] };

export const CIFAR10_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
export const FASHION_MNIST_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];
export const MNIST_CLASSES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
/** CIFAR-100 fine labels, in label order (as in fine_label_names.txt). */
export const CIFAR100_CLASSES = (
  'apple aquarium_fish baby bear beaver bed bee beetle bicycle bottle bowl boy bridge bus butterfly camel can castle ' +
  'caterpillar cattle chair chimpanzee clock cloud cockroach couch crab crocodile cup dinosaur dolphin elephant flatfish ' +
  'forest fox girl hamster house kangaroo keyboard lamp lawn_mower leopard lion lizard lobster man maple_tree motorcycle ' +
  'mountain mouse mushroom oak_tree orange orchid otter palm_tree pear pickup_truck pine_tree plain plate poppy porcupine ' +
  'possum rabbit raccoon ray road rocket rose sea seal shark shrew skunk skyscraper snail snake spider squirrel streetcar ' +
  'sunflower sweet_pepper table tank telephone television tiger tractor train trout tulip turtle wardrobe whale ' +
  'willow_tree wolf woman worm').split(' ');

/** A Uint8Array on a SharedArrayBuffer (shared with loader workers, never copied). */
export function sharedBytes(length: number): Uint8Array {
  return new Uint8Array(new SharedArrayBuffer(length));
}

/** An Int32Array on a SharedArrayBuffer. */
export function sharedInt32(length: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(length * 4));
}

/** Checks that the fields agree with each other; a bad dataset is a DataError naming it. */
export function checkDataset(ds: ImageDataset): void {
  const { name, n, c, h, w, classes } = ds;
  for (const [k, v] of Object.entries({ n, c, h, w, classes })) {
    if (!Number.isInteger(v) || v < 0) throw new DataError(`${name}: ${k} must be a non-negative integer, got ${v}`);
  }
  if (ds.pixels.length !== n * c * h * w) throw new DataError(`${name}: ${ds.pixels.length} pixels for shape [${n}, ${c}, ${h}, ${w}]`);
  if (ds.labels.length !== n) throw new DataError(`${name}: ${ds.labels.length} labels for ${n} images`);
  for (let i = 0; i < n; i++) {
    const l = ds.labels[i];
    if (l < 0 || l >= classes) throw new DataError(`${name}: label ${l} at index ${i} is outside 0..${classes - 1}`);
  }
}

/** Checks a normalisation against a channel count (UserError: it is a caller's option). */
export function checkNormalization(norm: Normalization, c: number): void {
  if (norm.mean.length !== c || norm.std.length !== c) {
    throw new UserError(`normalize: mean and std need ${c} values (one per channel), got ${norm.mean.length} and ${norm.std.length}`);
  }
  for (let i = 0; i < c; i++) {
    if (!Number.isFinite(norm.mean[i])) throw new UserError(`normalize: mean[${i}] = ${norm.mean[i]} is not a finite number`);
    if (!(norm.std[i] > 0) || !Number.isFinite(norm.std[i])) throw new UserError(`normalize: std[${i}] = ${norm.std[i]} must be a positive number`);
  }
}

/** Per-channel mean and standard deviation of the pixels scaled to [0, 1]. */
export function channelStats(ds: ImageDataset): Normalization {
  const plane = ds.h * ds.w;
  const sum = new Float64Array(ds.c), sq = new Float64Array(ds.c);
  for (let i = 0; i < ds.n; i++) {
    for (let ch = 0; ch < ds.c; ch++) {
      const base = (i * ds.c + ch) * plane;
      let s = 0, q = 0;
      for (let k = 0; k < plane; k++) { const v = ds.pixels[base + k]; s += v; q += v * v; }
      sum[ch] += s; sq[ch] += q;
    }
  }
  const count = ds.n * plane || 1;
  const mean: number[] = [], std: number[] = [];
  for (let ch = 0; ch < ds.c; ch++) {
    const m = sum[ch] / count / 255;
    mean.push(m);
    std.push(Math.sqrt(Math.max(0, sq[ch] / count / (255 * 255) - m * m)));
  }
  return { mean, std };
}

/**
 * The whole dataset as float32 [n, c, h, w] ((v / 255 - mean) / std, or v / 255
 * without a normalisation): the layout of train/loop.ts's LabelledImages.
 */
export function toFloatImages(ds: ImageDataset, norm?: Normalization): { images: Float32Array; labels: Int32Array; n: number; c: number; h: number; w: number; classes: number } {
  if (norm) checkNormalization(norm, ds.c);
  const plane = ds.h * ds.w;
  const images = new Float32Array(ds.pixels.length);
  for (let i = 0; i < ds.n; i++) {
    for (let ch = 0; ch < ds.c; ch++) {
      const base = (i * ds.c + ch) * plane;
      const m = norm ? norm.mean[ch] : 0, s = norm ? norm.std[ch] : 1;
      for (let k = 0; k < plane; k++) images[base + k] = (ds.pixels[base + k] / 255 - m) / s;
    }
  }
  return { images, labels: ds.labels, n: ds.n, c: ds.c, h: ds.h, w: ds.w, classes: ds.classes };
}

/** The first n images (all when n is undefined or >= ds.n), sharing ds's memory. */
export function head(ds: ImageDataset, n: number | undefined): ImageDataset {
  if (!n || n >= ds.n) return ds;
  const per = ds.c * ds.h * ds.w;
  return { ...ds, n, pixels: ds.pixels.subarray(0, n * per), labels: ds.labels.subarray(0, n) };
}

/** The images at the given indices, as a new dataset (e.g. a validation split). */
export function subset(ds: ImageDataset, indices: ArrayLike<number>, name = `${ds.name}[subset]`): ImageDataset {
  const per = ds.c * ds.h * ds.w;
  const pixels = sharedBytes(indices.length * per), labels = sharedInt32(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const j = indices[i];
    if (!Number.isInteger(j) || j < 0 || j >= ds.n) throw new UserError(`subset of ${ds.name}: index ${j} is outside 0..${ds.n - 1}`);
    pixels.set(ds.pixels.subarray(j * per, (j + 1) * per), i * per);
    labels[i] = ds.labels[j];
  }
  return { ...ds, name, n: indices.length, pixels, labels };
}
