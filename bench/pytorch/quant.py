"""PyTorch peer of bench/quant.ts: the reference code's bi-half quantizer
(per-filter sort, then scatter of a [-1 ... -1, +1 ... +1] pattern, times the
fixed rescale) on the same shapes, 2 threads, ms per call (median).
Written with torch ops only (the reference builds the pattern with numpy,
which would be slower), and without autograd bookkeeping."""
import json, math, os
import torch
from common import arg, bihalf_codes, emit, median_seconds

runs = arg('runs', 5)
torch.set_num_threads(2)
torch.manual_seed(0)
here = os.path.dirname(os.path.abspath(__file__))
shapes = json.load(open(os.path.join(here, '..', 'quant-shapes.json')))

def half(w, rescale):
    return bihalf_codes(w) * rescale

for name, lst in shapes.items():
    if isinstance(lst, str):
        continue
    ws = [torch.randn(*s) for s in lst]
    rescales = [torch.ones_like(w) * (math.sqrt(2) / math.sqrt(w[0].numel())) for w in ws]
    def call():
        for w, r in zip(ws, rescales):
            half(w, r)
    with torch.no_grad():
        ms = median_seconds(call, runs) * 1000
    emit(bench=f"quant/{name}", engine="pytorch", value=round(ms, 3), unit="ms", runs=runs, weights=sum(w.numel() for w in ws))
