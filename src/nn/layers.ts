// The standard layers. Each holds its parameters and calls one autograd op.
import {
  Tensor, conv2d, linear, batchNorm, relu, prelu, hardtanh, maxPool2d, avgPool2d, globalAvgPool, dropout, type Pair,
} from '../autograd/index.js';
import { Module, Parameter, StateBuffer } from './module.js';
import { torchDefault, constant } from './init.js';
import { pair } from '../autograd/ops/common.js';
import { Rng, globalRng } from '../util/prng.js';
import { UserError } from '../util/errors.js';

export interface Conv2dOptions { stride?: Pair; padding?: Pair; bias?: boolean; rng?: Rng }

export class Conv2d extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter | null;
  readonly stride: [number, number];
  readonly padding: [number, number];
  constructor(readonly inChannels: number, readonly outChannels: number, kernel: Pair, opts: Conv2dOptions = {}) {
    super();
    const [kh, kw] = pair(kernel);
    this.weight = Parameter.zeros([outChannels, inChannels, kh, kw]);
    this.bias = opts.bias === false ? null : Parameter.zeros([outChannels]);
    this.stride = pair(opts.stride ?? 1);
    this.padding = pair(opts.padding ?? 0);
    torchDefault(this.weight, this.bias, opts.rng);
  }
  forward(x: Tensor): Tensor {
    return conv2d(x, this.weight, this.bias, { stride: this.stride, padding: this.padding });
  }
}

export interface LinearOptions { bias?: boolean; rng?: Rng }

export class Linear extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter | null;
  constructor(readonly inFeatures: number, readonly outFeatures: number, opts: LinearOptions = {}) {
    super();
    this.weight = Parameter.zeros([outFeatures, inFeatures]);
    this.bias = opts.bias === false ? null : Parameter.zeros([outFeatures]);
    torchDefault(this.weight, this.bias, opts.rng);
  }
  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }
}

export interface BatchNormOptions { eps?: number; momentum?: number }

/** Batch norm over channel 1; the same class serves 1-D ([N, C]) and 2-D ([N, C, H, W]) inputs. */
class BatchNorm extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter;
  // snake_case so that state dict names match PyTorch's.
  readonly running_mean: StateBuffer;
  readonly running_var: StateBuffer;
  readonly num_batches_tracked: StateBuffer;
  readonly eps: number;
  readonly momentum: number;
  constructor(readonly numFeatures: number, private readonly rank: 2 | 4, opts: BatchNormOptions = {}) {
    super();
    this.weight = Parameter.zeros([numFeatures]);
    constant(this.weight, 1);
    this.bias = Parameter.zeros([numFeatures]);
    this.running_mean = new StateBuffer(new Float32Array(numFeatures), [numFeatures]);
    this.running_var = new StateBuffer(new Float32Array(numFeatures).fill(1), [numFeatures]);
    this.num_batches_tracked = new StateBuffer(new Float32Array(1), [1]);
    this.eps = opts.eps ?? 1e-5;
    this.momentum = opts.momentum ?? 0.1;
  }
  forward(x: Tensor): Tensor {
    if (x.shape.length !== this.rank) {
      throw new UserError(`BatchNorm${this.rank === 4 ? '2d' : '1d'} expects a ${this.rank}-D input, got shape [${x.shape.join(', ')}]`);
    }
    if (this.training) this.num_batches_tracked.data[0] += 1;
    return batchNorm(x, this.weight, this.bias, this.running_mean, this.running_var, { training: this.training, momentum: this.momentum, eps: this.eps });
  }
}

export class BatchNorm2d extends BatchNorm {
  constructor(numFeatures: number, opts: BatchNormOptions = {}) { super(numFeatures, 4, opts); }
}

export class BatchNorm1d extends BatchNorm {
  constructor(numFeatures: number, opts: BatchNormOptions = {}) { super(numFeatures, 2, opts); }
}

export class ReLU extends Module {
  forward(x: Tensor): Tensor { return relu(x); }
}

/** One slope per channel (numParameters = C) or one shared slope (numParameters = 1). */
export class PReLU extends Module {
  readonly weight: Parameter;
  constructor(numParameters = 1, init = 0.25) {
    super();
    this.weight = Parameter.zeros([numParameters]);
    constant(this.weight, init);
  }
  forward(x: Tensor): Tensor {
    if (this.weight.numel === 1 && x.shape.length >= 2 && x.shape[1] !== 1) {
      // A single slope: view the input as one channel so the kernel applies it everywhere.
      return prelu(x.reshape([x.shape[0], 1, -1]), this.weight).reshape(x.shape);
    }
    return prelu(x, this.weight);
  }
}

export class Hardtanh extends Module {
  constructor(readonly lo = -1, readonly hi = 1) { super(); }
  forward(x: Tensor): Tensor { return hardtanh(x, this.lo, this.hi); }
}

export interface PoolLayerOptions { stride?: Pair; padding?: Pair }

export class MaxPool2d extends Module {
  constructor(readonly kernel: Pair, readonly opts: PoolLayerOptions = {}) { super(); }
  forward(x: Tensor): Tensor { return maxPool2d(x, this.kernel, this.opts); }
}

export class AvgPool2d extends Module {
  constructor(readonly kernel: Pair, readonly opts: PoolLayerOptions = {}) { super(); }
  forward(x: Tensor): Tensor { return avgPool2d(x, this.kernel, this.opts); }
}

/** Only output size 1 (global average pooling), which is what the models use. */
export class AdaptiveAvgPool2d extends Module {
  constructor(outputSize: 1 = 1) {
    super();
    if (outputSize !== 1) throw new UserError('AdaptiveAvgPool2d supports output size 1 only');
  }
  forward(x: Tensor): Tensor { return globalAvgPool(x); }
}

/** [N, ...] -> [N, prod(...)]; a view, no copy. */
export class Flatten extends Module {
  forward(x: Tensor): Tensor { return x.reshape([x.shape[0], -1]); }
}

export class Dropout extends Module {
  constructor(readonly p = 0.5, private readonly _rng: Rng = globalRng) { super(); }
  forward(x: Tensor): Tensor { return dropout(x, this.p, this.training, this._rng); }
}
