// The paper's studies: the toy enumeration's counts (method.md: 4096 -> 76,
// 924 -> 66, peak at the equal ratio) through the CLI, numpy's arange, and
// the SVG charts the reports embed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { numpyArange } from '../src/experiments/toy.js';
import { lineChart, niceTicks, logTicks } from '../src/experiments/svg.js';
import { compareFlipsTable, ratioVerdict, sweepSection } from '../src/experiments/report.js';
import { runSweep, DIVERGED_FILE, type RunResult, type SweepSpec } from '../src/experiments/sweep.js';
import { pruneStudy, ratioStudy } from '../src/experiments/studies.js';
import { UserError } from '../src/util/errors.js';
import { buildReport, renderMarkdown } from '../src/experiments/report.js';
import type { EpochMetrics } from '../src/train/trainer.js';

const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'ebnn.js');

test('numpyArange reproduces numpy.arange(-5, 5, 0.04) bit for bit', () => {
  const a = numpyArange(-5, 5, 0.04);
  assert.equal(a.length, 250);
  assert.equal(a[0], -5);
  assert.equal(a[1], -4.96);
  // numpy steps by (start + step) - start, so the last value is not 4.96.
  assert.equal(a[249], 4.960000000000008);
});

test('ebnn experiment toy --json: 4096 -> 76 and 924 -> 66 unique boundaries, peak at k = 6', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'eb-toy-'));
  const r = spawnSync(process.execPath, [cli, 'experiment', 'toy', '--json', '--out', out], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.deepEqual(j.all, { combinations: 4096, unique: 76 });
  assert.deepEqual(j.bihalf, { combinations: 924, unique: 66 });
  assert.equal(j.perK.length, 13);
  assert.equal(j.perK.reduce((s: number, p: { combinations: number }) => s + p.combinations, 0), 4096);
  const best = j.perK.reduce((a: { unique: number }, b: { unique: number }) => (b.unique > a.unique ? b : a));
  assert.equal(best.k, 6);
  assert.ok(fs.readFileSync(path.join(out, 'toy.svg'), 'utf8').startsWith('<svg'));
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(out, 'toy.json'), 'utf8')), j);
});

test('charts: round ticks cover the data; one marker per point, error bars drawn', () => {
  assert.deepEqual(niceTicks(0, 12, 5), [0, 2.5, 5, 7.5, 10, 12.5]);
  assert.deepEqual(niceTicks(0, 12, 6, true), [0, 2, 4, 6, 8, 10, 12]);
  assert.deepEqual(niceTicks(0.42, 0.58, 4), [0.4, 0.45, 0.5, 0.55, 0.6]);
  const svg = lineChart({
    title: 'a <b>', xLabel: 'p', yLabel: 'acc',
    series: [{ name: 's1', points: [{ x: 0.1, y: 0.5, err: 0.02 }, { x: 0.5, y: 0.6 }] }, { name: 's2', points: [{ x: 0.3, y: 0.55 }] }],
  });
  assert.equal((svg.match(/<circle/g) ?? []).length, 3);
  assert.equal((svg.match(/<polyline/g) ?? []).length, 1);
  assert.ok(svg.includes('a &lt;b&gt;'), 'title is escaped');
  // Log y: decades enclosing the data (with 2x and 5x under three decades); zeros left out;
  // equal ratios are equal heights.
  assert.deepEqual(logTicks(545, 1685063), [100, 1000, 10000, 100000, 1000000, 10000000]);
  assert.deepEqual(logTicks(30, 400), [10, 20, 50, 100, 200, 500, 1000]);
  const log = lineChart({ title: 't', xLabel: 'x', yLabel: 'y', logY: true, series: [{ name: 's', points: [{ x: 1, y: 10 }, { x: 2, y: 100 }, { x: 3, y: 1000 }, { x: 4, y: 0 }] }] });
  const cy = [...log.matchAll(/<circle cx="[\d.]+" cy="([\d.]+)"/g)].map((m) => Number(m[1]));
  assert.equal(cy.length, 3, 'the zero is left out');
  assert.ok(Math.abs((cy[0] - cy[1]) - (cy[1] - cy[2])) < 0.2, `10 -> 100 -> 1000 evenly spaced: ${cy}`);
  assert.ok(cy[0] > cy[1], 'larger values higher up');
  // A long series name widens the figure so that its legend text ends inside it (~7 px a character).
  const name = 'resnet20-1w1a-bihalf-adam';
  const wide = lineChart({ title: 't', xLabel: 'x', yLabel: 'y', series: [{ name, points: [{ x: 1, y: 1 }] }, { name: 's', points: [{ x: 2, y: 2 }] }] });
  const width = Number(/<svg [^>]*width="(\d+)"/.exec(wide)![1]);
  const textX = Number(new RegExp(`<text x="([\\d.]+)"[^>]*>${name}<`).exec(wide)![1]);
  assert.ok(textX + 7 * name.length <= width, `legend ends at ${textX + 7 * name.length}, figure is ${width} wide`);
});

