#!/usr/bin/env bash
# A/B of OpenBLAS's kernel set on training and inference throughput: Debian's
# OpenBLAS 0.3.21 left to itself (it does not know this CPU and takes its SSE3
# "Prescott" kernels) against the SkylakeX kernels that src/native/blas-core.ts
# now selects. Three alternating rounds per model, bench/models.js --runs 3 each.
# Run from the repository root after `npm run build`, with nothing else running.
set -euo pipefail
out=${1:-docs/measurements/2026-11-26-openblas-core/models.jsonl}
: > "$out"
for round in 1 2 3; do
  for model in conv2 conv6 resnet20; do
    for core in Prescott SkylakeX; do
      OPENBLAS_CORETYPE=$core node dist/bench/models.js --model "$model" --runs 3 |
        node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{for(const l of s.trim().split("\n"))console.log(JSON.stringify({round:+process.argv[1],core:process.argv[2],...JSON.parse(l)}))})' "$round" "$core" >> "$out"
    done
  done
done
grep -m1 -E '^model name' /proc/cpuinfo > "$(dirname "$out")/cpu.txt"
grep -m1 -E '^(cpu family|model)\s' /proc/cpuinfo >> "$(dirname "$out")/cpu.txt"
grep -m1 -E '^model\s' /proc/cpuinfo >> "$(dirname "$out")/cpu.txt"
