// Timing of a packed model: latency and throughput (medians of timed runs
// within a time budget), and per-op times, with binary MACs for the binary
// layers. Browser-safe (performance.now()).
import type { PackedModel } from './engine.js';
import { OP } from './plan.js';
import { numel } from './graph.js';
import { outSize } from '../native/api.js';

/** Milliseconds of each timed call: one warm-up call, then up to `runs` calls or until `budgetMs` has passed (at least one). */
export function timeCalls(fn: () => void, runs: number, budgetMs = Infinity): number[] {
  fn();
  const out: number[] = [];
  const start = performance.now();
  while (out.length < runs && (out.length === 0 || performance.now() - start < budgetMs)) {
    const t0 = performance.now();
    fn();
    out.push(performance.now() - t0);
  }
  return out;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b), m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export interface OpTime {
  /** Plan record index and op name ("binary-conv": 1W/1A, "float-conv": float inputs, packed or float weights). */
  index: number;
  op: string;
  /** Multiply-accumulates with binary weights (0 for other ops). */
  binaryMacs: number;
  /** Median milliseconds of the record alone. */
  ms: number;
}

const NAMES = new Map<number, string>(Object.entries(OP).map(([k, v]) => [v, k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())]));

/** Times every op of the plan for a batch of n on its own (after one full run), `runs` times each. */
export function opTimes(model: PackedModel, n: number, runs: number): OpTime[] {
  const x = new Float32Array(n * numel(model.inputShape)).map((_, i) => Math.sin(i));
  model.run(x, n);
  const { words, tmpBytes } = model.currentPlan()!;
  const out: OpTime[] = [];
  for (let pos = 0, index = 0; pos < words.length; index++) {
    const op = words[pos], len = words[pos + 1], rec = words.slice(pos, pos + 2 + len), a = rec.subarray(2);
    let binaryMacs = 0;
    if (op === OP.binaryConv || (op === OP.floatConv && a[12] !== 0)) {
      const [nn, cin, h, w, cout, kh, kw, sh, sw, ph, pw] = a;
      binaryMacs = nn * cout * outSize(h, kh, sh, ph) * outSize(w, kw, sw, pw) * cin * kh * kw;
    }
    out.push({ index, op: NAMES.get(op) ?? String(op), binaryMacs, ms: median(timeCalls(() => model.backend.run(rec, tmpBytes), runs)) });
    pos += 2 + len;
  }
  return out;
}
