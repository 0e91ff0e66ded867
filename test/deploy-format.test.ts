// The packed model container: round trip, clear errors for each kind of
// damage, and 10,000 mutated files that must each decode or fail with a
// DataError (never another exception, never a hang).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodePacked, encodePacked, type SectionArray } from '../src/deploy/format.js';
import { crc32 } from '../src/util/crc32.js';
import { DataError } from '../src/util/errors.js';
import { Rng } from './helpers.js';

function sample(): { graph: unknown; sections: Map<string, SectionArray> } {
  const rng = new Rng(5);
  return {
    graph: { model: 'toy', layers: [{ op: 'conv', weights: 'w0' }, { op: 'linear', weights: 'fc' }], classes: 10 },
    sections: new Map<string, SectionArray>([
      ['w0', Uint32Array.from({ length: 37 }, () => rng.int(2 ** 31))],
      ['fc', rng.fillNormal(new Float32Array(101))],
      ['mask', Uint8Array.from({ length: 13 }, (_, i) => i)],
      ['empty', new Float32Array(0)],
    ]),
  };
}

/** Sets the CRC of a (mutated) file so the checks behind it are reached. */
function fixCrc(b: Uint8Array): Uint8Array {
  new DataView(b.buffer, b.byteOffset, b.byteLength).setUint32(b.length - 4, crc32(b.subarray(0, b.length - 4)), true);
  return b;
}

test('crc32 matches the standard check value', () => {
  assert.equal(crc32(new TextEncoder().encode('123456789')), 0xcbf43926);
});

test('packed container: round trip keeps the graph and every section exactly, 64-byte aligned', () => {
  const { graph, sections } = sample();
  const bytes = encodePacked(graph, sections);
  // From a Node Buffer that is a view into a larger pool, as fs.readFileSync gives.
  const pool = Buffer.alloc(bytes.length + 100); pool.set(bytes, 40);
  const back = decodePacked(pool.subarray(40, 40 + bytes.length));
  assert.deepEqual(back.graph, graph);
  assert.deepEqual([...back.sections.keys()], [...sections.keys()]);
  for (const [k, v] of sections) assert.deepEqual(back.sections.get(k), v, k);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + new DataView(bytes.buffer).getUint32(8, true))));
  for (const s of header.sections) assert.equal(s.offset % 64, 0, `${s.name} aligned`);
});

test('packed container: each kind of damage is a one-line DataError naming the file', () => {
  const good = encodePacked(sample().graph, sample().sections);
  const cases: [string, Uint8Array, RegExp][] = [
    ['magic', (() => { const b = good.slice(); b[0] = 0x58; return b; })(), /bad magic/],
    ['version', fixCrc((() => { const b = good.slice(); b[4] = 9; return b; })()), /version 9/],
    ['truncated', good.slice(0, good.length - 10), /checksum/],
    ['flipped byte', (() => { const b = good.slice(); b[200] ^= 1; return b; })(), /checksum/],
    ['header length', fixCrc((() => { const b = good.slice(); new DataView(b.buffer).setUint32(8, 0x7fffffff, true); return b; })()), /header runs past/],
    ['empty', new Uint8Array(0), /bad magic/],
  ];
  for (const [what, bytes, re] of cases) {
    assert.throws(() => decodePacked(bytes, 'm.ebnn'), (e: unknown) => e instanceof DataError && re.test(e.message) && e.message.startsWith('m.ebnn: ') && !e.message.includes('\n'), what);
  }
});

test('fuzzing: 10,000 mutated files each decode or fail with a DataError, quickly', () => {
  const { graph, sections } = sample();
  const good = encodePacked(graph, sections);
  const headerLen = new DataView(good.buffer).getUint32(8, true);
  const rng = new Rng(99);
  let valid = 0, rejected = 0;
  const t0 = performance.now();
  for (let i = 0; i < 10000; i++) {
    let b: Uint8Array;
    const kind = i % 5;
    if (kind === 0) {
      b = good.slice(0, rng.int(good.length + 1)); // truncated
    } else if (kind === 1 || kind === 2) {
      b = good.slice();
      for (let f = 1 + rng.int(8); f > 0; f--) b[rng.int(b.length)] = rng.int(256);
      if (kind === 2) fixCrc(b); // past the checksum: the structural checks must hold
    } else if (kind === 3) {
      // Header text edited (bytes replaced inside the JSON), lengths kept, CRC fixed.
      b = good.slice();
      for (let f = 1 + rng.int(4); f > 0; f--) b[16 + rng.int(headerLen)] = ' {}[]",:0123456789-ae'.charCodeAt(rng.int(21));
      fixCrc(b);
    } else {
      b = Uint8Array.from({ length: rng.int(400) }, () => rng.int(256)); // noise
      if (b.length >= 4) b.set([0x45, 0x42, 0x4e, 0x4e], 0);
      if (b.length >= 20) fixCrc(b);
    }
    try {
      const r = decodePacked(b, 'fuzz');
      assert.ok(r.sections instanceof Map);
      valid++;
    } catch (e) {
      if (!(e instanceof DataError)) throw new Error(`mutation ${i} (kind ${kind}) threw ${(e as Error).name}: ${(e as Error).message}`);
      rejected++;
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  assert.equal(valid + rejected, 10000);
  assert.ok(rejected > 9000, `most mutations are rejected (${rejected})`);
  assert.ok(seconds < 60, `no hang: ${seconds.toFixed(1)} s for 10,000 files`);
});
