#!/usr/bin/env bash
# Configures and builds sluice into build/ (binaries in build/bin/).
#   scripts/build.sh              everything: executables, tests, benchmarks
#   scripts/build.sh TARGET...    only those targets (the quick start: sluice-executables)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${SLUICE_BUILD_DIR:-build}"
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "${launcher[@]}" >/dev/null
ninja -C "$BUILD_DIR" -j"$(nproc)" "$@"
