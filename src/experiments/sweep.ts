// A sweep: a list of training runs that differ in a few settings (bit
// ratio, quantizer, model, seed), run one after another into
// <out>/<run name>/. It is resumable by construction: rerunning the same
// command skips finished runs and resumes an interrupted one from its
// checkpoint, so a long study survives a crash or a cut-off session. A run
// whose loss becomes NaN or Inf is marked diverged (diverged.json beside its
// checkpoint) and the sweep goes on with the next: one unstable setting must
// not cost the rest of a study that runs unattended for hours.
import fs from 'node:fs';
import path from 'node:path';
import { defaultConfig, resolveConfig, type TrainConfig } from '../train/config.js';
import { writeFileAtomic } from '../train/checkpoint.js';
import { train, CHECKPOINT_FILE, METRICS_FILE, type EpochMetrics, type TrainHooks } from '../train/trainer.js';
import { NumericError } from '../util/errors.js';

/** Written into a run's folder when its training diverged; delete it to try the run again. */
export const DIVERGED_FILE = 'diverged.json';

export interface SweepRun {
  /** Folder name under the sweep's out dir (unique). */
  name: string;
  /** Series the run belongs to in tables and plots ("bihalf", "sign", "conv4 irnet"). */
  label: string;
  /** Position on the x axis of the study (bit ratio, prune rate), if any. */
  x?: number;
  seed: number;
  config: Partial<TrainConfig>;
}

export interface SweepSpec {
  /** What the sweep studies, e.g. "ratio"; stored in sweep.json for the report. */
  study: string;
  title: string;
  /** Name of the x axis when runs have an x. */
  xLabel?: string;
  base: Partial<TrainConfig>;
  runs: SweepRun[];
}

export interface RunResult {
  name: string; label: string; x?: number; seed: number;
  epochs: number; epochsDone: number;
  finalTop1: number | null; bestTop1: number | null;
  seconds: number;
  metrics: EpochMetrics[];
  /** Why the run stopped early, if its loss became NaN or Inf. */
  diverged?: string;
}

function divergedMessage(dir: string): string | undefined {
  const file = path.join(dir, DIVERGED_FILE);
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as { message: string }).message : undefined;
}

/** The epochs logged so far by a run (an empty list for a run not started). */
export function readMetrics(dir: string): EpochMetrics[] {
  const file = path.join(dir, METRICS_FILE);
  if (!fs.existsSync(file)) return [];
  return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as EpochMetrics);
}

export function runConfig(spec: SweepSpec, run: SweepRun, out: string): TrainConfig {
  return resolveConfig(defaultConfig, spec.base, run.config, { seed: run.seed, out: path.join(out, run.name) });
}

export function runResult(spec: SweepSpec, run: SweepRun, out: string): RunResult {
  const c = runConfig(spec, run, out);
  const metrics = readMetrics(c.out);
  const top1 = metrics.map((m) => m.test.top1);
  return {
    name: run.name, label: run.label, x: run.x, seed: run.seed, epochs: c.epochs, epochsDone: metrics.length,
    finalTop1: top1.length ? top1[top1.length - 1] : null, bestTop1: top1.length ? Math.max(...top1) : null,
    seconds: metrics.reduce((s, m) => s + m.seconds, 0), metrics, diverged: divergedMessage(c.out),
  };
}

export interface SweepHooks {
  /** A run starts (resumed: it had a checkpoint). */
  onRun?(run: SweepRun, index: number, total: number, resumed: boolean): void;
  /** Passed to train() for each run. */
  train?: TrainHooks;
  /** A run's loss became NaN or Inf (now, or in an earlier invocation: skipped). */
  onDiverged?(run: SweepRun, message: string, earlier: boolean): void;
}

/** Writes sweep.json (the spec) and runs every unfinished run in order. */
export async function runSweep(spec: SweepSpec, out: string, hooks: SweepHooks = {}): Promise<RunResult[]> {
  fs.mkdirSync(out, { recursive: true });
  writeFileAtomic(path.join(out, 'sweep.json'), Buffer.from(JSON.stringify(spec, null, 2) + '\n'));
  for (const [i, run] of spec.runs.entries()) {
    const c = runConfig(spec, run, out);
    if (readMetrics(c.out).length >= c.epochs) continue;
    const earlier = divergedMessage(c.out);
    if (earlier !== undefined) {
      hooks.onDiverged?.(run, earlier, true);
      continue;
    }
    const resumed = fs.existsSync(path.join(c.out, CHECKPOINT_FILE));
    hooks.onRun?.(run, i, spec.runs.length, resumed);
    try {
      const r = await train(c, hooks.train, { resume: resumed });
      if (r.interrupted) break;
    } catch (e) {
      if (!(e instanceof NumericError)) throw e;
      writeFileAtomic(path.join(c.out, DIVERGED_FILE), Buffer.from(JSON.stringify({ message: e.message }) + '\n'));
      hooks.onDiverged?.(run, e.message, false);
    }
  }
  return spec.runs.map((r) => runResult(spec, r, out));
}

/** Reads a sweep folder written by runSweep: its spec and each run's results so far. */
export function loadSweep(out: string): { spec: SweepSpec; results: RunResult[] } {
  const spec = JSON.parse(fs.readFileSync(path.join(out, 'sweep.json'), 'utf8')) as SweepSpec;
  return { spec, results: spec.runs.map((r) => runResult(spec, r, out)) };
}

/** Mean and sample standard deviation (0 for a single value). */
export function meanStd(v: number[]): { mean: number; std: number; n: number } {
  const n = v.length, mean = v.reduce((a, b) => a + b, 0) / Math.max(n, 1);
  const std = n > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, std, n };
}
