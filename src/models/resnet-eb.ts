// ResNet-18 / ResNet-34 for CIFAR as the Equal Bits reference code builds
// them (liyunqianggyn/Equal-Bits-BNN, CIFAR10/resnet.py): a Bi-Real-style
// basic block with the nonlinearity before batch norm and a shortcut around
// each conv,
//   out = BN1(PReLU(conv1(sign x))) + shortcut(x);  x1 = out
//   out = BN2(PReLU(conv2(sign out))) + x1
// where ONE PReLU module (one slope per channel) serves both convs of the
// block. The stem (3x3 conv 64 + BN + PReLU(64)), the 1x1 projection
// shortcuts (+BN) and the linear classifier stay full precision; the block
// convs are the binary layers. With float activations sign() is the identity.
// Init is PyTorch's default, as the reference does not override it.
//
// The reference pools with avg_pool2d(out, 4), which is the global average
// for 32x32 inputs; we pool globally so other input sizes also give one
// 512-d feature per image.
import { Tensor, add, globalAvgPool } from '../autograd/index.js';
import { Module, Sequential, Conv2d, BatchNorm2d, PReLU, Linear } from '../nn/index.js';
import { LayerFactory, type AnyConv } from './layers.js';
import type { ResolvedOptions } from './options.js';

class EqualBitsBlock extends Module {
  readonly conv1: AnyConv;
  readonly bn1: BatchNorm2d;
  readonly nonlinear: PReLU;
  readonly conv2: AnyConv;
  readonly bn2: BatchNorm2d;
  readonly shortcut: Sequential | null;

  constructor(f: LayerFactory, inPlanes: number, planes: number, stride: number) {
    super();
    this.conv1 = f.binaryConv(inPlanes, planes, 3, { stride, padding: 1, quantizeInput: true });
    this.bn1 = new BatchNorm2d(planes);
    this.nonlinear = new PReLU(planes);
    this.conv2 = f.binaryConv(planes, planes, 3, { padding: 1, quantizeInput: true });
    this.bn2 = new BatchNorm2d(planes);
    this.shortcut = stride !== 1 || inPlanes !== planes
      ? new Sequential(new Conv2d(inPlanes, planes, 1, { stride, bias: false }), new BatchNorm2d(planes))
      : null;
  }

  forward(x: Tensor): Tensor {
    const x1 = add(this.bn1.forward(this.nonlinear.forward(this.conv1.forward(x))), this.shortcut ? this.shortcut.forward(x) : x);
    return add(this.bn2.forward(this.nonlinear.forward(this.conv2.forward(x1))), x1);
  }
}

export class EqualBitsResNet extends Module {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly prelu: PReLU;
  readonly layer1: Sequential;
  readonly layer2: Sequential;
  readonly layer3: Sequential;
  readonly layer4: Sequential;
  readonly linear: Linear;

  constructor(o: ResolvedOptions, blocks: readonly [number, number, number, number]) {
    super();
    const f = new LayerFactory(o);
    this.conv1 = new Conv2d(o.inChannels, 64, 3, { padding: 1, bias: false });
    this.bn1 = new BatchNorm2d(64);
    this.prelu = new PReLU(64);
    let inPlanes = 64;
    const stage = (planes: number, n: number, stride: number): Sequential => {
      const list: EqualBitsBlock[] = [];
      for (let i = 0; i < n; i++) {
        list.push(new EqualBitsBlock(f, inPlanes, planes, i === 0 ? stride : 1));
        inPlanes = planes;
      }
      return new Sequential(...list);
    };
    this.layer1 = stage(64, blocks[0], 1);
    this.layer2 = stage(128, blocks[1], 2);
    this.layer3 = stage(256, blocks[2], 2);
    this.layer4 = stage(512, blocks[3], 2);
    this.linear = new Linear(512, o.numClasses);
  }

  forward(x: Tensor): Tensor {
    let out = this.prelu.forward(this.bn1.forward(this.conv1.forward(x)));
    out = this.layer4.forward(this.layer3.forward(this.layer2.forward(this.layer1.forward(out))));
    out = globalAvgPool(out);
    return this.linear.forward(out.reshape([out.shape[0], 512]));
  }
}
