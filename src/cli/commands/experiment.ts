// ebnn experiment <name>: the paper's studies (method.md), each writing its
// numbers and figures under --out so that `ebnn report` can rebuild them.
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { enumerateToy, type ToyResult } from '../../experiments/toy.js';
import { lineChart } from '../../experiments/svg.js';
import { writeFileAtomic } from '../../train/index.js';
import { progressBar } from '../progress.js';

function toyChart(r: ToyResult): string {
  return lineChart({
    title: 'Toy 2-3-1 network: unique decision boundaries by number of -1 weights',
    xLabel: 'k = number of -1 weights (of 12)', yLabel: 'unique decision boundaries',
    series: [{ name: 'unique', points: r.perK.map((p) => ({ x: p.k, y: p.unique })) }],
  });
}

function registerToy(exp: Command): void {
  exp.command('toy')
    .description('enumerate the 2-3-1 toy network (12 binary weights): unique decision boundaries, all vs equal ratio')
    .option('--json', 'print one JSON object {all, bihalf, perK}')
    .option('-o, --out <dir>', 'folder for toy.json and toy.svg', 'runs/toy')
    .action((flags: { json?: boolean; out: string }) => {
      const bar = progressBar(2 ** 12, 'networks', !flags.json && process.stderr.isTTY === true);
      const r = enumerateToy((done) => bar.update(done, {}));
      bar.stop();
      fs.mkdirSync(flags.out, { recursive: true });
      const json = JSON.stringify({ all: r.all, bihalf: r.bihalf, perK: r.perK });
      writeFileAtomic(path.join(flags.out, 'toy.json'), Buffer.from(json + '\n'));
      writeFileAtomic(path.join(flags.out, 'toy.svg'), Buffer.from(toyChart(r)));
      if (flags.json) { process.stdout.write(json + '\n'); return; }
      console.log(`grid ${r.gridSize}x${r.gridSize} over [-5, 5)^2`);
      console.log(`all weights:  ${r.all.combinations} combinations -> ${r.all.unique} unique decision boundaries`);
      console.log(`equal ratio:  ${r.bihalf.combinations} combinations -> ${r.bihalf.unique} unique decision boundaries`);
      console.log('k (-1 weights)  combinations  unique');
      for (const p of r.perK) console.log(`${String(p.k).padStart(14)}  ${String(p.combinations).padStart(12)}  ${String(p.unique).padStart(6)}`);
      console.log(`wrote ${path.join(flags.out, 'toy.json')} and toy.svg`);
    });
}

export function registerExperiment(program: Command): void {
  const exp = program.command('experiment').description("reproduce the paper's studies (toy)");
  registerToy(exp);
}
