#!/usr/bin/env bash
# The wasm engine with one thread (wasm/equalbits-packed.wasm) against two (the threaded
# equalbits-packed-mt.wasm), ResNet-18 1W/1A at batch 1, with the native engine (2 threads)
# timed in the same process each time: three rounds alternating the two. Run from the
# repository root with no training running. Writes wasm-threads.jsonl.
set -euo pipefail
here=docs/measurements/2026-11-27-latency-vm
: > $here/wasm-threads.jsonl
for round in 1 2 3; do
  for wt in 1 2; do
    node dist/bench/latency.js --model resnet18 --wasm-threads $wt | grep -E '"equalbits-packed-(native|wasm)"' |
      sed "s/^{/{\"round\":$round,\"wasmThreads\":$wt,/" >> $here/wasm-threads.jsonl
  done
done
