// Dataset readers against fixture files written to a temp folder: a valid
// file of every format, then the damaged ones (truncated, bad magic, wrong
// label count, label out of range, missing), each of which must be a
// DataError whose message names the file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { create as tarCreate } from 'tar';
import {
  readIdxDataset, readMnistSplit, readCifar, readCifarFolder, readCifarArchive, loadDataset, makeSynthetic,
  checkDataset, subset, toFloatImages, CIFAR100_CLASSES, type ImageDataset,
} from '../src/data/index.js';
import { DataError, UserError } from '../src/util/errors.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'equalbits-data-readers-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));
let folders = 0;
const freshDir = (): string => { const d = path.join(tmp, `case${folders++}`); fs.mkdirSync(d); return d; };

function idxBytes(dims: number[], data: ArrayLike<number>): Buffer {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head[2] = 0x08; head[3] = dims.length;
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([head, Buffer.from(Uint8Array.from(data))]);
}

/** n images of h x w where pixel k of image i is (i * 31 + k) & 255, labels i % 10. */
function writeMnistSplit(dir: string, prefix: string, n: number, h: number, w: number, gzip: boolean): void {
  const pixels = Array.from({ length: n * h * w }, (_, k) => (Math.floor(k / (h * w)) * 31 + (k % (h * w))) & 255);
  const labels = Array.from({ length: n }, (_, i) => i % 10);
  const put = (name: string, bytes: Buffer) => fs.writeFileSync(path.join(dir, gzip ? `${name}.gz` : name), gzip ? zlib.gzipSync(bytes) : bytes);
  put(`${prefix}-images-idx3-ubyte`, idxBytes([n, h, w], pixels));
  put(`${prefix}-labels-idx1-ubyte`, idxBytes([n], labels));
}

/** Asserts fn throws a DataError whose message contains every one of `mentions`. */
function assertDataError(fn: () => unknown, mentions: string[], what: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof DataError, `${what}: expected a DataError, got ${e}`);
    for (const m of mentions) assert.ok(e.message.includes(m), `${what}: message "${e.message}" does not name ${m}`);
    return true;
  });
}

test('IDX: valid raw and gzipped splits read as uint8 [n, 1, h, w]', () => {
  for (const gzip of [false, true]) {
    const dir = freshDir();
    writeMnistSplit(dir, 'train', 7, 4, 3, gzip);
    writeMnistSplit(dir, 't10k', 5, 4, 3, gzip);
    const ds = readIdxDataset(dir, 'train');
    assert.deepEqual([ds.n, ds.c, ds.h, ds.w, ds.classes], [7, 1, 4, 3, 10]);
    assert.equal(ds.pixels[12 * 2 + 5], (2 * 31 + 5) & 255);
    assert.deepEqual([...ds.labels], [0, 1, 2, 3, 4, 5, 6]);
    assert.ok(ds.pixels.buffer instanceof SharedArrayBuffer, 'pixels are shareable with loader workers');
    checkDataset(ds);
    const t = loadDataset('mnist', 'test', { dir });
    assert.equal(t.n, 5);
    assert.equal(t.classNames?.[3], '3');
    // The old float API still works and agrees.
    const f = readMnistSplit(dir, 't10k');
    assert.equal(f.n, 5);
    assert.equal(f.images[13], Math.fround(t.pixels[13] / 255));
  }
});

test('IDX: damaged files are DataErrors naming the file', () => {
  const dir = freshDir();
  writeMnistSplit(dir, 'train', 6, 4, 4, false);
  const images = path.join(dir, 'train-images-idx3-ubyte');
  const labels = path.join(dir, 'train-labels-idx1-ubyte');
  const good = fs.readFileSync(images);

  fs.writeFileSync(images, good.subarray(0, good.length - 5));
  assertDataError(() => readIdxDataset(dir, 'train'), [images, 'truncated'], 'truncated images');
  fs.writeFileSync(images, good.subarray(0, 10));
  assertDataError(() => readIdxDataset(dir, 'train'), [images], 'truncated header');

  const badMagic = Buffer.from(good); badMagic[0] = 0x12;
  fs.writeFileSync(images, badMagic);
  assertDataError(() => readIdxDataset(dir, 'train'), [images, 'magic'], 'corrupt magic');

  fs.writeFileSync(images, idxBytes([6, 16], new Uint8Array(96)));
  assertDataError(() => readIdxDataset(dir, 'train'), [images, 'dimensions'], 'wrong rank');

  fs.writeFileSync(images, good);
  fs.writeFileSync(labels, idxBytes([5], [0, 1, 2, 3, 4]));
  assertDataError(() => readIdxDataset(dir, 'train'), [labels, '5 labels', '6 images'], 'wrong label count');

  fs.writeFileSync(labels, idxBytes([6], [0, 1, 2, 10, 4, 5]));
  assertDataError(() => readIdxDataset(dir, 'train'), [labels, 'label 10'], 'label out of range');

  fs.writeFileSync(labels, zlib.gzipSync(idxBytes([6], [0, 1, 2, 3, 4, 5])).subarray(0, 20));
  fs.renameSync(labels, `${labels}.gz`);
  assertDataError(() => readIdxDataset(dir, 'train'), [`${labels}.gz`, 'gzip'], 'truncated gzip');

  fs.rmSync(`${labels}.gz`);
  assertDataError(() => readIdxDataset(dir, 'train'), [labels, 'not found'], 'missing labels');
  assertDataError(() => readIdxDataset(path.join(dir, 'nope'), 'test'), [path.join(dir, 'nope', 't10k-images-idx3-ubyte')], 'missing folder');
});

