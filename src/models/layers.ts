// Building blocks the model files share: a factory that turns "a conv that
// the method may binarize" into the right layer for the chosen options, and
// the two small ops the zoo needs that the engine does not have (IR-Net's
// option-A shortcut and a slice of a flat weight vector).
import { traceOp, Tensor, conv2d, linear, record, accumulateGrad, type Pair } from '../autograd/index.js';
import { Conv2d, Linear, type Conv2dOptions, type LinearOptions } from '../nn/index.js';
import { BinaryConv2d, BinaryLinear, activationQuantizer, type ActivationQuantizer } from '../quant/index.js';
import { ShapeError } from '../util/errors.js';
import { binaryActivations, binaryWeights, type ResolvedOptions } from './options.js';

/** A float conv whose input is binarized first (32-bit weights, 1-bit activations). */
export class ActQuantConv2d extends Conv2d {
  readonly inputQuantizer: ActivationQuantizer;
  constructor(inChannels: number, outChannels: number, kernel: Pair, opts: Conv2dOptions & { inputQuantizer: string }) {
    super(inChannels, outChannels, kernel, opts);
    this.inputQuantizer = activationQuantizer(opts.inputQuantizer);
  }
  override forward(x: Tensor): Tensor {
    return conv2d(this.inputQuantizer.apply(x), this.weight, this.bias, { stride: this.stride, padding: this.padding });
  }
}

/** A float linear layer whose input is binarized first. */
export class ActQuantLinear extends Linear {
  readonly inputQuantizer: ActivationQuantizer;
  constructor(inFeatures: number, outFeatures: number, opts: LinearOptions & { inputQuantizer: string }) {
    super(inFeatures, outFeatures, opts);
    this.inputQuantizer = activationQuantizer(opts.inputQuantizer);
  }
  override forward(x: Tensor): Tensor {
    return linear(this.inputQuantizer.apply(x), this.weight, this.bias);
  }
}

export type AnyConv = Conv2d | BinaryConv2d;
export type AnyLinear = Linear | BinaryLinear;

export interface ConvSpec { stride?: Pair; padding?: Pair; bias?: boolean; quantizeInput?: boolean }
export interface LinearSpec { bias?: boolean; quantizeInput?: boolean }

/**
 * Makes the binarizable layers of a model. A "binary" layer gets binary
 * weights when options.weights is a quantizer, and (if quantizeInput) a
 * binarized input when options.activations is a sign quantizer; otherwise it
 * is a plain float layer with the same parameter names and shapes, so the
 * float, 1W/32A and 1W/1A versions of a model share one state-dict layout.
 */
export class LayerFactory {
  constructor(readonly opts: ResolvedOptions) {}

  private inputQuantizer(quantizeInput: boolean | undefined): string | null {
    return quantizeInput && binaryActivations(this.opts) ? this.opts.activations : null;
  }

  binaryConv(cin: number, cout: number, k: Pair, spec: ConvSpec = {}): AnyConv {
    const aq = this.inputQuantizer(spec.quantizeInput);
    const base = { stride: spec.stride, padding: spec.padding, bias: spec.bias ?? false };
    if (binaryWeights(this.opts)) {
      const o = this.opts;
      return new BinaryConv2d(cin, cout, k, { ...base, weightQuantizer: o.weights as Exclude<typeof o.weights, 'float'>, inputQuantizer: aq, scaling: o.scaling, scaleFan: o.scaleFan });
    }
    return aq ? new ActQuantConv2d(cin, cout, k, { ...base, inputQuantizer: aq }) : new Conv2d(cin, cout, k, base);
  }

  binaryLinear(inF: number, outF: number, spec: LinearSpec = {}): AnyLinear {
    const aq = this.inputQuantizer(spec.quantizeInput);
    const bias = spec.bias ?? false;
    if (binaryWeights(this.opts)) {
      const o = this.opts;
      return new BinaryLinear(inF, outF, { bias, weightQuantizer: o.weights as Exclude<typeof o.weights, 'float'>, inputQuantizer: aq, scaling: o.scaling, scaleFan: o.scaleFan });
    }
    return aq ? new ActQuantLinear(inF, outF, { bias, inputQuantizer: aq }) : new Linear(inF, outF, { bias });
  }
}

/** Spatial size after a k x k window with the given stride and padding (PyTorch's floor rule). */
export function convOut(size: number, k: number, stride: number, pad: number): number {
  return Math.floor((size + 2 * pad - k) / stride) + 1;
}

/**
 * IR-Net's option-A shortcut (He et al.'s CIFAR ResNets): keep every second
 * row and column (x[:, :, ::2, ::2]) and add `pad` zero channels on each side.
 * No parameters, so the shortcut costs no weights.
 */
export function subsamplePadChannels(x: Tensor, pad: number): Tensor {
  if (x.shape.length !== 4) throw new ShapeError(`option-A shortcut: expected [N, C, H, W], got [${x.shape.join(', ')}]`);
  const [n, c, h, w] = x.shape;
  const oh = Math.ceil(h / 2), ow = Math.ceil(w / 2), oc = c + 2 * pad;
  const y = Tensor.empty([n, oc, oh, ow]);
  const xd = x.data, yd = y.data;
  yd.fill(0);
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      const src = (b * c + ch) * h * w, dst = (b * oc + ch + pad) * oh * ow;
      for (let i = 0; i < oh; i++) for (let j = 0; j < ow; j++) yd[dst + i * ow + j] = xd[src + 2 * i * w + 2 * j];
    }
  }
  traceOp('subsample_pad', [x], y, { pad });
  record(y, [x], (gy) => accumulateGrad(x, (dx) => {
    dx.fill(0);
    for (let b = 0; b < n; b++) {
      for (let ch = 0; ch < c; ch++) {
        const src = (b * c + ch) * h * w, dst = (b * oc + ch + pad) * oh * ow;
        for (let i = 0; i < oh; i++) for (let j = 0; j < ow; j++) dx[src + 2 * i * w + 2 * j] = gy[dst + i * ow + j];
      }
    }
  }));
  return y;
}

/** Elements [start, start + numel(shape)) of t as a new tensor of that shape; the gradient goes back to that range. */
export function sliceFlat(t: Tensor, start: number, shape: readonly number[]): Tensor {
  const y = Tensor.empty(shape);
  const end = start + y.numel;
  if (start < 0 || end > t.numel) throw new ShapeError(`slice [${start}, ${end}) is outside a tensor of ${t.numel} elements`);
  y.data.set(t.data.subarray(start, end));
  record(y, [t], (gy) => accumulateGrad(t, (dt) => { dt.fill(0); dt.set(gy, start); }));
  return y;
}
