// Activation quantizers: what a binary layer does to its input before the
// conv or matmul. Forward sign (sign(0) = +1); the gradients differ.
import { Tensor, record, accumulateGrad, traceOp, type InputMap } from '../autograd/index.js';
import { kernels } from '../native/index.js';
import { UserError } from '../util/errors.js';
import type { QuantizerConfig } from './weight-quantizers.js';

export interface ActivationQuantizer {
  readonly name: string;
  /**
   * Outputs exactly sign(x): -1 where x < 0, else +1. Binary layers then run
   * XNOR + popcount, and without a backward they take the signs from x itself.
   */
  readonly binary?: boolean;
  /** The quantizer as an elementwise map, so a conv can apply it on the fly (binary ones). */
  readonly map?: InputMap;
  config(): QuantizerConfig;
  apply(x: Tensor): Tensor;
}

/** sign(x) with a gradient chosen by mode: 0 clipped STE, 1 ApproxSign. */
export function binarySign(x: Tensor, mode: 0 | 1): Tensor {
  const y = Tensor.empty(x.shape);
  kernels.signForward(x.numel, x.data, y.data);
  traceOp('sign', [x], y, { mode });
  record(y, [x], (gy) => accumulateGrad(x, (dx) => kernels.signBackward(x.numel, x.data, gy, mode, dx),
    (dx) => kernels.signBackward(x.numel, x.data, gy, mode, dx, true)));
  return y;
}

/** sign(x) with the gradient of `mode`, as an elementwise map. */
function signMap(mode: 0 | 1): InputMap {
  return {
    kind: 'sign',
    forward: (x, y) => kernels.signForward(x.length, x, y),
    backward: (x, g, dx, accumulate) => kernels.signBackward(x.length, x, g, mode, dx, accumulate),
  };
}

/** Clipped straight-through estimator: gradient 1 where |x| < 1, else 0. */
export class SteSign implements ActivationQuantizer {
  readonly name = 'ste_sign';
  readonly binary = true;
  readonly map = signMap(0);
  config(): QuantizerConfig { return { name: this.name }; }
  apply(x: Tensor): Tensor { return binarySign(x, 0); }
}

/** Bi-Real Net's ApproxSign: gradient 2 - 2|x| where |x| < 1, else 0. */
export class ApproxSign implements ActivationQuantizer {
  readonly name = 'approx_sign';
  readonly binary = true;
  readonly map = signMap(1);
  config(): QuantizerConfig { return { name: this.name }; }
  apply(x: Tensor): Tensor { return binarySign(x, 1); }
}

/** Full-precision activations (1W/32A). */
export class Identity implements ActivationQuantizer {
  readonly name = 'identity';
  config(): QuantizerConfig { return { name: this.name }; }
  apply(x: Tensor): Tensor { return x; }
}

const registry = new Map<string, () => ActivationQuantizer>([
  ['ste_sign', () => new SteSign()],
  ['approx_sign', () => new ApproxSign()],
  ['identity', () => new Identity()],
]);

export function registerActivationQuantizer(name: string, factory: () => ActivationQuantizer): void {
  registry.set(name, factory);
}

export function activationQuantizer(spec: string | QuantizerConfig | ActivationQuantizer | null | undefined): ActivationQuantizer {
  if (spec === null || spec === undefined) return new Identity();
  if (typeof spec === 'object' && 'apply' in spec) return spec as ActivationQuantizer;
  const name = typeof spec === 'string' ? spec : spec.name;
  const make = registry.get(name);
  if (!make) throw new UserError(`unknown activation quantizer "${name}" (known: ${[...registry.keys()].join(', ')})`);
  return make();
}
