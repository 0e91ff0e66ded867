#!/usr/bin/env bash
# Issue 7's speed targets on the project's own VM since 2026-11-26 21:30 UTC: an Intel
# Xeon of family 6 model 207 with AVX-512 VPOPCNTDQ (cpu.txt), 2 vCPUs. Five rounds of
# `npm run bench -- --only latency` (equalbits' packed engines and float forward, then
# Debian's PyTorch 1.13 fp32 eval of the same networks: the project's peer, given the
# same OPENBLAS_CORETYPE as equalbits by bench/run.ts; the wasm engine with 2 threads,
# the threaded module, since commit bd3bed7), then the ResNet-18 bench once
# more per round with the AVX2 kernel for comparison. Run from the
# repository root after `bash scripts/setup.sh --bench`, with no training running
# (scripts/reproduce.sh was paused with kill -STOP for it). Writes latency-<HHMM UTC>.jsonl;
# `python3 summary.py latency-<HHMM>.jsonl` prints each figure by round and its median.
# latency-0356 and latency-0359: two back-to-back runs at the threaded-wasm commit, when
# bench-infer timed after one warm-up call (wasm 3.5-6.0 ms: V8 was still tiering the
# module up); latency-0400: after the warm-up of a quarter second (commit after bd3bed7).
set -euo pipefail
here=docs/measurements/2026-11-27-latency-vm
{ lscpu; echo; grep -o 'avx512[a-z_0-9]*' /proc/cpuinfo | sort -u | tr '\n' ' '; echo; } > $here/cpu.txt
out=$here/latency-$(date -u +%H%M).jsonl
: > $out; : > $here/stderr.txt
for round in 1 2 3 4 5; do
  node dist/bench/run.js --only latency 2>> $here/stderr.txt | sed "s/^{/{\"round\":$round,/" >> $out
  node dist/bench/latency.js --model resnet18 --isa avx2 | sed "s/^{/{\"round\":$round,/" >> $out
done
