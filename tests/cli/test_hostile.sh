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
exit $fail
