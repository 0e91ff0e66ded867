// Winograd against im2col + GEMM on the 3x3 convs of conv2-conv8, VGG-Small
// and ResNet-20 (batch 128, pad 1, 2 threads): GFLOP/s counted as direct
// convolution (2 n cout cin 9 oh ow) for forward, backward data and backward
// weight. EQUALBITS_WINOGRAD is read once per process, so each path runs in
// its own child process; --pairs alternating pairs of them (default 3), each
// taking the median of --runs calls (default 5). One line per layer and pass:
// the Winograd rate (median over the pairs) and its ratio to im2col.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { emit, median, numArg, timeRuns } from './common.js';

const shapes: [number, number, number][] = [ // [cin, cout, image size]
  [16, 16, 32], [32, 32, 16], [64, 64, 8],                 // ResNet-20
  [64, 64, 32], [64, 128, 16], [128, 128, 16], [128, 256, 8], [256, 256, 8], [256, 512, 4], [512, 512, 4],
];
const passes = ['forward', 'backward-data', 'backward-weight'] as const;
type Rates = Record<string, number>; // "cin->cout@size/pass" -> GFLOP/s

async function child(runs: number): Promise<void> {
  const { kernels } = await import('../src/native/index.js');
  const { Rng } = await import('../src/util/prng.js');
  kernels.setNumThreads(2);
  const rng = new Rng(3);
  const rates: Rates = {};
  for (const [cin, cout, s] of shapes) {
    const g = { n: 128, cin, h: s, w: s, cout, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1 };
    const x = rng.fillNormal(new Float32Array(g.n * cin * s * s)), y = rng.fillNormal(new Float32Array(g.n * cout * s * s));
    const w = rng.fillNormal(new Float32Array(cout * cin * 9)), dw = new Float32Array(w.length), dx = new Float32Array(x.length);
    const run = {
      'forward': () => kernels.conv2dForward(g, x, w, null, y),
      'backward-data': () => kernels.conv2dBackwardData(g, y, w, dx),
      'backward-weight': () => kernels.conv2dBackwardWeight(g, x, y, dw, null),
    };
    const flops = 2 * g.n * cout * cin * 9 * s * s;
    for (const pass of passes) rates[`${cin}->${cout}@${s}/${pass}`] = flops / median(timeRuns(run[pass], runs)) / 1e9;
  }
  process.stdout.write(JSON.stringify(rates));
}

function spawnChild(winograd: boolean, runs: number): Rates {
  const env = { ...process.env, EQUALBITS_WINOGRAD: winograd ? '1' : '0' };
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', '--runs', String(runs)], { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`bench/winograd child failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Rates;
}

const runs = numArg('runs', 5);
if (process.argv.includes('--child')) {
  await child(runs);
} else {
  const pairs = numArg('pairs', 3);
  const wino: Rates[] = [], plain: Rates[] = [];
  for (let i = 0; i < pairs; i++) {
    wino.push(spawnChild(true, runs));
    plain.push(spawnChild(false, runs));
  }
  for (const key of Object.keys(wino[0])) {
    const w = median(wino.map((r) => r[key])), p = median(plain.map((r) => r[key]));
    emit({ bench: `winograd/${key}`, engine: 'equalbits', value: +w.toFixed(1), unit: 'GFLOP/s', runs: pairs,
      im2colGflops: +p.toFixed(1), speedup: +(w / p).toFixed(2) });
  }
}
