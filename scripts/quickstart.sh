#!/usr/bin/env bash
# The README's first command: installs what is missing, builds, generates the
# sample data and runs the sample consolidation into a SQLite target.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh sluice-executables
build/bin/sluice-sample quickstart --out examples/quickstart/data
rm -rf examples/quickstart/out
exec build/bin/sluice run examples/quickstart/plan.yaml --local "$@"