/** CIFAR records: pixel k of record i is (i * 7 + k) & 255; labels given (fine ones for CIFAR-100). */
function cifarBytes(labels: number[], variant: 'cifar10' | 'cifar100', first = 0): Buffer {
  const lb = variant === 'cifar10' ? 1 : 2, rec = lb + 3072;
  const out = Buffer.alloc(labels.length * rec);
  labels.forEach((l, i) => {
    const o = i * rec;
    if (lb === 2) out[o] = l % 20; // coarse label
    out[o + lb - 1] = l;
    for (let k = 0; k < 3072; k++) out[o + lb + k] = ((first + i) * 7 + k) & 255;
  });
  return out;
}

/** A CIFAR-10 folder of 5 train batches of 3 records and a test batch of 4. */
function writeCifar10(dir: string): string {
  const folder = path.join(dir, 'cifar-10-batches-bin');
  fs.mkdirSync(folder, { recursive: true });
  for (let b = 1; b <= 5; b++) fs.writeFileSync(path.join(folder, `data_batch_${b}.bin`), cifarBytes([b, (b + 3) % 10, 9], 'cifar10', (b - 1) * 3));
  fs.writeFileSync(path.join(folder, 'test_batch.bin'), cifarBytes([3, 8, 8, 0], 'cifar10'));
  fs.writeFileSync(path.join(folder, 'batches.meta.txt'), 'a0\na1\na2\na3\na4\na5\na6\na7\na8\na9\n\n');
  return folder;
}

function checkCifar10Fixture(train: ImageDataset, testSet: ImageDataset): void {
  assert.deepEqual([train.n, train.c, train.h, train.w, train.classes], [15, 3, 32, 32, 10]);
  assert.deepEqual([...train.labels.subarray(0, 6)], [1, 4, 9, 2, 5, 9]);
  for (const i of [0, 4, 14]) assert.equal(train.pixels[i * 3072 + 1234], (i * 7 + 1234) & 255, `pixel of image ${i}`);
  assert.deepEqual([...testSet.labels], [3, 8, 8, 0]);
  checkDataset(train); checkDataset(testSet);
}

test('CIFAR-10: folder, archive and the folder lookup read the same data', () => {
  const dir = freshDir();
  const folder = writeCifar10(dir);
  const fromFolder = readCifarFolder(folder, 'cifar10', 'train');
  checkCifar10Fixture(fromFolder, readCifarFolder(folder, 'cifar10', 'test'));
  assert.equal(fromFolder.classNames?.[7], 'a7', 'names come from batches.meta.txt');

  const archive = path.join(dir, 'cifar-10-binary.tar.gz');
  tarCreate({ gzip: true, file: archive, cwd: dir, sync: true }, ['cifar-10-batches-bin']);
  const fromArchive = readCifarArchive(archive, 'cifar10', 'train');
  checkCifar10Fixture(fromArchive, readCifarArchive(archive, 'cifar10', 'test'));
  assert.deepEqual(fromArchive.pixels, fromFolder.pixels);
  assert.equal(fromArchive.classNames?.[7], 'a7');

  // loadDataset finds the folder inside dir, dir itself, or the archive alone.
  assert.equal(loadDataset('cifar10', 'train', { dir }).n, 15);
  assert.equal(loadDataset('cifar10', 'test', { dir: folder }).n, 4);
  const onlyArchive = freshDir();
  fs.copyFileSync(archive, path.join(onlyArchive, 'cifar-10-binary.tar.gz'));
  assert.deepEqual(loadDataset('cifar10', 'train', { dir: onlyArchive }).labels, fromFolder.labels);
  assert.equal(readCifar(archive, 'cifar10', 'test').n, 4);
});

