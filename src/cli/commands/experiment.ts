// ebnn experiment <name>: the paper's studies (method.md), each writing its
// numbers and figures under --out so that `ebnn report` can rebuild them.
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { enumerateToy, type ToyResult } from '../../experiments/toy.js';
import { lineChart } from '../../experiments/svg.js';
import { runSweep, DIVERGED_FILE, type SweepSpec } from '../../experiments/sweep.js';
import { studies, type StudyOptions } from '../../experiments/studies.js';
import { writeFileAtomic } from '../../train/index.js';
import { UserError } from '../../util/errors.js';
import { progressBar, type Progress } from '../progress.js';
import { pct, deadNetworkWarning } from '../format.js';
import { integer } from '../options.js';

function toyChart(r: ToyResult): string {
  return lineChart({
    title: 'Toy 2-3-1 network: unique decision boundaries by number of -1 weights',
    xLabel: 'k = number of -1 weights (of 12)', yLabel: 'unique decision boundaries',
    series: [{ name: 'unique', points: r.perK.map((p) => ({ x: p.k, y: p.unique })) }],
  });
}

function registerToy(exp: Command): void {
  exp.command('toy')
    .description('enumerate the 2-3-1 toy network (12 binary weights): unique decision boundaries, all vs equal ratio')
    .option('--json', 'print one JSON object {all, bihalf, perK}')
    .option('-o, --out <dir>', 'folder for toy.json and toy.svg', 'runs/toy')
    .action((flags: { json?: boolean; out: string }) => {
      const bar = progressBar(2 ** 12, 'networks', !flags.json && process.stderr.isTTY === true);
      const r = enumerateToy((done) => bar.update(done, {}));
      bar.stop();
      fs.mkdirSync(flags.out, { recursive: true });
      const json = JSON.stringify({ all: r.all, bihalf: r.bihalf, perK: r.perK });
      writeFileAtomic(path.join(flags.out, 'toy.json'), Buffer.from(json + '\n'));
      writeFileAtomic(path.join(flags.out, 'toy.svg'), Buffer.from(toyChart(r)));
      if (flags.json) { process.stdout.write(json + '\n'); return; }
      console.log(`grid ${r.gridSize}x${r.gridSize} over [-5, 5)^2`);
      console.log(`all weights:  ${r.all.combinations} combinations -> ${r.all.unique} unique decision boundaries`);
      console.log(`equal ratio:  ${r.bihalf.combinations} combinations -> ${r.bihalf.unique} unique decision boundaries`);
      console.log('k (-1 weights)  combinations  unique');
      for (const p of r.perK) console.log(`${String(p.k).padStart(14)}  ${String(p.combinations).padStart(12)}  ${String(p.unique).padStart(6)}`);
      console.log(`wrote ${path.join(flags.out, 'toy.json')} and toy.svg`);
    });
}

interface SweepFlags {
  dataset?: string; dataDir?: string; epochs?: number; seeds?: number; out?: string; models?: string; model?: string;
  trainLimit?: number; testLimit?: number; threads?: number; dryRun?: boolean; quiet?: boolean; scaleFan?: boolean;
}

/** Runs a study's sweep: one line per epoch, a progress bar on a terminal, Ctrl-C saves and stops. */
async function runStudy(spec: SweepSpec, out: string, flags: SweepFlags): Promise<void> {
  const log = (line: string) => process.stderr.write(line + '\n');
  if (flags.dryRun) {
    for (const r of spec.runs) console.log(`${r.name}\t${JSON.stringify(r.config)}`);
    return;
  }
  let stop = false;
  const onSigint = () => { stop = true; log('\nstopping: saving a checkpoint after this step; rerun the same command to continue'); };
  // SIGTERM too: a kill saves like Ctrl-C (background jobs ignore SIGINT).
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  const ui: { bar: Progress | null; run: string } = { bar: null, run: '' };
  try {
    log(`${spec.title}: ${spec.runs.length} runs into ${out} (finished runs are skipped, an interrupted one resumes)`);
    await runSweep(spec, out, {
      onRun: (run, i, n, resumed) => { ui.run = run.name; log(`[${i + 1}/${n}] ${run.name}${resumed ? ' (resuming)' : ''}`); },
      onDiverged: (run, message, earlier) => {
        ui.bar?.stop(); ui.bar = null;
        log(`  ${run.name} ${earlier ? 'diverged in an earlier invocation, skipped' : 'diverged'}: ${message}` +
          ` (the sweep goes on; delete ${path.join(out, run.name, DIVERGED_FILE)} to try it again)`);
      },
      train: {
        onEpochStart: (epoch, steps, start) => {
          if (!flags.quiet && process.stderr.isTTY) ui.bar = progressBar(steps, `${ui.run} epoch ${epoch + 1}`);
          ui.bar?.update(start, {});
        },
        onStep: (st) => ui.bar?.update(st.step, { loss: st.loss, acc: st.top1, imgs: st.imagesPerSecond }),
        onEpochEnd: (m) => {
          ui.bar?.stop(); ui.bar = null;
          log(`  ${ui.run} epoch ${m.epoch}: test top-1 ${pct(m.test.top1)}, train ${pct(m.train.top1)}, ${m.imagesPerSecond.toFixed(0)} img/s, ${m.seconds.toFixed(0)} s${deadNetworkWarning(m.test)}`);
        },
        shouldStop: () => stop,
      },
    });
    log(stop ? 'stopped' : `done: ebnn report ${out}`);
  } finally {
    ui.bar?.stop();
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }
}

