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
  /**
   * For gradients that change over training (EDE): the trainer calls it at the
   * start of every epoch with epoch / epochs, so a resumed run gets the same value.
   */
  setProgress?(fraction: number): void;
}

/** The gradient's shape parameters: EDE's t and k (1 and 1 for the other modes). */
interface SignGradient { readonly t: number; readonly k: number }
const UNIT: SignGradient = { t: 1, k: 1 };

/** sign(x) with a gradient chosen by mode: 0 clipped STE, 1 ApproxSign, 2 EDE. */
export function binarySign(x: Tensor, mode: 0 | 1 | 2, p: SignGradient = UNIT): Tensor {
  const y = Tensor.empty(x.shape);
  kernels.signForward(x.numel, x.data, y.data);
  traceOp('sign', [x], y, { mode });
  const { t, k } = p; // the values of this forward, even if p changes before the backward
  record(y, [x], (gy) => accumulateGrad(x, (dx) => kernels.signBackward(x.numel, x.data, gy, mode, dx, false, t, k),
    (dx) => kernels.signBackward(x.numel, x.data, gy, mode, dx, true, t, k)));
  return y;
}

/** sign(x) with the gradient of `mode`, as an elementwise map; p is read at each backward. */
function signMap(mode: 0 | 1 | 2, p: SignGradient = UNIT): InputMap {
  return {
    kind: 'sign',
    forward: (x, y) => kernels.signForward(x.length, x, y),
    backward: (x, g, dx, accumulate) => kernels.signBackward(x.length, x, g, mode, dx, accumulate, p.t, p.k),
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

/**
 * IR-Net's Error Decay Estimator (Qin et al. 2020): the gradient of k tanh(t x),
 * with t = 0.1 * 100^progress rising from 0.1 to 10 over training and
 * k = max(1/t, 1). Early on that is about the identity, so every activation
 * gets a gradient; by the end it is close to the true sign's (a spike at 0).
 */
export class EdeSign implements ActivationQuantizer {
  static readonly T_MIN = 0.1;
  static readonly T_MAX = 10;
  readonly name = 'ede';
  readonly binary = true;
  private readonly gradient = { t: EdeSign.T_MIN, get k(): number { return Math.max(1 / this.t, 1); } };
  readonly map = signMap(2, this.gradient);
  get t(): number { return this.gradient.t; }
  get k(): number { return this.gradient.k; }
  setProgress(fraction: number): void {
    if (!(fraction >= 0 && fraction <= 1)) throw new UserError(`ede: training progress must be in [0, 1], got ${fraction}`);
    this.gradient.t = EdeSign.T_MIN * Math.pow(EdeSign.T_MAX / EdeSign.T_MIN, fraction);
  }
  config(): QuantizerConfig { return { name: this.name }; }
  apply(x: Tensor): Tensor { return binarySign(x, 2, this.gradient); }
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
  ['ede', () => new EdeSign()],
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
