// Typed user-facing errors. A UserError means the input was wrong (bad path,
// corrupt file, wrong shape, bad flag): the CLI prints its message on one line
// and exits with code 2. Anything else reaching the top level is a bug.

export class UserError extends Error {
  override name = 'UserError';
}

/** A tensor or buffer does not have the shape an operation needs. */
export class ShapeError extends UserError {
  override name = 'ShapeError';
}

/** A file is missing, truncated or not in the expected format. */
export class DataError extends UserError {
  override name = 'DataError';
}

/** Training produced NaN or Inf. */
export class NumericError extends UserError {
  override name = 'NumericError';
}
