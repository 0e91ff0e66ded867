// Kernels flush denormal floats to zero (native/kernels.h, DenormalsAsZero):
// on the JS thread for the call only, on the pool's threads for good, and not
// at all with EQUALBITS_DENORMALS=1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { kernels, nativeKernels } from '../src/native/index.js';

const native = nativeKernels === null ? 'the native addon is not built' : false;

/** C = A x B with every product 1e-20 x 1e-20 = 1e-40, a denormal; n of them sum to n * 1e-40. */
function tinyProducts(n: number, threads: number): Float32Array {
  const before = kernels.getNumThreads();
  kernels.setNumThreads(threads);
  try {
    const a = new Float32Array(n * n).fill(1e-20), b = new Float32Array(n * n).fill(1e-20), c = new Float32Array(n * n);
    kernels.sgemm(false, false, n, n, n, 1, a, b, 0, c);
    return c;
  } finally {
    kernels.setNumThreads(before);
  }
}

test('denormal products are flushed to zero on the calling thread and on the pool threads', { skip: native }, () => {
  assert.equal(tinyProducts(1, 1)[0], 0, '1e-20 x 1e-20 on one thread');
  // 256 x 256 x 256 is split over the pool; without flushing each entry would be 2.56e-38, a normal float.
  const c = tinyProducts(256, 2);
  assert.ok(c.every((v) => v === 0), `2 threads: max ${Math.max(...c)}`);
});

test('after a kernel call, JavaScript keeps IEEE denormals', { skip: native }, () => {
  tinyProducts(4, 1);
  const smallest = Number.MIN_VALUE; // 5e-324, a denormal double
  assert.equal(smallest * 1, 5e-324);
  assert.ok(Math.fround(1e-40) > 0, 'a denormal float32 survives Math.fround');
  assert.ok(new Float32Array([1e-40])[0] > 0);
});

test('EQUALBITS_DENORMALS=1 keeps denormals in the kernels', { skip: native }, () => {
  const self = fileURLToPath(new URL('../src/native/index.js', import.meta.url));
  const code = `import(${JSON.stringify(self)}).then(({ kernels }) => {
    const c = new Float32Array(1);
    kernels.sgemm(false, false, 1, 1, 1, 1, new Float32Array([1e-20]), new Float32Array([1e-20]), 0, c);
    process.stdout.write(String(c[0]));
  });`;
  const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8', env: { ...process.env, EQUALBITS_DENORMALS: '1' } });
  assert.equal(r.status, 0, r.stderr);
  assert.ok(Number(r.stdout) > 9e-41 && Number(r.stdout) < 1.1e-40, `got ${r.stdout}`);
});