test('experiment compare on ResNet-20: sign, bihalf and irnet under the same Adam recipe, 1W/32A and 1W/1A', () => {
  const r = spawnSync(process.execPath, [cli, 'experiment', 'compare', '--models', 'resnet20,resnet20-1w1a', '--seeds', '1', '--epochs', '10', '--dry-run'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const runs = r.stdout.trim().split('\n').map((l) => { const [name, json] = l.split('\t'); return { name, c: JSON.parse(json) }; });
  assert.deepEqual(runs.map((x) => x.name), ['resnet20-sign-s0', 'resnet20-bihalf-s0', 'resnet20-irnet-s0', 'resnet20-1w1a-sign-s0', 'resnet20-1w1a-bihalf-s0', 'resnet20-1w1a-irnet-s0']);
  for (const { name, c } of runs) {
    assert.deepEqual([c.model, c.optimizer, c.lr, c.weightDecay, c.epochs, c.schedule], ['resnet20', 'adam', 0.01, 0, 10, 'cosine'], name);
    assert.equal(c.activations, name.includes('1w1a') ? 'ste_sign' : 'float', name);
  }
  for (const models of ['conv2,conv9', 'lenet', ',']) {
    const bad = spawnSync(process.execPath, [cli, 'experiment', 'compare', '--models', models, '--dry-run'], { encoding: 'utf8' });
    assert.equal(bad.status, 2, `${models}: ${bad.stdout}`);
    assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
    assert.equal(bad.stdout, '', 'no run listed');
  }
});

test('a study sweep runs each setting once, skips finished runs when rerun, and reports from the logs', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'eb-sweep-'));
  const sweep = path.join(out, 'prune'), rep = path.join(out, 'report');
  const args = [cli, 'experiment', 'prune', '--dataset', 'synthetic', '--epochs', '1', '--train-limit', '128', '--test-limit', '64', '--quiet', '-o', sweep];
  const first = spawnSync(process.execPath, args, { encoding: 'utf8' });
  assert.equal(first.status, 0, first.stderr);
  assert.equal((first.stderr.match(/epoch 1: test top-1/g) ?? []).length, 5, first.stderr);
  for (const k of ['0', '0.3', '0.5', '0.7', '0.9']) assert.ok(fs.existsSync(path.join(sweep, `k${k}-s0`, 'metrics.jsonl')), `run k${k}`);
  const again = spawnSync(process.execPath, args, { encoding: 'utf8' });
  assert.equal(again.status, 0, again.stderr);
  assert.doesNotMatch(again.stderr, /epoch 1: test top-1/, 'finished runs are not trained again');
  const r = spawnSync(process.execPath, [cli, 'report', sweep, '-o', rep], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const md = fs.readFileSync(path.join(rep, 'report.md'), 'utf8');
  assert.equal((md.match(/^\| halfmask\(k\) \| /gm) ?? []).length, 5, md);
  assert.match(fs.readFileSync(path.join(rep, 'report.html'), 'utf8'), /<svg/);
  assert.ok(fs.readdirSync(path.join(rep, 'figures')).some((f) => f.endsWith('-accuracy.svg')));
  const bad = spawnSync(process.execPath, [cli, 'report', path.join(out, 'nope')], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
});

test('the compare report: one row per model with a column per quantizer, and per-model flips and entropy figures', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'eb-compare-'));
  const sweep = path.join(out, 'compare'), rep = path.join(out, 'report');
  const train = spawnSync(process.execPath, [cli, 'experiment', 'compare', '--models', 'conv2', '--seeds', '2', '--epochs', '1', '--dataset', 'synthetic',
    '--train-limit', '128', '--test-limit', '64', '--quiet', '-o', sweep], { encoding: 'utf8' });
  assert.equal(train.status, 0, train.stderr);
  const r = spawnSync(process.execPath, [cli, 'report', sweep, '-o', rep], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const md = fs.readFileSync(path.join(rep, 'report.md'), 'utf8');
  assert.match(md, /^\| model \| sign \| bihalf \| irnet \| bihalf - sign \| bihalf ahead, by seed \| epochs \|$/m, md);
  // Each cell: mean ± std over the 2 seeds, and how many seeds finished; then bi-half's gain in
  // standard errors, and in how many seeds it was ahead with the range of the paired gaps.
  assert.match(md, /^\| conv2 \| \d+\.\d\d ± \d+\.\d\d \(2\) \| \d+\.\d\d ± \d+\.\d\d \(2\) \| \d+\.\d\d ± \d+\.\d\d \(2\) \| [+-]\d+\.\d\d( \(-?\d+\.\d SE\))? \| [012]\/2 \([+-]\d+\.\d\d(\.\.[+-]\d+\.\d\d)?\) \| 1 \|$/m, md);
  for (const what of ['flips', 'entropy']) {
    const svg = fs.readFileSync(path.join(rep, 'figures', `compare-conv2-${what}.svg`), 'utf8');
    for (const q of ['sign', 'bihalf', 'irnet']) assert.match(svg, new RegExp(`>${q}<`), `${what} figure has a ${q} series`);
  }
});

