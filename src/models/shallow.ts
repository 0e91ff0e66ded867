// Conv2 / Conv4 / Conv6 / Conv8: the "shallow models" of the lottery-ticket
// and edge-popup papers, which Equal Bits uses for its CIFAR-10 studies.
// Pairs of 3x3 convs (64,64 | 128,128 | 256,256 | 512,512), a 2x2 max pool
// after each pair, then FC 256-256-classes, ReLU throughout.
//
// As in allenai/hidden-networks (frankle.py + builder.py): no batch norm and
// no biases anywhere (its conv3x3/conv1x1 builders pass bias=False), weights
// initialised kaiming_normal(fan_in, relu). With binary weights the fixed
// gain / sqrt(fan_in) scale of every layer keeps activations at the scale
// Kaiming init would give, which is what stands in for batch norm. Every conv
// and linear layer is binary, the first and the last included. hidden-networks
// writes its FC layers as 1x1 convs on a [N, C, 1, 1] view; here they are
// Linear layers (weights [out, in] instead of [out, in, 1, 1], same numbers).
import { Tensor } from '../autograd/index.js';
import { Module, Sequential, ReLU, MaxPool2d, init } from '../nn/index.js';
import { UserError } from '../util/errors.js';
import { LayerFactory, type AnyConv, type AnyLinear } from './layers.js';
import type { ResolvedOptions } from './options.js';

const WIDTHS = [64, 128, 256, 512];

export class ShallowConvNet extends Module {
  // Sequentials laid out as hidden-networks' (ReLU and pool included, the pair's
  // pool and ReLU swapped), so that parameter names match its state dicts:
  // convs.0, convs.2, convs.5, ..., linear.0/2/4.
  readonly convs: Sequential;
  readonly linear: Sequential;
  readonly featureSize: number;

  constructor(readonly depth: 2 | 4 | 6 | 8, o: ResolvedOptions) {
    super();
    const f = new LayerFactory(o);
    const convLayers: Module[] = [], weighted: (AnyConv | AnyLinear)[] = [];
    let c = o.inChannels, size = o.imageSize;
    for (let p = 0; p < depth / 2; p++) {
      const a = f.binaryConv(c, WIDTHS[p], 3, { padding: 1 }), b = f.binaryConv(WIDTHS[p], WIDTHS[p], 3, { padding: 1 });
      // Pool before the second ReLU: max and ReLU commute (relu(max x) = max(relu x),
      // and both route the gradient to the same element or to none), so the
      // outputs and gradients are bit-identical to hidden-networks' ReLU-then-pool,
      // with the ReLU on a 4x smaller tensor (test/models.test.ts checks it).
      convLayers.push(a, new ReLU(), b, new MaxPool2d(2), new ReLU());
      weighted.push(a, b);
      c = WIDTHS[p];
      size = Math.floor(size / 2);
    }
    if (size < 1) throw new UserError(`conv${depth}: imageSize ${o.imageSize} is too small for ${depth / 2} 2x2 max pools`);
    this.featureSize = c * size * size;
    const fc = [f.binaryLinear(this.featureSize, 256), f.binaryLinear(256, 256), f.binaryLinear(256, o.numClasses)];
    weighted.push(...fc);
    this.convs = new Sequential(...convLayers);
    this.linear = new Sequential(fc[0], new ReLU(), fc[1], new ReLU(), fc[2]);
    for (const m of weighted) init.kaimingNormal(m.weight);
  }

  forward(x: Tensor): Tensor {
    const h = this.convs.forward(x);
    return this.linear.forward(h.reshape([h.shape[0], this.featureSize]));
  }
}
