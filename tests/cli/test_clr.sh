#!/usr/bin/env bash
# The managed-heap commands (eeheap, dumpheap, finalizequeue/fq/frq) on the thirteen .NET fixtures
# (CoreCLR 2.0/2.1/2.2 and 3.0/3.1; workstation GC, and server GC on the five -svr ones):
#  - exit code 0, JSON parses;
#  - text and --json agree: every dumpheap -stat row (MT, count, total size, name), the totals,
#    the eeheap segments and GC heap size, the finalizequeue generation and ready counts per heap,
#    the total ready count and the statistics rows; frq's statistics equal the ready part;
#  - the GC mode and the heap count equal the truth's (server_gc, processor_count);
#  - against the fixture's truth file (written by the scenario process): the DsLeak.Font,
#    DsLeak.Bitmap and DsLeak.PrintJob rows (by MethodTable: count and total size), the PrintJob
#    count in the ready-for-finalization queue and the queue's minimum size;
#  - server GC on dotnet-2.0-linux-x64-svr, against SOS and gdb on the same core, and on
#    dotnet-3.1-linux-x64-svr against gdb (per-heap queues; no SOS for 3.x) (at the end);
#  - usage errors exit 2, a dump without a CLR exits 5.
set -u
BIN=${DS_BIN:?DS_BIN not set}
FIX=${DS_FIXTURE_DIR:-}
dump="$FIX/dotnet-2.0-x64.dmp"
if [ ! -f "$dump" ]; then
    echo "skip: fixture $dump not available"
    exit 77
