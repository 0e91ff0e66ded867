// Reading members out of a (gzipped) tar archive with node-tar's streaming
// Parser. The parser is fed synchronously, so entry data arrives inside
// write() and the whole read is synchronous. strict mode turns node-tar's
// warnings (truncated input, bad headers, corrupt gzip) into errors, which
// are rethrown as DataErrors naming the archive.
import fs from 'node:fs';
import { Parser, type ReadEntry } from 'tar';
import { DataError } from '../util/errors.js';

export interface TarMember { path: string; size: number }

/** Receives one member's bytes chunk by chunk, then end() once all have arrived. */
export interface TarSink { write(chunk: Buffer): void; end(): void }

const CHUNK = 4 << 20;

/**
 * Streams every regular file of `file` past `pick`, which returns a sink for
 * the members it wants and null for the rest. Any damage is a DataError.
 */
export function scanTar(file: string, pick: (m: TarMember) => TarSink | null): void {
  let failure: unknown = null;
  const fail = (e: unknown) => { failure ??= e; };
  const parser = new Parser({
    strict: true,
    onReadEntry: (entry: ReadEntry) => {
      const sink = entry.type === 'File' || entry.type === 'OldFile' ? pick({ path: entry.path, size: entry.size }) : null;
      if (!sink) { entry.resume(); return; }
      let got = 0;
      entry.on('data', (chunk: Buffer) => {
        got += chunk.length;
        try { sink.write(chunk); } catch (e) { fail(e); }
      });
      entry.on('end', () => {
        if (got !== entry.size) { fail(new Error(`member ${entry.path} is truncated (${got} of ${entry.size} bytes)`)); return; }
        try { sink.end(); } catch (e) { fail(e); }
      });
    },
  });
  parser.on('error', fail);
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    throw new DataError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    for (;;) {
      const got = fs.readSync(fd, buf, 0, CHUNK, null);
      if (got === 0) break;
      // The parser may keep a reference to the chunk, so each one gets its own copy.
      parser.write(Buffer.from(buf.subarray(0, got)));
      if (failure) break;
    }
    if (!failure) parser.end();
  } catch (e) {
    fail(e);
  } finally {
    fs.closeSync(fd);
  }
  if (failure) {
    if (failure instanceof DataError) throw failure;
    throw new DataError(`${file}: corrupt or truncated archive (${(failure as Error).message ?? failure})`);
  }
}

/** Reads the named members (archive paths) into memory; a missing one is a DataError naming it. */
export function readTarMembers(file: string, wanted: readonly string[]): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  scanTar(file, (m) => {
    if (!wanted.includes(m.path) || out.has(m.path)) return null;
    const buf = Buffer.allocUnsafe(m.size);
    let at = 0;
    return {
      write: (chunk) => { chunk.copy(buf, at); at += chunk.length; },
      end: () => { out.set(m.path, buf); },
    };
  });
  for (const w of wanted) if (!out.has(w)) throw new DataError(`${file}: member ${w} not found in the archive`);
  return out;
}
