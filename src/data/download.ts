// Fetching the official dataset archives: resumable, verified, atomic.
//
// Each file goes to <file>.part first. A .part left by an earlier, interrupted
// attempt is continued with an HTTP Range request (a server that ignores the
// range sends the whole file and we start over). When the transfer is
// complete the .part is fsynced and its MD5 checked against the official
// checksum: a match is renamed to <file> (so <file> only ever exists
// complete and verified); a mismatch deletes the .part and is a DataError.
// Dropped connections and 5xx answers are retried, resuming where they broke.
// CIFAR archives are then extracted next to them, one member at a time
// through its own .part, into the folder the readers look in.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import os from 'node:os';
import http from 'node:http';
import https from 'node:https';
import crypto from 'node:crypto';
import { DataError, UserError } from '../util/errors.js';
import { CIFAR_LAYOUT, type CifarVariant } from './cifar.js';
import { scanTar } from './tar.js';

export type DownloadableDataset = 'cifar10' | 'cifar100' | 'mnist' | 'fashion-mnist';

export interface DownloadSource {
  baseUrl: string;
  /** File name -> MD5 (hex). */
  files: Record<string, string>;
  /** CIFAR archives are extracted after download. */
  extract?: CifarVariant;
}

// CIFAR: the MD5s published on the CIFAR page (Krizhevsky). MNIST and
// Fashion-MNIST: the per-file MD5s that torchvision's datasets/mnist.py checks
// (MNIST: its resources list for the original files; Fashion-MNIST: the same
// as the zalandoresearch/fashion-mnist README). The MNIST mirror is the one
// torchvision uses, since the original site refuses automated downloads.
export const DOWNLOADS: Record<DownloadableDataset, DownloadSource> = {
  cifar10: {
    baseUrl: 'https://www.cs.toronto.edu/~kriz/',
    files: { 'cifar-10-binary.tar.gz': 'c32a1d4ab5d03f1284b67883e8d87530' },
    extract: 'cifar10',
  },
  cifar100: {
    baseUrl: 'https://www.cs.toronto.edu/~kriz/',
    files: { 'cifar-100-binary.tar.gz': '03b5dce01913d631647c71ecec9e9cb8' },
    extract: 'cifar100',
  },
  mnist: {
    baseUrl: 'https://ossci-datasets.s3.amazonaws.com/mnist/',
    files: {
      'train-images-idx3-ubyte.gz': 'f68b3c2dcbeaaa9fbdd348bbdeb94873',
      'train-labels-idx1-ubyte.gz': 'd53e105ee54ea40749a09fcbcd1e9432',
      't10k-images-idx3-ubyte.gz': '9fb629c4189551a2d022fa330f9573f3',
      't10k-labels-idx1-ubyte.gz': 'ec29112dd5afa0611ce80d1b7f02629c',
    },
  },
  'fashion-mnist': {
    baseUrl: 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/',
    files: {
      'train-images-idx3-ubyte.gz': '8d4fb7e6c68d591d4c3dfef9ec88bf0d',
      'train-labels-idx1-ubyte.gz': '25c81989df183df01b3e8a0aad5dffbe',
      't10k-images-idx3-ubyte.gz': 'bef4ecab320f06d8554ea6380940ec79',
      't10k-labels-idx1-ubyte.gz': 'bb300cfdad3c16e7a12a480ee83cd310',
    },
  },
};

export interface DownloadProgress { file: string; received: number; total: number | null }

export interface DownloadOptions {
  /** Where the files are fetched from (default: the official location). */
  baseUrl?: string;
  onProgress?: (p: DownloadProgress) => void;
  /** File name -> MD5, overriding the official table (tests serve fixtures that cannot match it). */
  checksums?: Record<string, string>;
  /** Retries after a dropped connection or a 5xx answer, each resuming the .part (default 3). */
  retries?: number;
  /** Idle time after which a stalled connection is dropped (default 60 s). */
  timeoutMs?: number;
  /** Keep the .tar.gz after extracting it (default true, so a second call needs no network). */
  keepArchive?: boolean;
}

/** Where datasets live unless a folder is given: $EQUALBITS_DATA/<name> or ~/.cache/equalbits/<name>. */
export function defaultDataDir(name: string): string {
  return path.join(process.env.EQUALBITS_DATA ?? path.join(os.homedir(), '.cache', 'equalbits'), name);
}

/**
 * Downloads `name` into `dir` (created if needed) and places the files where
 * loadDataset(name, split, { dir }) reads them. Files already there and
 * verified are not fetched again. Returns dir.
 */
