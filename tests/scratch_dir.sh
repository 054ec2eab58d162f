#!/usr/bin/env bash
# Print where `make test` keeps its scratch files (the PostgreSQL cluster, every test's tmp_path, TMPDIR):
# /dev/shm when it is a writable tmpfs with room to spare, else ${TMPDIR:-/tmp}.
# Why: the suite creates and deletes hundreds of thousands of files (a PostgreSQL database per test is ~300
# files). On an ext4 without a journal, as on this machine, each new file's inode search skips every
# recently deleted inode: CREATE DATABASE from a 7.5 MB template took 0.12-0.43 s, nearly all of it kernel CPU
# (perf: recently_deleted, find_inode_bit) against 0.02 s on tmpfs.
set -euo pipefail
need_kib=$((6 * 1024 * 1024))
shm=/dev/shm
if [ -d "$shm" ] && [ -w "$shm" ] && [ "$(stat -f -c %T "$shm" 2>/dev/null)" = tmpfs ] \
   && [ "$(df -Pk "$shm" | awk 'NR == 2 {print $4}')" -ge "$need_kib" ]; then
  echo "$shm"
else
  echo "${TMPDIR:-/tmp}"
fi
