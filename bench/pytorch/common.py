"""Helpers shared by the PyTorch peers: flags, timing (warm-up run, then the
median of --runs runs, as the equalbits side does), peak RSS, JSON lines, and
the Equal Bits reference code's bi-half quantizer (per-filter sort + scatter)."""
import json, resource, sys, time
import torch


def arg(name, default, kind=int):
    return kind(sys.argv[sys.argv.index('--' + name) + 1]) if '--' + name in sys.argv else default


def median(xs):
    s = sorted(xs)
    m = len(s) // 2
    return s[m] if len(s) % 2 else (s[m - 1] + s[m]) / 2


def timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def median_seconds(fn, runs):
    """Seconds per call of fn: one untimed warm-up call, then the median of runs calls."""
    fn()
    return median([timed(fn) for _ in range(runs)])


def emit(**line):
    print(json.dumps(line), flush=True)


def peak_rss_mb():
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def bihalf_codes(w):
    """The reference code's `half`: per filter, sort, then scatter int(0.5 n) x -1 and the rest +1."""
    flat = w.reshape(w.size(0), -1)
    n = flat.size(1)
    j = int(0.5 * n)
    _, idx = flat.sort(dim=1)
    pattern = torch.cat((-torch.ones(flat.size(0), j), torch.ones(flat.size(0), n - j)), 1)
    return torch.zeros_like(flat).scatter_(1, idx, pattern).view_as(w)
