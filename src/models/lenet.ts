// A small LeNet-style network for 28x28 grey images (Fashion-MNIST), sized
// for the CLI demo on two CPU cores. Measured with bi-half weights (1W/32A),
// Adam 1e-3, cosine, batch 128: 89.6% test accuracy after 1 epoch (~30 s),
// 91.8% after 3 epochs (~80 s).
//   conv1 3x3 1->32 (float)  -> 2x2 max pool -> BN -> act      28 -> 14
//   conv2 3x3 32->64 (binary) -> 2x2 max pool -> BN -> act     14 -> 7
//   fc1 3136->256 (binary) -> BN1d -> act
//   fc2 256->classes (float, with bias)
// The first conv and the classifier stay full precision, as in most BNNs
// (they hold 0.3% of the weights but the input and output precision matters
// most there). Convs and fc1 have no bias: BN follows them.
// Pooling comes before BN so that BN sees the values the next layer's sign()
// sees; act is ReLU with float activations and hardtanh with binary ones
// (sign() of a ReLU output would be +1 everywhere).
import { Tensor, relu, hardtanh, maxPool2d } from '../autograd/index.js';
import { Module, Conv2d, BatchNorm2d, BatchNorm1d, Linear } from '../nn/index.js';
import { UserError } from '../util/errors.js';
import { LayerFactory, type AnyConv, type AnyLinear } from './layers.js';
import { binaryActivations, type ResolvedOptions } from './options.js';

export class LeNet extends Module {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: AnyConv;
  readonly bn2: BatchNorm2d;
  readonly fc1: AnyLinear;
  readonly bn3: BatchNorm1d;
  readonly fc2: Linear;
  readonly binaryActs: boolean;
  readonly featureSize: number;

  constructor(o: ResolvedOptions) {
    super();
    const f = new LayerFactory(o);
    this.binaryActs = binaryActivations(o);
    const size = Math.floor(Math.floor(o.imageSize / 2) / 2);
    if (size < 1) throw new UserError(`lenet: imageSize ${o.imageSize} is too small for two 2x2 max pools`);
    this.featureSize = 64 * size * size;
    this.conv1 = new Conv2d(o.inChannels, 32, 3, { padding: 1, bias: false });
    this.bn1 = new BatchNorm2d(32);
    this.conv2 = f.binaryConv(32, 64, 3, { padding: 1, quantizeInput: true });
    this.bn2 = new BatchNorm2d(64);
    this.fc1 = f.binaryLinear(this.featureSize, 256, { quantizeInput: true });
    this.bn3 = new BatchNorm1d(256);
    this.fc2 = new Linear(256, o.numClasses);
  }

  forward(x: Tensor): Tensor {
    const act = (t: Tensor) => (this.binaryActs ? hardtanh(t) : relu(t));
    x = act(this.bn1.forward(maxPool2d(this.conv1.forward(x), 2)));
    x = act(this.bn2.forward(maxPool2d(this.conv2.forward(x), 2)));
    x = act(this.bn3.forward(this.fc1.forward(x.reshape([x.shape[0], this.featureSize]))));
    return this.fc2.forward(x);
  }
}
