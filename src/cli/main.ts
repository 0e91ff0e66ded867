// Top-level error handling for every executable: a UserError (bad input) is
// printed on one line and exits 2; anything else is a bug and keeps its stack.
import { UserError } from '../util/errors.js';

export function runMain(fn: () => void | Promise<void>): void {
  Promise.resolve()
    .then(fn)
    .catch((e: unknown) => {
      if (e instanceof UserError) {
        process.stderr.write(`error: ${e.message}\n`);
        process.exit(2);
      }
      process.stderr.write(`internal error (please report): ${e instanceof Error ? e.stack : String(e)}\n`);
      process.exit(1);
    });
}