test('CIFAR-10: damaged folders are DataErrors naming the file', () => {
  const dir = freshDir();
  const folder = writeCifar10(dir);
  const b3 = path.join(folder, 'data_batch_3.bin');
  const good = fs.readFileSync(b3);
  fs.writeFileSync(b3, good.subarray(0, good.length - 100));
  assertDataError(() => readCifar(dir, 'cifar10', 'train'), [b3, 'truncated'], 'truncated batch');
  fs.writeFileSync(b3, Buffer.alloc(0));
  assertDataError(() => readCifar(dir, 'cifar10', 'train'), [b3], 'empty batch');
  const bad = Buffer.from(good); bad[3073] = 10; // label of the second record
  fs.writeFileSync(b3, bad);
  assertDataError(() => readCifar(dir, 'cifar10', 'train'), [b3, 'record 1', 'label 10'], 'label out of range');
  fs.rmSync(b3);
  assertDataError(() => readCifar(dir, 'cifar10', 'train'), [b3, 'not found'], 'missing batch');
  assert.equal(readCifar(dir, 'cifar10', 'test').n, 4, 'the test split does not need the train batches');
  const empty = freshDir();
  assertDataError(() => loadDataset('cifar10', 'train', { dir: empty }), [empty, 'cifar-10-binary.tar.gz'], 'no data at all');
  assertDataError(() => loadDataset('cifar100', 'train', { dir: path.join(empty, 'missing') }), [path.join(empty, 'missing')], 'missing folder');
});

test('CIFAR archive: truncated, corrupt and incomplete archives are DataErrors naming it', () => {
  const dir = freshDir();
  writeCifar10(dir);
  const archive = path.join(dir, 'cifar-10-binary.tar.gz');
  tarCreate({ gzip: true, file: archive, cwd: dir, sync: true }, ['cifar-10-batches-bin']);
  const good = fs.readFileSync(archive);

  const truncated = path.join(dir, 'truncated.tar.gz');
  fs.writeFileSync(truncated, good.subarray(0, Math.floor(good.length / 2)));
  assertDataError(() => readCifarArchive(truncated, 'cifar10', 'test'), [truncated], 'truncated archive');

  const corrupt = path.join(dir, 'corrupt.tar.gz');
  const bytes = Buffer.from(good);
  for (let i = 100; i < 400; i++) bytes[i] ^= 0x5a;
  fs.writeFileSync(corrupt, bytes);
  assertDataError(() => readCifarArchive(corrupt, 'cifar10', 'train'), [corrupt], 'corrupt archive');

  const notGzip = path.join(dir, 'garbage.tar.gz');
  fs.writeFileSync(notGzip, Buffer.alloc(5000, 7));
  assertDataError(() => readCifarArchive(notGzip, 'cifar10', 'train'), [notGzip], 'not an archive');

  const partial = path.join(dir, 'partial.tar.gz');
  tarCreate({ gzip: true, file: partial, cwd: dir, sync: true }, ['cifar-10-batches-bin/data_batch_1.bin', 'cifar-10-batches-bin/test_batch.bin']);
  assert.equal(readCifarArchive(partial, 'cifar10', 'test').n, 4);
  assertDataError(() => readCifarArchive(partial, 'cifar10', 'train'), [partial, 'data_batch_2.bin'], 'missing member');

  // A batch inside the archive with a bad size names the archive and the member.
  const badDir = freshDir();
  writeCifar10(badDir);
  fs.appendFileSync(path.join(badDir, 'cifar-10-batches-bin', 'test_batch.bin'), Buffer.alloc(10));
  const badArchive = path.join(badDir, 'cifar-10-binary.tar.gz');
  tarCreate({ gzip: true, file: badArchive, cwd: badDir, sync: true }, ['cifar-10-batches-bin']);
  assertDataError(() => readCifarArchive(badArchive, 'cifar10', 'test'), [badArchive, 'test_batch.bin'], 'bad member');
  assertDataError(() => readCifarArchive(path.join(dir, 'absent.tar.gz'), 'cifar10', 'test'), [path.join(dir, 'absent.tar.gz')], 'missing archive');
});