export async function downloadDataset(name: DownloadableDataset, dir: string, opts: DownloadOptions = {}): Promise<string> {
  const source = DOWNLOADS[name];
  if (!source) throw new UserError(`downloadDataset: unknown dataset '${name}' (known: ${Object.keys(DOWNLOADS).join(', ')})`);
  const checksums = { ...source.files, ...opts.checksums };
  const base = opts.baseUrl ?? source.baseUrl;
  await fsp.mkdir(dir, { recursive: true });
  for (const file of Object.keys(source.files)) {
    const dest = path.join(dir, file);
    if (source.extract && cifarExtracted(dir, source.extract) && !fs.existsSync(dest)) continue; // extracted earlier, archive dropped
    await downloadFile(new URL(file, base.endsWith('/') ? base : `${base}/`).href, dest, checksums[file], opts);
    if (source.extract) {
      if (!cifarExtracted(dir, source.extract)) extractCifar(dest, dir, source.extract);
      if (opts.keepArchive === false) await fsp.rm(dest, { force: true });
    }
  }
  return dir;
}

/** An error worth another attempt (the connection, not the content, failed). */
class TransientError extends Error {}

/**
 * Fetches url into dest via dest.part (resuming one that exists), verifies the
 * MD5 and renames. A dest that already exists with the right MD5 is kept.
 */
export async function downloadFile(url: string, dest: string, md5: string, opts: DownloadOptions = {}): Promise<void> {
  if (!/^[0-9a-f]{32}$/i.test(md5 ?? '')) throw new UserError(`downloadFile: no valid MD5 given for ${dest}`);
  const expected = md5.toLowerCase();
  if (fs.existsSync(dest)) {
    if (await md5File(dest) === expected) return;
    await fsp.rm(dest, { force: true }); // damaged or stale: fetch it again
  }
  const part = `${dest}.part`;
  const retries = opts.retries ?? 3;
  for (let attempt = 0; ; attempt++) {
    try {
      await fetchInto(url, part, path.basename(dest), opts, 5);
      break;
    } catch (e) {
      if (!(e instanceof TransientError)) throw e;
      if (attempt >= retries) throw new DataError(`download of ${url} failed after ${attempt + 1} attempts: ${e.message} (run again to resume from ${part})`);
      await new Promise((r) => setTimeout(r, Math.min(200 * 2 ** attempt, 5000)));
    }
  }
  const got = await md5File(part);
  if (got !== expected) {
    await fsp.rm(part, { force: true });
    throw new DataError(`checksum mismatch for ${dest}: expected MD5 ${expected}, got ${got} (the download was deleted; run again to fetch it anew)`);
  }
  await fsp.rename(part, dest);
  await fsyncDir(path.dirname(dest));
}

