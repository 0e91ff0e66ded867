// npm run bench: runs each benchmark in its own process (so peak RSS is per
// engine and nothing leaks between them), equalbits and its PyTorch peer one
// after the other, prints every JSON line, then one ratio line per pair.
// `--only <prefix>[,...]` runs only the jobs whose name starts with a prefix
// (conv2-float, conv-layers, winograd, quant, loader, models/<model>, latency/<model>); other flags such as
// --runs and --steps go to every child.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fs from 'node:fs';
import type { BenchLine } from './common.js';
import { chooseBlasCore } from '../src/native/blas-core.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
const python = fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3'; // Debian's python3-torch lives there

// --only <prefix>[,<prefix>...] picks jobs by name (e.g. "models", "models/resnet20",
// "quant"); it is ours, so it is taken out of the flags passed to the children.
const argv = process.argv.slice(2);
const onlyAt = argv.indexOf('--only');
const only = onlyAt < 0 ? null : (argv[onlyAt + 1] ?? '').split(',').filter(Boolean);
if (only && only.length === 0) {
  process.stderr.write('bench: --only needs a job name prefix (e.g. models, models/resnet20, quant)\n');
  process.exit(2);
}
const passthrough = onlyAt < 0 ? argv : [...argv.slice(0, onlyAt), ...argv.slice(onlyAt + 2)];

const py = (file: string) => path.join(repo, 'bench', 'pytorch', file);
// [name, command, args]: equalbits, then its PyTorch peer under the same name.
const allJobs: [string, string, string[]][] = [
  ['conv2-float', process.execPath, [path.join(here, 'conv2-float.js')]],
  ['conv2-float', python, [py('conv2_float.py')]],
  ['conv-layers', process.execPath, [path.join(here, 'conv-layers.js')]],
  ['conv-layers', python, [py('conv_layers.py')]],
  ['quant', process.execPath, [path.join(here, 'quant.js')]],
  ['quant', python, [py('quant.py')]],
  // Winograd against im2col on the 3x3 layers (no peer: both are ours).
  ['winograd', process.execPath, [path.join(here, 'winograd.js')]],
  // The loader's own rate (no peer): its 10,000 images/s target, kept out of the timed unit tests.
  ['loader', process.execPath, [path.join(here, 'loader.js')]],
];
// One process per model and engine, so that each peak RSS is that model's alone.
for (const model of ['conv2', 'conv6', 'resnet20', 'vgg-small']) {
  allJobs.push([`models/${model}`, process.execPath, [path.join(here, 'models.js'), '--model', model]]);
  allJobs.push([`models/${model}`, python, [py('models.py'), '--model', model]]);
}
// Packed-engine latency at batch 1 (and binary MAC/s) of the 1W/1A models.
for (const model of ['resnet18', 'resnet20']) {
  allJobs.push([`latency/${model}`, process.execPath, [path.join(here, 'latency.js'), '--model', model]]);
  allJobs.push([`latency/${model}`, python, [py('latency.py'), '--model', model]]);
}
const jobs = allJobs.filter(([name]) => !only || only.some((p) => name.startsWith(p)));
if (jobs.length === 0) {
  process.stderr.write(`bench: --only ${only!.join(',')} matches no job (jobs: ${[...new Set(allJobs.map(([n]) => n))].join(', ')})\n`);
  process.exit(2);
}

// Both sides get the same OpenBLAS kernels: Debian's PyTorch 1.13 runs its CPU
// convolutions through the same OpenBLAS, which falls back to SSE3 kernels on a
// CPU model it does not know (src/native/blas-core.ts). On the Xeon of family 6
// model 207 that made PyTorch's ResNet-18 forward 3x slower (40-44 ms against
// 14-15 ms with SkylakeX), so without this the ratios would flatter equalbits.
const env: NodeJS.ProcessEnv = { ...process.env, OMP_NUM_THREADS: '2' };
const core = chooseBlasCore(env);
if (core !== undefined) process.stderr.write(`bench: OPENBLAS_CORETYPE=${core} for equalbits and PyTorch alike (this CPU has AVX-512)\n`);

const lines: BenchLine[] = [];
let failed = false;
for (const [, cmd, args] of jobs) {
  const r = spawnSync(cmd, [...args, ...passthrough], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], env });
  if (r.status !== 0) {
    process.stderr.write(`bench: ${[path.basename(args[0]), ...args.slice(1)].join(' ')} failed (exit ${r.status})\n`);
    failed = true;
    continue;
  }
  for (const l of r.stdout.split('\n').filter(Boolean)) {
    process.stdout.write(l + '\n');
    lines.push(JSON.parse(l) as BenchLine);
  }
}

// Every equalbits engine against PyTorch on the same bench, and the packed
// engines against equalbits' own float forward, as "how many times better":
// throughput ratios for rates, inverse ratios for costs (MB, ms).
const ratio = (ours: BenchLine, peer: BenchLine) => {
  const cost = ours.unit === 'MB' || ours.unit === 'ms';
  const value = cost ? peer.value / ours.value : ours.value / peer.value;
  const unit = ours.unit === 'MB' ? 'x less memory' : ours.unit === 'ms' ? 'x faster' : 'x';
  process.stdout.write(JSON.stringify({ bench: `ratio/${ours.bench}`, engine: `${ours.engine}/${peer.engine}`, value: +value.toFixed(3), unit, runs: ours.runs }) + '\n');
};
for (const ours of lines.filter((l) => l.engine.startsWith('equalbits'))) {
  const peers = lines.filter((l) => l.bench === ours.bench && (l.engine === 'pytorch' || (l.engine === 'equalbits-float' && ours.engine.startsWith('equalbits-packed'))));
  for (const peer of peers) ratio(ours, peer);
}
process.exit(failed ? 1 : 0);
