// Checkpoint files: a small self-describing container for any JSON-like
// state whose large arrays are Float32Arrays (weights, optimizer moments) or
// Int8Arrays (the codes that flips are counted from).
//
//   bytes 0..3   "EBCK"
//   bytes 4..7   format version (uint32 LE)
//   bytes 8..11  header length in bytes (uint32 LE)
//   bytes 12..15 reserved (0)
//   header       UTF-8 JSON; every Float32Array is replaced by {"$f32": [offset, length]},
//                every Int8Array by {"$i8": [offset, length]}
//   blobs        raw little-endian float32 / int8 data, each 64-byte aligned
//   last 4 bytes CRC-32 of everything before them
//
// Writes are atomic (temp file, fsync, rename, fsync of the folder), so a
// crash or Ctrl-C never leaves a half-written checkpoint behind.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { DataError } from '../util/errors.js';

const MAGIC = 'EBCK';
const VERSION = 1;
const ALIGN = 64;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json } | Float32Array | Int8Array;

const align = (n: number) => Math.ceil(n / ALIGN) * ALIGN;

/** Serialises state (plain JSON values, Float32Arrays and Int8Arrays) to bytes. */
export function encodeCheckpoint(state: unknown): Buffer {
  const blobs: (Float32Array | Int8Array)[] = [];
  let offset = 0;
  const header = JSON.stringify(state, (_k, v: Json) => {
    if (v instanceof Float32Array || v instanceof Int8Array) {
      blobs.push(v);
      const at = offset;
      offset = align(offset + v.byteLength);
      return v instanceof Float32Array ? { $f32: [at, v.length] } : { $i8: [at, v.length] };
    }
    if (typeof v === 'number' && !Number.isFinite(v)) return { $num: String(v) }; // JSON has no NaN/Infinity
    return v;
  });
  const headerBytes = Buffer.from(header, 'utf8');
  const dataStart = align(16 + headerBytes.length);
  const out = Buffer.alloc(dataStart + offset + 4);
  out.write(MAGIC, 0, 'latin1');
  out.writeUInt32LE(VERSION, 4);
  out.writeUInt32LE(headerBytes.length, 8);
  headerBytes.copy(out, 16);
  let at = dataStart;
  for (const b of blobs) {
    Buffer.from(b.buffer, b.byteOffset, b.byteLength).copy(out, at);
    at = align(at + b.byteLength);
  }
  out.writeUInt32LE(zlib.crc32(out.subarray(0, out.length - 4)) >>> 0, out.length - 4);
  return out;
}

/** Parses bytes made by encodeCheckpoint; any damage is a DataError naming `name`. */
export function decodeCheckpoint<T = unknown>(bytes: Uint8Array, name = 'checkpoint'): T {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 20 || buf.toString('latin1', 0, 4) !== MAGIC) throw new DataError(`${name}: not an equalbits checkpoint (bad magic)`);
  const version = buf.readUInt32LE(4);
  if (version !== VERSION) throw new DataError(`${name}: checkpoint format version ${version} is not supported (expected ${VERSION})`);
  const stored = buf.readUInt32LE(buf.length - 4);
  if ((zlib.crc32(buf.subarray(0, buf.length - 4)) >>> 0) !== stored) throw new DataError(`${name}: checksum mismatch (truncated or corrupt file)`);
  const headerLen = buf.readUInt32LE(8);
  if (16 + headerLen > buf.length - 4) throw new DataError(`${name}: header runs past the end of the file`);
  const dataStart = align(16 + headerLen);
  const dataEnd = buf.length - 4;
  try {
    return JSON.parse(buf.toString('utf8', 16, 16 + headerLen), (_k, v: unknown) => {
      if (v && typeof v === 'object' && '$num' in v) return Number((v as { $num: string }).$num);
      if (!v || typeof v !== 'object' || !('$f32' in v || '$i8' in v)) return v;
      const f32 = '$f32' in v;
      const [off, len] = f32 ? (v as { $f32: [number, number] }).$f32 : (v as { $i8: [number, number] }).$i8;
      const bytes = f32 ? 4 * len : len;
      const start = dataStart + off;
      if (!Number.isInteger(off) || !Number.isInteger(len) || off < 0 || len < 0 || start + bytes > dataEnd) {
        throw new DataError(`${name}: array reference out of bounds`);
      }
      const arr = f32 ? new Float32Array(len) : new Int8Array(len);
      Buffer.from(arr.buffer).set(buf.subarray(start, start + bytes));
      return arr;
    }) as T;
  } catch (e) {
    if (e instanceof DataError) throw e;
    throw new DataError(`${name}: corrupt header (${(e as Error).message})`);
  }
}

/** Writes bytes to file atomically: temp file in the same folder, fsync, rename, fsync the folder. */
export function writeFileAtomic(file: string, bytes: Uint8Array): void {
  const dir = path.dirname(path.resolve(file));
  fs.mkdirSync(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.tmp`);
  const fd = fs.openSync(tmp, 'w');
  try {
    let off = 0;
    while (off < bytes.length) off += fs.writeSync(fd, bytes, off, bytes.length - off);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  const dfd = fs.openSync(dir, 'r');
  try { fs.fsyncSync(dfd); } finally { fs.closeSync(dfd); }
}

export function saveCheckpoint(file: string, state: unknown): void {
  writeFileAtomic(file, encodeCheckpoint(state));
}

export function loadCheckpoint<T = unknown>(file: string): T {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw new DataError(`cannot read checkpoint ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return decodeCheckpoint<T>(bytes, file);
}
