#!/bin/bash
# How the numbers of this folder were taken, on a lent machine with no Node, no OpenBLAS and
# no network. Beside the working tree it was given dist/, build/ and .dev/, prepared here:
#   .dev/node.xz          xz -c /usr/bin/node (Node 20)
#   .dev/lib/             libopenblas.so.0 (xz), libgfortran.so.5, libquadmath.so.0
#   .dev/node_modules/    node_modules without typescript and @types
# Outputs: cpu.txt, tests.log (here tests.txt), latency.jsonl, pytorch.jsonl.
# Device run: packed-kernel tests on this CPU (AVX-512 for real), then the ResNet-18
# latency bench with the avx512 and avx2 kernels alternated, 2 threads on 2 physical cores.
set -u
xz -dc .dev/node.xz > /tmp/node; chmod +x /tmp/node
mkdir -p /tmp/lib; cp .dev/lib/libgfortran.so.5 .dev/lib/libquadmath.so.0 /tmp/lib/
xz -dc .dev/lib/libopenblas.so.0.xz > /tmp/lib/libopenblas.so.0
export LD_LIBRARY_PATH=/tmp/lib
rm -rf node_modules; ln -s .dev/node_modules node_modules
{ lscpu; echo; grep -o 'avx512[a-z_0-9]*' /proc/cpuinfo | sort -u | tr '\n' ' '; echo; which g++; } > $OUT/cpu.txt 2>&1
grep -E 'Model name|Thread|Core|Socket|^CPU\(s\)|MHz' $OUT/cpu.txt; tail -2 $OUT/cpu.txt
C2=$(python3 -c "
s=open('/sys/devices/system/cpu/cpu0/topology/thread_siblings_list').read().strip()
sib=set()
for p in s.split(','):
    a,_,b=p.partition('-'); sib.update(range(int(a),int(b or a)+1))
import os; print(next(c for c in range(1,os.cpu_count()) if c not in sib))")
echo "cores: 0,$C2"
/tmp/node -e "import('./dist/src/deploy/node-backends.js').then(m=>{const a=m.nativeAddon();for(const i of ['avx512','avx2','portable']){try{console.log('isa',i,'->',a.setPackedIsa(i))}catch(e){console.log('isa',i,e.message)}}})"
timeout 240 /tmp/node --test --test-concurrency=1 dist/test/packed-kernels.test.js dist/test/deploy-export.test.js > $OUT/tests.log 2>&1; echo "tests rc=$?"; grep -E '^# (tests|pass|fail)|^not ok' $OUT/tests.log
B="taskset -c 0,$C2 env OMP_NUM_THREADS=2"
for r in 1 2 3; do for isa in avx512 avx2; do $B /tmp/node dist/bench/latency.js --model resnet18 --isa $isa; done; done > $OUT/latency.jsonl 2>>$OUT/bench.err
grep -E 'bmacs|native' $OUT/latency.jsonl | cut -c1-160
for r in 1 2 3; do $B python3 bench/pytorch/latency.py --model resnet18; done > $OUT/pytorch.jsonl 2>>$OUT/bench.err
cat $OUT/pytorch.jsonl; tail -5 $OUT/bench.err
