#!/usr/bin/env bash
# Installs the Debian packages sluice needs to build, test and run; installs
# only what is missing. Run as root (or with sudo available).
#
#   scripts/setup.sh           build, test and run (PostgreSQL server included:
#                              the tests start one, see scripts/pg.sh; headless
#                              Chromium for the tests that render the HTML reports)
#   scripts/setup.sh --bench   also the peers the benchmarks measure against
#   scripts/setup.sh --fuzz    also clang and its sanitizer and libFuzzer runtimes (fuzz/)
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  libzmq3-dev cppzmq-dev
  libprotobuf-dev protobuf-compiler
  libspdlog-dev libfmt-dev libyaml-cpp-dev
  libgtest-dev libgmock-dev
  libsqlite3-dev sqlite3
  libxxhash-dev libcli11-dev nlohmann-json3-dev
  libpcre2-dev libjemalloc-dev
  libhowardhinnant-date-dev tzdata
  libicu-dev libphonenumber-dev
  libssl-dev
  postgresql libpq-dev
  chromium  # tests/run_report_html_test.cc: the run report seen as a person sees it
  iproute2 util-linux  # ip netns and unshare: tests/separate_hosts_test.cc's hosts
)

# Peers of bench/postgres_compare: pgloader and a pandas + SQLAlchemy script.
BENCH_PACKAGES=(
  pgloader python3 python3-pandas python3-sqlalchemy python3-psycopg2
)

# The fuzz harnesses (fuzz/README.md): clang 14 with -fsanitize=fuzzer,address,undefined.
FUZZ_PACKAGES=(
  clang libclang-rt-14-dev
)

# tests/k8s_test.cc renders deploy/k8s with `kubectl kustomize`: Debian's
# kubernetes-client, unless a kubectl is installed already (another package's
# /usr/bin/kubectl, e.g. Google's, would clash with it).
command -v kubectl >/dev/null || PACKAGES+=(kubernetes-client)

for arg in "$@"; do
  case "$arg" in
    --bench) PACKAGES+=("${BENCH_PACKAGES[@]}") ;;
    --fuzz) PACKAGES+=("${FUZZ_PACKAGES[@]}") ;;
    *) echo "usage: scripts/setup.sh [--bench] [--fuzz]" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup: need root to install: ${missing[*]}" >&2; exit 1; }
  SUDO="sudo"
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
