// ebnn export <checkpoint> -o model.ebnn [--check]: writes the packed model
// (docs/format.md) and, with --check, runs the test set through both the
// packed engine and the training forward and reports how often their top-1
// predictions agree.
import fs from 'node:fs';
import type { Command } from 'commander';
import { readCheckpoint, modelFromCheckpoint, loadersFor } from '../../train/trainer.js';
import { exportModel, binarizationFlips } from '../../train/export.js';
import { normalizationFor } from '../../train/dataset-defaults.js';
import { writeFileAtomic } from '../../train/index.js';
import { encodePacked } from '../../deploy/format.js';
import { PackedModel } from '../../deploy/engine.js';
import { loadDataset, head, standardClassNames } from '../../data/index.js';
import { Tensor, noGrad, tidy } from '../../autograd/index.js';
import { packedBackend } from '../../deploy/node-backends.js';
import { pct } from '../format.js';
import { integer } from '../options.js';
import { progressBar } from '../progress.js';

interface ExportFlags { out: string; check?: boolean; dataDir?: string; testLimit?: number; engine?: string; json?: boolean }

const argmax = (a: Float32Array, off: number, k: number) => {
  let best = 0;
  for (let j = 1; j < k; j++) if (a[off + j] > a[off + best]) best = j;
  return best;
};

export async function runExport(file: string, flags: ExportFlags): Promise<void> {
  const ck = readCheckpoint(file);
  const model = modelFromCheckpoint(ck);
  const o = ck.model.options as { inChannels: number; imageSize: number };
  const { graph, sections } = exportModel(model, { shape: [o.inChannels, o.imageSize, o.imageSize], ...normalizationFor(ck.config.dataset, o.inChannels) },
    { model: ck.model, dataset: ck.config.dataset, epoch: ck.epoch, classNames: standardClassNames(ck.config.dataset) });
  const bytes = encodePacked(graph, sections);
  writeFileAtomic(flags.out, bytes);
  const floatBytes = model.parameters().reduce((s, p) => s + 4 * p.numel, 0);
  const summary = { file: flags.out, bytes: bytes.length, float32Bytes: floatBytes, nodes: graph.nodes.length };
  if (!flags.json) console.log(`wrote ${flags.out}: ${bytes.length} bytes (float32 parameters: ${floatBytes} bytes, ${(floatBytes / bytes.length).toFixed(1)}x larger), ${graph.nodes.length} nodes`);
  if (!flags.check) { if (flags.json) console.log(JSON.stringify(summary)); return; }

  // The first engine is checked against the training forward; the others against it, bit for bit.
  const names = (flags.engine ?? 'native').split(',').filter(Boolean);
  const written = fs.readFileSync(flags.out);
  const engines = names.map((e) => PackedModel.load(written, packedBackend(e), flags.out));
  const engine = engines[0];
  const sameBits = names.map(() => 0);
  const test = head(loadDataset(ck.config.dataset, 'test', { dir: flags.dataDir ?? ck.config.dataDir, seed: ck.config.seed }), flags.testLimit);
  const [, loader] = loadersFor({ ...ck.config, workers: 1 }, test, test);
  model.eval();
  let images = 0, agree = 0, rightTrain = 0, rightPacked = 0;
  const differ: { image: number; x: Float32Array }[] = [];
  const per = test.c * test.h * test.w;
  const bar = progressBar(test.n, 'check', !flags.json && process.stderr.isTTY === true);
  for await (const b of loader.epoch(0)) {
    const outs = engines.map((e) => e.run(b.x, b.size)), packed = outs[0], k = engine.outputSize;
    for (let j = 1; j < outs.length; j++) {
      const a = new Uint32Array(packed.buffer), o = new Uint32Array(outs[j].buffer);
      for (let i = 0; i < b.size; i++) if (a.subarray(i * k, (i + 1) * k).every((v, t) => v === o[i * k + t])) sameBits[j]++;
    }
    noGrad(() => tidy(() => {
      const logits = model.forward(new Tensor(b.x, [b.size, test.c, test.h, test.w])).data;
      for (let i = 0; i < b.size; i++) {
        const pt = argmax(logits, i * k, k), pp = argmax(packed, i * k, k);
        if (pt === pp) agree++;
        else if (differ.length < 50) differ.push({ image: images + i, x: b.x.slice(i * per, (i + 1) * per) });
        if (pt === b.y[i]) rightTrain++;
        if (pp === b.y[i]) rightPacked++;
      }
    }));
    images += b.size;
    bar.update(images, {});
  }
  bar.stop();
  // Each disagreement, explained by the binarised activations that changed sign.
  const disagreements = differ.map((d) => ({ image: d.image, ...binarizationFlips(model, engine, d.x) }));
  const identical = Object.fromEntries(names.slice(1).map((n, j) => [n, sameBits[j + 1]]));
  const check = { images, agree, agreement: agree / images, trainingTop1: rightTrain / images, packedTop1: rightPacked / images, engine: names[0], identicalOutputs: identical, disagreements };
  if (flags.json) { console.log(JSON.stringify({ ...summary, check })); return; }
  console.log(`check on ${images} ${ck.config.dataset} test images (${check.engine} engine): top-1 agreement ${pct(check.agreement)} (${images - agree} differ); top-1 ${pct(check.packedTop1)} packed vs ${pct(check.trainingTop1)} training forward`);
  for (const [n, same] of Object.entries(identical)) console.log(`  ${n} engine: bit-identical outputs to ${names[0]} on ${same} of ${images} images`);
  for (const d of disagreements) {
    console.log(d.flips
      ? `  image ${d.image}: first differing binarisation is the input of node ${d.node}: ${d.flips} of ${d.points} signs, all within |x| <= ${d.maxAbs.toExponential(2)} of the threshold`
      : `  image ${d.image}: no binarised activation differs (the float layers' rounding decided it)`);
  }
  if (images - agree > disagreements.length) console.log(`  (${images - agree - disagreements.length} more not listed)`);
}

export function registerExport(program: Command): void {
  program.command('export <checkpoint>')
    .description('write a trained checkpoint as a packed model (1 bit per binary weight, batch norm folded); --check compares it with the training forward')
    .requiredOption('-o, --out <file>', 'the .ebnn file to write')
    .option('--check', 'run the test set through the packed engine and the training forward and report agreement')
    .option('--engine <list>', 'engines for --check, comma-separated (native, wasm, js): the first is compared with the training forward, the others with the first, bit for bit', 'native')
    .option('--data-dir <dir>', 'where the dataset is (default: as in training)')
    .option('--test-limit <n>', 'check only the first n test images', integer)
    .option('--json', 'one JSON object')
    .action((file: string, flags: ExportFlags) => runExport(file, flags));
}
