#!/usr/bin/env bash
# A/B of IR-Net's balanced weights: per-filter moments, codes, scales and the
# standardisation gradient in TypeScript (build A, the commit before) against
# the native kernels (build B), on training throughput, with bi-half of build
# B as the peer. Build A's bench has no --weights option, so B's bench script
# is copied into A's dist and runs against A's code. Three alternating rounds
# per model, --runs 3 each. Usage, from the root of build B with build A
# checked out and built at $1:
#   bash docs/measurements/2026-11-27-irnet-native/run.sh /path/to/A
set -euo pipefail
a=$1 b=$PWD
out=$b/docs/measurements/2026-11-27-irnet-native/models.jsonl
cp "$b/dist/bench/models.js" "$a/dist/bench/models-ab.js"
trap 'rm -f "$a/dist/bench/models-ab.js"' EXIT
: > "$out"
tag() {
  node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{for(const l of s.trim().split("\n"))console.log(JSON.stringify({round:+process.argv[1],build:process.argv[2],...JSON.parse(l)}))})' "$@"
}
for round in 1 2 3; do
  for model in conv2 conv6; do
    (cd "$a" && node dist/bench/models-ab.js --model "$model" --weights irnet --runs 3) | grep '"train/' | tag "$round" A >> "$out"
    (cd "$b" && node dist/bench/models.js --model "$model" --weights irnet --runs 3) | grep '"train/' | tag "$round" B >> "$out"
    (cd "$b" && node dist/bench/models.js --model "$model" --weights bihalf --runs 3) | grep '"train/' | tag "$round" B >> "$out"
  done
done
