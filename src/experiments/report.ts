// Renders sweeps (and single runs) from their logs: Markdown tables plus SVG
// figures, and one HTML page with the figures inline. Every number comes
// from the metrics.jsonl files, so the report regenerates from the logs.
import fs from 'node:fs';
import path from 'node:path';
import { lineChart, type Series } from './svg.js';
import { loadSweep, meanStd, readMetrics, type RunResult, type SweepSpec } from './sweep.js';
import type { EpochMetrics } from '../train/trainer.js';
import { UserError } from '../util/errors.js';

export interface Figure { file: string; title: string; svg: string }
export interface Section { title: string; markdown: string; figures: Figure[] }

const pct = (v: number) => (100 * v).toFixed(2);
const pm = (v: number[]) => { const s = meanStd(v); return s.n > 1 ? `${pct(s.mean)} ± ${pct(s.std)}` : pct(s.mean); };
const minutes = (s: number) => (s / 60).toFixed(1);
const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');

/** A run that logged every epoch of its budget. */
const isComplete = (r: RunResult) => r.epochsDone >= r.epochs;
/** Sum of bit flips over the binary layers in an epoch. */
const flips = (m: EpochMetrics) => m.bits.reduce((s, b) => s + b.flipsUp + b.flipsDown, 0);
/** Weight-count-weighted mean entropy of the binary layers, bits per weight. */
const entropy = (m: EpochMetrics) => {
  const w = m.bits.reduce((s, b) => s + b.weights, 0);
  return w ? m.bits.reduce((s, b) => s + b.entropyBits * b.weights, 0) / w : 0;
};

function groupBy<T>(items: T[], key: (t: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const t of items) m.set(key(t), [...(m.get(key(t)) ?? []), t]);
  return m;
}

/** Per-epoch mean over the runs of a series (epochs that every run reached). */
function curve(runs: RunResult[], f: (m: EpochMetrics) => number): { x: number; y: number }[] {
  const n = Math.min(...runs.map((r) => r.metrics.length));
  return Array.from({ length: n }, (_, e) => ({ x: e + 1, y: meanStd(runs.map((r) => f(r.metrics[e]))).mean }));
}

function curveFigure(name: string, title: string, yLabel: string, bySeries: Map<string, RunResult[]>, f: (m: EpochMetrics) => number, logY = false): Figure | null {
  const series: Series[] = [...bySeries].map(([label, runs]) => ({ name: label, points: curve(runs, f) })).filter((s) => s.points.length);
  if (!series.length) return null;
  return { file: `${name}.svg`, title, svg: lineChart({ title, xLabel: 'epoch', yLabel, series, logY }) };
}

/** Flips per epoch and weight entropy of the series, as `${file}-flips.svg` and `${file}-entropy.svg`. */
function flipsAndEntropy(file: string, title: string, bySeries: Map<string, RunResult[]>): Figure[] {
  return [
    // Log scale: flips fall by 100x over a cosine schedule, and one series can
    // flip 20x more than another in its first epoch (IR-Net on conv2).
    curveFigure(`${file}-flips`, `${title}: weight flips per epoch`, 'flips (all binary layers, log scale)', bySeries, flips, true),
    curveFigure(`${file}-entropy`, `${title}: weight entropy after each epoch`, 'bits per weight', bySeries, entropy),
  ].filter((f): f is Figure => f !== null);
}

