#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests, CI and the benchmarks.
#
#   scripts/pg.sh start DIR [--durable]  initdb under DIR, start on a free loopback port,
#                                        create database sluice_test, write DIR/dsn
#   scripts/pg.sh stop DIR               stop the server and remove DIR
#   scripts/pg.sh restart DIR            stop and start again, same port, data kept
#   scripts/pg.sh dsn DIR                print the DSN (host=127.0.0.1 port=P user=postgres
#                                        dbname=sluice_test)
#   scripts/pg.sh status DIR             exit 0 when the server answers
#
# The server runs as the `postgres` user when called as root (PostgreSQL refuses to run
# as root), as the calling user otherwise; its superuser is `postgres` either way, with
# trust authentication on 127.0.0.1 only. The port is asked of the kernel and the start is
# retried on another port when it was taken meanwhile, so several runs (several build
# dirs, CI and a developer) can each have their own server at once. The cluster, its log
# and its Unix socket stay inside DIR, or in a folder /tmp/sluice-pg.* named by DIR/home
# when the postgres user cannot reach DIR (a 0700 parent) or DIR's path is too long for a
# socket. Without --durable, fsync is off: the data is thrown away anyway.
# PostgreSQL is installed from Debian through scripts/setup.sh when missing.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
marker=.sluice-pg  # a DIR this script made; the only kind it will ever remove

usage() {
  sed -n '2,/status DIR/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}
die() { echo "pg.sh: $*" >&2; exit 1; }
say() { echo "pg.sh: $*" >&2; }

[[ $# -ge 2 ]] || usage
cmd=$1
dir=$2
shift 2
durable=0
for arg in "$@"; do
  case "$arg" in
    --durable) durable=1 ;;
    *) usage ;;
  esac
done
dir=$(realpath -m -- "$dir")
[[ "$dir" != / ]] || die "refusing DIR /"

# The newest installed server's binaries (Debian keeps them off PATH).
find_bin() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  [[ -n "$d" && -x "$d/initdb" && -x "$d/pg_ctl" && -x "$d/psql" ]] && echo "$d"
}

# Runs a command as the server's owner.
as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# A TCP port free on loopback right now, asked of the kernel (bind to port 0).
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' \
    2>/dev/null && return
  # No usable python3: probe random ports for one nobody listens on.
  local p i
  for ((i = 0; i < 200; i++)); do
    p=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return
    fi
  done
  return 1
}

# Where the server's own files are: DIR, or the folder DIR/home names.
home_dir() {
  if [[ -f "$dir/home" ]]; then cat "$dir/home"; else echo "$dir"; fi
}
home=$(home_dir)

server_pid() {
  if [[ -f "$home/data/postmaster.pid" ]]; then head -n 1 "$home/data/postmaster.pid"; fi
}

# Stops the server of DIR if one runs; the data stays.
stop_server() {
  local bin=$1 pid
  pid=$(server_pid)
  [[ -n "$pid" ]] || return 0
  # Only a live postmaster: a stale pid file may name a reused pid.
  if [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == postgres ]]; then
    as_owner "$bin/pg_ctl" stop -D "$home/data" -m fast -w -t 30 >/dev/null 2>&1 ||
      as_owner "$bin/pg_ctl" stop -D "$home/data" -m immediate -w -t 30 >/dev/null 2>&1 ||
      { kill -9 "$pid" 2>/dev/null || true; }
  fi
  rm -f "$home/data/postmaster.pid"
}

# Removes DIR (and the folder DIR/home names), only if this script made it.
remove_dir() {
  [[ -e "$dir" ]] || return 0
  if [[ ! -f "$dir/$marker" ]]; then
    [[ -z "$(ls -A "$dir")" ]] || die "$dir was not made by pg.sh (no $marker): not removing it"
  fi
  if [[ -f "$dir/home" ]]; then
    local h
    h=$(cat "$dir/home")
    if [[ "$h" == /tmp/sluice-pg.* ]]; then rm -rf "$h"; fi
  fi
  rm -rf "$dir"
}

# Starts the server of DIR on `port`; returns 3 when the port was taken.
start_on() {
  local bin=$1 port=$2
  if as_owner "$bin/pg_ctl" start -D "$home/data" -l "$home/log/server.log" -w -t 60 \
    -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$home/sock" \
    >/dev/null 2>&1; then
    return 0
  fi
  if grep -q "Address already in use" "$home/log/server.log" 2>/dev/null; then
    stop_server "$bin"
    return 3
  fi
  return 1
}

wait_ready() {
  local bin=$1 port=$2
  for _ in $(seq 120); do
    "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -t 1 && return 0
    sleep 0.25
  done
  return 1
}

