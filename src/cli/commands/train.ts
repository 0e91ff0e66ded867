// ebnn train: flags and an optional JSON config file (flags win), built-in
// paper recipes, a progress bar per epoch (or quiet / JSON lines), Ctrl-C
// saves a checkpoint and exits; --resume continues a run.
import fs from 'node:fs';
import type { Command } from 'commander';
import { defaultConfig, recipe, recipes, resolveConfig, type TrainConfig } from '../../train/config.js';
import { train, type EpochMetrics } from '../../train/trainer.js';
import { UserError } from '../../util/errors.js';
import { progressBar, type Progress } from '../progress.js';
import { pct, deadNetworkWarning } from '../format.js';
import { overallPlusFraction } from '../../quant/index.js';
import { integer, number, numberList } from '../options.js';

/** Reads a JSON config file; a missing file or bad JSON is a one-line error. */
function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new UserError(`cannot read config ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    const v = JSON.parse(text) as unknown;
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('expected a JSON object');
    return v as Record<string, unknown>;
  } catch (e) {
    throw new UserError(`config ${file} is not valid JSON: ${(e as Error).message}`);
  }
}

function summary(m: EpochMetrics): string {
  const bits = m.bits.length
    ? ` | bits: +1 ${pct(overallPlusFraction(m.bits))}, flips ${m.bits.reduce((s, b) => s + b.flipsUp + b.flipsDown, 0)}`
    : '';
  return `epoch ${m.epoch}: train loss ${m.train.loss.toFixed(4)} acc ${pct(m.train.top1)} | test loss ${m.test.loss.toFixed(4)} top-1 ${pct(m.test.top1)} top-5 ${pct(m.test.top5)} | ${m.imagesPerSecond.toFixed(0)} img/s, ${m.seconds.toFixed(1)} s${bits}${deadNetworkWarning(m.test)}`;
}

export interface TrainFlags extends Partial<TrainConfig> { recipe?: string; config?: string; resume?: boolean; overwrite?: boolean; quiet?: boolean; json?: boolean }

/** Runs a training from parsed flags; returns the final metrics (the demo prints them). */
export async function runTrain(flags: TrainFlags): Promise<{ last: EpochMetrics | null; checkpoint: string; metrics: string; interrupted: boolean }> {
  const { recipe: recipeName, config: configFile, resume, overwrite, quiet, json, ...overrides } = flags;
  const c = resolveConfig(defaultConfig, recipeName ? recipe(recipeName) : {}, configFile ? readConfigFile(configFile) : {}, overrides);
  // Status lines go to stderr in every mode; with --json, stdout carries only the JSON lines.
  const log = (line: string) => process.stderr.write(line + '\n');
  let stopRequested = false;
  const onSigint = () => {
    if (stopRequested) { process.stderr.write('\nsecond Ctrl-C: exiting without saving\n'); process.exit(130); }
    stopRequested = true;
    process.stderr.write('\nCtrl-C: saving a checkpoint after this step (Ctrl-C again to quit at once)\n');
  };
  // A kill (SIGTERM, e.g. at the end of a session) saves too; background jobs ignore SIGINT.
  const onSigterm = () => { stopRequested = true; process.stderr.write('\nSIGTERM: saving a checkpoint after this step\n'); };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  const ui: { bar: Progress | null } = { bar: null };
  try {
    const result = await train(c, {
      onStart: ({ model, resumedFrom, train: tr, test, stepsPerEpoch }) => {
        log(`ebnn train: ${c.model} (weights ${c.weights}, activations ${c.activations}, ${model.numParameters()} parameters) on ${c.dataset}: ${tr.n} train / ${test.n} test images, ${c.epochs} epochs x ${stepsPerEpoch} steps, batch ${c.batchSize}, ${c.optimizer} lr ${c.lr} ${c.schedule}, out ${c.out}`);
        if (resumedFrom) log(`resuming at epoch ${resumedFrom.epoch + 1}, step ${resumedFrom.step}`);
      },
      onEpochStart: (epoch, steps, start) => {
        if (!quiet && !json) ui.bar = progressBar(steps, `epoch ${epoch + 1}/${c.epochs}`);
        ui.bar?.update(start, {});
      },
      onStep: (s) => ui.bar?.update(s.step, { loss: s.loss, acc: s.top1, imgs: s.imagesPerSecond }),
      onEpochEnd: (m) => {
        ui.bar?.stop(); ui.bar = null;
        if (json) process.stdout.write(JSON.stringify(m) + '\n');
        else log(summary(m));
      },
      shouldStop: () => stopRequested,
    }, { resume, overwrite });
    if (result.interrupted) log(`stopped: checkpoint saved to ${result.checkpoint}; continue with --resume --out ${c.out}`);
    else log(`done: checkpoint ${result.checkpoint}, metrics ${result.metrics}`);
    return result;
  } finally {
    ui.bar?.stop();
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
  }
}

export function registerTrain(program: Command): void {
  program.command('train')
    .description('train a model (flags override --config, which overrides --recipe)')
    .option('--recipe <name>', `a paper recipe: ${Object.keys(recipes).join(', ')}`)
    .option('--config <file>', 'JSON file with any of the settings below (camelCase keys)')
    .option('--model <name>', 'model from `ebnn models`')
    .option('--weights <q>', 'float | sign | bihalf | halfmask | irnet')
    .option('--activations <q>', 'float | ste_sign | approx_sign | ede')
    .option('--ratio <p>', 'bihalf: fraction of +1 weights', number)
    .option('--prune-rate <k>', 'halfmask: fraction of zero weights', number)
    .option('--group <g>', 'quantizer group: filter | layer')
    .option('--scaling <s>', 'fixed | xnor | none')
    .option('--scale-fan', 'halfmask: scale by the unpruned fan-in')
    .option('--dataset <name>', 'fashion-mnist | mnist | cifar10 | cifar100 | synthetic')
    .option('--data-dir <dir>', 'where the dataset files are')
    .option('--train-limit <n>', 'use only the first n training images', integer)
    .option('--test-limit <n>', 'use only the first n test images', integer)
    .option('--augment', 'random crop and flip (CIFAR)')
    .option('--no-augment', 'no augmentation')
    .option('--epochs <n>', 'epochs', integer)
    .option('--batch-size <n>', 'batch size', integer)
    .option('--eval-batch-size <n>', 'evaluation batch size', integer)
    .option('--optimizer <name>', 'sgd | adam | adamw')
    .option('--lr <x>', 'learning rate', number)
    .option('--momentum <x>', 'SGD momentum', number)
    .option('--nesterov', 'Nesterov momentum')
    .option('--weight-decay <x>', 'weight decay', number)
    .option('--schedule <s>', 'cosine | multistep | constant')
    .option('--milestones <list>', 'multistep: epochs, e.g. 150,250,320', numberList)
    .option('--gamma <x>', 'multistep factor', number)
    .option('--warmup-epochs <x>', 'linear warm-up length in epochs', number)
    .option('--seed <n>', 'random seed', integer)
    .option('--threads <n>', 'compute threads', integer)
    .option('--workers <n>', 'data-loading worker threads (0 = main thread)', integer)
    .option('--checkpoint-minutes <x>', 'minutes between checkpoints within an epoch (0: epoch ends only; default 5)', number)
    .option('--out <dir>', 'output folder (checkpoint.ebck, metrics.jsonl, config.json)')
    .option('--resume', 'continue the run in --out from its checkpoint')
    .option('--overwrite', 'replace a finished or stopped run in --out')
    .option('--quiet', 'no progress bar, one line per epoch')
    .option('--json', 'print one JSON object per epoch on stdout')
    .action(async (flags: TrainFlags) => { await runTrain(flags); });
}
