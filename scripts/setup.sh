#!/usr/bin/env bash
# One-time (and idempotent) setup, run before `npm start`, `npm test` and
# `npm run bench`: installs the Debian packages the project needs when they are
# missing, installs npm dependencies (which builds the native addon), rebuilds
# the addon and the TypeScript when their sources changed.
#   --bench   also install Debian's python3-torch (the benchmark's peer)
set -euo pipefail
cd "$(dirname "$0")/.."

pkgs=(libopenblas-dev dataset-fashion-mnist)
[[ "${1:-}" == "--bench" ]] && pkgs+=(python3-torch)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm ci when node_modules is missing or older than the lock file.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "setup: npm ci"
  # --ignore-scripts: the addon is built just below, with its log shown only on failure.
  npm ci --no-audit --no-fund --ignore-scripts
fi

# Rebuild the addon when any native source is newer than the built module.
addon=build/Release/equalbits.node
if [[ ! -f $addon ]] || [[ -n "$(find native binding.gyp -newer "$addon" -print -quit)" ]]; then
  echo "setup: building the native addon"
  log=$(mktemp)
  if ! npm run --silent build:native >"$log" 2>&1; then
    cat "$log"
    rm -f "$log"
    echo "setup: the native build failed (is libopenblas-dev installed?)" >&2
    exit 1
  fi
  rm -f "$log"
fi

echo "setup: compiling TypeScript"
npx --no-install tsc -p .
