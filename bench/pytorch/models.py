"""PyTorch peer of bench/models.ts: the same binary models (layer for layer,
same shapes and parameter counts as src/models), one per process
(--model conv2 | conv6 | resnet20 | vgg-small), timed the same way.

Bi-half weights as the Equal Bits reference code writes them
(liyunqianggyn/Equal-Bits-BNN, CIFAR10/utils.py `half` and resnet.py
`EBConv2d`): on every forward, sort each filter's latent weights and scatter a
[-1 ... -1, +1 ... +1] pattern (int(0.5 * n) negatives) into the sorted
positions; the backward is the identity (straight-through); the effective
weight is a fixed rescale tensor (gain / sqrt(fan_in), gain sqrt(2)) times the
codes. The pattern is built with torch ops rather than the reference's numpy,
as in bench/pytorch/quant.py, which only helps PyTorch.
Binary activations: sign with sign(0) = +1, gradient 1 where |x| < 1.
Prints JSON lines in the benchmark format. Uses Debian's python3-torch."""
import math, sys
import torch
import torch.nn as nn
import torch.nn.functional as F
from common import arg, bihalf_codes, emit, median_seconds, peak_rss_mb



class BiHalf(torch.autograd.Function):
    @staticmethod
    def forward(ctx, w):
        return bihalf_codes(w)

    @staticmethod
    def backward(ctx, g):
        return g


class SignSTE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        # sign(0) = +1 as in equalbits (torch.sign would give 0)
        return x.ge(0).to(x.dtype).mul_(2).sub_(1)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g.masked_fill(x.abs() >= 1, 0)


def fixed_rescale(w):
    # The reference keeps an elementwise tensor, not a scalar: ones_like(w) * std.
    return torch.ones_like(w) * (math.sqrt(2) / math.sqrt(w[0].numel()))


class BinConv2d(nn.Conv2d):
    """Bi-half weights; the input is binarized first when binary_input."""
    def __init__(self, cin, cout, k, stride=1, padding=0, binary_input=False):
        super().__init__(cin, cout, k, stride=stride, padding=padding, bias=False)
        self.binary_input = binary_input
        self.rescale = fixed_rescale(self.weight.detach())  # a plain attribute, not a parameter or buffer

    def forward(self, x):
        if self.binary_input:
            x = SignSTE.apply(x)
        return F.conv2d(x, self.rescale * BiHalf.apply(self.weight), None, self.stride, self.padding)


class BinLinear(nn.Linear):
    def __init__(self, fin, fout):
        super().__init__(fin, fout, bias=False)
        self.rescale = fixed_rescale(self.weight.detach())

    def forward(self, x):
        return F.linear(x, self.rescale * BiHalf.apply(self.weight))