function studyCommand(exp: Command, name: keyof typeof studies, description: string, datasets: string[]): void {
  const cmd = exp.command(name).description(description)
    .option('--dataset <name>', `dataset: ${datasets.join(' | ')}`, datasets[0])
    .option('--data-dir <dir>', 'dataset folder (default: the dataset\'s usual place)')
    .option('--epochs <n>', 'epochs per run (default: the study\'s budget)', integer)
    .option('--seeds <n>', 'seeds per setting (default: the study\'s)', integer)
    .option('-o, --out <dir>', 'sweep folder (default runs/<study>-<dataset>)')
    .option('--train-limit <n>', 'train on the first n images only (quick checks)', integer)
    .option('--test-limit <n>', 'evaluate on the first n images only', integer)
    .option('--threads <n>', 'compute threads', integer)
    .option('--dry-run', 'list the runs and exit')
    .option('--quiet', 'no progress bar');
  if (name === 'ratio') cmd.option('--model <name>', 'CIFAR-10 only: conv2 (default), conv4, conv6, conv8, resnet20 (1W/32A) or resnet20-1w1a; out defaults to runs/ratio-<model>-cifar10 for any but conv2');
  if (name === 'compare') cmd.option('--models <list>', 'comma-separated: conv2,conv4,conv6,conv8,resnet20,resnet20-1w1a', 'conv2,conv4,conv6,conv8');
  if (name === 'prune') cmd.option('--scale-fan', 'scale each layer by its unpruned fan-in (gain / sqrt((1 - k) fan_in)); skips k = 0, where it changes nothing');
  cmd.action(async (flags: SweepFlags) => {
    if (!datasets.includes(flags.dataset!)) throw new UserError(`${name}: --dataset must be one of ${datasets.join(', ')}, got "${flags.dataset}"`);
    const extra = Object.fromEntries(Object.entries({ trainLimit: flags.trainLimit, testLimit: flags.testLimit, threads: flags.threads }).filter(([, v]) => v !== undefined));
    const o: StudyOptions & { models?: string[]; scaleFan?: boolean; model?: string } = {
      dataset: flags.dataset as StudyOptions['dataset'], dataDir: flags.dataDir, epochs: flags.epochs, seeds: flags.seeds, extra,
      models: flags.models?.split(',').map((m) => m.trim()).filter(Boolean), scaleFan: flags.scaleFan, model: flags.model,
    };
    if (flags.epochs !== undefined && flags.epochs < 1) throw new UserError('--epochs must be at least 1');
    if (flags.seeds !== undefined && flags.seeds < 1) throw new UserError('--seeds must be at least 1');
    const variant = flags.scaleFan ? '-scalefan' : flags.model !== undefined && flags.model !== 'conv2' ? `-${flags.model}` : '';
    const defaultOut = path.join('runs', `${name}${variant}-${flags.dataset}`);
    await runStudy(studies[name](o), flags.out ?? defaultOut, flags);
  });
}

export function registerExperiment(program: Command): void {
  const exp = program.command('experiment').description("reproduce the paper's studies: toy, ratio, compare, prune");
  registerToy(exp);
  studyCommand(exp, 'ratio', 'accuracy vs enforced bit ratio p: bihalf(p), p in 0.1..0.9 and sign on Fashion-MNIST (3 seeds, 5 epochs), p in 0.2..0.8 on CIFAR-10 (2 seeds, 10 epochs)', ['fashion-mnist', 'cifar10', 'synthetic']);
  studyCommand(exp, 'compare', 'sign vs bihalf vs IR-Net on conv2/4 (3 seeds, 15 epochs) and conv6/8 (1 seed, 10 epochs), CIFAR-10', ['cifar10', 'synthetic']);
  studyCommand(exp, 'prune', 'halfmask binary weight pruning at k = 0, 0.3, 0.5, 0.7, 0.9 on conv2, CIFAR-10', ['cifar10', 'synthetic']);
}