test('the compare report tabulates flips per epoch, mean over the complete seeds, at epochs 1, 5, 10 and the last', () => {
  // flips(epoch e) = base * e, split between up and down and over two layers.
  const epoch = (e: number, base: number) => ({ epoch: e, bits: [{ flipsUp: base * e, flipsDown: 0 }, { flipsUp: 0, flipsDown: base * e }] }) as unknown as EpochMetrics;
  const run = (label: string, epochs: number, base: number, done = epochs): RunResult =>
    ({ name: label, label, seed: 0, epochs, epochsDone: done, finalTop1: 0.5, bestTop1: 0.5, seconds: 1,
      metrics: Array.from({ length: done }, (_, i) => epoch(i + 1, base)) });
  const md = compareFlipsTable([
    run('conv2 sign', 15, 1000), run('conv2 sign', 15, 2000),
    run('conv2 bihalf', 15, 1500), run('conv2 bihalf', 15, 9999, 7), // unfinished: left out
    run('conv8 sign', 10, 10),
  ]);
  const lines = md.split('\n');
  assert.equal(lines[2], '| setting | seeds | epoch 1 | epoch 5 | epoch 10 | epoch 15 |');
  // conv2 sign: mean of 2*1000e and 2*2000e = 3000e.
  assert.ok(lines.includes('| conv2 sign | 2 | 3,000 | 15,000 | 30,000 | 45,000 |'), md);
  assert.ok(lines.includes('| conv2 bihalf | 1 | 3,000 | 15,000 | 30,000 | 45,000 |'), md);
  assert.ok(lines.includes('| conv8 sign | 1 | 20 | 100 | 200 | - |'), md);
  // A resumed log is read by epoch number, whatever the order of its lines.
  const shuffled = run('conv4 sign', 10, 7);
  shuffled.metrics.reverse();
  assert.match(compareFlipsTable([shuffled]), /^\| conv4 sign \| 1 \| 14 \| 70 \| 140 \|$/m);
  assert.equal(compareFlipsTable([run('conv2 sign', 15, 1000, 3)]), '', 'no table before a run is complete');
});

