// Shared benchmark plumbing: timing runs, medians and the one-JSON-object-
// per-line output format that scripts and later issues rely on:
//   {"bench": "train/conv2-float", "engine": "equalbits", "value": 812.5, "unit": "img/s", "runs": 5}

export interface BenchLine { bench: string; engine: string; value: number; unit: string; runs: number; [extra: string]: unknown }

export { median } from '../src/deploy/profile.js';

/** Seconds taken by each of `runs` calls of fn, after `warmup` untimed calls. */
export function timeRuns(fn: () => void, runs: number, warmup = 1): number[] {
  for (let i = 0; i < warmup; i++) fn();
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    out.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return out;
}

export function emit(line: BenchLine): void {
  process.stdout.write(JSON.stringify(line) + '\n');
}

/** Peak resident set size of this process in MB. */
export function peakRssMB(): number {
  return process.resourceUsage().maxRSS / 1024;
}

/** --name value flags with numeric defaults. */
export function numArg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} needs a positive number`);
  return v;
}
