// Training throughput of the float Conv2 network (the shallow model of the
// Equal Bits paper without binarisation): conv 3->64, conv 64->64, maxpool,
// linear 16384->256->256->10, ReLU; batch 128 of 32x32x3 inputs, SGD with
// momentum, 2 threads. Run in its own process so its peak RSS is its own.
import { Sequential, Conv2d, ReLU, MaxPool2d, Flatten, Linear } from '../src/nn/index.js';
import { Tensor, tidy, crossEntropy } from '../src/autograd/index.js';
import { SGD } from '../src/train/index.js';
import { kernels } from '../src/native/index.js';
import { Rng, manualSeed } from '../src/util/prng.js';
import { emit, median, numArg, peakRssMB, timeRuns } from './common.js';

function conv2Float(): Sequential {
  return new Sequential(
    new Conv2d(3, 64, 3, { padding: 1 }), new ReLU(),
    new Conv2d(64, 64, 3, { padding: 1 }), new ReLU(), new MaxPool2d(2),
    new Flatten(), new Linear(64 * 16 * 16, 256), new ReLU(), new Linear(256, 256), new ReLU(), new Linear(256, 10),
  );
}

const runs = numArg('runs', 5), steps = numArg('steps', 10), batch = 128;
kernels.setNumThreads(2);
manualSeed(0);
const model = conv2Float();
const opt = new SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
const rng = new Rng(1);
const x = new Tensor(rng.fillNormal(new Float32Array(batch * 3 * 32 * 32)), [batch, 3, 32, 32]);
const y = Int32Array.from({ length: batch }, () => rng.int(10));
const step = () => {
  tidy(() => {
    opt.zeroGrad();
    crossEntropy(model.forward(x), y).backward();
  });
  opt.step();
};
const secs = timeRuns(() => { for (let i = 0; i < steps; i++) step(); }, runs, 1);
emit({ bench: 'train/conv2-float', engine: 'equalbits', value: +median(secs.map((s) => (steps * batch) / s)).toFixed(1), unit: 'img/s', runs, steps, batch, threads: 2 });
emit({ bench: 'rss/conv2-float', engine: 'equalbits', value: +peakRssMB().toFixed(1), unit: 'MB', runs: 1 });
