"""PyTorch peer of bench/conv2-float.ts: the same float Conv2 network, batch,
optimizer and thread count, timed the same way (median img/s over runs).
Prints JSON lines in the benchmark format. Uses Debian's python3-torch."""
import torch
import torch.nn as nn
from common import arg, emit, median_seconds, peak_rss_mb

runs, steps, batch = arg('runs', 5), arg('steps', 10), 128
torch.set_num_threads(2)
torch.manual_seed(0)
model = nn.Sequential(
    nn.Conv2d(3, 64, 3, padding=1), nn.ReLU(),
    nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Linear(64 * 16 * 16, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))
opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
x = torch.randn(batch, 3, 32, 32)
y = torch.randint(0, 10, (batch,))
loss_fn = nn.CrossEntropyLoss()

def step():
    opt.zero_grad(set_to_none=False)
    loss_fn(model(x), y).backward()
    opt.step()

secs = median_seconds(lambda: [step() for _ in range(steps)], runs)
emit(bench="train/conv2-float", engine="pytorch", value=round(steps * batch / secs, 1), unit="img/s",
     runs=runs, steps=steps, batch=batch, threads=2, version=torch.__version__)
emit(bench="rss/conv2-float", engine="pytorch", value=peak_rss_mb(), unit="MB", runs=1)
