// downloadDataset against a local HTTP server on 127.0.0.1 that serves
// fixture archives made here: a good download, a checksum mismatch, transfers
// cut off and resumed with Range, a server that ignores Range, errors.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import zlib from 'node:zlib';
import crypto from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { create as tarCreate } from 'tar';
import { downloadDataset, downloadFile, loadDataset, DOWNLOADS, type DownloadProgress } from '../src/data/index.js';
import { DataError } from '../src/util/errors.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'equalbits-data-download-'));
let folders = 0;
const freshDir = (): string => path.join(tmp, `case${folders++}`);
const md5 = (b: Buffer) => crypto.createHash('md5').update(b).digest('hex');

// ---- fixtures ----------------------------------------------------------

function idx(dims: number[], data: Uint8Array): Buffer {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head[2] = 0x08; head[3] = dims.length;
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return zlib.gzipSync(Buffer.concat([head, data]));
}
function noise(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) { s = (Math.imul(s, 1103515245) + 12345) >>> 0; out[i] = s >>> 24; }
  return out;
}
// Incompressible pixels, so the image files are big enough to be cut in half mid-transfer.
const mnist: Record<string, Buffer> = {
  'train-images-idx3-ubyte.gz': idx([60, 28, 28], noise(60 * 784, 1)),
  'train-labels-idx1-ubyte.gz': idx([60], Uint8Array.from({ length: 60 }, (_, i) => i % 10)),
  't10k-images-idx3-ubyte.gz': idx([20, 28, 28], noise(20 * 784, 2)),
  't10k-labels-idx1-ubyte.gz': idx([20], Uint8Array.from({ length: 20 }, (_, i) => (i * 3) % 10)),
};
const mnistSums = Object.fromEntries(Object.entries(mnist).map(([k, v]) => [k, md5(v)]));

function cifarArchive(): Buffer {
  const dir = freshDir();
  const folder = path.join(dir, 'cifar-10-batches-bin');
  fs.mkdirSync(folder, { recursive: true });
  const batch = (labels: number[], seed: number) => {
    const out = Buffer.alloc(labels.length * 3073);
    labels.forEach((l, i) => { out[i * 3073] = l; out.set(noise(3072, seed + i), i * 3073 + 1); });
    return out;
  };
  for (let b = 1; b <= 5; b++) fs.writeFileSync(path.join(folder, `data_batch_${b}.bin`), batch([b, 9 - b], 10 * b));
  fs.writeFileSync(path.join(folder, 'test_batch.bin'), batch([3, 8, 8], 99));
  fs.writeFileSync(path.join(folder, 'readme.html'), '<p>not extracted</p>');
  const file = path.join(dir, 'cifar-10-binary.tar.gz');
  tarCreate({ gzip: true, file, cwd: dir, sync: true }, ['cifar-10-batches-bin']);
  return fs.readFileSync(file);
}
const cifar = cifarArchive();

// ---- the server --------------------------------------------------------

type Mode = 'normal' | 'cut-once' | 'cut-always' | 'ignore-range' | 'fail-once';
interface Served { body: Buffer; mode: Mode; hits: number }
const served = new Map<string, Served>();
const log: { url: string; range?: string }[] = [];

