#!/usr/bin/env bash
# Runs every training study of docs/results.md, one after another, on the
# real datasets (CIFAR-10 from ../shared/data, Fashion-MNIST from Debian).
#   npm run reproduce                       # every study, in the order below
#   npm run reproduce -- ratio-cifar10 compare   # only the named steps
#   npm run reproduce -- --from-logs        # continue from the committed logs
# Everything is resumable: a finished run is skipped, an interrupted one
# continues from its last checkpoint, so the same command can be started
# again after a crash or in the next session:
#   nohup npm run reproduce > runs/reproduce.log 2>&1 &
# --from-logs first copies the logs of finished runs from docs/runs/ (see
# scripts/save-logs.sh) into runs/, so that a fresh machine skips the runs
# whose results docs/results.md already reports instead of training them again.
# Then `ebnn report runs/<study folders>` rebuilds the tables and figures.
# Two cores: do not benchmark while this runs. A study that fails (a diverged
# single run, a crash) is reported and the queue goes on with the next; the
# script exits non-zero at the end if any failed. (Sweeps themselves already
# skip a diverged run and go on.)
set -uo pipefail
cd "$(dirname "$0")/.."
EBNN="node dist/src/cli/ebnn.js"
CIFAR="${CIFAR_DIR:-../shared/data/cifar-10-batches-bin}"
source scripts/lib/runs.sh
STEPS=(resnet20-sgd ratio-fashion-mnist resnet20-adam prune ratio-cifar10 prune-scalefan compare compare-resnet20 ratio-resnet20)
FAILED=()
SELECTED=()
for a in "$@"; do
  case "$a" in
    --from-logs) [ -d docs/runs ] && mkdir -p runs && cp -rn docs/runs/. runs/ ;;
    -h|--help) sed -n 2,18p "$0" | sed 's/^# \{0,1\}//'; echo "steps: ${STEPS[*]}"; exit 0 ;;
    *) if [[ " ${STEPS[*]} " != *" $a "* ]]; then
         echo "reproduce: unknown step '$a' (steps: ${STEPS[*]})" >&2; exit 2
       fi
       SELECTED+=("$a") ;;
  esac
done

# wanted NAME: whether step NAME runs (all of them when none was named).
wanted() {
  [ ${#SELECTED[@]} -eq 0 ] && return 0
  [[ " ${SELECTED[*]} " == *" $1 "* ]]
}

# step NAME CMD...: runs one study if selected; a failure is recorded, not
# fatal. Ctrl-C or a kill (exit codes 130, 143) stops the queue.
step() {
  local name=$1; shift
  wanted "$name" || return 0
  echo "reproduce: step $name ($(date -u +%H:%M) UTC)"
  "$@"
  local rc=$?
  if [ $rc -eq 130 ] || [ $rc -eq 143 ]; then exit $rc; fi
  if [ $rc -ne 0 ]; then echo "reproduce: FAILED (exit $rc): $name: $*" >&2; FAILED+=("$name"); fi
}

# train RECIPE OUT [flags...]: one training run, resumed if it has a checkpoint
# (and skipped if its log already has every epoch).
train() {
  local recipe=$1 out=$2; shift 2
  if run_finished "$out"; then echo "reproduce: $out is finished; skipped"; return 0; fi
  local resume=()
  [ -f "$out/checkpoint.ebck" ] && resume=(--resume)
  $EBNN train --recipe "$recipe" --data-dir "$CIFAR" --out "$out" --quiet "$@" "${resume[@]}"
}

# ResNet-20 1W/1A, bi-half weights, IR-Net's recipe shortened to 100 epochs (cosine over 100).
R20=runs/resnet20-1w1a-bihalf
step resnet20-sgd train resnet20-irnet "$R20" --epochs 100
# Bit-ratio study on Fashion-MNIST: LeNet, p = 0.1..0.9 and sign, 3 seeds, 5 epochs.
step ratio-fashion-mnist $EBNN experiment ratio --dataset fashion-mnist --quiet
# ResNet-20 1W/1A, bi-half weights, trained with Adam (lr 0.01 cosine, 100 epochs): with
# SGD the bi-half latents move too little (see docs/results.md, ResNet-20 diagnostics).
R20A=runs/resnet20-1w1a-bihalf-adam
step resnet20-adam train resnet20-adam "$R20A"
# Pruning: conv2, halfmask k = 0, 0.3, 0.5, 0.7, 0.9, 10 epochs.
step prune $EBNN experiment prune --data-dir "$CIFAR" --quiet
# Bit-ratio study on CIFAR-10: conv2, p = 0.2, 0.35, 0.5, 0.65, 0.8, 2 seeds, 10 epochs.
step ratio-cifar10 $EBNN experiment ratio --dataset cifar10 --data-dir "$CIFAR" --quiet
# Pruning again with each layer scaled by its unpruned fan-in (k = 0.3..0.9): whether the
# collapse at k = 0.9 above (17.6%) is the activations' scale shrinking (docs/results.md).
step prune-scalefan $EBNN experiment prune --scale-fan --data-dir "$CIFAR" --quiet
# sign vs bihalf vs IR-Net: conv2, conv4 (3 seeds, 15 epochs), conv6, conv8 (1 seed, 10 epochs).
step compare $EBNN experiment compare --data-dir "$CIFAR" --quiet
# The same comparison on ResNet-20, 1W/1A and 1W/32A (the resnet20-adam recipe, shortened): 3 seeds,
# 10 epochs. Runs go seed by seed, 1W/1A first in each: with seed 0 alone, sign led bi-half at 1W/1A.
step compare-resnet20 $EBNN experiment compare --models resnet20-1w1a,resnet20 --seeds 3 --epochs 10 --data-dir "$CIFAR" \
  --out runs/compare-resnet20-cifar10 --quiet
# The CIFAR-10 ratio study again on a network with batch norm (ResNet-20 1W/32A, the Adam recipe,
# 2 seeds x 10 epochs): conv2 has none, so there p away from 1/2 also shifts every
# pre-activation's mean (dead ReLUs below 1/2, exploding logits above; docs/results.md).
step ratio-resnet20 $EBNN experiment ratio --dataset cifar10 --model resnet20 --data-dir "$CIFAR" --quiet
if [ ${#FAILED[@]} -gt 0 ]; then
  echo "reproduce: ${#FAILED[@]} step(s) failed: ${FAILED[*]}" >&2
  exit 1
fi
echo "reproduce: done. Tables and figures: ebnn report runs/<study folder> -o report"
