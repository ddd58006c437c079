#!/usr/bin/env bash
# CLI usage: exit codes of usage errors, --help/--version/help, missing file (3), non-dump (4),
# and the JSON error envelope. Exit codes are the ones of docs/exit-codes.md.
set -u
BIN=${DS_BIN:?DS_BIN not set}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0

json_ok() { # file -> 0 when it is valid JSON (2 when no JSON tool is available)
    if command -v jq >/dev/null 2>&1; then jq -e . "$1" >/dev/null 2>&1
    elif command -v python3 >/dev/null 2>&1; then python3 -m json.tool "$1" >/dev/null 2>&1
    else return 2; fi
}
jget() { # file filter -> value (needs jq)
    jq -r "$2" "$1" 2>/dev/null
}

expect() { # expected-exit description command...
    local want=$1 desc=$2
    shift 2
    "$@" >"$tmp/out" 2>"$tmp/err"
    local rc=$?
    if [ "$rc" -ne "$want" ]; then
        echo "FAIL: $desc: exit $rc, expected $want ($*)"
        sed 's/^/  stderr: /' "$tmp/err" | head -5
        fails=$((fails + 1))
    else
        echo "ok: $desc (exit $rc)"
    fi
}
contains() { # file pattern description
    if ! grep -q -- "$2" "$1"; then
        echo "FAIL: $3: '$2' not found"
        fails=$((fails + 1))
    fi
}

# help and version
expect 0 "--help" "$BIN" --help
contains "$tmp/out" "Commands:" "--help lists commands"
for c in info modules threads; do contains "$tmp/out" "  $c " "--help lists $c"; done
expect 0 "-h" "$BIN" -h
expect 0 "--version" "$BIN" --version
contains "$tmp/out" "^dumpsleuth [0-9]" "--version prints the version"
expect 0 "help" "$BIN" help
expect 0 "help info" "$BIN" help info
contains "$tmp/out" "usage: dumpsleuth info" "help info prints the info usage"
for c in info modules threads; do
    expect 0 "$c --help" "$BIN" "$c" --help
    contains "$tmp/out" "usage: dumpsleuth $c" "$c --help prints its usage"
    expect 0 "$c -h (after the file)" "$BIN" "$c" some.dmp -h
done
expect 0 "--help before the command" "$BIN" --help modules
contains "$tmp/out" "usage: dumpsleuth modules" "--help modules prints the modules usage"

# usage errors: exit 2, message on stderr
expect 2 "no arguments" "$BIN"
contains "$tmp/err" "usage:" "no arguments prints usage on stderr"
expect 2 "unknown command" "$BIN" frobnicate x.dmp
contains "$tmp/err" "unknown command" "unknown command message"
expect 2 "unknown global option" "$BIN" --bogus info x.dmp
expect 2 "unknown command option" "$BIN" info --bogus x.dmp
expect 2 "unknown modules option" "$BIN" modules -x x.dmp
expect 2 "info without a file" "$BIN" info
expect 2 "threads without a file" "$BIN" threads
expect 2 "two files" "$BIN" info a.dmp b.dmp
expect 2 "help unknown command" "$BIN" help nope
expect 2 "modules --loaded --unloaded" "$BIN" modules --loaded --unloaded x.dmp
expect 2 "modules --match without pattern" "$BIN" modules x.dmp --match

# input errors
expect 3 "missing file" "$BIN" info "$tmp/does-not-exist.dmp"
contains "$tmp/err" "does-not-exist.dmp" "missing-file message names the file"
expect 3 "a directory" "$BIN" threads "$tmp"
printf 'this is not a dump\n' >"$tmp/text.dmp"
expect 4 "not a dump" "$BIN" info "$tmp/text.dmp"
contains "$tmp/err" "text.dmp: file header at offset 0x0" "format error names structure and offset"
: >"$tmp/empty.dmp"
expect 4 "empty file" "$BIN" modules "$tmp/empty.dmp"
expect 4 "--quiet does not hide errors" "$BIN" -q info "$tmp/text.dmp"
contains "$tmp/err" "not a dump format" "error printed with -q"

# JSON envelopes on errors (--json anywhere)
check_error_json() { # desc status exit
    json_ok "$tmp/out"
    local r=$?
    if [ $r -eq 2 ]; then echo "skip JSON check ($1): no jq/python3"; return; fi
    if [ $r -ne 0 ]; then
        echo "FAIL: $1: stdout is not JSON"; fails=$((fails + 1)); return
    fi
    command -v jq >/dev/null 2>&1 || return
    local got
    got=$(jget "$tmp/out" '[.schema_version, (.result|tostring), .error.status, (.error.exit_code|tostring)] | join(" ")')
    if [ "$got" != "1.0 null $2 $3" ]; then
        echo "FAIL: $1: envelope says '$got', expected '1.0 null $2 $3'"; fails=$((fails + 1))
    fi
}
expect 3 "missing file --json" "$BIN" info "$tmp/nope.dmp" --json
check_error_json "missing file --json" io 3
expect 4 "not a dump --json" "$BIN" --json threads "$tmp/text.dmp"
check_error_json "not a dump --json" format 4
if command -v jq >/dev/null 2>&1; then
    got=$(jget "$tmp/out" '.dump.file_size')
    [ "$got" = "19" ] || { echo "FAIL: file_size in error envelope: $got"; fails=$((fails + 1)); }
    got=$(jget "$tmp/out" '.warnings[0] | "\(.severity) \(.structure) \(.offset)"')
    [ "$got" = "error file header 0" ] || { echo "FAIL: warning object: $got"; fails=$((fails + 1)); }
fi
expect 2 "usage error --json" "$BIN" info --json --bogus x.dmp
check_error_json "usage error --json" usage 2

echo "$fails failure(s)"
[ "$fails" -eq 0 ]
