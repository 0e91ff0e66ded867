"""PyTorch peer of bench/conv2-float.ts: the same float Conv2 network, batch,
optimizer and thread count, timed the same way (median img/s over runs).
Prints JSON lines in the benchmark format. Uses Debian's python3-torch."""
import json, resource, sys, time
import torch
import torch.nn as nn

def arg(name, default):
    return int(sys.argv[sys.argv.index('--' + name) + 1]) if '--' + name in sys.argv else default

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

def timed():
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    return time.perf_counter() - t0

timed()  # warm-up run, as in the equalbits benchmark
rates = sorted(steps * batch / timed() for _ in range(runs))
med = rates[len(rates) // 2] if runs % 2 else (rates[runs // 2 - 1] + rates[runs // 2]) / 2
print(json.dumps({"bench": "train/conv2-float", "engine": "pytorch", "value": round(med, 1), "unit": "img/s",
                  "runs": runs, "steps": steps, "batch": batch, "threads": 2, "version": torch.__version__}))
print(json.dumps({"bench": "rss/conv2-float", "engine": "pytorch",
                  "value": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1), "unit": "MB", "runs": 1}))