test('the compare table gives bi-half minus sign in points and in standard errors of the difference', () => {
  const run = (label: string, seed: number, top1: number, done = 15): RunResult =>
    ({ name: `${label}-s${seed}`, label, seed, epochs: 15, epochsDone: done, finalTop1: top1, bestTop1: top1, seconds: 60, metrics: [] });
  const spec: SweepSpec = { study: 'compare', title: 'compare', base: {}, runs: [] };
  const md = sweepSection(spec, [
    run('conv2 sign', 0, 0.64), run('conv2 sign', 1, 0.66), run('conv2 sign', 2, 0.65),
    run('conv2 bihalf', 0, 0.67), run('conv2 bihalf', 1, 0.69), run('conv2 bihalf', 2, 0.68), run('conv2 bihalf', 3, 0.10, 4),
    run('conv8 sign', 0, 0.60), run('conv8 bihalf', 0, 0.55),
  ], 'c').markdown;
  // 68 - 65 = 3 points; std 1 each, se = sqrt(1/3 + 1/3) = 0.816 -> 3.7. The unfinished seed is left out.
  // Paired by seed: 67-64, 69-66, 68-65, all +3; seed 3 has no sign run (and is unfinished).
  assert.match(md, /^\| conv2 \| 65\.00 ± 1\.00 \(3\) \| 68\.00 ± 1\.00 \(3\) \| \+3\.00 \(3\.7 SE\) \| 3\/3 \(\+3\.00\) \| 15 \|$/m, md);
  assert.match(md, /^\| conv8 \| 60\.00 \(1\) \| 55\.00 \(1\) \| -5\.00 \| 0\/1 \(-5\.00\) \| 15 \|$/m, md);
  const mixed = sweepSection(spec, [
    run('conv4 sign', 0, 0.70), run('conv4 sign', 1, 0.71), run('conv4 sign', 2, 0.72),
    run('conv4 bihalf', 0, 0.69), run('conv4 bihalf', 1, 0.73), run('conv4 bihalf', 2, 0.725),
  ], 'c').markdown;
  assert.match(mixed, /^\| conv4 \| .* \| 2\/3 \(-1\.00\.\.\+2\.00\) \| 15 \|$/m, mixed);
});