/** A sweep: summary table, the study's own plot, and training curves. */
export function sweepSection(spec: SweepSpec, results: RunResult[], name: string): Section {
  const done = results.filter((r) => r.epochsDone > 0 || r.diverged !== undefined);
  const bySetting = groupBy(done, (r) => `${r.label}\u0000${r.x ?? ''}`);
  const rows = [...bySetting.values()].map((rs) => {
    const complete = rs.filter((r) => isComplete(r));
    const final = complete.map((r) => r.finalTop1!);
    return `| ${rs[0].label} | ${rs[0].x ?? ''} | ${final.length ? pm(final) : '-'} | ${complete.length ? pm(complete.map((r) => r.bestTop1!)) : '-'} | ${complete.length}/${rs.length}${divergedNote(rs)} | ${rs[0].epochs} | ${minutes(rs.reduce((s, r) => s + r.seconds, 0) / rs.length)} |`;
  });
  const diverged = done.filter((r) => r.diverged !== undefined);
  const md = [
    `Runs: ${done.length} of ${results.length} started, ${results.filter((r) => isComplete(r)).length} complete. Test top-1 (%), mean ± sample std over seeds; minutes of training per run (evaluation excluded).`,
    '',
    `| setting | ${spec.xLabel ?? 'x'} | final top-1 | best top-1 | seeds done | epochs | min/run |`,
    '|---|---|---|---|---|---|---|',
    ...rows,
    ...(diverged.length ? ['', 'Diverged (loss NaN or Inf; not in the means):', '', ...diverged.map((r) => `- ${r.name}: ${r.diverged}`)] : []),
  ].join('\n');
  const figures: Figure[] = [];
  const withX = done.filter((r) => r.x !== undefined && isComplete(r));
  if (withX.length) {
    const series: Series[] = [...groupBy(withX, (r) => r.label)].map(([label, rs]) => ({
      name: label,
      points: [...groupBy(rs, (r) => String(r.x))].map(([, g]) => { const s = meanStd(g.map((r) => 100 * r.finalTop1!)); return { x: g[0].x!, y: s.mean, err: s.std }; }).sort((a, b) => a.x - b.x),
    }));
    const xs = withX.map((r) => r.x!);
    // Settings without an x (sign) are drawn flat across the x range for reference.
    for (const [label, rs] of groupBy(done.filter((r) => r.x === undefined && isComplete(r)), (r) => r.label)) {
      const s = meanStd(rs.map((r) => 100 * r.finalTop1!));
      series.push({ name: `${label} (no ratio)`, points: [{ x: Math.min(...xs), y: s.mean, err: s.std }, { x: Math.max(...xs), y: s.mean, err: s.std }] });
    }
    const title = `${spec.study}: final test top-1 vs ${spec.xLabel ?? 'x'}`;
    figures.push({ file: `${name}-accuracy.svg`, title, svg: lineChart({ title, xLabel: spec.xLabel ?? 'x', yLabel: 'test top-1 (%)', series }) });
  }
  // Curves are per-epoch means over the runs of a series: diverged runs would cut them short.
  const trained = done.filter((r) => r.diverged === undefined);
  const bySeries = groupBy(trained, (r) => (r.x === undefined ? r.label : `${r.label} ${r.x}`));
  const top1 = curveFigure(`${name}-test-top1`, `${spec.study}: test top-1 per epoch`, 'test top-1 (%)', bySeries, (m) => 100 * m.test.top1);
  if (top1) figures.push(top1);
  figures.push(...flipsAndEntropy(name, spec.study, bySeries));
  if (spec.study === 'compare') return compareSection(spec, done, name, md, figures);
  if (spec.study !== 'ratio') return { title: spec.title, markdown: md, figures };
  figures.push(...signVsHalfFigures(trained, name));
  const verdict = ratioVerdict(done);
  return { title: spec.title, markdown: verdict ? `${verdict}\n\n${md}` : md, figures };
}

/**
 * The paper's flips and entropy comparison inside a ratio study: sign (no
 * enforced ratio) against bi-half at p = 0.5 alone, where the all-settings
 * figures draw every p.
 */
function signVsHalfFigures(done: RunResult[], name: string): Figure[] {
  const half = done.filter((r) => r.x === 0.5), free = done.filter((r) => r.x === undefined);
  if (!half.length || !free.length) return [];
  return flipsAndEntropy(`${name}-sign-vs-bihalf`, 'sign vs bi-half (p = 0.5)', new Map([[free[0].label, free], [`${half[0].label} 0.5`, half]]));
}

type Stats = { mean: number; std: number; n: number };

/**
 * a.mean - b.mean and that gap in standard errors of the difference of two
 * means, sqrt(sa^2/na + sb^2/nb); null where that is 0 (one seed each).
 */
function difference(a: Stats, b: Stats): { gap: number; inSe: number | null } {
  const se = Math.sqrt(a.std ** 2 / a.n + b.std ** 2 / b.n), gap = a.mean - b.mean;
  return { gap, inSe: se > 0 ? gap / se : null };
}

/**
 * The ratio study's question, answered from the logs: which enforced ratio p
 * comes out best, and how far p = 0.5 is from it in standard errors of the
 * difference of two means (sqrt(s1^2/n1 + s2^2/n2)); sign alongside. Null
 * until some p has complete runs.
 */
