"""PyTorch peer of bench/conv-layers.ts: GFLOP/s of the Conv2 conv layers
(forward, backward data, backward weight) at batch 128 with 2 threads."""
import torch
from common import arg, emit, median_seconds

runs = arg('runs', 5)
torch.set_num_threads(2)
torch.manual_seed(0)

for name, cin in (('conv1', 3), ('conv2', 64)):
    n, h, w, cout, k = 128, 32, 32, 64, 3
    x, wt, b = torch.randn(n, cin, h, w), torch.randn(cout, cin, k, k), torch.randn(cout)
    dy = torch.randn(n, cout, h, w)
    flops = 2 * n * cout * h * w * cin * k * k
    bwd = lambda mask: torch.ops.aten.convolution_backward(dy, x, wt, [cout], [1, 1], [1, 1], [1, 1], False, [0, 0], 1, mask)
    with torch.no_grad():
        for pass_, fn in (('forward', lambda: torch.nn.functional.conv2d(x, wt, b, padding=1)),
                          ('backward-data', lambda: bwd([True, False, False])),
                          ('backward-weight', lambda: bwd([False, True, False]))):
            emit(bench=f"conv/conv2-float/{name}/{pass_}", engine="pytorch",
                 value=round(flops / median_seconds(fn, runs) / 1e9, 1), unit="GFLOP/s", runs=runs)
