#!/bin/bash
# Builds build/Release/equalbits.node with g++ alone (no node-gyp, no Node headers installed):
# the sources and flags of binding.gyp (the packed library: C++20, no exceptions, no FP
# contraction), -march=native for the CPU it runs on.
set -eu
LIB=${1:-/tmp/lib}
SRC="native/addon.cc native/threads.cc native/gemm.cc native/conv.cc native/winograd.cc native/batchnorm.cc native/pool.cc native/elementwise.cc native/loss.cc native/optim.cc native/quant.cc native/xnor.cc native/packed_addon.cc native/packed/pk_conv.cc native/packed/pk_ops.cc native/packed/pk_count_x86.cc"
FL="-DNAPI_VERSION=8 -DNAPI_CPP_EXCEPTIONS -DNODE_ADDON_API_CPP_EXCEPTIONS_ALL -DBUILDING_NODE_EXTENSION -I.dev/inc -Inode_modules/node-addon-api -fPIC -pthread -O3 -march=native -fno-math-errno -fno-trapping-math -fopenmp-simd -fexceptions -fno-rtti -std=c++17"
O=$(mktemp -d)
PK="-D_FILE_OFFSET_BITS=64 -fPIC -pthread -O3 -march=native -ffp-contract=off -fno-math-errno -fno-trapping-math -fno-rtti -fno-exceptions -std=c++20"
for f in $SRC; do F=$FL; case $f in native/packed/*) F=$PK;; esac; g++ $F -c $f -o $O/$(echo $f | tr / _).o & done
wait
for f in $SRC; do [ -f $O/$(echo $f | tr / _).o ] || { echo "compile failed: $f"; exit 1; }; done
mkdir -p build/Release
g++ -shared -pthread -rdynamic -o build/Release/equalbits.node $O/*.o -L$LIB -l:libopenblas.so.0 -lpthread
echo "built build/Release/equalbits.node"
