// equalbits: the library API. Layers from the bottom up; see the README's architecture section.
export * as kernels from './native/index.js';
export * from './autograd/index.js';
export * as nn from './nn/index.js';
export * as quant from './quant/index.js';
export * as data from './data/index.js';
export * as models from './models/index.js';
export * as training from './train/index.js';
export { Rng, manualSeed, globalRng } from './util/prng.js';
export { UserError, ShapeError, DataError, NumericError } from './util/errors.js';
export * as deploy from './deploy/index.js';
