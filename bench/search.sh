#!/usr/bin/env bash
# bench/search.sh: whole-dump search throughput of `dumpsleuth search` on a large synthetic
# minidump, against a plain single-threaded memmem loop and grep over the raw file, against lldb's
# `memory find` on one range, and with the same bytes split into 100 vs 100,000 ranges.
#
#   bench/search.sh                 # 1 GB dumps in $BENCH_DIR (default /tmp/dsbench)
#   BENCH_MB=2048 bench/search.sh   # 2 GB
#   DS_BIN=/path/to/dumpsleuth bench/search.sh   # use an existing (optimised!) build
#
# Everything is built and written under $BENCH_DIR, never in the repository. Not part of ctest.
set -eu
SRC=$(cd "$(dirname "$0")/.." && pwd)
BENCH_DIR=${BENCH_DIR:-/tmp/dsbench}
MB=${BENCH_MB:-1024}
RUNS=${BENCH_RUNS:-3}
mkdir -p "$BENCH_DIR"
cc=${CC:-cc}

# 1. an optimised dumpsleuth (the ASan/Debug build is 5-20x slower and says nothing about speed)
if [ -z "${DS_BIN:-}" ]; then
    cmake -S "$SRC" -B "$BENCH_DIR/build" -DCMAKE_BUILD_TYPE=Release -DDS_TESTS=OFF \
        -DCMAKE_C_FLAGS="-Wno-error=format-truncation" >/dev/null
    make -s -j"$(nproc)" -C "$BENCH_DIR/build" dumpsleuth >/dev/null 2>&1
    DS_BIN="$BENCH_DIR/build/dumpsleuth"
fi
"$cc" -O2 -o "$BENCH_DIR/gen_bigdump" "$SRC/bench/gen_bigdump.c"
"$cc" -O2 -o "$BENCH_DIR/memmem_scan" "$SRC/bench/memmem_scan.c"

# 2. seed memory: the first VirtualAlloc region of the native-x64 fixture (HTML/JS text)
fx="$BENCH_DIR/native-x64.dmp"
[ -f "$fx" ] || xz -dc "$SRC/fixtures/data/native-x64.dmp.xz" >"$fx"
base=$(sed -n 's/.*"base": *"\(0x[0-9a-f]*\)".*/\1/p' "$SRC/fixtures/data/native-x64.truth.json" |
    head -1)
rm -rf "$BENCH_DIR/seed"
"$DS_BIN" -q extract --region "$base" -o "$BENCH_DIR/seed" "$fx" >/dev/null
seed=$(ls "$BENCH_DIR"/seed/*.bin)

# 3. the big dumps: same bytes in 100 and in 100,000 ranges (4 KB address gaps between ranges)
for nr in 100 100000; do
    out="$BENCH_DIR/big-$nr.dmp"
    if [ ! -f "$out" ] || [ "$(cat "$out.mb" 2>/dev/null)" != "$MB" ]; then
        "$BENCH_DIR/gen_bigdump" "$out" "$MB" "$nr" "$seed" >"$out.planted"
        echo "$MB" >"$out.mb"
    fi
done

now() { date +%s.%N; }
# stdout goes to a file, not /dev/null: GNU grep stops at the first match when it sees /dev/null
best() { # command... -> best wall time in seconds over $RUNS runs (one warm-up first)
    "$@" >"$BENCH_DIR/out" 2>&1 || true
    local b=999999 t0 t1 d
    for _ in $(seq "$RUNS"); do
        t0=$(now)
        "$@" >"$BENCH_DIR/out" 2>&1 || true
        t1=$(now)
        d=$(echo "$t1 - $t0" | bc -l)
        b=$(echo "if ($d < $b) $d else $b" | bc -l)
    done
    echo "$b"
}
mbs() { echo "scale=1; $1 / 1048576 / $2" | bc -l; }

data=$((MB * 1048576))
printf '\nwhole-dump search, %d MB of captured memory, best of %d warm runs, %s\n' "$MB" "$RUNS" \
    "$(nproc) CPUs"
printf '%-8s %-20s %12s %12s %10s %12s %10s %12s %10s\n' ranges pattern "ds hits" "raw hits" \
    "ds MB/s" "memmem MB/s" "ratio" "grep MB/s" "ds/grep"
for nr in 100 100000; do
    f="$BENCH_DIR/big-$nr.dmp"
    for pat in DSBENCH-NEEDLE-7f3a PopupCalendar; do
        hits=$("$DS_BIN" -q search --count -a "$pat" "$f" | sed -n 's/^Total hits: \([0-9]*\).*/\1/p')
        raw=$("$BENCH_DIR/memmem_scan" "$f" "$pat" | cut -d' ' -f1)
        t_ds=$(best "$DS_BIN" -q search --count -a "$pat" "$f")
        t_mm=$(best "$BENCH_DIR/memmem_scan" "$f" "$pat")
        t_gr=$(best env LC_ALL=C grep -c -a -F "$pat" "$f")
        fsz=$(stat -c %s "$f")
        printf '%-8s %-20s %12s %12s %10s %12s %9s%% %12s %9s%%\n' "$nr" "$pat" "$hits" "$raw" \
            "$(mbs "$data" "$t_ds")" "$(mbs "$fsz" "$t_mm")" \
            "$(echo "scale=0; 100 * $t_mm * $data / $fsz / $t_ds" | bc -l)" \
            "$(mbs "$fsz" "$t_gr")" "$(echo "scale=0; 100 * $t_gr * $data / $fsz / $t_ds" | bc -l)"
    done
    echo "         planted needles: $(cat "$f.planted")"
done
cat <<'EOF'
  ds MB/s: captured bytes / wall time of the whole `dumpsleuth search --count` command (open,
  classify, search, print). memmem MB/s: file bytes / time of the bare memmem loop over the mmap'ed
  file (bench/memmem_scan.c, timed inside the process). ratio = ds throughput / memmem throughput.
  raw hits (memmem over the file) can exceed ds hits for PopupCalendar: copies that straddle the
  4 KB address gap between two ranges are adjacent in the file but not in memory.
EOF

# 4. lldb `memory find` over one range (the first range of the 100-range dump)
if command -v lldb >/dev/null 2>&1; then
    f="$BENCH_DIR/big-100.dmp"
    start=0x10000000
    len=$((data / 100))
    end=$(printf '0x%x' $((start + len)))
    t0=$(now)
    n_lldb=$(lldb -b -c "$f" -o "memory find -s DSBENCH-NEEDLE-7f3a --count 1000000 -- $start $end" \
        2>/dev/null | grep -c "data found at location")
    t1=$(now)
    t_lldb=$(echo "$t1 - $t0" | bc -l)
    n_ds=$("$DS_BIN" -q search --count --range "$start-$end" -a DSBENCH-NEEDLE-7f3a "$f" |
        sed -n 's/^Total hits: \([0-9]*\).*/\1/p')
    t_ds=$(best "$DS_BIN" -q search --count --range "$start-$end" -a DSBENCH-NEEDLE-7f3a "$f")
    printf '\none range (%d bytes): lldb memory find: %s hits in %.2f s (%s MB/s, incl. start-up); ' \
        "$len" "$n_lldb" "$t_lldb" "$(mbs "$len" "$t_lldb")"
    printf 'dumpsleuth: %s hits in %.3f s (incl. start-up)\n' "$n_ds" "$t_ds"
fi
