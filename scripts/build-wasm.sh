#!/usr/bin/env bash
# Builds wasm/equalbits-packed.wasm (one thread) and wasm/equalbits-packed-mt.wasm
# (threads: atomics on a shared, imported memory; workers started by the host)
# from native/packed/ with Debian's clang 14 and lld 14 (apt-get install
# clang-14 lld-14), and records in wasm/equalbits-packed.json the SHA-256 of
# their sources and of each module, so the test suite notices a stale module
# even without clang. The output is deterministic: the same compiler gives the
# same bytes, and `--check` verifies the committed files against a fresh build.
set -euo pipefail
cd "$(dirname "$0")/.."
CLANG=${CLANG:-clang-14}
check=0
[[ "${1:-}" == "--check" ]] && check=1
flags=(--target=wasm32 -std=c++20 -O3 -msimd128 -ffp-contract=off -fno-builtin -ffreestanding
       -fno-exceptions -fno-rtti -nostdlib -fvisibility=hidden -Wno-unused-command-line-argument -Inative
       -Wl,--no-entry -Wl,--strip-all -Wl,--export-dynamic -Wl,-z,stack-size=1048576
       -Wl,--initial-memory=2097152 -Wl,--max-memory=4294967296 --ld-path="$(command -v wasm-ld-14 || command -v wasm-ld)")
# The threaded build: its memory is imported (every instance shares it) and its
# stack pointer exported (each worker gets a stack of its own).
threads=(-matomics -mbulk-memory -mmutable-globals -DPK_WASM_THREADS
         -Wl,--shared-memory -Wl,--import-memory -Wl,--export=__stack_pointer)
sources=(native/packed/pk.h native/packed/pk_util.h native/packed/pk_conv.cc native/packed/pk_ops.cc native/packed/pk_wasm.cc scripts/build-wasm.sh)
build() {  # build <out> <extra flags...>
  local out=$1; shift
  "$CLANG" "${flags[@]}" "$@" native/packed/pk_conv.cc native/packed/pk_ops.cc native/packed/pk_wasm.cc -o "$out"
}
if ((check)); then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  build "$tmp/st.wasm"
  build "$tmp/mt.wasm" "${threads[@]}"
  if cmp -s "$tmp/st.wasm" wasm/equalbits-packed.wasm && cmp -s "$tmp/mt.wasm" wasm/equalbits-packed-mt.wasm; then
    echo "build-wasm: wasm/equalbits-packed.wasm and equalbits-packed-mt.wasm match their sources"
  else
    echo "build-wasm: the committed modules differ from a fresh build: run scripts/build-wasm.sh" >&2
    exit 1
  fi
  exit 0
fi
build wasm/equalbits-packed.wasm
build wasm/equalbits-packed-mt.wasm "${threads[@]}"
list=$(printf '"%s",' "${sources[@]}")
printf '{"sources":[%s],"sha256":"%s","wasmSha256":"%s","wasmThreadedSha256":"%s","compiler":"%s"}\n' "${list%,}" \
  "$(cat "${sources[@]}" | sha256sum | cut -d' ' -f1)" "$(sha256sum < wasm/equalbits-packed.wasm | cut -d' ' -f1)" \
  "$(sha256sum < wasm/equalbits-packed-mt.wasm | cut -d' ' -f1)" "$("$CLANG" --version | head -1)" > wasm/equalbits-packed.json
