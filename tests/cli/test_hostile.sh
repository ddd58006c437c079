#!/usr/bin/env bash
# Hostile inputs found by fuzzing (tests/data/hostile/): each must end in a clean error with the
# documented exit code, never a signal.
set -u
fail=0
check() { # file expected-exit
  "$DS_BIN" info "$1" >/dev/null 2>"${TMPDIR:-/tmp}/ds_hostile.err"
  rc=$?
  if [ "$rc" -ne "$2" ]; then
    echo "FAIL: info $1: exit $rc, expected $2"; cat "${TMPDIR:-/tmp}/ds_hostile.err"; fail=1
  elif ! grep -q "$(basename "$1")" "${TMPDIR:-/tmp}/ds_hostile.err"; then
    echo "FAIL: info $1: the message does not name the file"; fail=1
  else
    echo "ok: $(basename "$1") -> exit $rc: $(head -c 160 "${TMPDIR:-/tmp}/ds_hostile.err")"
  fi
}
# libkdumpfile 0.5.1 dies of SIGSEGV inside kdump_open on this mutated ELF vmcore; the trial
# open in a child process turns that into a format error (exit 4).
check "$DS_TEST_DATA/hostile/kdump-open-crash.vmcore" 4

# A module path with an ESC sequence (made from a real corpus dump): the terminal must never see
# a raw control byte; the JSON keeps the exact string (escaped by the JSON writer).
src="${DS_SHARED_DIR:-}/corpus/rmd-test.dmp"
if [ -f "$src" ] && command -v python3 >/dev/null; then
  evil="${TMPDIR:-/tmp}/ds_evil_$$.dmp"
  python3 - "$src" "$evil" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
needle = "ntdll".encode("utf-16-le")
i = b.find(needle)
assert i > 0, "module name not found"
b[i:i + 8] = "\x1b[2J".encode("utf-16-le")[:8]   # ESC [ 2 J : clear screen
open(sys.argv[2], "wb").write(bytes(b))
PY
  out=$("$DS_BIN" modules -v "$evil" 2>&1)
  if printf '%s' "$out" | LC_ALL=C grep -q $'\x1b'; then echo "FAIL: raw ESC reached the terminal"; fail=1
  else echo "ok: ESC in a module path is printed as '?'"; fi
  "$DS_BIN" --json modules "$evil" | grep -q '\\u001b\[2J' && echo "ok: JSON keeps it escaped" ||
    { echo "FAIL: JSON lost the escaped ESC"; fail=1; }
  rm -f "$evil"
fi
exit $fail
