// Weight quantizers: small objects that turn a layer's latent float weights
// into codes (-1/+1, or -1/0/+1 for pruning) and say how the gradient goes
// back. Registered by name and (de)serialised as JSON configs, like Larq's.
//
// The codes of a group (one output filter, or the whole layer) depend only on
// that group's latents. The effective weight is scale * code; the scaling is
// the layer's business (see binary-weight.ts); IR-Net multiplies it by its
// own power of two.
import { kernels } from '../native/index.js';
import { UserError } from '../util/errors.js';

export type Grouping = 'filter' | 'layer';
export interface QuantizerConfig { name: string; [option: string]: unknown }

export interface WeightQuantizer {
  readonly name: string;
  /** Codes can be 0 (pruned) as well as -1 and +1. */
  readonly ternary: boolean;
  /** Whether codes are taken per output filter or over the whole layer. */
  readonly group: Grouping;
  config(): QuantizerConfig;
  /** Writes the codes of latent, laid out as [groups, groupSize]. */
  encode(latent: Float32Array, groups: number, groupSize: number, codes: Int8Array): void;
  /** Per-filter factors the quantizer multiplies the layer's scales by (IR-Net's power of two). */
  scaleFactors?(latent: Float32Array, filters: number, filterSize: number, out: Float32Array): void;
  /**
   * d(loss)/d(latent) given g = d(loss)/d(code) already multiplied by the
   * scale. Absent: straight-through (the identity), as in the paper.
   */
  backward?(latent: Float32Array, filters: number, filterSize: number, g: Float32Array, out: Float32Array): void;
}

/**
 * floor(fraction * n) for a fraction given in decimal (0.3, 0.65): the tiny
 * epsilon stops 0.7 * 10 = 6.999999999999999 from flooring to 6; it is far
 * below 1/n for every group size a network can have.
 */
export function floorCount(fraction: number, n: number): number {
  return Math.min(n, Math.max(0, Math.floor(fraction * n + 1e-9 * Math.max(1, n))));
}

function checkFraction(what: string, v: unknown, lo: number, hi: number): number {
  if (typeof v !== 'number' || !(v >= lo && v <= hi)) throw new UserError(`${what} must be a number in [${lo}, ${hi}], got ${JSON.stringify(v)}`);
  return v;
}

function checkGroup(v: unknown): Grouping {
  if (v === undefined) return 'filter';
  if (v !== 'filter' && v !== 'layer') throw new UserError(`group must be "filter" or "layer", got ${JSON.stringify(v)}`);
  return v;
}

/** sign(w), with sign(0) = +1. */
export class SignQuantizer implements WeightQuantizer {
  readonly name = 'sign';
  readonly ternary = false;
  readonly group: Grouping = 'filter';
  config(): QuantizerConfig { return { name: this.name }; }
  encode(latent: Float32Array, groups: number, groupSize: number, codes: Int8Array): void {
    kernels.signCodes(groups * groupSize, latent, codes);
  }
}

/**
 * Equal Bits: the optimal transport of each group's latents onto a two-point
 * distribution with P(+1) = ratio. The floor((1 - ratio) n) smallest become
 * -1, the rest +1; ratio 0.5 is bi-half (the cut is the group's median).
 */
export class BiHalfQuantizer implements WeightQuantizer {
  readonly name = 'bihalf';
  readonly ternary = false;
  readonly ratio: number;
  readonly group: Grouping;
  constructor(opts: { ratio?: number; group?: Grouping } = {}) {
    this.ratio = checkFraction('bihalf ratio', opts.ratio ?? 0.5, 0, 1);
    this.group = checkGroup(opts.group);
  }
  config(): QuantizerConfig { return { name: this.name, ratio: this.ratio, group: this.group }; }
  /** Number of -1 codes in a group of n. */
  negatives(n: number): number { return floorCount(1 - this.ratio, n); }
  encode(latent: Float32Array, groups: number, groupSize: number, codes: Int8Array): void {
    const m = this.negatives(groupSize);
    kernels.rankCodes(groups, groupSize, latent, m, m, codes);
  }
}

