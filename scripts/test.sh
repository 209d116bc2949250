#!/usr/bin/env bash
# The README's second command (and CI's): installs what is missing, builds,
# and runs every unit and integration test, then every fuzz harness for a few
# seconds on its seed corpus (fuzz/README.md; SLUICE_FUZZ_SECONDS, 0 to skip).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --fuzz
scripts/build.sh
BUILD_DIR="${SLUICE_BUILD_DIR:-build}"
ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$(nproc)" --timeout 600
FUZZ_SECONDS="${SLUICE_FUZZ_SECONDS:-5}"
if [ "$FUZZ_SECONDS" != 0 ]; then
  fuzz/run "$FUZZ_SECONDS"
fi