const server = http.createServer((req, res) => {
  log.push({ url: req.url ?? '', range: req.headers.range });
  const entry = served.get(req.url ?? '');
  if (!entry) { res.writeHead(404).end('not here'); return; }
  entry.hits++;
  const { body, mode } = entry;
  if (mode === 'fail-once' && entry.hits === 1) { res.writeHead(503).end('busy'); return; }
  let start = 0;
  const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  if (m && mode !== 'ignore-range') {
    start = Number(m[1]);
    if (start >= body.length) { res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end(); return; }
    res.writeHead(206, { 'content-length': body.length - start, 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` });
  } else {
    res.writeHead(200, { 'content-length': body.length });
  }
  const rest = body.subarray(start);
  if (mode === 'cut-always' || (mode === 'cut-once' && entry.hits === 1)) {
    // Send about half, then close the connection (FIN after the data, so the
    // client really receives that half before it sees the response end early).
    res.write(rest.subarray(0, Math.floor(rest.length / 2)), () => {
      res.socket?.end();
      setTimeout(() => res.socket?.destroy(), 100).unref();
    });
    return;
  }
  res.end(rest);
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
after(() => { server.close(); fs.rmSync(tmp, { recursive: true, force: true }); });

/** Serves `files` under /<prefix>/ and returns that base URL. */
function serve(prefix: string, files: Record<string, Buffer>, modes: Record<string, Mode> = {}): string {
  for (const [name, body] of Object.entries(files)) served.set(`/${prefix}/${name}`, { body, mode: modes[name] ?? 'normal', hits: 0 });
  return `${base}/${prefix}/`;
}
const requests = (prefix: string) => log.filter((r) => r.url.startsWith(`/${prefix}/`));
const leftovers = (dir: string) => fs.readdirSync(dir).filter((f) => f.endsWith('.part'));

// ---- tests -------------------------------------------------------------

test('the official checksum table has 32-hex-digit MD5s, CIFAR ones as published', () => {
  assert.equal(DOWNLOADS.cifar10.files['cifar-10-binary.tar.gz'], 'c32a1d4ab5d03f1284b67883e8d87530');
  assert.equal(DOWNLOADS.cifar100.files['cifar-100-binary.tar.gz'], '03b5dce01913d631647c71ecec9e9cb8');
  for (const src of Object.values(DOWNLOADS)) for (const sum of Object.values(src.files)) assert.match(sum, /^[0-9a-f]{32}$/);
});

test('MNIST: downloads, verifies and places the files; a second call fetches nothing', async () => {
  const baseUrl = serve('good', mnist);
  const dir = freshDir();
  const progress: DownloadProgress[] = [];
  assert.equal(await downloadDataset('mnist', dir, { baseUrl, checksums: mnistSums, onProgress: (p) => progress.push(p) }), dir);
  for (const [name, body] of Object.entries(mnist)) assert.deepEqual(fs.readFileSync(path.join(dir, name)), body, name);
  assert.deepEqual(leftovers(dir), []);
  const last = progress.filter((p) => p.file === 'train-images-idx3-ubyte.gz').at(-1)!;
  assert.deepEqual([last.received, last.total], [mnist['train-images-idx3-ubyte.gz'].length, mnist['train-images-idx3-ubyte.gz'].length]);
  const train = loadDataset('mnist', 'train', { dir });
  assert.deepEqual([train.n, train.h, train.w], [60, 28, 28]);
  assert.equal(loadDataset('mnist', 'test', { dir }).labels[1], 3);

  const before = requests('good').length;
  await downloadDataset('mnist', dir, { baseUrl, checksums: mnistSums });
  assert.equal(requests('good').length, before, 'verified files are not fetched again');
});

test('a checksum mismatch is refused: DataError, no partial and no final file', async () => {
  const wrong = { ...mnist, 't10k-labels-idx1-ubyte.gz': Buffer.from('definitely not the labels') };
  const baseUrl = serve('wrong', wrong);
  const dir = freshDir();
  const target = path.join(dir, 't10k-labels-idx1-ubyte.gz');
  await assert.rejects(downloadDataset('mnist', dir, { baseUrl, checksums: mnistSums }), (e: unknown) => {
    assert.ok(e instanceof DataError, String(e));
    assert.ok(e.message.includes(`checksum mismatch for ${target}`), e.message);
    return true;
  });
  assert.ok(!fs.existsSync(target) && !fs.existsSync(`${target}.part`));
  assert.deepEqual(leftovers(dir), []);
  // The official table is used when no override is given: the fixture cannot match it.
  const dir2 = freshDir();
  await assert.rejects(downloadDataset('mnist', dir2, { baseUrl: serve('official', mnist) }), /checksum mismatch for .*train-images-idx3-ubyte\.gz/);
  assert.deepEqual(fs.readdirSync(dir2), []);
});

test('a transfer cut off mid-way is resumed with a Range request', async () => {
  const name = 'train-images-idx3-ubyte.gz', body = mnist[name];
  const baseUrl = serve('cut', mnist, { [name]: 'cut-once' });
  const dir = freshDir();
  await downloadDataset('mnist', dir, { baseUrl, checksums: mnistSums });
  assert.deepEqual(fs.readFileSync(path.join(dir, name)), body);
  const hits = requests('cut').filter((r) => r.url.endsWith(name));
  assert.equal(hits.length, 2);
  assert.equal(hits[0].range, undefined);
  const from = Number(/^bytes=(\d+)-$/.exec(hits[1].range ?? '')?.[1]);
  assert.ok(from > 0 && from <= body.length / 2, `resumed from ${hits[1].range}`);
  assert.deepEqual(leftovers(dir), []);
});

test('without retries a cut-off transfer leaves its .part, and the next call continues it', async () => {
  const name = 't10k-images-idx3-ubyte.gz', body = mnist[name];
  const baseUrl = serve('part', { [name]: body }, { [name]: 'cut-once' });
  const dir = freshDir();
  fs.mkdirSync(dir);
  const dest = path.join(dir, name);
  await assert.rejects(downloadFile(`${baseUrl}${name}`, dest, mnistSums[name], { retries: 0 }), (e: unknown) => {
    assert.ok(e instanceof DataError && e.message.includes(`${dest}.part`), String(e));
    return true;
  });
  const kept = fs.readFileSync(`${dest}.part`);
  assert.ok(kept.length > 0 && kept.length < body.length);
  assert.deepEqual(kept, body.subarray(0, kept.length));
  assert.ok(!fs.existsSync(dest), 'no final file before verification');
  await downloadFile(`${baseUrl}${name}`, dest, mnistSums[name], { retries: 0 });
  assert.deepEqual(fs.readFileSync(dest), body);
  assert.equal(requests('part').at(-1)!.range, `bytes=${kept.length}-`);
  assert.ok(!fs.existsSync(`${dest}.part`));
});

test('a stale .part is continued; a server that ignores Range is restarted from zero', async () => {
  const name = 'train-labels-idx1-ubyte.gz', body = mnist[name];
  const dir = freshDir();
  fs.mkdirSync(dir);
  const dest = path.join(dir, name);
  fs.writeFileSync(`${dest}.part`, body.subarray(0, 40));
  await downloadFile(`${serve('stale', { [name]: body })}${name}`, dest, mnistSums[name]);
  assert.deepEqual(fs.readFileSync(dest), body);
  assert.equal(requests('stale').at(-1)!.range, 'bytes=40-');

  fs.rmSync(dest);
  fs.writeFileSync(`${dest}.part`, Buffer.from('garbage that must be overwritten'));
  await downloadFile(`${serve('norange', { [name]: body }, { [name]: 'ignore-range' })}${name}`, dest, mnistSums[name]);
  assert.deepEqual(fs.readFileSync(dest), body);

  // A .part as long as the file already (server answers 416) is simply verified.
  fs.rmSync(dest);
  fs.writeFileSync(`${dest}.part`, body);
  await downloadFile(`${serve('full', { [name]: body })}${name}`, dest, mnistSums[name]);
  assert.deepEqual(fs.readFileSync(dest), body);
});

test('HTTP errors: 404 is a DataError at once, 503 is retried', async () => {
  const dir = freshDir();
  await assert.rejects(downloadDataset('mnist', dir, { baseUrl: `${base}/nothing/`, checksums: mnistSums }), (e: unknown) => {
    assert.ok(e instanceof DataError && /HTTP 404/.test(e.message) && e.message.includes('/nothing/train-images-idx3-ubyte.gz'), String(e));
    return true;
  });
  assert.equal(requests('nothing').length, 1, 'a 404 is not retried');
  const name = 'train-labels-idx1-ubyte.gz';
  const dir2 = freshDir();
  fs.mkdirSync(dir2);
  await downloadFile(`${serve('busy', { [name]: mnist[name] }, { [name]: 'fail-once' })}${name}`, path.join(dir2, name), mnistSums[name]);
  assert.equal(requests('busy').length, 2);
  const dead = freshDir();
  fs.mkdirSync(dead);
  await assert.rejects(downloadFile(`${serve('dead', { [name]: mnist[name] }, { [name]: 'cut-always' })}${name}`, path.join(dead, name), mnistSums[name], { retries: 1 }),
    /failed after 2 attempts/);
});

test('CIFAR-10: the archive is verified and extracted where the reader looks', async () => {
  const baseUrl = serve('cifar', { 'cifar-10-binary.tar.gz': cifar }, { 'cifar-10-binary.tar.gz': 'cut-once' });
  const checksums = { 'cifar-10-binary.tar.gz': md5(cifar) };
  const dir = freshDir();
  await downloadDataset('cifar10', dir, { baseUrl, checksums });
  assert.deepEqual(fs.readdirSync(path.join(dir, 'cifar-10-batches-bin')).sort(),
    ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin', 'test_batch.bin']);
  assert.ok(fs.existsSync(path.join(dir, 'cifar-10-binary.tar.gz')), 'the archive is kept by default');
  const train = loadDataset('cifar10', 'train', { dir });
  assert.deepEqual([train.n, ...train.labels], [10, 1, 8, 2, 7, 3, 6, 4, 5, 5, 4]);
  assert.deepEqual(train.pixels.subarray(0, 3072), noise(3072, 10));
  assert.equal(loadDataset('cifar10', 'test', { dir }).n, 3);

  const hits = requests('cifar').length;
  await downloadDataset('cifar10', dir, { baseUrl, checksums });
  assert.equal(requests('cifar').length, hits, 'nothing fetched the second time');

  const lean = freshDir();
  await downloadDataset('cifar10', lean, { baseUrl, checksums, keepArchive: false });
  assert.ok(!fs.existsSync(path.join(lean, 'cifar-10-binary.tar.gz')));
  assert.equal(loadDataset('cifar10', 'train', { dir: lean }).n, 10);
  await downloadDataset('cifar10', lean, { baseUrl, checksums, keepArchive: false });
  assert.equal(requests('cifar').length, hits + 1, 'extracted data counts as downloaded');

  const bad = freshDir();
  await assert.rejects(downloadDataset('cifar10', bad, { baseUrl }), /checksum mismatch for .*cifar-10-binary\.tar\.gz/);
  assert.deepEqual(fs.readdirSync(bad), []);
});