test('the ratio study says from its logs which p is best and how far p = 0.5 is from it', () => {
  const run = (label: string, x: number | undefined, top1: number, done = 5): RunResult =>
    ({ name: `${label}${x}`, label, x, seed: 0, epochs: 5, epochsDone: done, finalTop1: top1, bestTop1: top1, seconds: 1, metrics: [] });
  const p4 = [0.925, 0.927, 0.923], p5 = [0.922, 0.920, 0.921];
  const runs = [...p4.map((v) => run('bihalf(p)', 0.4, v)), ...p5.map((v) => run('bihalf(p)', 0.5, v)),
    run('bihalf(p)', 0.6, 0.99, 2), // unfinished: not counted
    run('sign', undefined, 0.925), run('sign', undefined, 0.924)];
  const text = ratioVerdict(runs)!;
  // gap 0.40 points; standard error sqrt(0.2^2/3 + 0.1^2/3) = 0.129 -> 3.1.
  assert.match(text, /^Best enforced ratio: p = 0\.4 \(92\.50 ± 0\.20, 3 seeds\)\./, text);
  assert.match(text, /p = 0\.5 does not come out best\*\*: 92\.10 ± 0\.10, 3 seeds, 0\.40 points lower \(3\.1 standard errors/, text);
  assert.match(text, /sign \(no enforced ratio\): 92\.45 ± 0\.07, 2 seeds\.$/, text);
  const best = ratioVerdict([...p5.map((v) => run('bihalf(p)', 0.5, v)), run('bihalf(p)', 0.4, 0.91)])!;
  assert.match(best, /p = 0\.5 \(92\.10 ± 0\.10, 3 seeds\)\. \*\*p = 0\.5 comes out best\.\*\*$/, best);
  assert.equal(ratioVerdict([run('bihalf(p)', 0.5, 0.9, 1)]), null);
});

test('a ratio report draws sign against bi-half at p = 0.5 alone for flips and entropy', () => {
  // Two epochs; flips and entropy differ by setting so that each series is recognisable.
  const epoch = (e: number, flips: number, entropy: number): EpochMetrics => ({
    epoch: e, lr: 0.1, seconds: 1, imagesPerSecond: 1,
    train: { loss: 1, top1: 0.5, top5: 0.9, images: 10 }, test: { loss: 1, top1: 0.5, top5: 0.9, images: 10 },
    bits: [{ name: 'fc', quantizer: 'q', groups: 1, groupSize: 100, weights: 100, plusFraction: 0.5, zeroFraction: 0, minusFraction: 0.5,
      entropyBits: entropy, meanGroupEntropyBits: entropy, flipsUp: flips, flipsDown: 0 }],
  } as unknown as EpochMetrics);
  const run = (label: string, x: number | undefined, flips: number, entropy: number): RunResult =>
    ({ name: `${label}${x}`, label, x, seed: 0, epochs: 2, epochsDone: 2, finalTop1: 0.5, bestTop1: 0.5, seconds: 1,
      metrics: [epoch(1, flips, entropy), epoch(2, flips / 2, entropy)] });
  const spec: SweepSpec = { study: 'ratio', title: 'ratio', xLabel: 'p', base: {}, runs: [] };
  const section = sweepSection(spec, [run('bihalf(p)', 0.3, 777, 0.9), run('bihalf(p)', 0.5, 4000, 1), run('sign', undefined, 6000, 0.98)], 'r');
  const fig = (file: string) => section.figures.find((f) => f.file === file)?.svg ?? assert.fail(`no ${file}`);
  for (const what of ['flips', 'entropy']) {
    const svg = fig(`r-sign-vs-bihalf-${what}.svg`);
    assert.match(svg, />sign</);
    assert.match(svg, />bihalf\(p\) 0\.5</);
    assert.doesNotMatch(svg, /0\.3</, 'p = 0.3 is not drawn');
  }
  assert.match(fig('r-sign-vs-bihalf-flips.svg'), />10000</, 'the log y axis reaches past sign\'s 6000 flips to the next power of ten');
  assert.equal(sweepSection({ ...spec, study: 'prune' }, [run('sign', undefined, 1, 1)], 'r').figures.some((f) => f.file.includes('sign-vs')), false);
});

test('a sweep marks a diverged run, goes on with the next, skips it when rerun, and the report lists it', async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'eb-diverge-'));
  const base = pruneStudy({ dataset: 'synthetic', epochs: 1, seeds: 1, extra: { trainLimit: 128, testLimit: 64 } });
  // Float weights at a learning rate of 1e30 overflow to NaN by the third step.
  const spec: SweepSpec = { ...base, runs: [
    { name: 'blowup', label: 'halfmask(k)', x: 0.3, seed: 0, config: { weights: 'float', lr: 1e30, trainLimit: 384 } },
    { name: 'fine', label: 'halfmask(k)', x: 0.5, seed: 0, config: { pruneRate: 0.5 } },
  ] };
  const seen: string[] = [];
  const hooks = { onDiverged: (run: { name: string }, message: string, earlier: boolean) => seen.push(`${run.name} ${earlier} ${message}`) };
  const first = await runSweep(spec, out, hooks);
  assert.equal(seen.length, 1);
  assert.match(seen[0], /^blowup false loss became (NaN|-?Infinity) at epoch 1/);
  assert.ok(fs.existsSync(path.join(out, 'blowup', DIVERGED_FILE)));
  assert.equal(first[1].epochsDone, 1, 'the run after the diverged one still trained');
  assert.match(first[0].diverged ?? '', /loss became/);
  await runSweep(spec, out, hooks);
  assert.equal(seen.length, 2);
  assert.match(seen[1], /^blowup true /, 'rerun: skipped, not trained again');
  const md = renderMarkdown(buildReport([out]), 'figures');
  assert.match(md, /^\| halfmask\(k\) \| 0\.3 \| - \| - \| 0\/1, 1 diverged \|/m, md);
  assert.match(md, /^- blowup: loss became/m, md);
});