/**
 * Binary weight pruning (method.md): per group of n, the floor((1-k)/2 n)
 * smallest become -1, the weights up to rank floor((1+k)/2 n) (those closest
 * to the median) become 0, the rest +1. k = 0 is bi-half.
 */
export class HalfMaskQuantizer implements WeightQuantizer {
  readonly name = 'halfmask';
  readonly ternary = true;
  readonly pruneRate: number;
  readonly group: Grouping;
  constructor(opts: { pruneRate?: number; group?: Grouping } = {}) {
    this.pruneRate = checkFraction('halfmask pruneRate', opts.pruneRate ?? 0.5, 0, 1);
    this.group = checkGroup(opts.group);
  }
  config(): QuantizerConfig { return { name: this.name, pruneRate: this.pruneRate, group: this.group }; }
  /** [low, high): the ranks that become 0. */
  cuts(n: number): [number, number] {
    return [floorCount((1 - this.pruneRate) / 2, n), floorCount((1 + this.pruneRate) / 2, n)];
  }
  encode(latent: Float32Array, groups: number, groupSize: number, codes: Int8Array): void {
    const [low, high] = this.cuts(groupSize);
    kernels.rankCodes(groups, groupSize, latent, low, high, codes);
  }
}

/**
 * IR-Net's balanced weights (Qin et al. 2020): per filter, standardise
 * w' = (w - mean) / std, take sign(w') and scale by 2^round(log2(mean |w'|)).
 * That power of two multiplies the layer's scaling rather than replacing it:
 * IR-Net's networks have batch norm after every binary conv, where the base
 * scale cancels, but the shallow models have none, and unscaled +-1 weights
 * there blow the logits up by sqrt(fan_in) a layer (training loss 1e7).
 * The gradient goes straight through the sign and exactly through the
 * standardisation, as autograd does in IR-Net's code.
 */
export class IrNetQuantizer implements WeightQuantizer {
  readonly name = 'irnet';
  readonly ternary = false;
  readonly group: Grouping = 'filter';
  config(): QuantizerConfig { return { name: this.name }; }
  encode(latent: Float32Array, groups: number, groupSize: number, codes: Int8Array): void {
    kernels.balancedCodes(groups, groupSize, latent, codes);
  }
  scaleFactors(latent: Float32Array, filters: number, filterSize: number, out: Float32Array): void {
    kernels.balancedScales(filters, filterSize, latent, out);
  }
  backward(latent: Float32Array, filters: number, filterSize: number, g: Float32Array, out: Float32Array): void {
    kernels.balancedBackward(filters, filterSize, latent, g, out);
  }
}

type Factory = (opts: Record<string, unknown>) => WeightQuantizer;
const registry = new Map<string, Factory>([
  ['sign', () => new SignQuantizer()],
  ['bihalf', (o) => new BiHalfQuantizer(o as { ratio?: number; group?: Grouping })],
  ['halfmask', (o) => new HalfMaskQuantizer(o as { pruneRate?: number; group?: Grouping })],
  ['irnet', () => new IrNetQuantizer()],
]);

/** Adds a quantizer under a name (e.g. from a plug-in). */
export function registerWeightQuantizer(name: string, factory: Factory): void {
  registry.set(name, factory);
}

export function weightQuantizerNames(): string[] {
  return [...registry.keys()];
}

/** Builds a quantizer from a name or a config ({ name, ...options }). */
export function weightQuantizer(spec: string | QuantizerConfig | WeightQuantizer): WeightQuantizer {
  if (typeof spec === 'object' && 'encode' in spec) return spec as WeightQuantizer;
  const config = typeof spec === 'string' ? { name: spec } : spec;
  const make = registry.get(config.name);
  if (!make) throw new UserError(`unknown weight quantizer "${config.name}" (known: ${weightQuantizerNames().join(', ')})`);
  const { name: _name, ...opts } = config;
  return make(opts);
}