export function ratioVerdict(results: RunResult[]): string | null {
  const complete = results.filter((r) => isComplete(r) && r.finalTop1 !== null);
  const byX = [...groupBy(complete.filter((r) => r.x !== undefined), (r) => String(r.x))]
    .map(([, rs]) => ({ x: rs[0].x!, ...meanStd(rs.map((r) => 100 * r.finalTop1!)) }));
  if (!byX.length) return null;
  const best = byX.reduce((a, b) => (b.mean > a.mean ? b : a));
  const f = (v: number) => v.toFixed(2);
  const ms = (g: { mean: number; std: number; n: number }) => `${f(g.mean)} ± ${f(g.std)}, ${g.n} seed${g.n === 1 ? '' : 's'}`;
  const half = byX.find((g) => g.x === 0.5);
  let text = `Best enforced ratio: p = ${best.x} (${ms(best)}).`;
  if (half && half !== best) {
    const { gap, inSe } = difference(best, half);
    text += ` **p = 0.5 does not come out best**: ${ms(half)}, ${f(gap)} points lower` +
      (inSe !== null ? ` (${inSe.toFixed(1)} standard errors of the difference).` : '.');
  } else if (half) {
    text += ' **p = 0.5 comes out best.**';
  }
  const sign = complete.filter((r) => r.x === undefined);
  if (sign.length) text += ` ${sign[0].label} (no enforced ratio): ${ms(meanStd(sign.map((r) => 100 * r.finalTop1!)))}.`;
  return text;
}

/** ", 1 diverged" after a setting's count of complete seeds, when some did. */
function divergedNote(rs: RunResult[]): string {
  const n = rs.filter((r) => r.diverged !== undefined).length;
  return n ? `, ${n} diverged` : '';
}

/** "conv2 sign" -> ["conv2", "sign"]: a compare run's model and quantizer. */
const modelAndQuantizer = (label: string): [string, string] => {
  const i = label.lastIndexOf(' ');
  return [label.slice(0, i), label.slice(i + 1)];
};

/**
 * The compare study adds one row per model with a column per quantizer (final
 * test top-1, mean ± std over the complete seeds), and per model the flips and
 * entropy curves of its quantizers side by side, where the all-runs figures
 * above mix every model.
 */
function compareSection(spec: SweepSpec, done: RunResult[], name: string, md: string, figures: Figure[]): Section {
  const byModel = groupBy(done, (r) => modelAndQuantizer(r.label)[0]);
  const quantizers = [...new Set(done.map((r) => modelAndQuantizer(r.label)[1]))];
  const gapCell = quantizers.includes('sign') && quantizers.includes('bihalf');
  const rows = [...byModel].map(([model, rs]) => {
    const cells = quantizers.map((q) => {
      const mine = rs.filter((r) => modelAndQuantizer(r.label)[1] === q), complete = mine.filter((r) => isComplete(r));
      return `${complete.length ? `${pm(complete.map((r) => r.finalTop1!))} (${complete.length})` : '-'}${divergedNote(mine)}`;
    });
    return `| ${model} | ${cells.join(' | ')} |${gapCell ? ` ${bihalfOverSign(rs)} | ${bihalfOverSignBySeed(rs)} |` : ''} ${rs[0].epochs} |`;
  });
  const pivot = [
    'Final test top-1 (%) by model and quantizer, mean ± std (complete seeds):',
    '',
    `| model | ${quantizers.join(' | ')} |${gapCell ? ' bihalf - sign | bihalf ahead, by seed |' : ''} epochs |`,
    `|---|${quantizers.map(() => '---|').join('')}${gapCell ? '---|---|' : ''}---|`,
    ...rows,
  ].join('\n');
  for (const [model, rs] of byModel) {
    const bySeries = groupBy(rs.filter((r) => r.diverged === undefined), (r) => modelAndQuantizer(r.label)[1]);
    figures.push(...flipsAndEntropy(`${name}-${slug(model)}`, model, bySeries));
  }
  return { title: spec.title, markdown: [pivot, compareFlipsTable(done), md].filter((t) => t).join('\n\n'), figures };
}

/** "+1.04" / "-0.37": a gap in points. */
const signed = (v: number) => `${v >= 0 ? '+' : ''}${v.toFixed(2)}`;

