// ebnn predict model.ebnn <image.png | images.idx[.gz]>: the top classes of
// one PNG image, or of the first --limit images of an IDX file, with the
// packed engine. The image must have the model's input size; pixels are
// normalised with the mean and std stored in the model.
import fs from 'node:fs';
import type { Command } from 'commander';
import { PNG } from 'pngjs';
import { PackedModel } from '../../deploy/engine.js';
import { parseIdx } from '../../data/index.js';
import { packedBackend } from '../../deploy/node-backends.js';
import { UserError } from '../../util/errors.js';
import { integer } from '../options.js';

function readFile(file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    throw new UserError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** Pixels [n, c, h, w] in 0..255 from a PNG (RGB, or gray for one channel) or an IDX image file. */
function loadImages(file: string, [c, h, w]: [number, number, number], limit: number): { pixels: Uint8Array; n: number } {
  const bytes = readFile(file);
  if (bytes.length >= 8 && bytes.readUInt32BE(0) === 0x89504e47) {
    let png: PNG;
    try { png = PNG.sync.read(bytes); } catch (e) { throw new UserError(`${file}: not a readable PNG (${(e as Error).message})`); }
    if (png.width !== w || png.height !== h) throw new UserError(`${file} is ${png.width}x${png.height}; the model takes ${w}x${h} images`);
    const out = new Uint8Array(c * h * w);
    for (let p = 0; p < h * w; p++) {
      const [r, g, b] = [png.data[4 * p], png.data[4 * p + 1], png.data[4 * p + 2]];
      if (c === 1) out[p] = Math.round(0.299 * r + 0.587 * g + 0.114 * b);
      else for (let ch = 0; ch < c; ch++) out[ch * h * w + p] = [r, g, b][ch % 3];
    }
    return { pixels: out, n: 1 };
  }
  const idx = parseIdx(bytes, file);
  const [n, ih, iw] = idx.dims;
  if (idx.dims.length !== 3 || ih !== h || iw !== w || c !== 1) throw new UserError(`${file} holds [${idx.dims.join(', ')}] images; the model takes ${c}x${h}x${w}`);
  const m = Math.min(n, limit);
  return { pixels: idx.data.subarray(0, m * h * w), n: m };
}

export function registerPredict(program: Command): void {
  program.command('predict <model> <images>')
    .description('top classes of a PNG image or of the images in an IDX file, with the packed engine')
    .option('--top <k>', 'classes to show per image', integer, 3)
    .option('--limit <n>', 'IDX files: the first n images', integer, 10)
    .option('--engine <name>', 'native | wasm | js', 'native')
    .option('--json', 'one JSON object per image')
    .action((modelFile: string, images: string, flags: { top: number; limit: number; engine: string; json?: boolean }) => {
      const model = PackedModel.load(readFile(modelFile), packedBackend(flags.engine ?? 'native'), modelFile);
      const { shape, mean, std } = model.graph.input;
      const { pixels, n } = loadImages(images, shape, Math.max(1, flags.limit));
      const plane = shape[1] * shape[2], per = shape[0] * plane, x = new Float32Array(n * per);
      for (let i = 0; i < x.length; i++) { const ch = Math.floor((i % per) / plane); x[i] = (pixels[i] / 255 - mean[ch]) / std[ch]; }
      const out = model.run(x, n), k = model.outputSize;
      // Class names travel in the model file (written by ebnn export).
      const names = Array.isArray(model.graph.classNames) ? model.graph.classNames.map(String) : [];
      for (let i = 0; i < n; i++) {
        const row = out.subarray(i * k, (i + 1) * k), max = Math.max(...row);
        const e = Array.from(row, (v) => Math.exp(v - max)), z = e.reduce((a, b) => a + b, 0);
        const top = e.map((v, j) => ({ class: j, name: names[j] ?? String(j), p: v / z })).sort((a, b) => b.p - a.p).slice(0, Math.max(1, flags.top));
        if (flags.json) console.log(JSON.stringify({ image: i, top }));
        else console.log(`${n > 1 ? `image ${i}: ` : ''}${top.map((t) => `${t.name} ${(100 * t.p).toFixed(1)}%`).join(', ')}`);
      }
    });
}
