// The BLAS kernel set: OpenBLAS must run its AVX2 / AVX-512 kernels on a CPU
// that has them, even one whose model it does not know (src/native/blas-core.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blasCoreFor, chooseBlasCore, cpuFlags, SKYLAKEX_FLAGS } from '../src/native/blas-core.js';
import { kernels, nativeKernels } from '../src/native/index.js';

test('blasCoreFor forces SkylakeX only where every AVX-512 subset it needs is present', () => {
  const avx2 = ['sse3', 'avx', 'avx2', 'fma'];
  assert.equal(blasCoreFor(new Set([...avx2, ...SKYLAKEX_FLAGS])), 'SkylakeX');
  assert.equal(blasCoreFor(new Set([...avx2, ...SKYLAKEX_FLAGS, 'avx512_bf16', 'avx512_fp16'])), 'SkylakeX');
  assert.equal(blasCoreFor(new Set(avx2)), undefined, 'AVX2 only: OpenBLAS chooses');
  assert.equal(blasCoreFor(new Set([...avx2, 'avx512f', 'avx512cd'])), undefined, 'Xeon Phi style AVX-512 without BW/DQ/VL');
  assert.equal(blasCoreFor(new Set()), undefined);
});

test('chooseBlasCore leaves a value the user set alone', () => {
  const env: NodeJS.ProcessEnv = { OPENBLAS_CORETYPE: 'Haswell' };
  assert.equal(chooseBlasCore(env), undefined);
  assert.equal(env.OPENBLAS_CORETYPE, 'Haswell');
  const fresh: NodeJS.ProcessEnv = {};
  const set = chooseBlasCore(fresh);
  assert.equal(fresh.OPENBLAS_CORETYPE, set, 'what it returns is what it set');
});

test('the loaded OpenBLAS runs kernels that use the CPU it runs on', { skip: nativeKernels === null ? 'the native addon is not built' : false }, () => {
  const flags = cpuFlags(), core = kernels.blasCore().toLowerCase();
  // Kernel sets built for AVX2 + FMA or better; any other on such a CPU leaves sgemm several times slower.
  const avx2Cores = ['haswell', 'zen', 'excavator', 'skylakex', 'cooperlake', 'sapphirerapids'];
  if (flags.has('avx2') && flags.has('fma')) assert.ok(avx2Cores.includes(core), `OpenBLAS chose ${core} on a CPU with AVX2 and FMA`);
  if (blasCoreFor(flags) !== undefined && process.env.OPENBLAS_CORETYPE === 'SkylakeX') {
    assert.ok(['skylakex', 'cooperlake', 'sapphirerapids'].includes(core), `OpenBLAS chose ${core} on a CPU with AVX-512`);
  }
});
