// The packed model container (.ebnn), version 1. Documented in docs/format.md.
//
//   bytes 0..3    "EBNN"
//   bytes 4..7    format version (uint32 LE)
//   bytes 8..11   header length H in bytes (uint32 LE)
//   bytes 12..15  0 (reserved)
//   16..16+H      header: UTF-8 JSON {format, version, graph, sections: [{name, type, offset, length}]}
//   sections      raw little-endian arrays, each at a 64-byte aligned file offset
//   last 4 bytes  CRC-32 of everything before them
//
// The reader trusts nothing: every size and offset is checked before use,
// and any damage is a DataError that names the file, so a corrupt or hostile
// file gives one clear message, never a crash or a hang. Browser-safe: no
// Node imports.
import { crc32 } from '../util/crc32.js';
import { DataError } from '../util/errors.js';

export const PACKED_MAGIC = 'EBNN';
export const PACKED_VERSION = 1;
export const PACKED_FORMAT = 'equalbits-packed';
const ALIGN = 64;
const PREFIX = 16;
/** Far above any real header; stops a hostile length from allocating gigabytes. */
const MAX_HEADER = 64 << 20;

export type SectionArray = Float32Array | Uint32Array | Uint8Array;
export type SectionType = 'f32' | 'u32' | 'u8';
export interface SectionInfo { name: string; type: SectionType; offset: number; length: number }

export interface PackedFile {
  /** The model description (graph, input, classes): checked by the engine, opaque here. */
  graph: unknown;
  sections: Map<string, SectionArray>;
}

const BYTES: Record<SectionType, number> = { f32: 4, u32: 4, u8: 1 };
const align = (n: number) => Math.ceil(n / ALIGN) * ALIGN;

function typeOf(a: SectionArray): SectionType {
  if (a instanceof Float32Array) return 'f32';
  if (a instanceof Uint32Array) return 'u32';
  return 'u8';
}

export function encodePacked(graph: unknown, sections: Map<string, SectionArray>): Uint8Array {
  const infos: SectionInfo[] = [];
  let rel = 0;
  for (const [name, a] of sections) {
    infos.push({ name, type: typeOf(a), offset: rel, length: a.length });
    rel = align(rel + a.byteLength);
  }
  const headerOf = (base: number) => new TextEncoder().encode(JSON.stringify({
    format: PACKED_FORMAT, version: PACKED_VERSION, graph, sections: infos.map((s) => ({ ...s, offset: s.offset + base })),
  }));
  // Section offsets are absolute, so the header's length depends on them:
  // grow the assumed data start until the header fits before it.
  let base = align(PREFIX + headerOf(0).length), header = headerOf(base);
  while (PREFIX + header.length > base) { base = align(PREFIX + header.length); header = headerOf(base); }
  const out = new Uint8Array(base + rel + 4);
  const view = new DataView(out.buffer);
  out.set(new TextEncoder().encode(PACKED_MAGIC), 0);
  view.setUint32(4, PACKED_VERSION, true);
  view.setUint32(8, header.length, true);
  out.set(header, PREFIX);
  for (const [i, a] of [...sections.values()].entries()) out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), base + infos[i].offset);
  view.setUint32(out.length - 4, crc32(out.subarray(0, out.length - 4)), true);
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parses and checks a packed file; the sections are copied into fresh, aligned arrays. */
export function decodePacked(bytes: Uint8Array, name = 'model'): PackedFile {
  const bad = (why: string) => new DataError(`${name}: ${why}`);
  if (bytes.length < PREFIX + 4 || String.fromCharCode(...bytes.subarray(0, 4)) !== PACKED_MAGIC) throw bad('not an equalbits packed model (bad magic)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(4, true);
  if (version !== PACKED_VERSION) throw bad(`packed format version ${version} is not supported (expected ${PACKED_VERSION})`);
  if (crc32(bytes.subarray(0, bytes.length - 4)) !== view.getUint32(bytes.length - 4, true)) throw bad('checksum mismatch (truncated or corrupt file)');
  const headerLen = view.getUint32(8, true);
  const end = bytes.length - 4;
  if (headerLen > MAX_HEADER || PREFIX + headerLen > end) throw bad('header runs past the end of the file');
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(PREFIX, PREFIX + headerLen)));
  } catch (e) {
    throw bad(`corrupt header (${(e as Error).message})`);
  }
  if (!isObject(header) || header.format !== PACKED_FORMAT || header.version !== PACKED_VERSION) throw bad(`header is not a ${PACKED_FORMAT} v${PACKED_VERSION} header`);
  if (!Array.isArray(header.sections)) throw bad('header has no section table');
  const sections = new Map<string, SectionArray>();
  const dataStart = align(PREFIX + headerLen);
  let prevEnd = dataStart;
  for (const s of header.sections as unknown[]) {
    if (!isObject(s) || typeof s.name !== 'string' || !s.name || typeof s.type !== 'string' || !(s.type in BYTES)) throw bad('bad section entry');
    const { offset, length } = s as { offset: unknown; length: unknown };
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || (offset as number) < 0 || (length as number) < 0) throw bad(`section "${s.name}": bad offset or length`);
    const bytesLen = (length as number) * BYTES[s.type as SectionType], at = offset as number;
    // In order, aligned, not overlapping, inside the file.
    if (at % ALIGN !== 0 || at < prevEnd || at + bytesLen > end) throw bad(`section "${s.name}" lies outside the data area or overlaps another`);
    if (sections.has(s.name)) throw bad(`section "${s.name}" appears twice`);
    // A copy (Buffer.slice would be a view): aligned, and independent of the input buffer.
    const raw = new Uint8Array(bytesLen);
    raw.set(bytes.subarray(at, at + bytesLen));
    sections.set(s.name, s.type === 'f32' ? new Float32Array(raw.buffer) : s.type === 'u32' ? new Uint32Array(raw.buffer) : raw);
    prevEnd = at + bytesLen;
  }
  return { graph: header.graph, sections };
}
