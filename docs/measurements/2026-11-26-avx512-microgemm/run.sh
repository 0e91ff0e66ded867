#!/usr/bin/env bash
# A/B of the Winograd GEMM kernel: the AVX2 16-column kernel (build A, the
# commit before) against the AVX-512 32-column one (build B), on training and
# inference throughput. Three alternating rounds per model, bench/models.js
# --runs 3 each. Usage, from the root of build B with build A checked out and
# built at $1: bash docs/measurements/2026-11-26-avx512-microgemm/run.sh /path/to/A
set -euo pipefail
a=$1 b=$PWD
out=$b/docs/measurements/2026-11-26-avx512-microgemm/models.jsonl
: > "$out"
for round in 1 2 3; do
  for model in conv2 conv6 resnet20; do
    for build in A B; do
      dir=$a; [ $build = B ] && dir=$b
      (cd "$dir" && node dist/bench/models.js --model "$model" --runs 3) |
        node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{for(const l of s.trim().split("\n"))console.log(JSON.stringify({round:+process.argv[1],build:process.argv[2],...JSON.parse(l)}))})' "$round" "$build" >> "$out"
    done
  done
done
