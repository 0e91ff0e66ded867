// IDX files (MNIST, Fashion-MNIST), raw or gzipped: a big-endian header of
// magic (0, 0, type code, rank), rank dimension sizes, then the data.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { DataError } from '../util/errors.js';
import { type ImageDataset, sharedBytes, sharedInt32 } from './dataset.js';

export interface IdxArray { dims: number[]; data: Uint8Array }

const UBYTE = 0x08;

/** Parses an IDX file held in memory (gzip is detected by its magic bytes). */
export function parseIdx(bytes: Uint8Array, name = 'IDX data'): IdxArray {
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = zlib.gunzipSync(bytes);
    } catch (e) {
      throw new DataError(`${name}: corrupt gzip stream (${(e as Error).message})`);
    }
  }
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) throw new DataError(`${name}: not an IDX file (bad magic number)`);
  if (bytes[2] !== UBYTE) throw new DataError(`${name}: element type 0x${bytes[2].toString(16)} is not supported (only unsigned bytes)`);
  const rank = bytes[3];
  if (rank < 1 || rank > 4) throw new DataError(`${name}: rank ${rank} is not supported`);
  const header = 4 + 4 * rank;
  if (bytes.length < header) throw new DataError(`${name}: truncated header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i));
  const size = dims.reduce((a, b) => a * b, 1);
  if (bytes.length !== header + size) {
    throw new DataError(`${name}: expected ${header + size} bytes for dims [${dims.join(', ')}], file has ${bytes.length} (truncated or corrupt)`);
  }
  return { dims, data: bytes.subarray(header) };
}

export function readIdx(file: string): IdxArray {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw new DataError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseIdx(bytes, path.basename(file));
}

/** Images as float32 [n, 1, h, w] scaled to [0, 1], labels as int32. */
export interface ImageSet { images: Float32Array; labels: Int32Array; n: number; c: number; h: number; w: number; classes: number }

/** Looks for name or name.gz in dir. */
function findFile(dir: string, name: string): string {
  for (const candidate of [name, `${name}.gz`]) {
    const p = path.join(dir, candidate);
    if (fs.existsSync(p)) return p;
  }
  throw new DataError(`${path.join(dir, name)}(.gz) not found`);
}

function readIdxNamed(file: string): IdxArray {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw new DataError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseIdx(bytes, file);
}

export interface IdxDatasetOptions { name?: string; classes?: number; classNames?: string[] }

/**
 * Reads an MNIST-layout split from a folder of IDX files (raw or .gz):
 * {train,t10k}-images-idx3-ubyte and {train,t10k}-labels-idx1-ubyte.
 * Every error names the offending file.
 */
export function readIdxDataset(dir: string, split: 'train' | 'test' | 't10k', opts: IdxDatasetOptions = {}): ImageDataset {
  const prefix = split === 'train' ? 'train' : 't10k';
  const imgFile = findFile(dir, `${prefix}-images-idx3-ubyte`);
  const labFile = findFile(dir, `${prefix}-labels-idx1-ubyte`);
  const img = readIdxNamed(imgFile);
  if (img.dims.length !== 3) throw new DataError(`${imgFile}: expected 3 dimensions [n, h, w], got [${img.dims.join(', ')}]`);
  const lab = readIdxNamed(labFile);
  if (lab.dims.length !== 1) throw new DataError(`${labFile}: expected 1 dimension [n], got [${lab.dims.join(', ')}]`);
  const [n, h, w] = img.dims;
  if (lab.dims[0] !== n) throw new DataError(`${labFile}: ${lab.dims[0]} labels for the ${n} images of ${imgFile}`);
  const classes = opts.classes ?? opts.classNames?.length ?? 10;
  const labels = sharedInt32(n);
  for (let i = 0; i < n; i++) {
    const l = lab.data[i];
    if (l >= classes) throw new DataError(`${labFile}: label ${l} at index ${i} is outside 0..${classes - 1}`);
    labels[i] = l;
  }
  const pixels = sharedBytes(n * h * w);
  pixels.set(img.data);
  return { name: opts.name ?? `${path.basename(dir)}/${split}`, n, c: 1, h, w, classes, classNames: opts.classNames, pixels, labels };
}

/** Reads an MNIST-layout split ("train" or "t10k") from a folder of IDX files, as floats in [0, 1]. */
export function readMnistSplit(dir: string, split: 'train' | 't10k'): ImageSet {
  const ds = readIdxDataset(dir, split);
  const images = new Float32Array(ds.pixels.length);
  for (let i = 0; i < images.length; i++) images[i] = ds.pixels[i] / 255;
  return { images, labels: ds.labels, n: ds.n, c: 1, h: ds.h, w: ds.w, classes: ds.classes };
}

/** Where Debian's dataset-fashion-mnist package puts the files. */
export const DEBIAN_FASHION_MNIST = '/usr/share/datasets/fashion-mnist';
