// ebnn bench-infer model.ebnn: latency at batch 1 and throughput at a larger
// batch for each packed engine (native, wasm, js), next to the float
// training-engine forward of the same network, and the binary MAC/s of the
// binary layers. Medians of timed runs; npm run bench reuses benchInfer.
import fs from 'node:fs';
import type { Command } from 'commander';
import { PackedModel } from '../../deploy/engine.js';
import { packedBackend, PACKED_BACKENDS } from '../../deploy/node-backends.js';
import { median, opTimes, timeCalls } from '../../deploy/profile.js';
import { createModel } from '../../models/index.js';
import { Tensor, noGrad, tidy } from '../../autograd/index.js';
import { kernels } from '../../native/index.js';
import { UserError } from '../../util/errors.js';
import { integer } from '../options.js';

export interface EngineTiming { engine: string; latencyMs: number; latencyRuns: number; imagesPerSecond: number; throughputRuns: number }
export interface BenchInferResult {
  model: string;
  batch: number;
  threads: number;
  engines: EngineTiming[];
  /** Binary layers on the native engine at batch 1: MACs, milliseconds, and GBMAC/s. */
  binary: { macs: number; ms: number; gbmacs: number; layers: number } | null;
}

export interface BenchInferOptions {
  engines: string[]; runs: number; batch: number; threads: number; budgetMs: number; float: boolean;
  /** Threads of the wasm engine when not `threads` (1: the single-threaded module). */
  wasmThreads?: number;
}

// Runs fn for a quarter of a second (at least 3 calls, at most 2 s) before
// timing: V8 compiles WebAssembly with its baseline compiler first and tiers
// hot functions up in background threads, which on two cores compete with the
// engine's own threads, so a single warm-up call could time baseline code.
function warmUp(fn: () => void): void {
  const t0 = performance.now();
  for (let calls = 0; ; calls++) {
    const elapsed = performance.now() - t0;
    if ((calls >= 3 && elapsed >= 250) || elapsed >= 2000) return;
    fn();
  }
}

export function benchInfer(bytes: Uint8Array, name: string, o: BenchInferOptions): BenchInferResult {
  kernels.setNumThreads(o.threads);
  const probe = PackedModel.load(bytes, packedBackend('js'), name);
  const shape = probe.inputShape, per = shape[0] * shape[1] * shape[2];
  const x = new Float32Array(Math.max(1, o.batch) * per).map((_, i) => Math.sin(0.37 * i));
  const engines: EngineTiming[] = [];
  const time = (engine: string, run: (n: number) => void) => {
    warmUp(() => run(1));
    const lat = timeCalls(() => run(1), o.runs, o.budgetMs);
    // batch 0: latency only.
    const thr = o.batch > 0 ? timeCalls(() => run(o.batch), Math.max(1, Math.ceil(o.runs / 4)), o.budgetMs) : [];
    engines.push({ engine, latencyMs: +median(lat).toFixed(4), latencyRuns: lat.length, imagesPerSecond: thr.length ? +(o.batch / (median(thr) / 1000)).toFixed(1) : 0, throughputRuns: thr.length });
  };
  let binary: BenchInferResult['binary'] = null;
  for (const e of o.engines) {
    const m = PackedModel.load(bytes, packedBackend(e, e === 'wasm' ? o.wasmThreads ?? o.threads : o.threads), name);
    time(`packed-${e}`, (n) => m.run(x.subarray(0, n * per), n));
    if (e === 'native') {
      const ops = opTimes(m, 1, o.runs).filter((t) => t.binaryMacs > 0);
      const macs = ops.reduce((s, t) => s + t.binaryMacs, 0), ms = ops.reduce((s, t) => s + t.ms, 0);
      if (ops.length) binary = { macs, ms: +ms.toFixed(4), gbmacs: +(macs / ms / 1e6).toFixed(1), layers: ops.length };
    }
    // The threaded wasm backend's workers end here, not in the next engine's timing.
    m.backend.close?.();
  }
  const meta = probe.graph.model as { name?: string; options?: Record<string, unknown> } | undefined;
  if (o.float && meta?.name) {
    // The float forward of the training engine: the same network from the zoo (weights do not change its speed).
    const model = createModel(meta.name, meta.options ?? {});
    model.eval();
    time('float', (n) => tidy(() => { noGrad(() => model.forward(new Tensor(x.subarray(0, n * per), [n, ...shape]))); }));
  }
  return { model: meta?.name ?? name, batch: o.batch, threads: o.threads, engines, binary };
}

export function registerBenchInfer(program: Command): void {
  program
    .command('bench-infer')
    .argument('<model>', 'a packed model (.ebnn) from ebnn export')
    .description('latency (batch 1) and throughput of the packed engines next to the float training forward')
    .option('--engines <list>', `packed engines to time: ${PACKED_BACKENDS.join(',')}`, PACKED_BACKENDS.join(','))
    .option('--runs <n>', 'timed runs per measurement (median)', integer, 20)
    .option('--batch <n>', 'batch size of the throughput measurement', integer, 64)
    .option('--threads <n>', 'threads of the native and wasm engines and the float forward', integer, 2)
    .option('--budget <seconds>', 'stop a measurement after this long (at least one run)', Number, 10)
    .option('--no-float', 'skip the float training-engine forward')
    .option('--json', 'print one JSON object')
    .action((file: string, flags: { engines: string; runs: number; batch: number; threads: number; budget: number; float: boolean; json?: boolean }) => {
      const engines = flags.engines.split(',').filter(Boolean);
      for (const e of engines) if (!(PACKED_BACKENDS as readonly string[]).includes(e)) throw new UserError(`--engines: unknown engine "${e}" (use ${PACKED_BACKENDS.join(', ')})`);
      for (const [k, v] of [['runs', flags.runs], ['batch', flags.batch], ['threads', flags.threads], ['budget', flags.budget]] as const) {
        if (!(v > 0)) throw new UserError(`--${k} must be positive, got ${v}`);
      }
      let bytes: Uint8Array;
      try { bytes = fs.readFileSync(file); } catch (e) { throw new UserError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`); }
      const r = benchInfer(bytes, file, { engines, runs: flags.runs, batch: flags.batch, threads: flags.threads, budgetMs: 1000 * flags.budget, float: flags.float });
      if (flags.json) { console.log(JSON.stringify(r)); return; }
      console.log(`${r.model}: ${r.threads} threads; latency at batch 1, throughput at batch ${r.batch} (medians)`);
      const float = r.engines.find((e) => e.engine === 'float');
      for (const e of r.engines) {
        const vs = float && e !== float ? `  (${(float.latencyMs / e.latencyMs).toFixed(1)}x faster than float)` : '';
        console.log(`  ${e.engine.padEnd(15)} ${e.latencyMs.toFixed(3).padStart(10)} ms   ${e.imagesPerSecond.toFixed(1).padStart(9)} img/s${vs}`);
      }
      if (r.binary) console.log(`  binary layers (native, batch 1): ${r.binary.layers} layers, ${(r.binary.macs / 1e6).toFixed(1)} M binary MACs in ${r.binary.ms.toFixed(3)} ms = ${r.binary.gbmacs} GBMAC/s`);
    });
}
