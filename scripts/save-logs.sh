#!/usr/bin/env bash
# Copies the logs of finished training runs from runs/ into docs/runs/, where
# they are committed: runs/ is not (checkpoints are tens of MB) and does not
# survive a fresh machine, while the logs are all that `ebnn report` and
# docs/results.md need, and all that `npm run reproduce -- --from-logs` needs
# to skip those runs. A run is finished when its metrics.jsonl has every epoch
# of its config.json, or when it diverged (diverged.json). Unfinished runs are
# left out: their log without the checkpoint could not be resumed.
#   bash scripts/save-logs.sh [runs/<study> ...]     (default: every study in runs/)
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -gt 0 ] || set -- runs/*/
source scripts/lib/runs.sh
saved=0
# save DIR: copies one finished run's logs to docs/DIR.
save() {
  run_finished "$1" || return 0
  mkdir -p "docs/$1"
  for f in config.json metrics.jsonl diverged.json; do
    [ -f "$1/$f" ] && cp "$1/$f" "docs/$1/$f"
  done
  saved=$((saved + 1))
}
for study in "$@"; do
  study=${study%/}
  case "$study" in runs/*) ;; *) echo "save-logs: $study is not under runs/" >&2; exit 2 ;; esac
  [ -d "$study" ] || { echo "save-logs: no folder $study" >&2; exit 2; }
  if [ -f "$study/sweep.json" ]; then
    for run in "$study"/*/; do save "${run%/}"; done
    [ -d "docs/$study" ] && cp "$study/sweep.json" "docs/$study/sweep.json"
  else
    save "$study"
  fi
done
echo "save-logs: $saved finished run(s) copied into docs/runs/"
