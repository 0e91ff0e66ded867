// GFLOP/s of the Conv2 network's conv layers (forward, backward data,
// backward weight) at batch 128, next to OpenBLAS sgemm doing the same
// arithmetic as one large GEMM (the best case an im2col conv could reach).
import { kernels, type ConvGeometry } from '../src/native/index.js';
import { Rng } from '../src/util/prng.js';
import { emit, median, numArg, timeRuns } from './common.js';

const runs = numArg('runs', 5);
kernels.setNumThreads(2);
const rng = new Rng(2);
const layers: [string, ConvGeometry][] = [
  ['conv1', { n: 128, cin: 3, h: 32, w: 32, cout: 64, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1 }],
  ['conv2', { n: 128, cin: 64, h: 32, w: 32, cout: 64, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1 }],
];
const rand = (n: number) => rng.fillNormal(new Float32Array(n));

for (const [name, g] of layers) {
  const P = g.h * g.w, K = g.cin * g.kh * g.kw; // stride 1, same padding: output is h x w
  const flops = 2 * g.n * g.cout * P * K;
  const x = rand(g.n * g.cin * P), w = rand(g.cout * K), b = rand(g.cout), y = rand(g.n * g.cout * P);
  const dx = new Float32Array(x.length), dw = new Float32Array(w.length);
  // The same GEMMs as one call each: [cout,K]x[K,nP]; [K,cout]x[cout,nP]; [cout,nP]x[nP,K].
  const colA = rand(K * g.n * P), outA = new Float32Array(g.cout * g.n * P);
  const passes: [string, () => void, () => void][] = [
    ['forward', () => kernels.conv2dForward(g, x, w, b, y),
      () => kernels.sgemm(false, false, g.cout, g.n * P, K, 1, w, colA, 0, outA)],
    ['backward-data', () => kernels.conv2dBackwardData(g, y, w, dx),
      () => kernels.sgemm(true, false, K, g.n * P, g.cout, 1, w, outA, 0, colA)],
    ['backward-weight', () => kernels.conv2dBackwardWeight(g, x, y, dw, null),
      () => kernels.sgemm(false, true, g.cout, K, g.n * P, 1, outA, colA, 0, dw)],
  ];
  for (const [pass, conv, gemm] of passes) {
    const convRate = median(timeRuns(conv, runs).map((s) => flops / s / 1e9));
    const gemmRate = median(timeRuns(gemm, runs).map((s) => flops / s / 1e9));
    emit({ bench: `conv/conv2-float/${name}/${pass}`, engine: 'equalbits', value: +convRate.toFixed(1), unit: 'GFLOP/s', runs,
      sgemmGflops: +gemmRate.toFixed(1), ofSgemm: +(convRate / gemmRate).toFixed(3) });
  }
}
