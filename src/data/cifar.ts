// CIFAR-10 / CIFAR-100 in the official binary format (Krizhevsky 2009). Each
// record is the label byte(s) followed by 3072 bytes: the R, G and B planes of
// a 32x32 image, row-major, i.e. already [c, h, w]. CIFAR-10 has one label
// byte; CIFAR-100 has two (coarse, fine) and we use the fine one.
//
// Read from the extracted folder (cifar-10-batches-bin/, cifar-100-binary/) or
// straight from the official .tar.gz.
import fs from 'node:fs';
import path from 'node:path';
import { DataError } from '../util/errors.js';
import { type ImageDataset, CIFAR10_CLASSES, CIFAR100_CLASSES, sharedBytes, sharedInt32 } from './dataset.js';
import { readTarMembers } from './tar.js';

export type CifarVariant = 'cifar10' | 'cifar100';
export type Split = 'train' | 'test';

const IMAGE_BYTES = 3 * 32 * 32;

interface Layout {
  folder: string; archive: string; labelBytes: number; classes: number;
  train: string[]; test: string[]; namesFile: string; defaultNames: string[];
}

export const CIFAR_LAYOUT: Record<CifarVariant, Layout> = {
  cifar10: {
    folder: 'cifar-10-batches-bin', archive: 'cifar-10-binary.tar.gz', labelBytes: 1, classes: 10,
    train: ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'],
    test: ['test_batch.bin'], namesFile: 'batches.meta.txt', defaultNames: CIFAR10_CLASSES,
  },
  cifar100: {
    folder: 'cifar-100-binary', archive: 'cifar-100-binary.tar.gz', labelBytes: 2, classes: 100,
    train: ['train.bin'], test: ['test.bin'], namesFile: 'fine_label_names.txt', defaultNames: CIFAR100_CLASSES,
  },
};

/** Number of records in a batch file of `bytes` bytes; anything but a whole, non-zero number of records is a DataError. */
function recordCount(bytes: number, variant: CifarVariant, file: string): number {
  const rec = CIFAR_LAYOUT[variant].labelBytes + IMAGE_BYTES;
  if (bytes === 0 || bytes % rec !== 0) {
    throw new DataError(`${file}: ${bytes} bytes is not a whole number of ${rec}-byte ${variant === 'cifar10' ? 'CIFAR-10' : 'CIFAR-100'} records (truncated or not a CIFAR batch file)`);
  }
  return bytes / rec;
}

/** Copies the records of one batch file into pixels/labels from image `at` on; checks every label. */
function unpackRecords(bytes: Uint8Array, variant: CifarVariant, file: string, pixels: Uint8Array, labels: Int32Array, at: number): number {
  const { labelBytes, classes } = CIFAR_LAYOUT[variant];
  const rec = labelBytes + IMAGE_BYTES;
  const n = recordCount(bytes.length, variant, file);
  for (let i = 0; i < n; i++) {
    const o = i * rec;
    if (variant === 'cifar100' && bytes[o] >= 20) throw new DataError(`${file}: record ${i} has coarse label ${bytes[o]}, outside 0..19 (corrupt file)`);
    const label = bytes[o + labelBytes - 1];
    if (label >= classes) throw new DataError(`${file}: record ${i} has label ${label}, outside 0..${classes - 1} (corrupt file)`);
    labels[at + i] = label;
    pixels.set(bytes.subarray(o + labelBytes, o + rec), (at + i) * IMAGE_BYTES);
  }
  return n;
}

/** Class names from the names file when it is there and has the right count, else the built-in list. */
function classNames(variant: CifarVariant, text: string | null): string[] {
  const { classes, defaultNames } = CIFAR_LAYOUT[variant];
  if (text !== null) {
    const names = text.split('\n').map((s) => s.trim()).filter((s) => s.length > 0);
    if (names.length === classes) return names;
  }
  return defaultNames.slice();
}

function assemble(variant: CifarVariant, name: string, files: { file: string; bytes: Uint8Array }[], namesText: string | null): ImageDataset {
  let n = 0;
  for (const f of files) n += recordCount(f.bytes.length, variant, f.file);
  const pixels = sharedBytes(n * IMAGE_BYTES), labels = sharedInt32(n);
  let at = 0;
  for (const f of files) at += unpackRecords(f.bytes, variant, f.file, pixels, labels, at);
  return { name, n, c: 3, h: 32, w: 32, classes: CIFAR_LAYOUT[variant].classes, classNames: classNames(variant, namesText), pixels, labels };
}

