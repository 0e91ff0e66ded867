// Milliseconds per call of the bi-half weight quantizer (codes + scale +
// effective weights, what a training forward does) on the shapes in
// quant-shapes.json, next to PyTorch doing the reference code's per-filter
// sort + scatter (bench/pytorch/quant.py).
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Parameter } from '../src/nn/index.js';
import { BinaryWeight, BiHalfQuantizer } from '../src/quant/index.js';
import { kernels } from '../src/native/index.js';
import { Rng } from '../src/util/prng.js';
import { emit, median, numArg, timeRuns } from './common.js';

const runs = numArg('runs', 5);
kernels.setNumThreads(2);
const shapesFile = fileURLToPath(new URL('../../bench/quant-shapes.json', import.meta.url));
const shapes = JSON.parse(fs.readFileSync(shapesFile, 'utf8')) as Record<string, number[][] | string>;
const rng = new Rng(3);
for (const [name, list] of Object.entries(shapes)) {
  if (typeof list === 'string') continue;
  const layers = list.map((shape) => {
    const p = Parameter.zeros(shape);
    rng.fillNormal(p.data);
    return new BinaryWeight(p, new BiHalfQuantizer(), { scaling: 'fixed', gain: Math.SQRT2, scaleFan: false });
  });
  const call = () => {
    for (const l of layers) {
      l.latent.version++; // as after an optimizer step: force a fresh quantization
      l.refresh();
    }
  };
  const ms = median(timeRuns(call, runs, 2).map((s) => s * 1000));
  emit({ bench: `quant/${name}`, engine: 'equalbits', value: +ms.toFixed(3), unit: 'ms', runs, weights: layers.reduce((s, l) => s + l.latent.numel, 0) });
}
