// VGG-Small for CIFAR, the LQ-Net / IR-Net network (htqin/IR-Net,
// VGG_SMALL_1W1A): convs 128-128-256-256-512-512 (3x3, pad 1, no bias), a
// 2x2 max pool after the 2nd, 4th and 6th conv, BN after each conv (after the
// pool where there is one), then one float linear layer on the flattened
// 512 x 4 x 4 features. The first conv and the classifier stay full precision;
// conv1..conv5 are the binary layers.
//
// Nonlinearity: hardtanh with binary activations, as IR-Net (its sign of a
// hardtanh output is a useful code); ReLU with float activations, as LQ-Net's
// VGG-Small and the usual 1W/32A setting.
// Init as IR-Net: convs N(0, sqrt(2 / (k*k*out))) (kaiming_normal, fan_out),
// the classifier N(0, 0.01) with zero bias.
import { Tensor, relu, hardtanh, maxPool2d } from '../autograd/index.js';
import { Module, Conv2d, BatchNorm2d, Linear, init } from '../nn/index.js';
import { UserError } from '../util/errors.js';
import { LayerFactory, type AnyConv } from './layers.js';
import { binaryActivations, type ResolvedOptions } from './options.js';

export class VggSmall extends Module {
  readonly conv0: Conv2d;
  readonly bn0: BatchNorm2d;
  readonly conv1: AnyConv;
  readonly bn1: BatchNorm2d;
  readonly conv2: AnyConv;
  readonly bn2: BatchNorm2d;
  readonly conv3: AnyConv;
  readonly bn3: BatchNorm2d;
  readonly conv4: AnyConv;
  readonly bn4: BatchNorm2d;
  readonly conv5: AnyConv;
  readonly bn5: BatchNorm2d;
  readonly fc: Linear;
  readonly binaryActs: boolean;
  readonly featureSize: number;

  constructor(o: ResolvedOptions) {
    super();
    const f = new LayerFactory(o);
    const bin = (cin: number, cout: number) => f.binaryConv(cin, cout, 3, { padding: 1, quantizeInput: true });
    this.binaryActs = binaryActivations(o);
    this.conv0 = new Conv2d(o.inChannels, 128, 3, { padding: 1, bias: false });
    this.bn0 = new BatchNorm2d(128);
    this.conv1 = bin(128, 128);
    this.bn1 = new BatchNorm2d(128);
    this.conv2 = bin(128, 256);
    this.bn2 = new BatchNorm2d(256);
    this.conv3 = bin(256, 256);
    this.bn3 = new BatchNorm2d(256);
    this.conv4 = bin(256, 512);
    this.bn4 = new BatchNorm2d(512);
    this.conv5 = bin(512, 512);
    this.bn5 = new BatchNorm2d(512);
    const size = Math.floor(Math.floor(Math.floor(o.imageSize / 2) / 2) / 2);
    if (size < 1) throw new UserError(`vgg-small: imageSize ${o.imageSize} is too small for three 2x2 max pools`);
    this.featureSize = 512 * size * size;
    this.fc = new Linear(this.featureSize, o.numClasses);
    for (const c of [this.conv0, this.conv1, this.conv2, this.conv3, this.conv4, this.conv5]) init.kaimingNormal(c.weight, { mode: 'fan_out' });
    init.normal(this.fc.weight, 0, 0.01);
    init.constant(this.fc.bias!, 0);
  }

  forward(x: Tensor): Tensor {
    const act = (t: Tensor) => (this.binaryActs ? hardtanh(t) : relu(t));
    x = act(this.bn0.forward(this.conv0.forward(x)));
    x = act(this.bn1.forward(maxPool2d(this.conv1.forward(x), 2)));
    x = act(this.bn2.forward(this.conv2.forward(x)));
    x = act(this.bn3.forward(maxPool2d(this.conv3.forward(x), 2)));
    x = act(this.bn4.forward(this.conv4.forward(x)));
    x = act(this.bn5.forward(maxPool2d(this.conv5.forward(x), 2)));
    return this.fc.forward(x.reshape([x.shape[0], this.featureSize]));
  }
}
