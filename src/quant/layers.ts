// Binary layers: latent float weights (the Parameter "weight", so state dicts
// look like PyTorch's), a weight quantizer, an input quantizer and a scaling
// mode. Bias and everything around the layer stay full precision.
import { Tensor, conv2d, linear, type Conv2dOptions, type Pair } from '../autograd/index.js';
import { kernels, xnorEnabled } from '../native/index.js';
import { Module, Parameter, init } from '../nn/index.js';
import { pair } from '../autograd/ops/common.js';
import type { Rng } from '../util/prng.js';
import { weightQuantizer, type QuantizerConfig, type WeightQuantizer } from './weight-quantizers.js';
import { activationQuantizer, type ActivationQuantizer } from './activation-quantizers.js';
import { BinaryWeight, checkScaling, type ScalingOptions } from './binary-weight.js';

export interface BinaryLayerOptions extends ScalingOptions {
  weightQuantizer?: string | QuantizerConfig | WeightQuantizer;
  inputQuantizer?: string | QuantizerConfig | ActivationQuantizer | null;
  bias?: boolean;
  rng?: Rng;
}

/** The parts every binary layer shares. */
abstract class BinaryLayer extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter | null;
  readonly weightQuantizer: WeightQuantizer;
  readonly inputQuantizer: ActivationQuantizer;
  readonly _binary: BinaryWeight; // underscore: not a submodule or parameter

  constructor(shape: number[], opts: BinaryLayerOptions) {
    super();
    this.weight = Parameter.zeros(shape);
    this.bias = opts.bias ? Parameter.zeros([shape[0]]) : null;
    init.torchDefault(this.weight, this.bias, opts.rng);
    this.weightQuantizer = weightQuantizer(opts.weightQuantizer ?? 'bihalf');
    this.inputQuantizer = activationQuantizer(opts.inputQuantizer);
    this._binary = new BinaryWeight(this.weight, this.weightQuantizer, {
      scaling: checkScaling(opts.scaling ?? 'fixed'), gain: opts.gain ?? Math.SQRT2, scaleFan: opts.scaleFan ?? false,
    });
  }

  /** The binary weight's codes, scales and effective values (refreshed if stale). */
  binaryWeight(): BinaryWeight {
    this._binary.refresh();
    return this._binary;
  }

  quantizerConfig(): { weightQuantizer: QuantizerConfig; inputQuantizer: QuantizerConfig } & Required<ScalingOptions> {
    return { weightQuantizer: this.weightQuantizer.config(), inputQuantizer: this.inputQuantizer.config(), ...this._binary.scaling };
  }
}

export class BinaryConv2d extends BinaryLayer {
  readonly stride: [number, number];
  readonly padding: [number, number];
  constructor(readonly inChannels: number, readonly outChannels: number, kernel: Pair, opts: BinaryLayerOptions & { stride?: Pair; padding?: Pair } = {}) {
    const [kh, kw] = pair(kernel);
    super([outChannels, inChannels, kh, kw], opts);
    this.stride = pair(opts.stride ?? 1);
    this.padding = pair(opts.padding ?? 0);
  }
  /** +-1 inputs and +-1 weights: the forward runs as XNOR + popcount. */
  get xnorForward(): boolean {
    const [, , kh, kw] = this.weight.shape;
    return xnorEnabled && this.inputQuantizer.binary === true && this.inputQuantizer.map !== undefined &&
      !this.weightQuantizer.ternary && kh * kw <= 64;
  }

  forward(x: Tensor): Tensor {
    const w = this._binary.forward();
    const opts: Conv2dOptions = { stride: this.stride, padding: this.padding };
    if (!this.xnorForward) return conv2d(this.inputQuantizer.apply(x), w, this.bias, opts);
    // XNOR + popcount reads the signs straight from x. The quantizer is applied
    // on the fly for the backward only (the weight gradient needs sign(x)),
    // so sign(x) is neither computed in the forward nor kept alive until the
    // backward: one activation-sized buffer less per layer.
    const { codes, scales } = this._binary, bias = this.bias ? this.bias.data : null;
    opts.forward = (g, y) => kernels.xnorConv2dForward(g, x.data, codes, scales, bias, y);
    opts.inputMap = this.inputQuantizer.map;
    return conv2d(x, w, this.bias, opts);
  }
}

export class BinaryLinear extends BinaryLayer {
  constructor(readonly inFeatures: number, readonly outFeatures: number, opts: BinaryLayerOptions = {}) {
    super([outFeatures, inFeatures], opts);
  }
  forward(x: Tensor): Tensor {
    return linear(this.inputQuantizer.apply(x), this._binary.forward(), this.bias);
  }
}

export function isBinaryLayer(m: Module): m is BinaryConv2d | BinaryLinear {
  return m instanceof BinaryLayer;
}

/** The input quantizers of every layer of the model that has one, in module order. */
export function inputQuantizers(model: Module): ActivationQuantizer[] {
  return model.namedModules().flatMap(([, m]) => {
    const q = (m as { inputQuantizer?: ActivationQuantizer }).inputQuantizer;
    return q ? [q] : [];
  });
}

/**
 * Tells every input quantizer of the model how far training is (epoch / epochs),
 * for gradients that change over training (EDE); the others ignore it.
 */
export function setTrainingProgress(model: Module, fraction: number): void {
  for (const q of inputQuantizers(model)) q.setProgress?.(fraction);
}
