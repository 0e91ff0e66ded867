// The 2-3-1 toy network of the paper's decision-boundary study (method.md):
// 2 inputs, 3 sigmoid hidden units with bias, 1 sigmoid output without bias,
// 12 weights in all. All 12 are binarizable, the hidden biases included, and
// they are quantized as ONE group, so bi-half gives exactly six -1 and six +1
// (the equal-ratio networks of the study).
//
// The 12 latent weights live in one [1, 12] weight (so bit statistics and
// the parameter listing see a normal binary layer), laid out as
//   [W1 (3 x inputs, [out, in] row-major), b1 (3), W2 (1 x 3)].
// The reference script orders its vector as W1 [in, out], b1, W2;
// setReferenceWeights() takes that order. The output is sigmoid(z): a
// probability in [N, 1], not a logit.
import { Tensor, linear, sigmoid } from '../autograd/index.js';
import { Module, Linear, init } from '../nn/index.js';
import { BinaryLinear } from '../quant/index.js';
import { UserError, ShapeError } from '../util/errors.js';
import { sliceFlat } from './layers.js';
import { binaryWeights, type ResolvedOptions } from './options.js';

export const TOY_HIDDEN = 3;

export class ToyNet extends Module {
  /** Holds the flat weight vector; its own forward is never used. */
  readonly weights: Linear | BinaryLinear;
  readonly inputs: number;

  constructor(o: ResolvedOptions) {
    super();
    if (o.numClasses !== 1) throw new UserError(`toy: the network has one sigmoid output; numClasses must be 1, got ${o.numClasses}`);
    if (o.imageSize !== 1) throw new UserError(`toy: inputs are feature vectors; imageSize must be 1, got ${o.imageSize}`);
    this.inputs = o.inChannels;
    const n = TOY_HIDDEN * this.inputs + 2 * TOY_HIDDEN;
    this.weights = binaryWeights(o)
      ? new BinaryLinear(n, 1, { bias: false, weightQuantizer: o.weights as Exclude<typeof o.weights, 'float'>, scaling: o.scaling, scaleFan: o.scaleFan })
      : new Linear(n, 1, { bias: false });
    init.uniform(this.weights.weight, -1, 1);
  }

  /** The effective weight vector: the latent floats, or scale * codes with a straight-through gradient. */
  private effective(): Tensor {
    const w = this.weights;
    return w instanceof BinaryLinear ? w._binary.forward() : w.weight;
  }

  forward(x: Tensor): Tensor {
    if (x.shape.length !== 2 || x.shape[1] !== this.inputs) throw new ShapeError(`toy: expected input [N, ${this.inputs}], got [${x.shape.join(', ')}]`);
    const h = TOY_HIDDEN, d = this.inputs;
    const w = this.effective();
    const w1 = sliceFlat(w, 0, [h, d]), b1 = sliceFlat(w, h * d, [h]), w2 = sliceFlat(w, h * d + h, [1, h]);
    return sigmoid(linear(sigmoid(linear(x, w1, b1)), w2));
  }

  /** Sets the latent weights from a vector in the reference script's order: W1 as [inputs, hidden], then b1, then W2. */
  setReferenceWeights(v: ArrayLike<number>): void {
    const h = TOY_HIDDEN, d = this.inputs, t = this.weights.weight;
    if (v.length !== t.numel) throw new ShapeError(`toy: expected ${t.numel} weights, got ${v.length}`);
    for (let i = 0; i < d; i++) for (let j = 0; j < h; j++) t.data[j * d + i] = v[i * h + j];
    for (let k = h * d; k < t.numel; k++) t.data[k] = v[k];
    t.version++;
  }
}
