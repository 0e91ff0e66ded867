// ebnn eval <checkpoint>: top-1 / top-5 on a dataset's test split and the bit
// statistics of every binary layer; --relu adds how much of each ReLU's input
// is positive (dead units); --json prints one object.
import type { Command } from 'commander';
import { readCheckpoint, modelFromCheckpoint, evaluateModel, loadersFor } from '../../train/trainer.js';
import { TrainConfigSchema } from '../../train/config.js';
import { loadDataset, head } from '../../data/index.js';
import { bitStats } from '../../quant/index.js';
import { watchReLUs } from '../../nn/index.js';
import { kernels } from '../../native/index.js';
import { UserError } from '../../util/errors.js';
import { progressBar } from '../progress.js';
import { pct } from '../format.js';
import { integer } from '../options.js';

interface EvalFlags { dataset?: string; dataDir?: string; testLimit?: number; batchSize?: number; threads?: number; json?: boolean; perFilter?: boolean; relu?: boolean }

export async function runEval(file: string, flags: EvalFlags): Promise<void> {
  const ck = readCheckpoint(file);
  const dataset = TrainConfigSchema.shape.dataset.safeParse(flags.dataset ?? ck.config.dataset);
  if (!dataset.success) throw new UserError(`unknown dataset "${flags.dataset}"`);
  kernels.setNumThreads(flags.threads ?? ck.config.threads);
  const model = modelFromCheckpoint(ck);
  const test = head(loadDataset(dataset.data, 'test', { dir: flags.dataDir ?? ck.config.dataDir, seed: ck.config.seed }), flags.testLimit);
  const opts = ck.model.options as { inChannels?: number; imageSize?: number; numClasses?: number };
  if ((opts.inChannels ?? test.c) !== test.c || (opts.imageSize ?? test.h) !== test.h || (opts.numClasses ?? test.classes) !== test.classes) {
    throw new UserError(`the model in ${file} takes ${opts.inChannels}x${opts.imageSize}x${opts.imageSize} inputs with ${opts.numClasses} classes; ${dataset.data} has ${test.c}x${test.h}x${test.w} with ${test.classes}`);
  }
  const [, loader] = loadersFor({ ...ck.config, dataset: dataset.data, evalBatchSize: flags.batchSize ?? ck.config.evalBatchSize }, test, test);
  const bar = progressBar(test.n, 'eval', !flags.json && process.stderr.isTTY === true);
  const watch = flags.relu ? watchReLUs(model) : null;
  const r = await evaluateModel(model, loader, test, (done) => bar.update(done, {}));
  bar.stop();
  const relus = watch?.stats();
  watch?.stop();
  const layers = bitStats(model, { perGroup: flags.perFilter }).map(({ flipsUp: _u, flipsDown: _d, ...l }) => l);
  if (flags.json) {
    process.stdout.write(JSON.stringify({ top1: r.top1, top5: r.top5, loss: r.loss, images: r.images, checkpoint: file, model: ck.model, epoch: ck.epoch, layers, ...(relus ? { relus } : {}) }) + '\n');
    return;
  }
  console.log(`${file} (${ck.model.name}, epoch ${ck.epoch}) on ${dataset.data} test (${r.images} images): top-1 ${pct(r.top1)}, top-5 ${pct(r.top5)}, loss ${r.loss.toFixed(4)}`);
  for (const l of layers) {
    console.log(`  ${l.name.padEnd(24)} ${l.quantizer.padEnd(9)} ${String(l.groups).padStart(5)} x ${String(l.groupSize).padEnd(6)} +1 ${pct(l.plusFraction).padStart(7)}  0 ${pct(l.zeroFraction).padStart(7)}  entropy ${l.entropyBits.toFixed(4)} bits`);
  }
  for (const u of relus ?? []) {
    console.log(`  ReLU ${u.name.padEnd(19)} inputs > 0: ${pct(u.positiveFraction).padStart(7)}  dead units (never > 0): ${u.deadUnits} of ${u.units} (${pct(u.units ? u.deadUnits / u.units : 0)})`);
  }
}

export function registerEval(program: Command): void {
  program.command('eval <checkpoint>')
    .description('evaluate a checkpoint: top-1/top-5 and the bit statistics of its binary layers')
    .option('--dataset <name>', 'dataset (default: the one it was trained on)')
    .option('--data-dir <dir>', 'where the dataset files are')
    .option('--test-limit <n>', 'only the first n test images', integer)
    .option('--batch-size <n>', 'evaluation batch size', integer)
    .option('--threads <n>', 'compute threads', integer)
    .option('--per-filter', 'include per-filter statistics')
    .option('--relu', "count each ReLU's positive inputs and its dead units (never positive on any test image)")
    .option('--json', 'print one JSON object')
    .action(async (file: string, flags: EvalFlags) => { await runEval(file, flags); });
}