/** A model's complete runs with quantizer q (and a final accuracy). */
const completeOf = (rs: RunResult[], q: string) =>
  rs.filter((r) => modelAndQuantizer(r.label)[1] === q && isComplete(r) && r.finalTop1 !== null);

/** "+1.67 (4.9 SE)": bi-half's mean final top-1 over sign's, in points, over the complete seeds. */
function bihalfOverSign(rs: RunResult[]): string {
  const stats = (q: string) => meanStd(completeOf(rs, q).map((r) => 100 * r.finalTop1!));
  const b = stats('bihalf'), s = stats('sign');
  if (!b.n || !s.n) return '-';
  const { gap, inSe } = difference(b, s);
  return `${signed(gap)}${inSe !== null ? ` (${inSe.toFixed(1)} SE)` : ''}`;
}

/**
 * "2/3 (-0.80..+1.30)": in how many seeds bi-half beat sign, and the range of
 * bihalf - sign paired by seed. A seed gives both quantizers the same initial
 * latents and data order, so the paired gap leaves out the spread that the
 * seed causes in both alike.
 */
function bihalfOverSignBySeed(rs: RunResult[]): string {
  const top1 = (q: string) => new Map(completeOf(rs, q).map((r) => [r.seed, 100 * r.finalTop1!]));
  const b = top1('bihalf'), s = top1('sign');
  const gaps = [...b].filter(([seed]) => s.has(seed)).map(([seed, v]) => v - s.get(seed)!);
  if (!gaps.length) return '-';
  const lo = Math.min(...gaps), hi = Math.max(...gaps);
  return `${gaps.filter((g) => g > 0).length}/${gaps.length} (${lo === hi ? signed(lo) : `${signed(lo)}..${signed(hi)}`})`;
}

/**
 * Flips per epoch of each model and quantizer, mean over the complete seeds,
 * at epochs 1, 5, 10 and each budget's last: the figures' log scale hides
 * the twofold gap between sign and bi-half that the paper's argument is about.
 * Empty until some run is complete.
 */
export function compareFlipsTable(done: RunResult[]): string {
  // By epoch number, not position: a resumed run's log is read as written.
  const flipsAt = (r: RunResult, e: number) => { const m = r.metrics.find((x) => x.epoch === e); return m ? flips(m) : NaN; };
  const complete = done.filter((r) => isComplete(r) && r.diverged === undefined);
  if (!complete.length) return '';
  const epochs = [...new Set([1, 5, 10, ...complete.map((r) => r.epochs)])].sort((a, b) => a - b)
    .filter((e) => complete.some((r) => r.epochs >= e));
  const rows = [...groupBy(complete, (r) => r.label)].map(([label, rs]) => {
    const cells = epochs.map((e) => (rs[0].epochs >= e ? Math.round(meanStd(rs.map((r) => flipsAt(r, e))).mean).toLocaleString('en-US') : '-'));
    return `| ${label} | ${rs.length} | ${cells.join(' | ')} |`;
  });
  return [
    'Flips per epoch (binary weights that changed sign), mean over the complete seeds:',
    '',
    `| setting | seeds | ${epochs.map((e) => `epoch ${e}`).join(' | ')} |`,
    `|---|---|${epochs.map(() => '---|').join('')}`,
    ...rows,
  ].join('\n');
}

/** A plain training run (not part of a sweep) as a series of its own, for the curve figures. */
const singleRun = (name: string, metrics: EpochMetrics[]): RunResult =>
  ({ name, label: name, seed: 0, epochs: metrics.length, epochsDone: metrics.length, finalTop1: null, bestTop1: null, seconds: 0, metrics });

/** A single training run folder: its per-epoch table and curves. */
export function runSection(dir: string, name: string, metrics = readMetrics(dir)): Section {
  const rows = metrics.map((m) => `| ${m.epoch} | ${pct(m.train.top1)} | ${pct(m.test.top1)} | ${flips(m)} | ${entropy(m).toFixed(3)} | ${m.imagesPerSecond.toFixed(0)} | ${minutes(m.seconds)} |`);
  const md = ['| epoch | train top-1 | test top-1 | flips | entropy | img/s | min |', '|---|---|---|---|---|---|---|', ...rows].join('\n');
  const run = singleRun(name, metrics);
  const figures = [curveFigure(`${name}-test-top1`, `${name}: test top-1 per epoch`, 'test top-1 (%)', new Map([[name, [run]]]), (m) => 100 * m.test.top1)].filter((f): f is Figure => f !== null);
  return { title: `Run ${dir}`, markdown: md, figures };
}

