#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each one briefly over the real inputs we have.
# Usage: scripts/fuzz.sh [seconds-per-target]   (default 60)
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-60}"
scripts/deps.sh build fuzz
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DDS_FUZZ=ON -DDS_TESTS=OFF >/dev/null
cmake --build build-fuzz -j"$(nproc)"
seeds=build-fuzz/seeds
rm -rf "$seeds" && mkdir -p "$seeds"/{minidump,elfcore,pe}
if [ -d ../shared/corpus ]; then cp ../shared/corpus/*.dmp "$seeds/minidump/"; fi
for f in fixtures/work/*.core; do [ -f "$f" ] && head -c 1048576 "$f" > "$seeds/elfcore/$(basename "$f")"; done
cp tests/data/elf/*.core "$seeds/elfcore/" 2>/dev/null || true
cp tests/data/pe/*.dll tests/data/pe/*.exe "$seeds/pe/" 2>/dev/null || true
# fuzz_ntheap: the minidump seeds plus the simulated NT-heap dumps of a test build (up to 4 MB)
mkdir -p "$seeds/ntheap" && cp "$seeds"/minidump/* "$seeds/ntheap/" 2>/dev/null || true
for f in build*/ntheap/*.dmp; do
  [ -f "$f" ] && [ "$(stat -c %s "$f")" -le 4194304 ] && cp "$f" "$seeds/ntheap/$(basename "$f")"
done
for t in build-fuzz/fuzz/fuzz_*; do
  [ -x "$t" ] || continue
  name=$(basename "$t"); kind=${name#fuzz_}
  dir="$seeds/$kind"; [ -d "$dir" ] || dir="$seeds/minidump"
  work="build-fuzz/work-$kind"; mkdir -p "$work"
  echo "-- $name: ${secs}s over $(ls "$dir" | wc -l) seed files"
  "$t" -max_total_time="$secs" -rss_limit_mb=2048 -max_len=4194304 -print_final_stats=1 "$work" "$dir" 2>&1 | tail -n 12
done
