#!/usr/bin/env bash
# Every corpus dump through info / modules / threads, in text and --json:
#  - the exit code is in the documented set (good files 0 or 6; bad-* files 4 or 6; never a
#    signal: exit >= 128 fails);
#  - the JSON parses, and the thread and module counts in JSON equal the rows of the text output;
#  - facts from an independent reader (Debian lldb 14, output saved with its command line in
#    tests/data/lldb-cli/<dump>.txt) hold: thread count and ids, the stop (exception) thread,
#    module count and every module base address.
set -u
BIN=${DS_BIN:?DS_BIN not set}
CORPUS=${DS_SHARED_DIR:-}/corpus
DATA=${DS_TEST_DATA:-$(dirname "$0")/../data}
shopt -s nullglob
files=("$CORPUS"/*.dmp)
if [ -z "${DS_SHARED_DIR:-}" ] || [ ${#files[@]} -eq 0 ]; then
    echo "skip: no corpus in ${DS_SHARED_DIR:-<unset>}/corpus"
    exit 77
fi
if command -v jq >/dev/null 2>&1; then JQ=1; else JQ=0; fi
json_ok() {
    if [ $JQ -eq 1 ]; then jq -e . "$1" >/dev/null 2>&1
    elif command -v python3 >/dev/null 2>&1; then python3 -m json.tool "$1" >/dev/null 2>&1
    else return 0; fi
}
[ $JQ -eq 1 ] || echo "note: jq not found: count and lldb checks are skipped"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# rows of the text output
thread_rows() { grep -c -E '^[* ] +[0-9]+  ' "$1"; }
module_rows() { # loaded modules: address rows before "Unloaded modules:"
    sed '/^Unloaded modules:/,$d' "$1" | grep -c -E '^[0-9a-f]{8}' 
}

for f in "${files[@]}"; do
    name=$(basename "$f" .dmp)
    case "$name" in bad-*) allowed="4 6" ;; *) allowed="0 6" ;; esac
    for cmd in info modules threads; do
        "$BIN" "$cmd" "$f" >"$tmp/$cmd.txt" 2>"$tmp/$cmd.err"
        rc=$?
        "$BIN" --json "$cmd" "$f" >"$tmp/$cmd.json" 2>"$tmp/$cmd.jerr"
        jrc=$?
        for r in $rc $jrc; do
            if [ "$r" -ge 128 ]; then
                fail "$name $cmd: killed by a signal (exit $r)"; head -5 "$tmp/$cmd.err"
            elif [[ " $allowed " != *" $r "* ]]; then
                fail "$name $cmd: exit $r, expected one of: $allowed"; head -3 "$tmp/$cmd.err"
            fi
        done
        [ "$rc" -eq "$jrc" ] || fail "$name $cmd: text exit $rc != json exit $jrc"
        json_ok "$tmp/$cmd.json" || fail "$name $cmd --json: output is not valid JSON"
        if [ $JQ -eq 1 ] && [ "$rc" -ne 0 ] && [ "$rc" -ne 6 ]; then
            [ "$(jq -r '.result' "$tmp/$cmd.json")" = null ] || fail "$name $cmd: error without result:null"
        fi
        if [ $JQ -eq 1 ] && [ "$rc" -eq 6 ]; then
            n=$(jq '.warnings | length' "$tmp/$cmd.json")
            [ "$n" -gt 0 ] || fail "$name $cmd: exit 6 but no warnings in JSON"
            [ -s "$tmp/$cmd.err" ] || fail "$name $cmd: exit 6 but no warnings on stderr"
        fi
    done
    echo "ok: $name (info/modules/threads exit $rc)"
    [ $JQ -eq 1 ] || continue
    [ "$rc" -eq 0 ] || [ "$rc" -eq 6 ] || continue
    # counts: JSON == text rows == info counts
    jt=$(jq '.result.count' "$tmp/threads.json")
    tt=$(thread_rows "$tmp/threads.txt")
    it=$(jq '.result.counts.threads' "$tmp/info.json")
    [ "$jt" = "$tt" ] && [ "$jt" = "$it" ] ||
        fail "$name: thread counts differ: json $jt, text rows $tt, info $it"
    jm=$(jq '.result.count' "$tmp/modules.json")
    tm=$(module_rows "$tmp/modules.txt")
    im=$(jq '.result.counts.modules' "$tmp/info.json")
    [ "$jm" = "$tm" ] && [ "$jm" = "$im" ] ||
        fail "$name: module counts differ: json $jm, text rows $tm, info $im"
    ju=$(jq '.result.unloaded_count' "$tmp/modules.json")
    iu=$(jq '.result.counts.unloaded_modules' "$tmp/info.json")
    [ "$ju" = "$iu" ] || fail "$name: unloaded counts differ: modules $ju, info $iu"

    # independent reader: lldb's "thread list" / "image list"
    ref="$DATA/lldb-cli/$name.txt"
    [ -f "$ref" ] || continue
    lt=$(grep -c -E '^[* ] thread #[0-9]+: tid = ' "$ref")
    [ "$jt" = "$lt" ] || fail "$name: $jt threads, lldb lists $lt ($ref)"
    ours=$(jq -r '.result.threads[].tid' "$tmp/threads.json" | sort -n | tr '\n' ' ')
    theirs=$(sed -n -E 's/^[* ] thread #[0-9]+: tid = (0x[0-9a-fA-F]+|[0-9]+),.*/\1/p' "$ref" |
        while read -r t; do echo $((t)); done | sort -n | tr '\n' ' ')
    [ "$ours" = "$theirs" ] || fail "$name: thread ids [$ours] != lldb [$theirs]"
    stop=$(sed -n -E 's/^\* thread #[0-9]+: tid = (0x[0-9a-fA-F]+|[0-9]+),.*stop reason = (Exception|signal).*/\1/p' "$ref")
    if [ -n "$stop" ]; then
        et=$(jq -r '.result.exception_thread_id' "$tmp/threads.json")
        [ "$et" = "$((stop))" ] || fail "$name: exception thread $et, lldb stopped in $((stop))"
    fi
    lm=$(grep -c -E '^\[ *[0-9]+\] ' "$ref")
    [ "$jm" = "$lm" ] || fail "$name: $jm modules, lldb lists $lm"
    jq -r '.result.modules[].base' "$tmp/modules.json" >"$tmp/bases"
    for b in $(sed -n -E 's/^\[ *[0-9]+\] [^ ]+ (0x[0-9a-fA-F]+) .*/\1/p' "$ref"); do
        want=$(printf '0x%x' $((b)))
        grep -qx "$want" "$tmp/bases" || fail "$name: no module at $want (lldb image list)"
        # and the same base in the text output, WinDbg-style
        if [ "$(jq -r '.dump.arch' "$tmp/info.json")" = x86 ]; then
            txt=$(printf '%08x' $((b)))
        else
            txt=$(printf '%08x`%08x' $((b >> 32)) $((b & 0xffffffff)))
        fi
        grep -q "^$txt " "$tmp/modules.txt" || fail "$name: text output has no row starting $txt"
    done
    echo "ok: $name agrees with lldb ($jt threads, $jm modules)"
done
echo "$fails failure(s)"
[ "$fails" -eq 0 ]
