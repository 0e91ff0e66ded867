#!/usr/bin/env bash
# Export checks on the Xeon VM (AVX-512), 2026-11-27, of two checkpoints trained there:
# conv2 bi-half from the compare study (seed 0, 15 epochs) and conv2 halfmask k = 0.5 with
# scale_fan from the pruning study (10 epochs). Each writes the packed file, runs the 10,000
# CIFAR-10 test images through the native engine and the training forward, and compares
# the wasm engine's outputs with native's bit for bit. Outputs: check-conv2.log, check-prune.log.
set -euo pipefail
here=docs/measurements/2026-11-27-export-checks
data=../shared/data/cifar-10-batches-bin
mkdir -p runs/deploy
{ time node dist/src/cli/ebnn.js export runs/compare-cifar10/conv2-bihalf-s0/checkpoint.ebck -o runs/deploy/conv2-bihalf-s0.ebnn --check --engine native,wasm --data-dir $data; } > $here/check-conv2.log 2>&1
{ time node dist/src/cli/ebnn.js export runs/prune-scalefan-cifar10/k0.5-s0/checkpoint.ebck -o runs/deploy/prune-k0.5.ebnn --check --engine native,wasm --data-dir $data; } > $here/check-prune.log 2>&1
