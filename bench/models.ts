// Training and inference throughput and peak RSS of the binary models of the
// zoo, one model per process (--model conv2 | conv6 | resnet20 | vgg-small),
// so that the peak RSS is that model's alone. Peer: bench/pytorch/models.py.
//   conv2, conv6          bi-half weights, float activations (1W/32A)
//   resnet20, vgg-small   bi-half weights, ste_sign activations (1W/1A)
// --weights <q> swaps the weight quantizer (sign, irnet, ...; the label says so).
// Batch 128 of random 32x32x3 inputs, 10 classes, SGD momentum 0.9, 2 threads.
// Train: a warm-up run, then the median img/s of --runs runs of --steps steps.
// Infer: eval mode under noGrad, timed the same way.
import { createModel, describeModule, type ModelOptions } from '../src/models/index.js';
import { Tensor, tidy, noGrad, crossEntropy } from '../src/autograd/index.js';
import { SGD } from '../src/train/index.js';
import { kernels } from '../src/native/index.js';
import { weightQuantizerNames } from '../src/quant/index.js';
import { Rng, manualSeed } from '../src/util/prng.js';
import { emit, median, numArg, peakRssMB, timeRuns } from './common.js';

// Zoo name -> bench label and activations; the labels are shared with models.py.
const MODELS: Record<string, { label: string; activations: ModelOptions['activations'] }> = {
  conv2: { label: 'conv2-bihalf', activations: 'float' },
  conv6: { label: 'conv6-bihalf', activations: 'float' },
  resnet20: { label: 'resnet20-1w1a-bihalf', activations: 'ste_sign' },
  'vgg-small': { label: 'vgg-small-1w1a-bihalf', activations: 'ste_sign' },
};

function modelArg(): string {
  const i = process.argv.indexOf('--model');
  const name = i < 0 ? undefined : process.argv[i + 1];
  if (!name || !(name in MODELS)) {
    process.stderr.write(`bench/models: --model must be one of ${Object.keys(MODELS).join(', ')}\n`);
    process.exit(2);
  }
  return name;
}

function weightsArg(): string {
  const i = process.argv.indexOf('--weights');
  const q = i < 0 ? 'bihalf' : process.argv[i + 1];
  if (!q || !weightQuantizerNames().includes(q)) {
    process.stderr.write(`bench/models: --weights must be one of ${weightQuantizerNames().join(', ')}\n`);
    process.exit(2);
  }
  return q;
}

const name = modelArg(), weights = weightsArg();
const { activations } = MODELS[name];
const label = MODELS[name].label.replace(/bihalf$/, weights);
const runs = numArg('runs', 5), steps = numArg('steps', 5), batch = 128;
kernels.setNumThreads(2);
manualSeed(0);
const model = createModel(name, { weights: { name: weights }, activations, numClasses: 10, inChannels: 3, imageSize: 32 });
const desc = describeModule(model);
const opt = new SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
const rng = new Rng(1);
const x = new Tensor(rng.fillNormal(new Float32Array(batch * 3 * 32 * 32)), [batch, 3, 32, 32]);
const y = Int32Array.from({ length: batch }, () => rng.int(10));
const meta = { steps, batch, threads: 2, params: desc.totalParams, binaryParams: desc.binaryParams };

// The step as in the trainer: the graph and every intermediate are freed by
// tidy, the update runs outside it.
const trainStep = () => {
  tidy(() => {
    opt.zeroGrad();
    crossEntropy(model.forward(x), y).backward();
  });
  opt.step();
};
model.train();
const trainSecs = timeRuns(() => { for (let i = 0; i < steps; i++) trainStep(); }, runs, 1);
emit({ bench: `train/${label}`, engine: 'equalbits', value: +median(trainSecs.map((s) => (steps * batch) / s)).toFixed(1), unit: 'img/s', runs, ...meta });

// The fn returns nothing, so tidy frees the logits too.
const inferStep = () => { tidy(() => { noGrad(() => model.forward(x)); }); };
model.eval();
const inferSecs = timeRuns(() => { for (let i = 0; i < steps; i++) inferStep(); }, runs, 1);
emit({ bench: `infer/${label}`, engine: 'equalbits', value: +median(inferSecs.map((s) => (steps * batch) / s)).toFixed(1), unit: 'img/s', runs, ...meta });

emit({ bench: `rss/${label}`, engine: 'equalbits', value: +peakRssMB().toFixed(1), unit: 'MB', runs: 1 });