test('a report of several single runs draws them on shared axes with a final/best table', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'eb-runs-'));
  const epoch = (e: number, top1: number, flips: number) => JSON.stringify({
    epoch: e, lr: 0.1, seconds: 1800, imagesPerSecond: 1,
    train: { loss: 1, top1, top5: 0.9, images: 10 }, test: { loss: 1, top1, top5: 0.9, images: 10 },
    bits: [{ name: 'fc', quantizer: 'q', groups: 1, groupSize: 100, weights: 100, plusFraction: 0.5, zeroFraction: 0, minusFraction: 0.5,
      entropyBits: 1, meanGroupEntropyBits: 1, flipsUp: flips, flipsDown: 0 }],
  });
  for (const [name, a, b] of [['sgd', 0.5, 0.6], ['adam', 0.7, 0.65]] as const) {
    fs.mkdirSync(path.join(out, name));
    fs.writeFileSync(path.join(out, name, 'metrics.jsonl'), `${epoch(1, a, 111)}\n${epoch(2, b, 222)}\n`);
  }
  const sections = buildReport([path.join(out, 'sgd'), path.join(out, 'adam')]);
  assert.equal(sections.length, 3);
  const both = sections[2];
  assert.match(both.markdown, /^\| sgd \| 2 \| 60\.00 \| 60\.00 \| 1\.00 \|$/m, both.markdown);
  assert.match(both.markdown, /^\| adam \| 2 \| 65\.00 \| 70\.00 \| 1\.00 \|$/m, both.markdown);
  const top1 = both.figures.find((f) => f.file === 'runs-test-top1.svg')?.svg ?? assert.fail('no runs-test-top1.svg');
  assert.match(top1, />sgd</);
  assert.match(top1, />adam</);
  assert.ok(both.figures.some((f) => f.file === 'runs-flips.svg'));
  assert.equal(buildReport([path.join(out, 'sgd')]).length, 1, 'one run: no comparison section');
});

test('experiment prune --scale-fan: every run scales by the unpruned fan-in, k = 0 left out, its own default folder', () => {
  const spec = pruneStudy({ scaleFan: true });
  assert.equal(spec.base.scaleFan, true);
  assert.equal(spec.base.weights, 'halfmask');
  assert.deepEqual(spec.runs.map((r) => r.config.pruneRate), [0.3, 0.5, 0.7, 0.9]);
  assert.equal(pruneStudy().base.scaleFan, undefined);
  assert.deepEqual(pruneStudy().runs.map((r) => r.config.pruneRate), [0, 0.3, 0.5, 0.7, 0.9]);
  // Through the CLI: one synthetic epoch, and the run's config.json says scaleFan.
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'eb-scalefan-'));
  const r = spawnSync(process.execPath, [cli, 'experiment', 'prune', '--scale-fan', '--dataset', 'synthetic', '--epochs', '1',
    '--train-limit', '128', '--test-limit', '32', '--quiet'], { encoding: 'utf8', cwd });
  assert.equal(r.status, 0, r.stderr);
  const config = JSON.parse(fs.readFileSync(path.join(cwd, 'runs', 'prune-scalefan-synthetic', 'k0.9-s0', 'config.json'), 'utf8'));
  assert.equal(config.scaleFan, true);
  assert.equal(config.pruneRate, 0.9);
});

test('ratio study --model: conv2 by default on CIFAR-10, ResNet-20 with the Adam recipe, errors for the rest', () => {
  const conv2 = ratioStudy({ dataset: 'cifar10' });
  assert.equal(conv2.base.model, 'conv2');
  assert.equal(conv2.base.optimizer, 'sgd');
  const r20 = ratioStudy({ dataset: 'cifar10', model: 'resnet20', seeds: 1 });
  assert.deepEqual([r20.base.model, r20.base.activations, r20.base.optimizer, r20.base.lr, r20.base.epochs], ['resnet20', 'float', 'adam', 0.01, 10]);
  assert.deepEqual(r20.runs.map((r) => r.config.ratio), [0.2, 0.35, 0.5, 0.65, 0.8]);
  assert.equal(ratioStudy({ dataset: 'cifar10', model: 'resnet20-1w1a' }).base.activations, 'ste_sign');
  assert.throws(() => ratioStudy({ dataset: 'fashion-mnist', model: 'resnet20' }), UserError);
  assert.throws(() => ratioStudy({ dataset: 'cifar10', model: 'vgg-small' }), UserError);
});
