"""PyTorch peer of bench/latency.ts: fp32 eval (no_grad) latency at batch 1 of
the same networks as float models (plain convolutions, float activations),
2 threads, median of --runs runs after a warm-up. Uses Debian's python3-torch.
  resnet18: the Equal Bits reference ResNet-18 for CIFAR (src/models/resnet-eb.ts)
  resnet20: the IR-Net ResNet-20 layout (src/models/resnet20.ts)"""
import sys
import torch
import torch.nn as nn
import torch.nn.functional as F
from common import arg, emit, median_seconds


class EBBlock(nn.Module):
    def __init__(self, inp, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(inp, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.nonlinear = nn.PReLU(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = (nn.Sequential(nn.Conv2d(inp, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))
                         if stride != 1 or inp != planes else nn.Identity())

    def forward(self, x):
        x1 = self.bn1(self.nonlinear(self.conv1(x))) + self.shortcut(x)
        return self.bn2(self.nonlinear(self.conv2(x1))) + x1


class ResNet18(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.prelu = nn.PReLU(64)
        layers, inp = [], 64
        for planes, stride in [(64, 1), (128, 2), (256, 2), (512, 2)]:
            layers.append(nn.Sequential(EBBlock(inp, planes, stride), EBBlock(planes, planes, 1)))
            inp = planes
        self.layers = nn.Sequential(*layers)
        self.linear = nn.Linear(512, num_classes)

    def forward(self, x):
        out = self.layers(self.prelu(self.bn1(self.conv1(x))))
        return self.linear(F.adaptive_avg_pool2d(out, 1).flatten(1))


class IrNetBlock(nn.Module):
    def __init__(self, inp, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(inp, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.pad = planes // 4 if stride != 1 or inp != planes else None

    def forward(self, x):
        sc = x if self.pad is None else F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.pad, self.pad))
        out = F.hardtanh(self.bn1(self.conv1(x)) + sc)
        return F.hardtanh(self.bn2(self.conv2(out)) + out)


class ResNet20(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        blocks, inp = [], 16
        for planes, stride in [(16, 1), (32, 2), (64, 2)]:
            for i in range(3):
                blocks.append(IrNetBlock(inp, planes, stride if i == 0 else 1))
                inp = planes
        self.blocks = nn.Sequential(*blocks)
        self.bn2 = nn.BatchNorm1d(64)
        self.linear = nn.Linear(64, num_classes)

    def forward(self, x):
        out = self.blocks(F.hardtanh(self.bn1(self.conv1(x))))
        return self.linear(self.bn2(F.adaptive_avg_pool2d(out, 1).flatten(1)))


MODELS = {'resnet18': ('resnet18-1w1a-bihalf', ResNet18), 'resnet20': ('resnet20-1w1a-bihalf', ResNet20)}
name = arg('model', None, str)
if name not in MODELS:
    sys.stderr.write(f"bench/pytorch/latency.py: --model must be one of {', '.join(MODELS)}\n")
    sys.exit(2)
label, build = MODELS[name]
runs = arg('runs', 30)
torch.set_num_threads(2)
torch.manual_seed(0)
model = build().eval()
x = torch.randn(1, 3, 32, 32)
with torch.no_grad():
    ms = 1000 * median_seconds(lambda: model(x), runs)
emit(bench=f"latency/{label}", engine="pytorch", value=round(ms, 4), unit="ms", runs=runs, batch=1, threads=2, version=torch.__version__)
