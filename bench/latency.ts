// Inference latency at batch 1 of a 1W/1A model (--model resnet18 | resnet20)
// on the packed engines (native, wasm, js) and the float training-engine
// forward, 2 threads, medians; and the binary MAC/s of its binary layers on
// the native engine. The model is a fresh zoo model exported in memory
// (weights do not change the speed). Peer: bench/pytorch/latency.py.
import { createModel } from '../src/models/index.js';
import { exportModel } from '../src/train/export.js';
import { encodePacked } from '../src/deploy/format.js';
import { benchInfer } from '../src/cli/commands/bench-infer.js';
import { manualSeed } from '../src/util/prng.js';
import { emit, numArg } from './common.js';
import { nativeAddon } from '../src/deploy/node-backends.js';

const LABELS: Record<string, string> = { resnet18: 'resnet18-1w1a-bihalf', resnet20: 'resnet20-1w1a-bihalf' };
const i = process.argv.indexOf('--model'), name = i < 0 ? '' : process.argv[i + 1];
if (!(name in LABELS)) {
  process.stderr.write(`bench/latency: --model must be one of ${Object.keys(LABELS).join(', ')}\n`);
  process.exit(2);
}
const label = LABELS[name], runs = numArg('runs', 30);
// --isa avx512 | avx2 | portable picks the native binary kernel (default: the best this CPU
// runs), so two kernels can be compared on one machine in one session.
const isaAt = process.argv.indexOf('--isa'), isaAsked = isaAt < 0 ? '' : process.argv[isaAt + 1] ?? '';
let isa: string;
try {
  isa = nativeAddon().setPackedIsa(isaAsked);
} catch (e) {
  process.stderr.write(`bench/latency: --isa ${isaAsked}: ${(e as Error).message}\n`);
  process.exit(2);
}
manualSeed(0);
const options = { weights: { name: 'bihalf' }, activations: 'ste_sign' as const, numClasses: 10, inChannels: 3, imageSize: 32 };
const model = createModel(name, options);
const { graph, sections } = exportModel(model, { shape: [3, 32, 32], mean: [0, 0, 0], std: [1, 1, 1] }, { model: { name, options } });
// --wasm-threads 1 times the single-threaded module (default: 2, as every other engine).
const wasmThreads = numArg('wasm-threads', 2);
const r = benchInfer(encodePacked(graph, sections), name, { engines: ['native', 'wasm', 'js'], runs, batch: 0, threads: 2, wasmThreads, budgetMs: 15000, float: true });
for (const e of r.engines) {
  const engine = e.engine === 'float' ? 'equalbits-float' : `equalbits-${e.engine}`;
  emit({ bench: `latency/${label}`, engine, value: e.latencyMs, unit: 'ms', runs: e.latencyRuns, batch: 1, threads: e.engine === 'wasm' ? wasmThreads : e.engine === 'js' ? 1 : 2, ...(e.engine === 'native' ? { isa } : {}) });
}
if (r.binary) emit({ bench: `bmacs/${label}`, engine: 'equalbits-packed-native', value: r.binary.gbmacs, unit: 'GBMAC/s', runs, isa, layers: r.binary.layers, binaryMacs: r.binary.macs });
