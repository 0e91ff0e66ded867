// IDX files (MNIST, Fashion-MNIST), raw or gzipped: a big-endian header of
// magic (0, 0, type code, rank), rank dimension sizes, then the data.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { DataError } from '../util/errors.js';

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
  throw new DataError(`${name}(.gz) not found in ${dir}`);
}

/** Reads an MNIST-layout split ("train" or "t10k") from a folder of IDX files. */
export function readMnistSplit(dir: string, split: 'train' | 't10k'): ImageSet {
  const img = readIdx(findFile(dir, `${split}-images-idx3-ubyte`));
  const lab = readIdx(findFile(dir, `${split}-labels-idx1-ubyte`));
  if (img.dims.length !== 3) throw new DataError(`${split} images: expected 3 dimensions, got ${img.dims.length}`);
  if (lab.dims.length !== 1 || lab.dims[0] !== img.dims[0]) throw new DataError(`${split}: ${lab.dims[0]} labels for ${img.dims[0]} images`);
  const [n, h, w] = img.dims;
  const images = new Float32Array(n * h * w);
  for (let i = 0; i < images.length; i++) images[i] = img.data[i] / 255;
  const labels = Int32Array.from(lab.data);
  const bad = labels.findIndex((l) => l > 9);
  if (bad >= 0) throw new DataError(`${split} labels: label ${labels[bad]} at index ${bad} is not a digit class 0-9`);
  return { images, labels, n, c: 1, h, w, classes: 10 };
}

/** Where Debian's dataset-fashion-mnist package puts the files. */
export const DEBIAN_FASHION_MNIST = '/usr/share/datasets/fashion-mnist';