function get(url: string, headers: Record<string, string>, timeoutMs: number): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const lib = url.startsWith('https:') ? https : url.startsWith('http:') ? http : null;
    if (!lib) { reject(new UserError(`download: unsupported URL ${url} (only http and https)`)); return; }
    const req = lib.get(url, { headers }, resolve);
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no data for ${timeoutMs} ms`)));
    req.on('error', (e) => reject(new TransientError(`${url}: ${(e as NodeJS.ErrnoException).code ?? e.message}`)));
  });
}

/** One HTTP attempt: appends to part (Range) or rewrites it; throws TransientError when a retry may help. */
async function fetchInto(url: string, part: string, file: string, opts: DownloadOptions, redirects: number): Promise<void> {
  const have = fs.existsSync(part) ? fs.statSync(part).size : 0;
  // identity: a server-side gzip of a .gz would change the bytes we checksum.
  const headers: Record<string, string> = { 'accept-encoding': 'identity', 'user-agent': 'equalbits' };
  if (have > 0) headers.range = `bytes=${have}-`;
  const res = await get(url, headers, opts.timeoutMs ?? 60_000);
  const status = res.statusCode ?? 0;
  if (status >= 300 && status < 400 && res.headers.location) {
    res.resume();
    if (redirects <= 0) throw new DataError(`download of ${url} failed: too many redirects`);
    return fetchInto(new URL(res.headers.location, url).href, part, file, opts, redirects - 1);
  }
  if (status === 416 && have > 0) {
    res.resume();
    // The .part is at least as long as the file: complete (the checksum will tell) or junk.
    const total = /\/(\d+)$/.exec(res.headers['content-range'] ?? '')?.[1];
    if (total !== undefined && Number(total) === have) return;
    await fsp.rm(part, { force: true });
    throw new TransientError(`${url}: the partial file did not fit the server's copy; starting over`);
  }
  if (status !== 200 && status !== 206) {
    res.resume();
    const msg = `download of ${url} failed: HTTP ${status} ${res.statusMessage ?? ''}`.trim();
    if (status >= 500 || status === 408 || status === 429) throw new TransientError(msg);
    throw new DataError(msg);
  }
  let offset = 0, total: number | null = null;
  if (status === 206) {
    const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(res.headers['content-range'] ?? '');
    if (!m || Number(m[1]) !== have) {
      res.resume();
      await fsp.rm(part, { force: true });
      throw new TransientError(`${url}: the server resumed at the wrong offset (${res.headers['content-range']}); starting over`);
    }
    offset = have;
    total = m[3] === '*' ? null : Number(m[3]);
  } else {
    const len = res.headers['content-length'];
    total = len === undefined ? null : Number(len);
  }
  const length = res.headers['content-length'] === undefined ? null : Number(res.headers['content-length']);
  // Chunks are written synchronously as they arrive: a stream that errors
  // drops whatever it still buffers, and those bytes must not be lost from the .part.
  const fd = fs.openSync(part, offset > 0 ? 'a' : 'w');
  let received = offset, body = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      let ended = false;
      res.on('data', (chunk: Buffer) => {
        try {
          for (let at = 0; at < chunk.length;) at += fs.writeSync(fd, chunk, at);
          received += chunk.length; body += chunk.length;
          opts.onProgress?.({ file, received, total });
        } catch (e) {
          res.destroy();
          reject(e instanceof Error && 'code' in e ? new DataError(`cannot write ${part}: ${(e as NodeJS.ErrnoException).code}`) : e);
        }
      });
      res.on('end', () => { ended = true; resolve(); });
      res.on('error', (e) => reject(new TransientError(`${url}: connection lost after ${received} bytes (${(e as NodeJS.ErrnoException).code ?? e.message})`)));
      res.on('close', () => { if (!ended) reject(new TransientError(`${url}: connection closed after ${received} bytes`)); });
    });
    if (length !== null && body !== length) throw new TransientError(`${url}: connection closed after ${received} bytes`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

export async function md5File(file: string): Promise<string> {
  const hash = crypto.createHash('md5');
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function fsyncDir(dir: string): Promise<void> {
  try {
    const fh = await fsp.open(dir, 'r');
    try { await fh.sync(); } finally { await fh.close(); }
  } catch {
    // Not every platform can fsync a folder; the rename itself is still atomic.
  }
}

function cifarExtracted(dir: string, variant: CifarVariant): boolean {
  const layout = CIFAR_LAYOUT[variant];
  return [...layout.train, ...layout.test].every((f) => fs.existsSync(path.join(dir, layout.folder, f)));
}

/**
 * Extracts the batch files (and the class-names file) of an official CIFAR
 * archive into dir/<cifar-10-batches-bin | cifar-100-binary>/. Only those
 * known names are written, so a crafted archive cannot write elsewhere.
 */
export function extractCifar(archive: string, dir: string, variant: CifarVariant): string {
  const layout = CIFAR_LAYOUT[variant];
  const outDir = path.join(dir, layout.folder);
  fs.mkdirSync(outDir, { recursive: true });
  const wanted = new Set([...layout.train, ...layout.test, layout.namesFile].map((f) => `${layout.folder}/${f}`));
  const open = new Map<string, number>(); // part file -> fd, for cleanup on failure
  const written = new Set<string>();
  try {
    scanTar(archive, (m) => {
      if (!wanted.has(m.path)) return null;
      const target = path.join(outDir, path.basename(m.path));
      const part = `${target}.part`;
      const fd = fs.openSync(part, 'w');
      open.set(part, fd);
      return {
        write: (chunk) => { fs.writeSync(fd, chunk); },
        end: () => {
          fs.fsyncSync(fd); fs.closeSync(fd); open.delete(part);
          fs.renameSync(part, target);
          written.add(path.basename(m.path));
        },
      };
    });
  } finally {
    for (const [part, fd] of open) { fs.closeSync(fd); fs.rmSync(part, { force: true }); }
  }
  for (const f of [...layout.train, ...layout.test]) {
    if (!written.has(f)) throw new DataError(`${archive}: member ${layout.folder}/${f} not found in the archive`);
  }
  try {
    const fd = fs.openSync(outDir, 'r');
    try { fs.fsyncSync(fd); } finally { fs.closeSync(fd); }
  } catch { /* see fsyncDir */ }
  return outDir;
}
