#!/usr/bin/env bash
# Start a throwaway PostgreSQL cluster for the test suite (loopback only) and print its URL.
# Installs Debian's postgresql package first when it is missing (CI machines start without it).
# Usage: tests/pg_cluster.sh start DIR PORT   |   tests/pg_cluster.sh stop DIR
set -euo pipefail
cmd=$1 dir=$2 port=${3:-55432}
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ "$cmd" = stop ]; then
  [ -n "$bindir" ] && [ -f "$dir/data/postmaster.pid" ] && su postgres -c "$bindir/pg_ctl -D $dir/data -m fast stop" >/dev/null 2>&1 || true
  exit 0
fi
if [ -z "$bindir" ]; then
  if [ "$(id -u)" != 0 ]; then echo "PostgreSQL is not installed and we are not root: skipping" >&2; exit 3; fi
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >/dev/null
  bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
fi
rm -rf "$dir" && mkdir -p "$dir"
chown postgres "$dir" 2>/dev/null || true
run() { if [ "$(id -u)" = 0 ]; then su postgres -c "$*"; else sh -c "$*"; fi; }
run "$bindir/initdb -D $dir/data -A trust -U postgres --no-sync" >/dev/null
run "$bindir/pg_ctl -D $dir/data -l $dir/log -w -o '-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=200' start" >/dev/null
run "$bindir/createdb -h 127.0.0.1 -p $port -U postgres mpp_test"
echo "postgresql+psycopg://postgres@127.0.0.1:$port/mpp_test"
