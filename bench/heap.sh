#!/usr/bin/env bash
# bench/heap.sh: NT-heap walk throughput of `dumpsleuth heap` on a large synthetic Windows 10 x64
# minidump (bench/gen_ntheap_big.c: one heap, ~10 M encoded backend entries in 8 segments, 2,000
# VirtualAlloc blocks, 2,000 LFH subsegments), against the raw read bandwidth of the same file on
# the same machine in the same run, with peak memory.
#
#   bench/heap.sh                          # defaults below; files in ${TMPDIR:-/tmp}/dsbench-heap
#   BENCH_ENTRIES=2000000 bench/heap.sh    # smaller heap
#   BENCH_RUNS=7 BUILD_DIR=/path bench/heap.sh
#   DS_BIN=/path/to/dumpsleuth bench/heap.sh   # an existing optimised build (no cmake step)
#
# No other tool walks NT heaps on Linux (WinDbg's !heap needs Windows; lldb and gdb have no heap
# command for Windows minidumps), so the comparison is with raw bandwidth only. The dump is written
# under $BENCH_DIR and never in the repository (KEEP=0 deletes it at the end). Not part of ctest.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BENCH_DIR=${BENCH_DIR:-${TMPDIR:-/tmp}/dsbench-heap}
ENTRIES=${BENCH_ENTRIES:-10000000}
SEGS=${BENCH_SEGMENTS:-8}
NVA=${BENCH_VA:-2000}
NLFH=${BENCH_LFH:-2000}
RUNS=${BENCH_RUNS:-5}
BUILD_DIR=${BUILD_DIR:-$SRC/build-bench}
cc=${CC:-cc}
mkdir -p "$BENCH_DIR"

# 1. an optimised dumpsleuth (RelWithDebInfo = -O2 -g, what the numbers below are for)
built_here=0
if [ -z "${DS_BIN:-}" ]; then
    built_here=1
    cmake -S "$SRC" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDS_TESTS=OFF >/dev/null
    cmake --build "$BUILD_DIR" -j2 --target dumpsleuth >/dev/null
    DS_BIN="$BUILD_DIR/dumpsleuth"
fi
for t in gen_ntheap_big memmem_scan rss_peak; do
    "$cc" -O2 -std=c11 -Wall -Wextra -o "$BENCH_DIR/$t" "$SRC/bench/$t.c"
done

# 2. the dump (regenerated when the parameters change)
dump="$BENCH_DIR/ntheap-big.dmp"
params="$ENTRIES $SEGS $NVA $NLFH"
if [ ! -f "$dump" ] || [ "$(cat "$dump.params" 2>/dev/null)" != "$params" ]; then
    rm -f "$dump" "$dump.params"
    t0=$(date +%s%N)
    # shellcheck disable=SC2086
    "$BENCH_DIR/gen_ntheap_big" "$dump" $params >"$dump.truth"
    echo "$params" >"$dump.params"
    printf 'generated %s in %.1f s\n' "$dump" "$(echo "($(date +%s%N) - $t0) / 1000000000" | bc -l)"
fi
truth() { awk -v k="$1" '$1 == k { print $2 }' "$dump.truth"; }
fsize=$(stat -c %s "$dump")
entries=$(truth all_entries)
backend=$(truth backend_entries)
segbytes=$(truth segment_bytes)
segoff=$(truth segment_file_offset)

# 3. the walk must be right before it is timed: dumpsleuth's counts against the construction's
json=$("$DS_BIN" -q --json heap -s "$dump" | jq -c '.result.heaps[0]')
fail=0
check() { # label jq-path expected
    local got
    got=$(echo "$json" | jq -r "$2")
    if [ "$got" != "$3" ]; then
        echo "MISMATCH $1: dumpsleuth $got, generator $3" >&2
        fail=1
    fi
}
check "busy blocks" .busy_blocks "$(truth busy_blocks)"
check "busy bytes" .busy_bytes "$(truth busy_bytes)"
check "free blocks" .free_blocks "$(truth free_blocks)"
check "free list length" .free_list_length "$(truth backend_free)"
check "VA blocks" .virtual_blocks "$(truth va_blocks)"
check "LFH containers" .internal_blocks "$(truth internal)"
check "LFH subsegments" .lfh.subsegments "$(truth lfh_subsegments)"
check "LFH busy blocks" .lfh.busy_blocks "$(truth lfh_busy)"
check "segments" .segments "$(truth segments)"
check "issues" '.issues | length' 0
n_a=$("$DS_BIN" -q --json heap -a --limit 1 "$dump" | jq '.result.matching')
[ "$n_a" = "$entries" ] || { echo "MISMATCH heap -a entries: $n_a, generator $entries" >&2; fail=1; }
[ "$fail" = 0 ] || exit 1

