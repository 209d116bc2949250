#!/usr/bin/env bash
# The README's second command (and CI's): installs what is missing, builds,
# and runs every unit and integration test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
BUILD_DIR="${SLUICE_BUILD_DIR:-build}"
ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$(nproc)" --timeout 600
