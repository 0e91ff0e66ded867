// npm run bench: runs each benchmark in its own process (so peak RSS is per
// engine and nothing leaks between them), equalbits and its PyTorch peer one
// after the other, prints every JSON line, then one ratio line per pair.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fs from 'node:fs';
import type { BenchLine } from './common.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
const python = fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3'; // Debian's python3-torch lives there
const passthrough = process.argv.slice(2);

const jobs: [string, string[]][] = [
  [process.execPath, [path.join(here, 'conv2-float.js')]],
  [python, [path.join(repo, 'bench', 'pytorch', 'conv2_float.py')]],
  [process.execPath, [path.join(here, 'conv-layers.js')]],
  [python, [path.join(repo, 'bench', 'pytorch', 'conv_layers.py')]],
  [process.execPath, [path.join(here, 'quant.js')]],
  [python, [path.join(repo, 'bench', 'pytorch', 'quant.py')]],
];

const lines: BenchLine[] = [];
let failed = false;
for (const [cmd, args] of jobs) {
  const r = spawnSync(cmd, [...args, ...passthrough], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, OMP_NUM_THREADS: '2' } });
  if (r.status !== 0) {
    process.stderr.write(`bench: ${path.basename(args[0])} failed (exit ${r.status})\n`);
    failed = true;
    continue;
  }
  for (const l of r.stdout.split('\n').filter(Boolean)) {
    process.stdout.write(l + '\n');
    lines.push(JSON.parse(l) as BenchLine);
  }
}

// equalbits / pytorch for every bench measured by both, as "how many times better":
// throughput ratios for rates, inverse ratios for costs (MB, ms).
for (const ours of lines.filter((l) => l.engine === 'equalbits')) {
  const peer = lines.find((l) => l.engine === 'pytorch' && l.bench === ours.bench);
  if (!peer) continue;
  const cost = ours.unit === 'MB' || ours.unit === 'ms';
  const ratio = cost ? peer.value / ours.value : ours.value / peer.value;
  const unit = ours.unit === 'MB' ? 'x less memory' : ours.unit === 'ms' ? 'x faster' : 'x';
  process.stdout.write(JSON.stringify({ bench: `ratio/${ours.bench}`, engine: 'equalbits/pytorch', value: +ratio.toFixed(3), unit, runs: ours.runs }) + '\n');
}
process.exit(failed ? 1 : 0);