class ShallowConvNet(nn.Module):
    """src/models/shallow.ts: conv pairs (64 | 128 | 256 ...) + ReLU + 2x2 max
    pool, FC 256-256-10, every layer binary, no bias, no BN, float activations."""
    def __init__(self, depth, num_classes=10):
        super().__init__()
        layers, c, size = [], 3, 32
        for width in [64, 128, 256, 512][:depth // 2]:
            layers += [BinConv2d(c, width, 3, padding=1), nn.ReLU(), BinConv2d(width, width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
            c, size = width, size // 2
        self.convs = nn.Sequential(*layers)
        self.linear = nn.Sequential(BinLinear(c * size * size, 256), nn.ReLU(), BinLinear(256, 256), nn.ReLU(), BinLinear(256, num_classes))

    def forward(self, x):
        return self.linear(self.convs(x).flatten(1))


class IrNetBlock(nn.Module):
    """src/models/resnet20.ts, binary-activation layout (IR-Net 1w1a):
    out = ht(BN1(conv1(sign x)) + sc(x)); out = ht(BN2(conv2(sign out)) + out);
    sc is option A (subsample by 2, zero-pad planes // 4 channels each side)."""
    def __init__(self, in_planes, planes, stride):
        super().__init__()
        self.conv1 = BinConv2d(in_planes, planes, 3, stride=stride, padding=1, binary_input=True)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = BinConv2d(planes, planes, 3, padding=1, binary_input=True)
        self.bn2 = nn.BatchNorm2d(planes)
        self.pad = planes // 4 if stride != 1 or in_planes != planes else None

    def shortcut(self, x):
        return x if self.pad is None else F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.pad, self.pad))

    def forward(self, x):
        out = F.hardtanh(self.bn1(self.conv1(x)) + self.shortcut(x))
        return F.hardtanh(self.bn2(self.conv2(out)) + out)


class ResNet20(nn.Module):
    """Float stem conv 16 + BN + hardtanh, 3 stages x 3 blocks (16/32/64),
    global average pool, BatchNorm1d(64), float linear classifier."""
    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        blocks, in_planes = [], 16
        for planes, stride in [(16, 1), (32, 2), (64, 2)]:
            stage = []
            for i in range(3):
                stage.append(IrNetBlock(in_planes, planes, stride if i == 0 else 1))
                in_planes = planes
            blocks.append(nn.Sequential(*stage))
        self.layer1, self.layer2, self.layer3 = blocks
        self.bn2 = nn.BatchNorm1d(64)
        self.linear = nn.Linear(64, num_classes)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(m.weight)

    def forward(self, x):
        out = F.hardtanh(self.bn1(self.conv1(x)))
        out = self.layer3(self.layer2(self.layer1(out)))
        out = F.adaptive_avg_pool2d(out, 1).flatten(1)
        return self.linear(self.bn2(out))


class VggSmall(nn.Module):
    """src/models/vgg-small.ts, 1W/1A: float conv0 (128) + BN + hardtanh, binary
    conv1..conv5 (128-256-256-512-512) on sign inputs, 2x2 max pool after conv1,
    conv3, conv5 (before BN), BN + hardtanh after each, float linear 8192 -> 10."""
    def __init__(self, num_classes=10):
        super().__init__()
        self.conv0 = nn.Conv2d(3, 128, 3, padding=1, bias=False)
        self.bn0 = nn.BatchNorm2d(128)
        widths = [128, 128, 256, 256, 512, 512]
        for i in range(1, 6):
            setattr(self, f'conv{i}', BinConv2d(widths[i - 1], widths[i], 3, padding=1, binary_input=True))
            setattr(self, f'bn{i}', nn.BatchNorm2d(widths[i]))
        self.fc = nn.Linear(512 * 4 * 4, num_classes)
        for i in range(6):
            nn.init.kaiming_normal_(getattr(self, f'conv{i}').weight, mode='fan_out')
        nn.init.normal_(self.fc.weight, 0, 0.01)
        nn.init.zeros_(self.fc.bias)

    def forward(self, x):
        x = F.hardtanh(self.bn0(self.conv0(x)))
        for i in range(1, 6):
            x = getattr(self, f'conv{i}')(x)
            if i % 2 == 1:
                x = F.max_pool2d(x, 2)
            x = F.hardtanh(getattr(self, f'bn{i}')(x))
        return self.fc(x.flatten(1))


# Bench label, constructor, and the counts of the TypeScript model as printed by
# describeModel(name, { weights: { name: 'bihalf' }, activations }) in src/models/describe.ts:
# total trainable parameters, latent weights of the binary layers, buffer values
# (BN running mean/var + num_batches_tracked). A mismatch means the two models
# have drifted apart, and the comparison would be meaningless.
MODELS = {
    'conv2': ('conv2-bihalf', lambda: ShallowConvNet(2), 4300992, 4300992, 0),
    'conv6': ('conv6-bihalf', lambda: ShallowConvNet(6), 2261184, 2261184, 0),
    'resnet20': ('resnet20-1w1a-bihalf', ResNet20, 269850, 267264, 1524),
    'vgg-small': ('vgg-small-1w1a-bihalf', VggSmall, 4660106, 4571136, 3590),
}

name = arg('model', None, str)
if name not in MODELS:
    sys.stderr.write(f"bench/pytorch/models.py: --model must be one of {', '.join(MODELS)}\n")
    sys.exit(2)
label, build, want_total, want_binary, want_buffers = MODELS[name]
runs, steps, batch = arg('runs', 5), arg('steps', 5), 128
torch.set_num_threads(2)
torch.manual_seed(0)
model = build()
total = sum(p.numel() for p in model.parameters())
binary = sum(m.weight.numel() for m in model.modules() if isinstance(m, (BinConv2d, BinLinear)))
buffers = sum(b.numel() for b in model.buffers())
if (total, binary, buffers) != (want_total, want_binary, want_buffers):
    sys.stderr.write(f'{name}: params/binary/buffers {total}/{binary}/{buffers}, equalbits has {want_total}/{want_binary}/{want_buffers}\n')
    sys.exit(1)

opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
x = torch.randn(batch, 3, 32, 32)
y = torch.randint(0, 10, (batch,))
loss_fn = nn.CrossEntropyLoss()
meta = {"steps": steps, "batch": batch, "threads": 2, "params": total, "binaryParams": binary, "version": torch.__version__}


def train_step():
    opt.zero_grad(set_to_none=False)
    loss_fn(model(x), y).backward()
    opt.step()


def infer_step():
    model(x)


def rate(step):
    return steps * batch / median_seconds(lambda: [step() for _ in range(steps)], runs)


model.train()
emit(bench=f"train/{label}", engine="pytorch", value=round(rate(train_step), 1), unit="img/s", runs=runs, **meta)
model.eval()
with torch.no_grad():
    infer = rate(infer_step)
emit(bench=f"infer/{label}", engine="pytorch", value=round(infer, 1), unit="img/s", runs=runs, **meta)
emit(bench=f"rss/{label}", engine="pytorch", value=peak_rss_mb(), unit="MB", runs=1)
