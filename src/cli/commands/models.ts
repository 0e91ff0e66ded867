// ebnn models: the model zoo with parameter counts and packed sizes.
import type { Command } from 'commander';
import { listModels, modelSpec } from '../../models/index.js';

const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(2) + ' MiB';

export function registerModels(program: Command): void {
  program.command('models')
    .description('list the models: parameters (binary / float) and size packed vs float32, with bi-half weights')
    .option('--json', 'one JSON object per model')
    .action((flags: { json?: boolean }) => {
      for (const d of listModels()) {
        const spec = modelSpec(d.name);
        if (flags.json) {
          const { config: _c, ...counts } = d;
          process.stdout.write(JSON.stringify({ ...counts, description: spec.description, inputShape: spec.inputShape, binaryActivations: spec.binaryActivations }) + '\n');
          continue;
        }
        console.log(`${d.name.padEnd(10)} ${String(d.totalParams).padStart(11)} params (${String(d.binaryParams).padStart(10)} binary, ${String(d.floatParams).padStart(7)} float)  packed ${mb(d.packedBytes).padStart(10)} vs float32 ${mb(d.floatBytes).padStart(10)}  ${spec.description}`);
      }
    });
}
