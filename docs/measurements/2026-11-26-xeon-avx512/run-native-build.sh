#!/bin/bash
# Device run 2: build the addon there with -march=native (AVX-512 code paths chosen at compile
# time, e.g. the training XNOR kernel), then run the unit tests that need no dataset files.
set -u
xz -dc .dev/node.xz > /tmp/node; chmod +x /tmp/node
mkdir -p /tmp/lib; cp .dev/lib/libgfortran.so.5 .dev/lib/libquadmath.so.0 /tmp/lib/
xz -dc .dev/lib/libopenblas.so.0.xz > /tmp/lib/libopenblas.so.0
export LD_LIBRARY_PATH=/tmp/lib PATH=/tmp:$PATH
ln -sf /tmp/node /tmp/nodejs
rm -rf node_modules; ln -s .dev/node_modules node_modules
rm -rf build; bash .dev/build-native.sh /tmp/lib > $OUT/build.txt 2>&1; echo "build rc=$?"; grep -v warning $OUT/build.txt | grep -E 'error|built' | head -5
objdump -d build/Release/equalbits.node > /tmp/dis.txt; echo "vpopcntq: $(grep -c vpopcntq /tmp/dis.txt)  zmm: $(grep -c zmm /tmp/dis.txt)  vpshufb: $(grep -c vpshufb /tmp/dis.txt)" | tee $OUT/isa.txt
T=""; for f in dist/test/*.test.js; do case $f in *data-real*|*data-download*|*e2e-*) ;; *) T="$T $f";; esac; done
timeout 420 /tmp/node --test --test-concurrency=1 $T > $OUT/tests.txt 2>&1; echo "tests rc=$?"
grep -E '^# (tests|pass|fail)|^not ok' $OUT/tests.txt
grep -B2 -A20 '^not ok' $OUT/tests.txt | head -60