# 4. timings (warm page cache; every command is run once before it is timed)
# times CMD... -> "best median" in seconds over $RUNS runs
times() {
    "$@" >/dev/null 2>&1 || true
    local t0 t1 ts=()
    for _ in $(seq "$RUNS"); do
        t0=$(date +%s%N)
        "$@" >/dev/null 2>&1 || true
        t1=$(date +%s%N)
        ts+=($((t1 - t0)))
    done
    printf '%s\n' "${ts[@]}" | sort -n |
        awk '{ a[NR] = $1 } END { m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2;
                               printf "%.4f %.4f\n", a[1] / 1e9, m / 1e9 }'
}
cat "$dump" >/dev/null
read -r t_cat m_cat < <(times cat "$dump")
read -r t_seg m_seg < <(times dd if="$dump" of=/dev/null bs=1M iflag=skip_bytes,count_bytes \
    skip="$segoff" count="$segbytes")
mm=$("$BENCH_DIR/memmem_scan" "$dump" DSBENCH-NO-SUCH-BYTES-7f3a | cut -d' ' -f2)
calc() { awk "BEGIN { printf \"%.${2:-2}f\", $1 }"; } # expression [decimals]
mib() { calc "$1 / 1048576" 1; }

printf '\nNT-heap walk, %s, %s CPUs, %s, best/median of %s warm runs\n' "$(uname -m)" "$(nproc)" \
    "$(date -u +%Y-%m-%d)" "$RUNS"
if [ "$built_here" = 1 ]; then
    src="$(git -C "$SRC" rev-parse --short HEAD 2>/dev/null || echo '?')"
    git -C "$SRC" diff --quiet HEAD -- src include 2>/dev/null ||
        src="$src + uncommitted changes in src/ or include/"
else
    src="DS_BIN=$DS_BIN"
fi
printf 'dumpsleuth: %s; load average before the timings: %s\n' "$src" \
    "$(cut -d' ' -f1-3 /proc/loadavg)"
printf 'dump: %s MiB (%s entries: %s backend in %s segments = %s MiB, %s VA blocks, %s LFH blocks)\n' \
    "$(mib "$fsize")" "$entries" "$backend" "$(truth segments)" "$(mib "$segbytes")" \
    "$(truth va_blocks)" "$(truth lfh_blocks)"
printf '\n%-34s %9s %9s %13s %10s %10s %7s %9s %9s %9s\n' "command" "best s" "median s" \
    "M entries/s" "/ cat" "/ seg read" "CPU s" "RSS MiB" "anon MiB" "file MiB"
printf '%-34s %9.3f %9.3f %13s %10s %10s\n' "cat dump (whole file, $(mib "$fsize") MiB)" \
    "$t_cat" "$m_cat" "-" "1.00" "-"
printf '%-34s %9.3f %9.3f %13s %10s %10s\n' "dd heap segments ($(mib "$segbytes") MiB)" \
    "$t_seg" "$m_seg" "-" "$(calc "$t_seg / $t_cat")" "1.00"
printf '%-34s %9.3f %9s %13s %10s %10s\n' "memmem over the mmap'ed file" \
    "$(calc "$fsize / 1048576 / $mm" 4)" "-" "-" "$(calc "$fsize / 1048576 / $mm / $t_cat")" "-"
for mode in "-s" "-stat" "-a --limit 1"; do
    # shellcheck disable=SC2086
    read -r tb tm < <(times "$DS_BIN" -q heap $mode "$dump")
    # shellcheck disable=SC2086
    "$BENCH_DIR/rss_peak" "$BENCH_DIR/rss" "$DS_BIN" -q heap $mode "$dump" >/dev/null 2>&1 || true
    read -r rss anon file cpu <"$BENCH_DIR/rss"
    printf '%-34s %9.3f %9.3f %13.1f %10.2f %10.2f %7.2f %9.1f %9.1f %9.1f\n' \
        "dumpsleuth heap $mode" "$tb" "$tm" "$(calc "$entries / $tb / 1000000" 1)" \
        "$(calc "$tb / $t_cat")" "$(calc "$tb / $t_seg")" "$cpu" "$(calc "$rss / 1024" 1)" \
        "$(calc "$anon / 1024" 1)" "$(calc "$file / 1024" 1)"
done
cat <<EOF

  M entries/s: all $entries entries (backend, VA, LFH) / best wall time of the whole command (open,
  layout choice, free-list walk, entry walk, LFH key recovery, output). / cat: time relative to
  reading the whole dump once from the page cache; / seg read: relative to reading only the
  heap segments' bytes (dd of that file range), the bytes the entry walk steps through.
  memmem: the bare single-threaded scan rate of bench/memmem_scan.c (timed inside the process).
  CPU s: user + system CPU time of one more run (the one that measures memory).
  RSS: peak resident set (ru_maxrss, exact), including the file-backed pages of the mmap'ed dump
  that were touched; anon / file: the largest RssAnon / RssFile sampled every ms.
  Every mode walks every entry (-s counts them for the free-list and LFH columns); -stat and -a
  also keep every entry (48 bytes each) to group or list them.
EOF
[ "${KEEP:-1}" = 1 ] || rm -f "$dump" "$dump.truth" "$dump.params"