/**
 * Several single runs side by side (say the same model under two
 * optimisers): test top-1, flips and entropy per epoch, one series per run.
 */
export function runsCompared(runs: { name: string; metrics: EpochMetrics[] }[]): Section {
  const bySeries = new Map(runs.map((r) => [r.name, [singleRun(r.name, r.metrics)]]));
  const top1 = curveFigure('runs-test-top1', 'test top-1 per epoch', 'test top-1 (%)', bySeries, (m) => 100 * m.test.top1);
  const rows = runs.map((r) => {
    const last = r.metrics[r.metrics.length - 1], best = Math.max(...r.metrics.map((m) => m.test.top1));
    return `| ${r.name} | ${r.metrics.length} | ${pct(last.test.top1)} | ${pct(best)} | ${(r.metrics.reduce((s, m) => s + m.seconds, 0) / 3600).toFixed(2)} |`;
  });
  const md = ['| run | epochs | final test top-1 | best test top-1 | hours (logged epochs) |', '|---|---|---|---|---|', ...rows].join('\n');
  return { title: 'Runs compared', markdown: md, figures: [...(top1 ? [top1] : []), ...flipsAndEntropy('runs', 'runs', bySeries)] };
}

/**
 * Builds the sections for folders that hold a sweep (sweep.json) or one run
 * (metrics.jsonl); with two or more runs with logged epochs, a last section
 * draws them on shared axes.
 */
export function buildReport(dirs: string[]): Section[] {
  const runs: { name: string; metrics: EpochMetrics[] }[] = [];
  const sections = dirs.map((dir) => {
    const name = slug(path.basename(path.resolve(dir))) || 'run';
    if (fs.existsSync(path.join(dir, 'sweep.json'))) {
      const { spec, results } = loadSweep(dir);
      return sweepSection(spec, results, name);
    }
    if (fs.existsSync(path.join(dir, 'metrics.jsonl'))) {
      const metrics = readMetrics(dir);
      if (metrics.length) runs.push({ name, metrics });
      return runSection(dir, name, metrics);
    }
    throw new UserError(`${dir}: neither a sweep (sweep.json) nor a training run (metrics.jsonl)`);
  });
  return runs.length >= 2 ? [...sections, runsCompared(runs)] : sections;
}

export function renderMarkdown(sections: Section[], figureDir: string): string {
  return sections.map((s) => [`## ${s.title}`, '', s.markdown, '', ...s.figures.map((f) => `![${f.title}](${figureDir}/${f.file})\n`)].join('\n')).join('\n');
}

export function renderHtml(sections: Section[]): string {
  const esc = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const table = (md: string) => {
    const lines = md.split('\n');
    const out: string[] = [];
    for (let i = 0; i < lines.length; i++) {
      const l = lines[i];
      if (!l.startsWith('|')) { if (l.trim()) out.push(`<p>${esc(l)}</p>`); continue; }
      if (/^\|[-| ]+\|$/.test(l)) continue;
      const cells = l.slice(1, -1).split('|').map((c) => esc(c.trim()));
      const tag = i + 1 < lines.length && /^\|[-| ]+\|$/.test(lines[i + 1]) ? 'th' : 'td';
      out.push(`<tr>${cells.map((c) => `<${tag}>${c}</${tag}>`).join('')}</tr>`);
    }
    return out.join('\n').replace(/(<tr>[\s\S]*<\/tr>)/, '<table>$1</table>');
  };
  return `<!doctype html><html><head><meta charset="utf-8"><title>equalbits report</title>
<style>body{font-family:sans-serif;max-width:1000px;margin:2em auto}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}figure{display:inline-block;margin:8px}</style></head><body>
<h1>equalbits report</h1>
${sections.map((s) => `<h2>${esc(s.title)}</h2>\n${table(s.markdown)}\n${s.figures.map((f) => `<figure>${f.svg}</figure>`).join('\n')}`).join('\n')}
</body></html>
`;
}
