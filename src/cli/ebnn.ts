#!/usr/bin/env node
// The ebnn command line. Bad input exits 2 with one line; a bug keeps its stack.
import { Command, CommanderError } from 'commander';
import { registerTrain } from './commands/train.js';
import { registerEval } from './commands/eval.js';
import { registerModels } from './commands/models.js';
import { registerDemo } from './commands/demo.js';
import { registerData } from './commands/data.js';
import { registerExperiment } from './commands/experiment.js';
import { registerReport } from './commands/report.js';
import { registerExport } from './commands/export.js';
import { registerPredict } from './commands/predict.js';
import { registerBenchInfer } from './commands/bench-infer.js';
import { runMain } from './main.js';
import { UserError } from '../util/errors.js';

const program = new Command('ebnn')
  .description('equalbits: binary neural networks with exactly balanced weight bits (Equal Bits / bi-half)')
  .version('0.1.0')
  .exitOverride()
  .configureOutput({ outputError: () => {} }) // errors are printed once, by runMain
  .showHelpAfterError(false);
registerTrain(program);
registerEval(program);
registerModels(program);
registerDemo(program);
registerData(program);
registerExperiment(program);
registerReport(program);
registerExport(program);
registerPredict(program);
registerBenchInfer(program);

runMain(async () => {
  try {
    await program.parseAsync(process.argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version exit 0; a bad flag or argument is a user error.
      if (e.exitCode === 0 || e.code === 'commander.helpDisplayed' || e.code === 'commander.version') process.exit(0);
      throw new UserError(e.message.replace(/^error: /, ''));
    }
    throw e;
  }
});