test('CIFAR-100: fine labels, 100 classes, coarse label checked', () => {
  const dir = freshDir();
  const folder = path.join(dir, 'cifar-100-binary');
  fs.mkdirSync(folder);
  fs.writeFileSync(path.join(folder, 'train.bin'), cifarBytes([0, 57, 99, 42, 21], 'cifar100'));
  fs.writeFileSync(path.join(folder, 'test.bin'), cifarBytes([98, 1], 'cifar100'));
  const train = loadDataset('cifar100', 'train', { dir });
  assert.deepEqual([train.n, train.classes], [5, 100]);
  assert.deepEqual([...train.labels], [0, 57, 99, 42, 21]);
  assert.equal(train.pixels[2 * 3072 + 77], (2 * 7 + 77) & 255);
  assert.equal(CIFAR100_CLASSES.length, 100);
  assert.equal(train.classNames?.[99], 'worm');
  assert.equal(loadDataset('cifar100', 'test', { dir }).labels[0], 98);

  const archive = path.join(dir, 'cifar-100-binary.tar.gz');
  tarCreate({ gzip: true, file: archive, cwd: dir, sync: true }, ['cifar-100-binary']);
  assert.deepEqual(readCifarArchive(archive, 'cifar100', 'train').labels, train.labels);

  const bad = cifarBytes([0, 57], 'cifar100'); bad[3074] = 20; // coarse label of record 1
  const trainFile = path.join(folder, 'train.bin');
  fs.writeFileSync(trainFile, bad);
  assertDataError(() => loadDataset('cifar100', 'train', { dir }), [trainFile, 'coarse label 20'], 'coarse out of range');
  fs.writeFileSync(trainFile, cifarBytes([0, 57], 'cifar10')); // CIFAR-10 records are not CIFAR-100 records
  assertDataError(() => loadDataset('cifar100', 'train', { dir }), [trainFile, 'record'], 'wrong record size');
});

test('synthetic: deterministic from the seed, balanced, and learnable', () => {
  const a = makeSynthetic({ n: 600, c: 2, h: 8, w: 8, classes: 6, seed: 3 });
  const b = makeSynthetic({ n: 600, c: 2, h: 8, w: 8, classes: 6, seed: 3 });
  assert.deepEqual(a.pixels, b.pixels);
  assert.deepEqual(a.labels, b.labels);
  checkDataset(a);
  const counts = new Array(6).fill(0);
  for (const l of a.labels) counts[l]++;
  assert.deepEqual(counts, [100, 100, 100, 100, 100, 100]);
  const other = makeSynthetic({ n: 600, c: 2, h: 8, w: 8, classes: 6, seed: 4 });
  assert.notDeepEqual(other.pixels, a.pixels);

  // Learnable: class means of the train split classify the test split well.
  const testSet = makeSynthetic({ n: 300, c: 2, h: 8, w: 8, classes: 6, seed: 3, split: 'test' });
  assert.notDeepEqual(testSet.pixels.subarray(0, 128), a.pixels.subarray(0, 128));
  const per = 2 * 8 * 8;
  const means = new Float64Array(6 * per);
  for (let i = 0; i < a.n; i++) for (let k = 0; k < per; k++) means[a.labels[i] * per + k] += a.pixels[i * per + k] / 100;
  let right = 0;
  for (let i = 0; i < testSet.n; i++) {
    let best = -1, bestD = Infinity;
    for (let c = 0; c < 6; c++) {
      let d = 0;
      for (let k = 0; k < per; k++) d += (testSet.pixels[i * per + k] - means[c * per + k]) ** 2;
      if (d < bestD) { bestD = d; best = c; }
    }
    if (best === testSet.labels[i]) right++;
  }
  assert.ok(right / testSet.n > 0.9, `nearest class mean got ${right} / ${testSet.n}`);

  const ds = loadDataset('synthetic', 'train', { syntheticSize: 50, seed: 1, synthetic: { c: 1, h: 5, w: 7, classes: 3 } });
  assert.deepEqual([ds.n, ds.c, ds.h, ds.w, ds.classes], [50, 1, 5, 7, 3]);
  assert.equal(loadDataset('synthetic', 'test').n, 512);
  assert.throws(() => makeSynthetic({ n: 10, classes: 0 }), UserError);
  assert.throws(() => loadDataset('imagenet' as 'mnist', 'train'), UserError);
  assert.throws(() => loadDataset('mnist', 'val' as 'train'), UserError);
});

test('dataset helpers: subset, toFloatImages, checkDataset', () => {
  const ds = makeSynthetic({ n: 20, c: 1, h: 3, w: 3, classes: 4, seed: 2 });
  const s = subset(ds, [5, 0, 19]);
  assert.equal(s.n, 3);
  assert.deepEqual([...s.labels], [ds.labels[5], ds.labels[0], ds.labels[19]]);
  assert.deepEqual(s.pixels.subarray(9, 18), ds.pixels.subarray(0, 9));
  assert.throws(() => subset(ds, [20]), UserError);
  const f = toFloatImages(ds, { mean: [0.5], std: [0.25] });
  assert.equal(f.images[7], Math.fround((ds.pixels[7] / 255 - 0.5) / 0.25));
  assert.throws(() => toFloatImages(ds, { mean: [0.5, 0.5], std: [1, 1] }), UserError);
  assert.throws(() => checkDataset({ ...ds, labels: ds.labels.subarray(1) }), DataError);
});
