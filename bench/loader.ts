// Images per second the data loader prepares for CIFAR-10-sized batches of
// 128 (random crop 4 + flip, normalised) with an idle consumer: in the main
// thread and with one worker thread (which includes starting the worker each
// epoch). The best of three epochs per run, median over --runs runs. The
// target is at least 10,000 images/s in-thread on one core, so that the loader
// never holds back training (hundreds of images/s).
import { BatchLoader, makeSynthetic, CIFAR10_NORMALIZATION } from '../src/data/index.js';
import { emit, median, numArg } from './common.js';

const runs = numArg('runs', 5);
const ds = makeSynthetic({ n: 2048, c: 3, h: 32, w: 32, seed: 0, noise: 0 });

async function bestRate(workers: number): Promise<number> {
  const loader = new BatchLoader(ds, { batchSize: 128, shuffle: true, augment: { crop: 4, flip: true }, normalize: CIFAR10_NORMALIZATION, workers });
  let best = 0;
  for (let e = 0; e < 3; e++) {
    const t0 = performance.now();
    let n = 0;
    for await (const b of loader.epoch(e)) n += b.size;
    best = Math.max(best, n / ((performance.now() - t0) / 1000));
  }
  return best;
}

for (const [engine, workers] of [['equalbits-in-thread', 0], ['equalbits-one-worker', 1]] as const) {
  const rates: number[] = [];
  for (let r = 0; r < runs; r++) rates.push(await bestRate(workers));
  emit({ bench: 'loader/cifar10-batch128', engine, value: +median(rates).toFixed(1), unit: 'img/s', runs });
}
