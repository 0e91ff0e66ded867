#!/usr/bin/env bash
# Builds wasm/equalbits-packed.wasm from native/packed/ with Debian's clang 14
# and lld 14 (apt-get install clang-14 lld-14), and records in
# wasm/equalbits-packed.json the SHA-256 of its sources and of the module, so
# the test suite notices a stale module even without clang. The output is
# deterministic: the same compiler gives the same bytes, and `--check`
# verifies the committed file against a fresh build.
set -euo pipefail
cd "$(dirname "$0")/.."
CLANG=${CLANG:-clang-14}
out=wasm/equalbits-packed.wasm
[[ "${1:-}" == "--check" ]] && out=$(mktemp --suffix=.wasm)
flags=(--target=wasm32 -std=c++20 -O3 -msimd128 -ffp-contract=off -fno-builtin -ffreestanding
       -fno-exceptions -fno-rtti -nostdlib -fvisibility=hidden -Wno-unused-command-line-argument -Inative
       -Wl,--no-entry -Wl,--strip-all -Wl,--export-dynamic -Wl,-z,stack-size=1048576
       -Wl,--initial-memory=2097152 -Wl,--max-memory=4294967296 --ld-path="$(command -v wasm-ld-14 || command -v wasm-ld)")
sources=(native/packed/pk.h native/packed/pk_util.h native/packed/pk_conv.cc native/packed/pk_ops.cc native/packed/pk_wasm.cc scripts/build-wasm.sh)
"$CLANG" "${flags[@]}" native/packed/pk_conv.cc native/packed/pk_ops.cc native/packed/pk_wasm.cc -o "$out"
if [[ "${1:-}" != "--check" ]]; then
  list=$(printf '"%s",' "${sources[@]}")
  printf '{"sources":[%s],"sha256":"%s","wasmSha256":"%s","compiler":"%s"}\n' "${list%,}" \
    "$(cat "${sources[@]}" | sha256sum | cut -d' ' -f1)" "$(sha256sum < "$out" | cut -d' ' -f1)" \
    "$("$CLANG" --version | head -1)" > wasm/equalbits-packed.json
fi
if [[ "${1:-}" == "--check" ]]; then
  if cmp -s "$out" wasm/equalbits-packed.wasm; then echo "build-wasm: wasm/equalbits-packed.wasm matches its sources"; rm -f "$out"
  else echo "build-wasm: wasm/equalbits-packed.wasm differs from a fresh build: run scripts/build-wasm.sh" >&2; rm -f "$out"; exit 1; fi
fi
