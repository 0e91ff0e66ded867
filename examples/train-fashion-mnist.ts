// The README's main job until the training CLI exists: trains a small float
// CNN on real Fashion-MNIST (Debian's dataset-fashion-mnist) for one epoch
// with a progress bar, then evaluates it on the 10,000 test images.
import { Sequential, Conv2d, BatchNorm2d, ReLU, MaxPool2d, Flatten, Linear } from '../src/nn/index.js';
import { SGD, LRScheduler, cosine, trainEpoch, evaluate } from '../src/train/index.js';
import { readMnistSplit, DEBIAN_FASHION_MNIST } from '../src/data/idx.js';
import { manualSeed, Rng } from '../src/util/prng.js';
import { backendName, kernels } from '../src/native/index.js';
import { progressBar } from '../src/cli/progress.js';
import { runMain } from '../src/cli/main.js';

runMain(() => {
  const dir = process.env.FASHION_MNIST_DIR ?? DEBIAN_FASHION_MNIST;
  const train = readMnistSplit(dir, 'train');
  const test = readMnistSplit(dir, 't10k');
  kernels.setNumThreads(2);
  manualSeed(1);
  const model = new Sequential(
    new Conv2d(1, 32, 3, { padding: 1 }), new BatchNorm2d(32), new ReLU(), new MaxPool2d(2),
    new Conv2d(32, 64, 3, { padding: 1 }), new BatchNorm2d(64), new ReLU(), new MaxPool2d(2),
    new Flatten(), new Linear(64 * 7 * 7, 128), new ReLU(), new Linear(128, 10),
  );
  const batchSize = 128, steps = Math.floor(train.n / batchSize);
  const opt = new SGD(model.parameters(), { lr: 0.05, momentum: 0.9, weightDecay: 5e-4, nesterov: true });
  const sched = new LRScheduler(opt, cosine(steps));
  console.log(`equalbits demo: float CNN (${model.numParameters()} parameters) on Fashion-MNIST from ${dir}, kernels: ${backendName}`);
  const bar = progressBar(steps, 'epoch 1/1');
  const t0 = performance.now();
  const r = trainEpoch(model, opt, train, {
    batchSize, rng: new Rng(1),
    onStep: (s) => {
      sched.step();
      bar.update(s.step, { loss: s.loss, acc: s.correct / s.images, imgs: s.images / ((performance.now() - t0) / 1000) });
    },
  });
  bar.stop();
  console.log(`train: loss ${r.loss.toFixed(4)}, accuracy ${(100 * r.accuracy).toFixed(2)}%, ${(r.images / r.seconds).toFixed(0)} img/s`);
  const ev = evaluate(model, test);
  console.log(`test (${test.n} images): loss ${ev.loss.toFixed(4)}, accuracy ${(100 * ev.accuracy).toFixed(2)}%`);
});
