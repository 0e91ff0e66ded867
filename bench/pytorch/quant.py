"""PyTorch peer of bench/quant.ts: the reference code's bi-half quantizer
(per-filter sort, then scatter of a [-1 ... -1, +1 ... +1] pattern, times the
fixed rescale) on the same shapes, 2 threads, ms per call (median).
Written with torch ops only (the reference builds the pattern with numpy,
which would be slower), and without autograd bookkeeping."""
import json, math, os, sys, time
import torch

runs = int(sys.argv[sys.argv.index('--runs') + 1]) if '--runs' in sys.argv else 5
torch.set_num_threads(2)
torch.manual_seed(0)
here = os.path.dirname(os.path.abspath(__file__))
shapes = json.load(open(os.path.join(here, '..', 'quant-shapes.json')))

def half(w, rescale):
    flat = w.view(w.size(0), -1)
    a = flat.size(1)
    j = int(0.5 * a)
    _, idx = flat.sort(dim=1)
    pattern = torch.cat((-torch.ones(flat.size(0), j), torch.ones(flat.size(0), a - j)), 1)
    return torch.zeros_like(flat).scatter_(1, idx, pattern).view_as(w) * rescale

for name, lst in shapes.items():
    if isinstance(lst, str):
        continue
    ws = [torch.randn(*s) for s in lst]
    rescales = [torch.ones_like(w) * (math.sqrt(2) / math.sqrt(w[0].numel())) for w in ws]
    def call():
        for w, r in zip(ws, rescales):
            half(w, r)
    with torch.no_grad():
        call(); call()
        times = []
        for _ in range(runs):
            t0 = time.perf_counter(); call(); times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    med = times[runs // 2] if runs % 2 else (times[runs // 2 - 1] + times[runs // 2]) / 2
    print(json.dumps({"bench": f"quant/{name}", "engine": "pytorch", "value": round(med, 3), "unit": "ms", "runs": runs,
                      "weights": sum(w.numel() for w in ws)}))
