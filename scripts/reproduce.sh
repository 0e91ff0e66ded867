#!/usr/bin/env bash
# Runs every training study of docs/results.md, one after another, on the
# real datasets (CIFAR-10 from ../shared/data, Fashion-MNIST from Debian).
# Everything is resumable: a finished run is skipped, an interrupted one
# continues from its last checkpoint, so the same command can be started
# again after a crash or at the start of the next session:
#   nohup npm run reproduce > runs/reproduce.log 2>&1 &
# Then `ebnn report runs/<study folders>` rebuilds the tables and figures.
# Two cores: do not benchmark while this runs. A study that fails (a diverged
# single run, a crash) is reported and the queue goes on with the next; the
# script exits non-zero at the end if any failed. (Sweeps themselves already
# skip a diverged run and go on.)
set -uo pipefail
cd "$(dirname "$0")/.."
EBNN="node dist/src/cli/ebnn.js"
CIFAR="${CIFAR_DIR:-../shared/data/cifar-10-batches-bin}"
FAILED=()

# step CMD...: runs one study; a failure is recorded, not fatal. Ctrl-C or a
# kill (exit codes 130, 143) stops the queue.
step() {
  "$@"
  local rc=$?
  if [ $rc -eq 130 ] || [ $rc -eq 143 ]; then exit $rc; fi
  if [ $rc -ne 0 ]; then echo "reproduce: FAILED (exit $rc): $*" >&2; FAILED+=("$*"); fi
}

# train RECIPE OUT [flags...]: one training run, resumed if it has a checkpoint.
train() {
  local recipe=$1 out=$2; shift 2
  local resume=()
  [ -f "$out/checkpoint.ebck" ] && resume=(--resume)
  $EBNN train --recipe "$recipe" --data-dir "$CIFAR" --out "$out" --quiet "$@" "${resume[@]}"
}

# ResNet-20 1W/1A, bi-half weights, IR-Net's recipe shortened to 100 epochs (cosine over 100).
R20=runs/resnet20-1w1a-bihalf
step train resnet20-irnet "$R20" --epochs 100

# Bit-ratio study on Fashion-MNIST: LeNet, p = 0.1..0.9 and sign, 3 seeds, 5 epochs.
step $EBNN experiment ratio --dataset fashion-mnist --quiet
# ResNet-20 1W/1A, bi-half weights, trained with Adam (lr 0.01 cosine, 100 epochs): with
# SGD the bi-half latents move too little (see docs/results.md, ResNet-20 diagnostics).
R20A=runs/resnet20-1w1a-bihalf-adam
step train resnet20-adam "$R20A"
# Pruning: conv2, halfmask k = 0, 0.3, 0.5, 0.7, 0.9, 10 epochs.
step $EBNN experiment prune --data-dir "$CIFAR" --quiet
# Bit-ratio study on CIFAR-10: conv2, p = 0.2, 0.35, 0.5, 0.65, 0.8, 2 seeds, 10 epochs.
step $EBNN experiment ratio --dataset cifar10 --data-dir "$CIFAR" --quiet
# Pruning again with each layer scaled by its unpruned fan-in (k = 0.3..0.9): whether the
# collapse at k = 0.9 above (17.6%) is the activations' scale shrinking (docs/results.md).
step $EBNN experiment prune --scale-fan --data-dir "$CIFAR" --quiet
# sign vs bihalf vs IR-Net: conv2, conv4 (3 seeds, 15 epochs), conv6, conv8 (1 seed, 10 epochs).
step $EBNN experiment compare --data-dir "$CIFAR" --quiet
# The same comparison on ResNet-20, 1W/32A and 1W/1A (the resnet20-adam recipe, shortened): 1 seed, 10 epochs.
step $EBNN experiment compare --models resnet20,resnet20-1w1a --seeds 1 --epochs 10 --data-dir "$CIFAR" \
  --out runs/compare-resnet20-cifar10 --quiet
if [ ${#FAILED[@]} -gt 0 ]; then
  echo "reproduce: ${#FAILED[@]} step(s) failed:" >&2
  printf '  %s\n' "${FAILED[@]}" >&2
  exit 1
fi
echo "all studies done: ebnn report runs/ratio-fashion-mnist runs/ratio-cifar10 runs/compare-cifar10 runs/compare-resnet20-cifar10 runs/prune-cifar10 runs/prune-scalefan-cifar10 $R20 $R20A"
