#!/usr/bin/env bash
# Benchmark for `summary` (issue #3): its cost must follow the number of regions, not the size of
# the dump. Compares, on this machine and in one run:
#   - `cat dump > /dev/null` (raw read bandwidth of the same file, warm page cache), and
#   - `dumpsleuth summary` on dumps of 2 GiB with 1,000 and 100,000 regions, and on a 64 MiB dump
#     with 100,000 regions.
# Usage: bench/summary.sh [build-dir]   (dumps are written to ${TMPDIR:-/tmp}, ~4.2 GB free needed)
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-build}/dumpsleuth"
[ -x "$bin" ] || { echo "build first: cmake -S . -B build && cmake --build build" >&2; exit 2; }
tmp="${TMPDIR:-/tmp}/ds-bench-summary"
mkdir -p "$tmp"
cc -O2 -o "$tmp/gen_regions" bench/gen_regions.c
[ -f "$tmp/big-1k.dmp" ] || "$tmp/gen_regions" "$tmp/big-1k.dmp" 1000 2048 4096
[ -f "$tmp/big-100k.dmp" ] || "$tmp/gen_regions" "$tmp/big-100k.dmp" 100000 2048
[ -f "$tmp/small-100k.dmp" ] || "$tmp/gen_regions" "$tmp/small-100k.dmp" 100000 64
[ -f "$tmp/small-1k.dmp" ] || "$tmp/gen_regions" "$tmp/small-1k.dmp" 1000 64 64

best() { # best wall time in ms of 5 runs of "$@"
  local b=999999999 s e t
  for _ in 1 2 3 4 5; do
    s=$(date +%s%N); "$@" >/dev/null; e=$(date +%s%N)
    t=$(( (e - s) / 1000 )); [ "$t" -lt "$b" ] && b=$t
  done
  echo "$b"
}
printf "%-28s %12s %10s %12s\n" "dump" "size" "regions" "time (ms)"
for d in big-1k big-100k small-1k small-100k; do
  f="$tmp/$d.dmp"
  size=$(stat -c %s "$f")
  regions=$("$bin" --json regions --histogram usage "$f" | jq '.result.count')
  cat "$f" > /dev/null # warm the page cache
  tc=$(best cat "$f")
  ts=$(best "$bin" summary "$f")
  printf "%-28s %12s %10s   cat %8.2f   summary %8.2f   summary/cat %6.3f\n" "$d" "$size" "${regions:-?}" \
    "$(echo "$tc/1000" | bc -l)" "$(echo "$ts/1000" | bc -l)" "$(echo "$ts/$tc" | bc -l)"
done
echo
echo "Reading: summary time depends on the region count (small-100k ~ big-100k), not on the file size"
echo "(big-* vs small-* with the same count), and stays a small fraction of reading the dump once."
