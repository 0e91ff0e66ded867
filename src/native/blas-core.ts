// OpenBLAS picks its kernels from the CPU's vendor, family and model. A model
// it does not know gets the generic SSE3 "Prescott" kernels: Debian 12's
// OpenBLAS 0.3.21 does not know Intel's family 6 model 207 (Emerald Rapids,
// the project's VMs in late 2026), and its sgemm there ran at 33 GFLOP/s on
// one core against 125-137 with the AVX-512 kernels; conv2's training step
// took 194 ms instead of 120 (docs/results.md, CIFAR-10 ratio study). What
// the CPU can run is in its feature flags, so where it has the AVX-512 subsets
// that OpenBLAS's SkylakeX kernels need, we name them in OPENBLAS_CORETYPE
// before the addon (and OpenBLAS with it) loads. Later OpenBLAS releases use
// these same kernels for the AVX-512 CPUs they know (Skylake-X to Sapphire
// Rapids, AMD Zen 4). A value the user set is left alone.
import fs from 'node:fs';

/** The AVX-512 subsets OpenBLAS's SkylakeX kernels are built for. */
export const SKYLAKEX_FLAGS = ['avx512f', 'avx512cd', 'avx512bw', 'avx512dq', 'avx512vl'] as const;

/** The OpenBLAS core to force for a CPU with these /proc/cpuinfo flags, or undefined to let OpenBLAS choose. */
export function blasCoreFor(cpuFlags: ReadonlySet<string>): string | undefined {
  return SKYLAKEX_FLAGS.every((f) => cpuFlags.has(f)) ? 'SkylakeX' : undefined;
}

/** The CPU's feature flags from /proc/cpuinfo (Linux); an empty set where it cannot be read. */
export function cpuFlags(): Set<string> {
  try {
    const line = fs.readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('flags'));
    return new Set(line ? line.slice(line.indexOf(':') + 1).trim().split(/\s+/) : []);
  } catch {
    return new Set();
  }
}

/** Sets OPENBLAS_CORETYPE for this CPU unless it is set already; returns the value it set, if any. */
export function chooseBlasCore(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.OPENBLAS_CORETYPE !== undefined) return undefined;
  const core = blasCoreFor(cpuFlags());
  if (core !== undefined) env.OPENBLAS_CORETYPE = core;
  return core;
}
