// ResNet-20 for CIFAR as IR-Net (Qin et al. 2020, htqin/IR-Net) trains it:
// a float 3x3 stem conv (16 channels) + BN, three stages of three basic
// blocks (16/32/64 channels, stride 2 at the start of stages 2 and 3),
// global average pooling, BatchNorm1d(64) and a float linear classifier.
// Shortcuts are option A: subsample by 2 and zero-pad the channels, so they
// have no weights. The 18 block convs are the binary layers.
//
// IR-Net has two block layouts and we follow whichever matches the options:
// - binary activations (its 1w1a code): Bi-Real-style, a shortcut around
//   every conv and hardtanh after each sum, hardtanh after the stem and no
//   activation before the classifier:
//     out = ht(BN1(conv1(sign x)) + sc(x));  out = ht(BN2(conv2(sign out)) + out)
// - float activations (its 1w32a code, and the plain float ResNet-20): the
//   standard block with ReLU; the stem has no activation (as in that code)
//   and a ReLU follows BatchNorm1d in the head.
// Both layouts have the same parameters, so their state dicts are alike.
// Convs and the classifier start from kaiming_normal (IR-Net's _weights_init).
import { Tensor, add, relu, hardtanh, globalAvgPool } from '../autograd/index.js';
import { Module, Sequential, Conv2d, BatchNorm2d, BatchNorm1d, Linear, init } from '../nn/index.js';
import { LayerFactory, subsamplePadChannels, type AnyConv } from './layers.js';
import { binaryActivations, type ResolvedOptions } from './options.js';

class IrNetBlock extends Module {
  readonly conv1: AnyConv;
  readonly bn1: BatchNorm2d;
  readonly conv2: AnyConv;
  readonly bn2: BatchNorm2d;
  /** Zero channels added on each side by the option-A shortcut; null for the identity. */
  readonly shortcutPad: number | null;

  constructor(f: LayerFactory, inPlanes: number, planes: number, stride: number, readonly binaryActs: boolean) {
    super();
    this.conv1 = f.binaryConv(inPlanes, planes, 3, { stride, padding: 1, quantizeInput: true });
    this.bn1 = new BatchNorm2d(planes);
    this.conv2 = f.binaryConv(planes, planes, 3, { padding: 1, quantizeInput: true });
    this.bn2 = new BatchNorm2d(planes);
    // IR-Net pads planes // 4 zero channels on each side (planes = 2 * inPlanes where it applies).
    this.shortcutPad = stride !== 1 || inPlanes !== planes ? Math.floor(planes / 4) : null;
    init.kaimingNormal(this.conv1.weight);
    init.kaimingNormal(this.conv2.weight);
  }

  private shortcut(x: Tensor): Tensor {
    return this.shortcutPad === null ? x : subsamplePadChannels(x, this.shortcutPad);
  }

  forward(x: Tensor): Tensor {
    if (this.binaryActs) {
      const out = hardtanh(add(this.bn1.forward(this.conv1.forward(x)), this.shortcut(x)));
      return hardtanh(add(this.bn2.forward(this.conv2.forward(out)), out));
    }
    const out = relu(this.bn1.forward(this.conv1.forward(x)));
    return relu(add(this.bn2.forward(this.conv2.forward(out)), this.shortcut(x)));
  }
}

export class ResNet20 extends Module {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly layer1: Sequential;
  readonly layer2: Sequential;
  readonly layer3: Sequential;
  readonly bn2: BatchNorm1d;
  readonly linear: Linear;
  readonly binaryActs: boolean;

  constructor(o: ResolvedOptions, blocks: [number, number, number] = [3, 3, 3]) {
    super();
    const f = new LayerFactory(o);
    this.binaryActs = binaryActivations(o);
    this.conv1 = new Conv2d(o.inChannels, 16, 3, { padding: 1, bias: false });
    this.bn1 = new BatchNorm2d(16);
    let inPlanes = 16;
    const stage = (planes: number, n: number, stride: number): Sequential => {
      const list: IrNetBlock[] = [];
      for (let i = 0; i < n; i++) {
        list.push(new IrNetBlock(f, inPlanes, planes, i === 0 ? stride : 1, this.binaryActs));
        inPlanes = planes;
      }
      return new Sequential(...list);
    };
    this.layer1 = stage(16, blocks[0], 1);
    this.layer2 = stage(32, blocks[1], 2);
    this.layer3 = stage(64, blocks[2], 2);
    this.bn2 = new BatchNorm1d(64);
    this.linear = new Linear(64, o.numClasses);
    init.kaimingNormal(this.conv1.weight);
    init.kaimingNormal(this.linear.weight);
  }

  forward(x: Tensor): Tensor {
    let out = this.bn1.forward(this.conv1.forward(x));
    if (this.binaryActs) out = hardtanh(out);
    out = this.layer3.forward(this.layer2.forward(this.layer1.forward(out)));
    out = globalAvgPool(out);
    out = this.bn2.forward(out.reshape([out.shape[0], out.shape[1]]));
    if (!this.binaryActs) out = relu(out);
    return this.linear.forward(out);
  }
}