fail_with_log() {
  echo "pg.sh: $1; server log $home/log/server.log:" >&2
  tail -n 20 "$home/log/server.log" >&2 2>/dev/null || true
  exit 1
}

do_start() {
  local bin
  bin=$(find_bin) || true
  if [[ -z "$bin" ]]; then
    say "PostgreSQL is not installed: installing it through scripts/setup.sh"
    "$repo/scripts/setup.sh" >&2
    bin=$(find_bin) || die "no PostgreSQL server binaries under /usr/lib/postgresql after setup"
  fi
  if [[ $(id -u) -eq 0 ]]; then
    id postgres >/dev/null 2>&1 || die "no 'postgres' user (is the postgresql package installed?)"
  fi
  # A leftover of an earlier run in the same DIR (a killed test run) goes first.
  stop_server "$bin"
  remove_dir
  mkdir -p "$dir"
  chmod 755 "$dir"
  touch "$dir/$marker"
  home=$dir
  # Unix socket paths are limited to 107 bytes, and the server's owner must reach its
  # files: otherwise they go to a short folder in /tmp.
  if [[ ${#dir} -gt 80 ]] || { [[ $(id -u) -eq 0 ]] && ! runuser -u postgres -- test -x "$dir"; }; then
    home=$(mktemp -d /tmp/sluice-pg.XXXXXX)
    chmod 755 "$home"
    echo "$home" >"$dir/home"
  fi
  mkdir -p "$home/data" "$home/log" "$home/sock"
  chmod 700 "$home/data"
  if [[ $(id -u) -eq 0 ]]; then
    chown postgres:postgres "$home/data" "$home/log" "$home/sock"
    runuser -u postgres -- test -w "$home/data" || die "the postgres user cannot write to $home/data"
  fi
  as_owner "$bin/initdb" -D "$home/data" -U postgres --auth=trust -E UTF8 --locale=C --no-sync \
    >"$home/log/initdb.log" 2>&1 || { cat "$home/log/initdb.log" >&2; die "initdb failed"; }
  if [[ $durable -eq 0 ]]; then
    printf '%s\n' "fsync = off" "synchronous_commit = off" "full_page_writes = off" \
      >>"$home/data/postgresql.conf"
  fi
  local port rc
  for attempt in 1 2 3 4 5 6 7 8; do
    port=$(free_port) || die "no free TCP port found on 127.0.0.1"
    rc=0
    rm -f "$home/log/server.log"
    start_on "$bin" "$port" || rc=$?
    [[ $rc -eq 0 ]] && break
    [[ $rc -eq 3 ]] || fail_with_log "the server did not start"
    say "port $port was taken meanwhile (attempt $attempt), trying another"
  done
  [[ $rc -eq 0 ]] || fail_with_log "no free port after 8 attempts"
  echo "$port" >"$dir/port"
  wait_ready "$bin" "$port" || fail_with_log "the server on port $port is not ready"
  "$bin/psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 \
    -c "CREATE DATABASE sluice_test" >/dev/null || fail_with_log "CREATE DATABASE failed"
  echo "host=127.0.0.1 port=$port user=postgres dbname=sluice_test" >"$dir/dsn.tmp"
  mv "$dir/dsn.tmp" "$dir/dsn"
  say "PostgreSQL $("$bin/pg_ctl" --version | awk '{print $3}') on 127.0.0.1:$port, data in $home"
  cat "$dir/dsn"
}

do_restart() {
  local bin port
  bin=$(find_bin) || die "PostgreSQL is not installed"
  [[ -f "$dir/$marker" && -f "$dir/port" ]] || die "no server was started in $dir"
  port=$(cat "$dir/port")
  stop_server "$bin"
  start_on "$bin" "$port" || fail_with_log "the server did not start again on port $port"
  wait_ready "$bin" "$port" || fail_with_log "the server on port $port is not ready"
  say "restarted on 127.0.0.1:$port"
}

case "$cmd" in
  start) do_start ;;
  stop)
    if bin=$(find_bin); then stop_server "$bin"; fi
    remove_dir
    say "stopped, $dir removed"
    ;;
  restart) do_restart ;;
  dsn)
    [[ -f "$dir/dsn" ]] || die "no server in $dir (scripts/pg.sh start $dir)"
    cat "$dir/dsn"
    ;;
  status)
    [[ -f "$dir/port" ]] || die "no server in $dir"
    bin=$(find_bin) || die "PostgreSQL is not installed"
    "$bin/pg_isready" -h 127.0.0.1 -p "$(cat "$dir/port")"
    ;;
  *) usage ;;
esac