fi
command -v jq >/dev/null 2>&1 || { echo "skip: jq not found"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

run() { # name, args...
    local name=$1; shift
    "$BIN" -q "$@" >"$tmp/$name.txt" 2>"$tmp/$name.err"; local rc=$?
    [ $rc -eq 0 ] || fail "$* (text) exit $rc"
    "$BIN" -q --json "$@" >"$tmp/$name.json" 2>"$tmp/$name.jerr"; rc=$?
    [ $rc -eq 0 ] || fail "$* (json) exit $rc"
    jq -e . "$tmp/$name.json" >/dev/null 2>&1 || fail "$* JSON does not parse"
}

# the statistics table of a text output -> "mt count total name" (MT lowercase, no leading 0s)
text_rows() {
    awk '/^Statistics:/{s=1; getline; next} s && /^Total /{s=0} s' "$1" |
        sed -E 's/^ *([0-9a-fA-F]+) +([0-9]+) +([0-9]+) +(.*)$/\1 \2 \3 \4/' |
        awk '{mt=tolower($1); sub(/^0+/, "", mt); $1=mt; print}' | sed -E 's/ +Free$/ Free/'
}
json_rows() { # file, jq path to the statistics object
    jq -r "$2.types[] | \"\(.mt|ltrimstr(\"0x\")) \(.count) \(.total_size) \(.name // \"UNKNOWN\")\"" "$1"
}
# "count total" of the statistics row with the truth type's MethodTable
json_mt_row() { # file, jq path, truth file, truth type name
    local mt
    mt=$(jq -r --arg n "$4" '.types[] | select(.name == $n) | .method_table | ascii_downcase' "$3")
    jq -r --arg mt "$mt" "$2.types[] | select((.mt|ascii_downcase) == \$mt) | \"\(.count) \(.total_size)\"" "$1"
}

check_dump() { # dump, truth
local dump=$1 truth=$2
echo "# $(basename "$dump")"
run stat dumpheap -stat "$dump"
text_rows "$tmp/stat.txt" >"$tmp/stat.t"
json_rows "$tmp/stat.json" '.result.statistics' >"$tmp/stat.j"
[ -s "$tmp/stat.t" ] || fail "dumpheap -stat printed no rows"
diff -u "$tmp/stat.t" "$tmp/stat.j" >/dev/null || fail "dumpheap -stat: text and JSON rows differ"
t_total=$(sed -nE 's/^Total ([0-9]+) objects, ([0-9]+) bytes$/\1 \2/p' "$tmp/stat.txt")
j_total=$(jq -r '.result.statistics | "\(.total_objects) \(.total_size)"' "$tmp/stat.json")
[ "$t_total" = "$j_total" ] || fail "dumpheap totals: text '$t_total' json '$j_total'"
grep -q ' DsLeak.Font$' "$tmp/stat.txt" || fail "dumpheap -stat: no DsLeak.Font row"

run type dumpheap -type DsLeak.PrintJob "$dump"
n_text=$(awk '/^Statistics:/{exit} NF==3 && $1 ~ /^[0-9a-f]+$/' "$tmp/type.txt" | wc -l)
n_json=$(jq '.result.objects | length' "$tmp/type.json")
[ "$n_text" = "$n_json" ] || fail "dumpheap -type: $n_text text objects, $n_json JSON"

run ee eeheap -gc "$dump"
t_segs=$(awk '/^ +segment +begin/{s=1; next} s && $1 ~ /^[0-9A-Fa-f]+$/ && NF == 6 {print tolower($1), tolower($2), tolower($3); next} {s=0}' "$tmp/ee.txt" |
    sed -E 's/(^| )0+/\1/g')
j_segs=$(jq -r '.result.heaps[].segments[] | "\(.segment) \(.begin) \(.allocated)"' "$tmp/ee.json" |
    sed 's/0x//g')
[ "$t_segs" = "$j_segs" ] || fail "eeheap segments: text '$t_segs' json '$j_segs'"
t_size=$(sed -nE 's/^GC Heap Size: +Size: 0x[0-9a-f]+ \(([0-9]+)\) bytes\.$/\1/p' "$tmp/ee.txt")
j_size=$(jq -r '.result.gc_heap_size' "$tmp/ee.json")
[ "$t_size" = "$j_size" ] || fail "eeheap GC heap size: text '$t_size' json '$j_size'"

run fq finalizequeue "$dump"
# per heap (one block for workstation GC, one per heap for server GC): gen0, gen1, gen2, ready
t_heaps=$(awk '/^generation [0-2] has [0-9]+ finalizable/{g[$2]=$4}
    /^Ready for finalization [0-9]+ objects/{print g[0], g[1], g[2], $4}' "$tmp/fq.txt")
j_heaps=$(jq -r '.result.heaps[] | "\(.segments[3].count) \(.segments[2].count) \(.segments[1].count) \(.ready_for_finalization)"' "$tmp/fq.json")
[ -n "$t_heaps" ] && [ "$t_heaps" = "$j_heaps" ] || fail "finalizequeue per heap: text '$t_heaps' json '$j_heaps'"
t_ready=$(echo "$t_heaps" | awk '{n += $4} END{print n + 0}')
j_ready=$(jq -r '.result.ready_for_finalization' "$tmp/fq.json")
[ "$t_ready" = "$j_ready" ] || fail "ready for finalization: text '$t_ready' (sum over heaps) json '$j_ready'"
n_heaps=$(jq '.result.heaps | length' "$tmp/ee.json")
[ "$(jq '.result.heaps | length' "$tmp/fq.json")" = "$n_heaps" ] || fail "finalizequeue and eeheap heap counts differ"
# the GC mode and heap count the scenario process reported (GCSettings.IsServerGC,
# Environment.ProcessorCount: one heap per processor under server GC)
want_svr=$(jq -r '.runtime.server_gc' "$truth")
want_heaps=1
[ "$want_svr" = true ] && want_heaps=$(jq -r '.runtime.processor_count' "$truth")
[ "$(jq -r '.result.runtime.server_gc' "$tmp/ee.json")" = "$want_svr" ] || fail "$(basename "$dump"): server_gc differs from the truth ($want_svr)"
[ "$n_heaps" = "$want_heaps" ] || fail "$(basename "$dump"): $n_heaps heaps, truth $want_heaps"
text_rows "$tmp/fq.txt" >"$tmp/fq.t"
json_rows "$tmp/fq.json" '.result.statistics' >"$tmp/fq.j"
diff -u "$tmp/fq.t" "$tmp/fq.j" >/dev/null || fail "finalizequeue: text and JSON rows differ"

run frq frq -stat "$dump"
text_rows "$tmp/frq.txt" >"$tmp/frq.t"
json_rows "$tmp/frq.json" '.result.statistics' >"$tmp/frq.j"
diff -u "$tmp/frq.t" "$tmp/frq.j" >/dev/null || fail "frq: text and JSON rows differ"
frq_total=$(jq -r '.result.statistics.total_objects' "$tmp/frq.json")
[ "$frq_total" = "$t_ready" ] || fail "frq total $frq_total != ready count $t_ready"

# fq is finalizequeue
"$BIN" -q fq "$dump" >"$tmp/fq2.txt" 2>/dev/null
cmp -s "$tmp/fq.txt" "$tmp/fq2.txt" || fail "fq differs from finalizequeue"


# against the truth file
for ty in DsLeak.Font DsLeak.Bitmap DsLeak.PrintJob; do
    want=$(jq -r --arg n "$ty" '.types[] | select(.name == $n) | "\(.count) \(.total_size)"' "$truth")
    got=$(json_mt_row "$tmp/stat.json" '.result.statistics' "$truth" "$ty")
    [ -n "$want" ] && [ "$got" = "$want" ] || fail "$(basename "$dump"): $ty: dumpheap '$got', truth '$want'"
done
want_pj=$(jq -r '.finalization.expected_printjobs_in_ready_for_finalization_queue' "$truth")
got_pj=$(json_mt_row "$tmp/frq.json" '.result.statistics' "$truth" DsLeak.PrintJob | cut -d' ' -f1)
[ "$got_pj" = "$want_pj" ] || fail "$(basename "$dump"): PrintJobs ready for finalization '$got_pj', truth '$want_pj'"
min_ready=$(jq -r '.finalization.ready_queue_min_total' "$truth")
[ "$t_ready" -ge "$min_ready" ] 2>/dev/null || fail "$(basename "$dump"): ready count '$t_ready' < truth minimum $min_ready"
}

ndumps=0
for name in dotnet-2.0-x64.dmp dotnet-2.2-x64.dmp dotnet-2.1-x86.dmp dotnet-2.0-linux-x64.core \
    dotnet-2.0-linux-x64-svr.core dotnet-2.2-x64-svr.dmp dotnet-2.1-x86-svr.dmp \
    dotnet-3.0-x64.dmp dotnet-3.1-x64.dmp dotnet-3.1-x86.dmp dotnet-3.1-linux-x64.core \
    dotnet-3.1-linux-x64-svr.core dotnet-3.1-x64-svr.dmp; do
    d="$FIX/$name"
    t="$FIX/${name%.*}.truth.json"
    if [ -f "$d" ] && [ -f "$t" ]; then
        check_dump "$d" "$t"
        ndumps=$((ndumps + 1))
    else
        echo "# $name: not available, not checked"
    fi
done
[ $ndumps -gt 0 ] || fail "no fixture checked"

# usage and not-a-CLR errors
"$BIN" -q dumpheap -mt zz "$dump" >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || fail "dumpheap -mt zz: exit $rc, expected 2"
"$BIN" -q eeheap >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || fail "eeheap without a dump: exit $rc, expected 2"
native="$FIX/native-x64.dmp"
if [ -f "$native" ]; then
    "$BIN" -q eeheap "$native" >/dev/null 2>&1; rc=$?
    [ $rc -eq 5 ] || fail "eeheap on a native dump: exit $rc, expected 5"
fi

# per-heap finalization queues of a server-GC Linux core against gdb's reading of it through
# libcoreclr.so's symbols (fixtures/data/<name>.fq-gdb.txt), and the ready PrintJobs against the truth
svr_fq_check() { # name
    local svr="$FIX/$1.core" gdbf="${DS_SOURCE_DIR:-}/fixtures/data/$1.fq-gdb.txt" gdb_counts our_counts truth_ready pj_ready
    run svr_fq finalizequeue "$svr"
    # per heap: gen0..2 and ready counts; gdb's "seg i ... N objects" (3 - g = generation g's segment)
    gdb_counts=$(awk '/^Heap [0-9]+:/{h=$2; sub(":", "", h)} /^seg [0-9]/{c[h, $2]=$(NF-1)}
        END{for (i = 0; i < 2; i++) print "Heap " i, c[i,3], c[i,2], c[i,1], c[i,4] + c[i,5]}' "$gdbf")
    our_counts=$(awk '/^Heap [0-9]+$/{h=$2} /^generation [0-2] has/{g[$2]=$4}
        /^Ready for finalization/{print "Heap " h, g[0], g[1], g[2], $4}' "$tmp/svr_fq.txt")
    [ "$gdb_counts" = "$our_counts" ] || fail "$1 finalizequeue: gdb '$gdb_counts', ours '$our_counts'"
    [ "$(jq '.result.heaps | length' "$tmp/svr_fq.json")" = 2 ] || fail "$1 fq: JSON heaps != 2"
    truth_ready=$(jq -r '.finalization.expected_printjobs_in_ready_for_finalization_queue' "$FIX/$1.truth.json")
    pj_ready=$("$BIN" -q --json frq -stat "$svr" |
        jq -r '.result.statistics.types[] | select(.name == "DsLeak.PrintJob") | .count')
    [ "$pj_ready" = "$truth_ready" ] || fail "$1: PrintJobs ready '$pj_ready', truth '$truth_ready'"
}

# Server GC (2 heaps) on the Linux core, against SOS and gdb on the same core
# (fixtures/data/dotnet-2.0-linux-x64-svr.sos.txt, .fq-gdb.txt): the eeheap heap sections, segment
# rows and sizes, the whole dumpheap -stat table, and the per-heap finalization queue counts.
svr="$FIX/dotnet-2.0-linux-x64-svr.core"
svr_data="${DS_SOURCE_DIR:-}/fixtures/data/dotnet-2.0-linux-x64-svr"
if [ -f "$svr" ] && [ -f "$svr_data.sos.txt" ] && [ -f "$svr_data.fq-gdb.txt" ]; then
    sed -n '/^(lldb) eeheap -gc$/,/^(lldb) dumpheap -stat$/p' "$svr_data.sos.txt" | sed '1d;$d' >"$tmp/svr_sos_ee.txt"
    run svr_ee eeheap -gc "$svr"
    # SOS prints segment, begin, allocated, size; we add committed and reserved before size
    sed -n '/^Number of GC Heaps/,$p' "$tmp/svr_ee.txt" |
        sed -E 's/^([0-9A-F]{16})  ([0-9A-F]{16})  ([0-9A-F]{16})  [0-9A-F]{16}  [0-9A-F]{16}  (0x.*)$/\1  \2  \3  \4/' |
        sed -E 's/^( +segment +begin +allocated) +committed +reserved +size$/\1/' >"$tmp/svr_ee.cmp"
    sed -E 's/^( +segment +begin +allocated) +size$/\1/' "$tmp/svr_sos_ee.txt" >"$tmp/svr_sos_ee.cmp"
    diff -u "$tmp/svr_sos_ee.cmp" "$tmp/svr_ee.cmp" >"$tmp/svr_ee.diff" ||
        { fail "server GC eeheap -gc differs from SOS"; head -20 "$tmp/svr_ee.diff"; }
    [ "$(jq '.result.heaps | length' "$tmp/svr_ee.json")" = 2 ] || fail "server GC: JSON heaps != 2"
    [ "$(jq -r '.result.runtime.server_gc' "$tmp/svr_ee.json")" = true ] || fail "server GC: server_gc not true"

    run svr_stat dumpheap -stat "$svr"
    sed -n '/^(lldb) dumpheap -stat$/,/^Total /p' "$svr_data.sos.txt" | sed '1,3d;$d' |
        awk '{mt=$1; sub(/^0+/, "", mt); $1=mt; print}' >"$tmp/svr_sos_stat.t"
    text_rows "$tmp/svr_stat.txt" >"$tmp/svr_stat.t"
    [ -s "$tmp/svr_sos_stat.t" ] || fail "server GC: no SOS dumpheap rows parsed"
    diff -u "$tmp/svr_sos_stat.t" "$tmp/svr_stat.t" >"$tmp/svr_stat.diff" ||
        { fail "server GC dumpheap -stat differs from SOS"; head -20 "$tmp/svr_stat.diff"; }
    sos_n=$(sed -nE '/^\(lldb\) dumpheap -stat$/,/^Total /s/^Total ([0-9]+) objects$/\1/p' "$svr_data.sos.txt")
    our_n=$(sed -nE 's/^Total ([0-9]+) objects, .*/\1/p' "$tmp/svr_stat.txt")
    [ "$sos_n" = "$our_n" ] || fail "server GC object total: SOS '$sos_n', ours '$our_n'"

    svr_fq_check dotnet-2.0-linux-x64-svr
else
    echo "note: server-GC fixture or its SOS/gdb files absent; that part skipped"
fi
# CoreCLR 3.1 server GC (no SOS for 3.x): the queues against gdb
if [ -f "$FIX/dotnet-3.1-linux-x64-svr.core" ] && [ -f "${DS_SOURCE_DIR:-}/fixtures/data/dotnet-3.1-linux-x64-svr.fq-gdb.txt" ]; then
    svr_fq_check dotnet-3.1-linux-x64-svr
else
    echo "note: dotnet-3.1-linux-x64-svr or its gdb file absent; not checked against gdb"
fi

[ $fails -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "ok"
