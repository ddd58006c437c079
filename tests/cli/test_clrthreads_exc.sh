#!/usr/bin/env bash
# clrthreads' Exception column (Thread::m_LastThrownObjectHandle) against SOS:
#  - dotnet-2.0-linux-x64-exc.core (fixtures/dotnet/make-exc-fixture.sh: one thread blocked in a
#    catch block, two that left theirs): for every ThreadOBJ, the exception type and object equal
#    the Exception column of SOS's clrthreads on the same core (.sos.txt); text and JSON agree;
#  - dotnet-2.0-linux-x64.core: SOS shows no exception, neither do we;
#  - dotnet-{2.0,2.2,3.0,3.1}-x64-exc.dmp, dotnet-{2.1,3.1}-x86-exc.dmp (Wine, no SOS): the thread
#    the scenario names (WORKER line) and only it holds the heap's one InvalidOperationException;
#  - dotnet-3.1-linux-x64-exc.core (no SOS for 3.x): as the Wine dumps, and the Thread and the object
#    equal what gdb found through libcoreclr.so's symbols (.exc-gdb.txt, fixtures/dotnet/exc-gdb.py);
#  - the other 2.x/3.x fixtures (workstation and server GC): no exception; the 2.x Linux cores: as SOS.
set -u
BIN=${DS_BIN:?DS_BIN not set}
FIX=${DS_FIXTURE_DIR:-}
SRC=${DS_SOURCE_DIR:-}
core="$FIX/dotnet-2.0-linux-x64-exc.core"
sos="$SRC/fixtures/data/dotnet-2.0-linux-x64-exc.sos.txt"
if [ ! -f "$core" ] || [ ! -f "$sos" ]; then
    echo "skip: fixture $core or $sos not available"
    exit 77
