// Checkpoint container and training config: round trips, damage detection,
// atomic writes, precedence and validation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { encodeCheckpoint, decodeCheckpoint, saveCheckpoint, loadCheckpoint } from '../src/train/checkpoint.js';
import { resolveConfig, defaultConfig, recipe } from '../src/train/config.js';
import { DataError, UserError } from '../src/util/errors.js';

const state = () => ({
  epoch: 3, name: 'x', nested: { a: Float32Array.from([1, -2.5, NaN]), list: [Float32Array.from([7]), 2, 'z'] },
  big: new Float32Array(1000).map((_, i) => i / 7), inf: Infinity, nan: NaN, empty: new Float32Array(0),
  codes: Int8Array.from([1, -1, 0, -1, 1]), moreCodes: new Int8Array(77).map((_, i) => (i % 3) - 1),
});

test('checkpoint round trip keeps every value and array', () => {
  const back = decodeCheckpoint<ReturnType<typeof state>>(encodeCheckpoint(state()));
  assert.equal(back.epoch, 3);
  assert.ok(back.nested.a instanceof Float32Array);
  assert.deepEqual([...back.nested.a], [1, -2.5, NaN]);
  assert.deepEqual([...(back.nested.list[0] as Float32Array)], [7]);
  assert.deepEqual([...back.big], [...state().big]);
  assert.equal(back.inf, Infinity);
  assert.ok(Number.isNaN(back.nan));
  assert.equal(back.empty.length, 0);
  assert.ok(back.codes instanceof Int8Array);
  assert.deepEqual([...back.codes], [1, -1, 0, -1, 1]);
  assert.deepEqual([...back.moreCodes], [...state().moreCodes]);
  // The float array after an odd-length int8 one is still aligned and intact.
  const mixed = decodeCheckpoint<{ a: Int8Array; b: Float32Array }>(encodeCheckpoint({ a: new Int8Array(3).fill(-1), b: Float32Array.from([0.5, 2]) }));
  assert.deepEqual([[...mixed.a], [...mixed.b]], [[-1, -1, -1], [0.5, 2]]);
});

test('a damaged checkpoint is a DataError, never garbage', () => {
  const bytes = encodeCheckpoint(state());
  const cases: [string, Uint8Array][] = [
    ['truncated', bytes.subarray(0, bytes.length - 100)],
    ['empty', new Uint8Array(0)],
    ['bad magic', Uint8Array.from(bytes, (b, i) => (i === 0 ? 0x58 : b))],
    ['flipped data byte', Uint8Array.from(bytes, (b, i) => (i === bytes.length - 200 ? b ^ 1 : b))],
    ['flipped header byte', Uint8Array.from(bytes, (b, i) => (i === 20 ? b ^ 4 : b))],
  ];
  for (const [what, b] of cases) {
    assert.throws(() => decodeCheckpoint(b, 'ck.ebck'), (e: unknown) => e instanceof DataError && /ck\.ebck/.test(e.message), what);
  }
});

test('saveCheckpoint writes atomically and loadCheckpoint names a missing file', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ebck-'));
  const file = path.join(dir, 'sub', 'c.ebck');
  saveCheckpoint(file, { v: 1 });
  saveCheckpoint(file, { v: 2 });
  assert.deepEqual(loadCheckpoint(file), { v: 2 });
  assert.deepEqual(fs.readdirSync(path.dirname(file)), ['c.ebck'], 'no temp files left behind');
  assert.throws(() => loadCheckpoint(path.join(dir, 'nope.ebck')), (e: unknown) => e instanceof DataError && /nope\.ebck/.test(e.message));
  fs.rmSync(dir, { recursive: true });
});

test('config: flags override the file, which overrides the recipe; bad values are one-line errors', () => {
  const c = resolveConfig(defaultConfig, recipe('shallow-cifar10'), { epochs: 7, model: 'conv4' }, { epochs: 3 });
  assert.equal(c.epochs, 3);
  assert.equal(c.model, 'conv4');
  assert.equal(c.lr, 0.1);
  assert.equal(c.weightDecay, 1e-4);
  assert.equal(c.dataset, 'cifar10');
  assert.equal(resolveConfig(defaultConfig, recipe('cifar100-350')).milestones.join(), '150,250,320');
  const adam = resolveConfig(defaultConfig, recipe('resnet20-adam'));
  assert.deepEqual([adam.model, adam.optimizer, adam.lr, adam.weightDecay, adam.epochs, adam.weights, adam.activations],
    ['resnet20', 'adam', 0.01, 0, 100, 'bihalf', 'ste_sign']);
  assert.throws(() => resolveConfig(defaultConfig, { epochs: -1 }), (e: unknown) => e instanceof UserError && /epochs/.test(e.message));
  assert.throws(() => resolveConfig(defaultConfig, { dataset: 'imagenet' }), (e: unknown) => e instanceof UserError && /dataset/.test(e.message));
  assert.throws(() => resolveConfig(defaultConfig, { epohcs: 3 }), (e: unknown) => e instanceof UserError && /epohcs/.test(e.message));
  assert.throws(() => recipe('nope'), UserError);
});