/** Parses in-memory batch files (e.g. from another source); `name` labels errors. */
export function parseCifar(variant: CifarVariant, batches: { name: string; bytes: Uint8Array }[], datasetName: string = variant): ImageDataset {
  return assemble(variant, datasetName, batches.map((b) => ({ file: b.name, bytes: b.bytes })), null);
}

function readFileOrThrow(file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new DataError(code === 'ENOENT' ? `${file} not found` : `cannot read ${file}: ${code ?? (e as Error).message}`);
  }
}

/** Reads a split from an extracted folder (the one holding data_batch_1.bin or train.bin). */
export function readCifarFolder(dir: string, variant: CifarVariant, split: Split): ImageDataset {
  const layout = CIFAR_LAYOUT[variant];
  const files = layout[split].map((f) => path.join(dir, f));
  // Stat everything first so a missing fifth batch fails before 150 MB are read.
  for (const f of files) if (!fs.existsSync(f)) throw new DataError(`${f} not found`);
  const namesFile = path.join(dir, layout.namesFile);
  const namesText = fs.existsSync(namesFile) ? fs.readFileSync(namesFile, 'utf8') : null;
  let n = 0;
  for (const f of files) n += recordCount(fs.statSync(f).size, variant, f);
  const pixels = sharedBytes(n * IMAGE_BYTES), labels = sharedInt32(n);
  let at = 0;
  for (const f of files) at += unpackRecords(readFileOrThrow(f), variant, f, pixels, labels, at);
  if (at !== n) throw new DataError(`${dir}: batch files changed while being read`);
  return { name: `${variant}/${split}`, n, c: 3, h: 32, w: 32, classes: layout.classes, classNames: classNames(variant, namesText), pixels, labels };
}

/** Reads a split straight from the official .tar.gz (members under cifar-10-batches-bin/ or cifar-100-binary/). */
export function readCifarArchive(file: string, variant: CifarVariant, split: Split): ImageDataset {
  const layout = CIFAR_LAYOUT[variant];
  const wanted = layout[split].map((f) => `${layout.folder}/${f}`);
  const namesMember = `${layout.folder}/${layout.namesFile}`;
  let members: Map<string, Buffer>;
  try {
    members = readTarMembers(file, [...wanted, namesMember]);
  } catch (e) {
    // The names file is optional: retry without it only when it was the one missing.
    if (!(e instanceof DataError) || !e.message.includes(namesMember)) throw e;
    members = readTarMembers(file, wanted);
  }
  const names = members.get(namesMember);
  return assemble(variant, `${variant}/${split}`, wanted.map((m) => ({ file: `${file}:${m}`, bytes: members.get(m)! })), names ? names.toString('utf8') : null);
}

/**
 * Finds CIFAR data under `dir`: the batch files in dir itself, the extracted
 * folder inside it, or the official archive inside it (or `dir` being the archive).
 */
export function readCifar(dir: string, variant: CifarVariant, split: Split): ImageDataset {
  const layout = CIFAR_LAYOUT[variant];
  if (dir.endsWith('.tar.gz') || dir.endsWith('.tgz')) {
    if (!fs.existsSync(dir)) throw new DataError(`${dir} not found`);
    return readCifarArchive(dir, variant, split);
  }
  if (!fs.existsSync(dir)) throw new DataError(`${dir} not found`);
  const own = [...layout.train, ...layout.test];
  if (own.some((f) => fs.existsSync(path.join(dir, f))) || path.basename(dir) === layout.folder) return readCifarFolder(dir, variant, split);
  const inner = path.join(dir, layout.folder);
  if (fs.existsSync(inner)) return readCifarFolder(inner, variant, split);
  const archive = path.join(dir, layout.archive);
  if (fs.existsSync(archive)) return readCifarArchive(archive, variant, split);
  throw new DataError(`no ${variant === 'cifar10' ? 'CIFAR-10' : 'CIFAR-100'} data in ${dir}: expected ${layout[split][0]}, ${layout.folder}/ or ${layout.archive} (downloadDataset('${variant}', dir) fetches it)`);
}
