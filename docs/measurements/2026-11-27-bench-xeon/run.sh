#!/usr/bin/env bash
# The whole benchmark suite on the Xeon (AVX-512) VM, 2026-11-27 04:14-04:19 UTC, with the
# training queue paused (kill -STOP). Run from the repository root after
# `bash scripts/setup.sh --bench` (or through `npm run bench`, which does that setup).
set -euo pipefail
here=docs/measurements/2026-11-27-bench-xeon
node dist/bench/run.js > $here/bench.jsonl 2> $here/stderr.txt