fi
command -v jq >/dev/null 2>&1 || { echo "skip: jq not found"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# "threadobj type object" per thread row (type/object "-" when the column is empty); rows are
# those whose 4th field is a 16-digit ThreadOBJ
exc_rows() {
    awk 'length($4) == 16 && $4 ~ /^[0-9A-Fa-f]+$/ && $3 ~ /^[0-9a-f]+$/ {
        t = "-"; o = "-"
        if (length($NF) == 16 && $NF ~ /^[0-9a-f]+$/ && $(NF-1) ~ /^[A-Za-z_][A-Za-z0-9_.+`]*$/) { t = $(NF-1); o = $NF }
        print tolower($4), t, o }' "$1" | sort
}
sed -n '/^(lldb) clrthreads$/,/^(lldb) eeheap/p' "$sos" >"$tmp/sos.thr"
exc_rows "$tmp/sos.thr" >"$tmp/sos.rows"
grep -q ' System.InvalidOperationException ' "$tmp/sos.rows" || fail "SOS oracle has no exception row"
[ "$(wc -l <"$tmp/sos.rows")" -eq 4 ] || fail "SOS oracle: expected 4 thread rows"

"$BIN" clrthreads "$core" >"$tmp/our.txt" 2>"$tmp/our.err"
rc=$?
[ $rc -eq 0 ] || fail "clrthreads exit $rc: $(cat "$tmp/our.err")"
exc_rows "$tmp/our.txt" >"$tmp/our.rows"
diff -u "$tmp/sos.rows" "$tmp/our.rows" || fail "Exception column differs from SOS's"

"$BIN" --json clrthreads "$core" >"$tmp/our.json" 2>/dev/null
jq -r '.result.threads[] | "\(.thread_obj | ltrimstr("0x") | ("0000000000000000" + .)[-16:]) \(.exception.type // "-") \(.exception.object // "-" | ltrimstr("0x") | if . == "-" then . else ("0000000000000000" + .)[-16:] end)"' \
    "$tmp/our.json" | sort >"$tmp/json.rows"
diff -u "$tmp/sos.rows" "$tmp/json.rows" || fail "JSON exceptions differ from SOS's"
jq -e '.result.exception_verified == true' "$tmp/our.json" >/dev/null || fail "JSON: exception_verified not true"

# the big Linux fixtures (workstation and server GC): SOS shows no exception, neither do we
for name in dotnet-2.0-linux-x64 dotnet-2.0-linux-x64-svr; do
    big="$FIX/$name.core"
    bigsos="$SRC/fixtures/data/$name.sos.txt"
    [ -f "$big" ] && [ -f "$bigsos" ] || continue
    sed -n '/^(lldb) clrthreads$/,/^(lldb) eeheap/p' "$bigsos" >"$tmp/bsos.thr"
    exc_rows "$tmp/bsos.thr" >"$tmp/bsos.rows"
    [ -s "$tmp/bsos.rows" ] || fail "$name: no thread rows in the SOS oracle"
    "$BIN" clrthreads "$big" >"$tmp/big.txt" 2>/dev/null
    exc_rows "$tmp/big.txt" >"$tmp/big.rows"
    diff -u "$tmp/bsos.rows" "$tmp/big.rows" || fail "$name: Exception column differs from SOS's"
done

# Windows -exc dumps (no SOS for them): the scenario printed which thread sits in the catch block
# (WORKER <managed id> <OS tid>); that thread, and only it, shows System.InvalidOperationException,
# and the object is the heap's only InvalidOperationException (found by the heap walk)
for name in dotnet-2.0-x64-exc dotnet-2.2-x64-exc dotnet-2.1-x86-exc dotnet-3.0-x64-exc dotnet-3.1-x64-exc \
    dotnet-3.1-x86-exc dotnet-3.1-linux-x64-exc; do
    dmp="$FIX/$name.dmp"
    [ -f "$dmp" ] || dmp="$FIX/$name.core"
    wk="$SRC/fixtures/data/$name.worker.txt"
    if [ ! -f "$dmp" ] || [ ! -f "$wk" ]; then
        echo "note: $name not available, not checked"
        continue
    fi
    read -r _ wid wos < <(grep '^WORKER ' "$wk" | tr -d '\r')
    if ! [[ "$wid" =~ ^[0-9]+$ && "$wos" =~ ^[0-9a-f]+$ ]]; then
        fail "$name: bad WORKER line in $wk"
        continue
    fi
    "$BIN" --json clrthreads "$dmp" >"$tmp/w.json" 2>/dev/null || fail "$name: clrthreads exit $?"
    jq -e '.result.exception_verified == true' "$tmp/w.json" >/dev/null || fail "$name: exception_verified not true"
    got=$(jq -r '.result.threads[] | select(.exception != null) | "\(.managed_id) \(.os_id) \(.exception.type) \(.exception.object)"' "$tmp/w.json")
    obj=$("$BIN" dumpheap -type System.InvalidOperationException "$dmp" 2>/dev/null |
        awk 'NF == 3 && $3 ~ /^[0-9]+$/ && $1 ~ /^[0-9a-f]+$/ {print $1}')
    [ "$(echo "$obj" | wc -w)" -eq 1 ] || fail "$name: expected one InvalidOperationException on the heap, got '$obj'"
    want="$wid $((16#$wos)) System.InvalidOperationException 0x$(echo "$obj" | sed 's/^0*//')"
    [ "$got" = "$want" ] || fail "$name: exceptions '$got', expected '$want'"
    "$BIN" clrthreads "$dmp" 2>/dev/null | grep -q " System.InvalidOperationException 0*$(echo "$obj" | sed 's/^0*//')\$" ||
        fail "$name: text row without the exception"
    # Linux 3.x: gdb's reading through the symbols (exc-gdb.txt): the worker's Thread and the object
    # its handle leads to
    gdbf="$SRC/fixtures/data/$name.exc-gdb.txt"
    if [ -f "$gdbf" ]; then
        gthr=$(awk '/^worker-only /{sub(/;$/, "", $4); print $4}' "$gdbf")
        goff=$(awk '/^worker-only /{print $2}' "$gdbf")
        gobj=$(awk -v t="$gthr" -v o="$goff" '/^Thread /{cur = $2; sub(/:$/, "", cur)}
            cur == t && $1 == o":" && $2 == "handle" {print $6}' "$gdbf")
        [ -n "$gthr" ] && [ -n "$gobj" ] || fail "$name: no worker-only line in $gdbf"
        want="$gthr 0x$(echo "$obj" | sed 's/^0*//')"
        got=$(jq -r '.result.threads[] | select(.exception != null) | "\(.thread_obj) \(.exception.object)"' "$tmp/w.json")
        [ "$got" = "$want" ] || fail "$name: Thread/object '$got', gdb says '$gthr $gobj'"
        [ "$gobj" = "0x$(echo "$obj" | sed 's/^0*//')" ] || fail "$name: gdb's object $gobj is not the heap's $obj"
    fi
done

# the other fixtures (2.x and 3.x, workstation and server GC): no thread of the leak scenario holds
# an exception
for w in dotnet-2.0-x64.dmp dotnet-2.2-x64.dmp dotnet-2.1-x86.dmp dotnet-2.2-x64-svr.dmp dotnet-2.1-x86-svr.dmp \
    dotnet-3.0-x64.dmp dotnet-3.1-x64.dmp dotnet-3.1-x86.dmp dotnet-3.1-linux-x64.core \
    dotnet-3.1-linux-x64-svr.core dotnet-3.1-x64-svr.dmp; do
    [ -f "$FIX/$w" ] || continue
    "$BIN" --json clrthreads "$FIX/$w" >"$tmp/w.json" 2>/dev/null || fail "$w: clrthreads --json exit $?"
    jq -e '.result.exception_verified == true and (.result.threads | length > 0) and ([.result.threads[] | select(.exception != null)] | length == 0)' \
        "$tmp/w.json" >/dev/null || fail "$w: JSON exception fields"
    "$BIN" clrthreads "$FIX/$w" 2>/dev/null | grep -q 'Exception column: not verified' && fail "$w: 'not verified' line"
done

if [ $fails -gt 0 ]; then
    echo "$fails failure(s)"
    exit 1
fi
echo "ok"
