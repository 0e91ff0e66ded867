// ebnn demo (what `npm start` runs): trains LeNet with bi-half binary weights
// (1 bit per weight, exactly half +1) on real Fashion-MNIST, evaluating on the
// 10,000 test images after each epoch, and says where the results are.
import type { Command } from 'commander';
import { runTrain } from './train.js';
import { UserError } from '../../util/errors.js';
import { overallPlusFraction } from '../../quant/index.js';

export function registerDemo(program: Command): void {
  program.command('demo')
    .description('train LeNet with bi-half weights on Fashion-MNIST (2 epochs, about 1 minute on 2 cores)')
    .option('--out <dir>', 'output folder', 'runs/demo')
    .option('--epochs <n>', 'epochs', (v) => Number(v), 2)
    .action(async (flags: { out: string; epochs: number }) => {
      const r = await runTrain({
        model: 'lenet', weights: 'bihalf', activations: 'float', dataset: 'fashion-mnist',
        epochs: flags.epochs, batchSize: 128, optimizer: 'adam', lr: 1e-3, weightDecay: 0, schedule: 'cosine',
        out: flags.out, overwrite: true,
      });
      if (!r.last) throw new UserError('the demo was stopped before the first epoch ended');
      const b = r.last.bits;
      const plus = overallPlusFraction(b);
      console.log(`\nFashion-MNIST test accuracy with bi-half binary weights: ${(100 * r.last.test.top1).toFixed(2)}% (${r.last.test.images} images)`);
      console.log(`binary layers: ${b.map((l) => l.name).join(', ')}; fraction of +1 bits: ${plus.toFixed(4)}, entropy ${b.map((l) => l.entropyBits.toFixed(3)).join(' / ')} bits per weight`);
      console.log(`checkpoint: ${r.checkpoint}\nmetrics:    ${r.metrics}\nevaluate:   node dist/src/cli/ebnn.js eval ${r.checkpoint}`);
    });
}
