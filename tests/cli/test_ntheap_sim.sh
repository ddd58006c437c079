#!/usr/bin/env bash
# Self-check of the NT-heap simulator's dumps (tests/gen, docs/internals/ntheap-sim.md), independent
# of dumpsleuth's heap walker:
#  - tests/gen/check_sim.py re-reads every dump with its own minidump parser and offsets and checks
#    that the bytes say what the truth file says (entries, chains, lists, LFH, counters);
#  - Debian's lldb opens every dump: `image list` shows the truth's modules at their bases, and
#    `memory read` of PEB.ProcessHeap and of each NT heap's SegmentSignature gives the bytes the
#    generator wrote (skipped when lldb is absent);
#  - dumpsleuth's existing `info` and `summary` accept every dump (exit 0), and `regions` puts every
#    reachable segment and VA block of each NT heap in a Heap/Heap32/Heap64 region.
set -u
command -v python3 >/dev/null || { echo "SKIP: python3 not installed"; exit 77; }
dir=${DS_NTHEAP_DIR:-}
[ -n "$dir" ] && [ -f "$dir/w10-x64.truth.json" ] || { echo "SKIP: simulator dumps not built ($dir)"; exit 77; }
BIN=${DS_BIN:?DS_BIN not set}
src=${DS_SOURCE_DIR:?DS_SOURCE_DIR not set}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

python3 "$src/tests/gen/check_sim.py" "$dir" || fail=1

have_lldb=1
command -v lldb >/dev/null || { have_lldb=0; echo "note: lldb not installed: lldb checks skipped"; }

for truth in "$dir"/*.truth.json; do
    n=$(basename "$truth" .truth.json)
    dmp="$dir/$n.dmp"
    "$BIN" info "$dmp" >"$tmp/info.txt" 2>&1 || { echo "FAIL: $n: info exit $?"; fail=1; }
    "$BIN" summary "$dmp" >"$tmp/summary.txt" 2>&1 || { echo "FAIL: $n: summary exit $?"; fail=1; }
    "$BIN" --json regions "$dmp" >"$tmp/regions.json" 2>/dev/null || { echo "FAIL: $n: regions exit $?"; fail=1; }
    python3 - "$truth" "$tmp/regions.json" <<'PY' || fail=1
import json, sys
t = json.load(open(sys.argv[1]))
regs = [(int(r["base"], 16), int(r["end"], 16), r["usage"]) for r in json.load(open(sys.argv[2]))["result"]["regions"]]
def usage(a):
    for b, e, u in regs:
        if b <= a < e:
            return u
bad = []
for h in t["heaps"]:
    if h["kind"] != "nt":
        continue
    want = "Heap"
    if t["os"]["wow64"]:
        want = "Heap32" if h["bits"] == 32 else "Heap64"
    addrs = [s["address"] for s in h["segments"] if s.get("reliable", True)]
    addrs += [v["address"] for v in h["virtual_blocks"]]
    for a in addrs:
        if usage(int(a, 16)) != want:
            bad.append("%s is %s, not %s" % (a, usage(int(a, 16)), want))
if bad:
    print("FAIL: %s: regions: %s" % (t["variant"], "; ".join(bad[:5])))
    sys.exit(1)
PY
    [ $have_lldb -eq 1 ] || continue
    # lldb commands and the values they must print, from the truth file
    python3 - "$truth" >"$tmp/lldb.plan" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
x64 = t["os"]["arch"] == "x64"
pebs = [(t["peb"], 8 if x64 else 4, "peb")]
if t["peb32"]:
    pebs.append((t["peb32"], 4, "peb32"))
for peb, ps, name in pebs:
    first = [h for h in t["heaps"] if h["peb"] == name][0]
    off = 0x30 if ps == 8 else 0x18
    print("memory read -s%d -fx -c1 0x%x\t0x%0*x" % (ps, int(peb, 16) + off, 2 * ps, int(first["address"], 16)))
for h in t["heaps"]:
    if h["kind"] == "nt":
        off = 0x10 if h["bits"] == 64 else 0x8
        print("memory read -s4 -fx -c1 0x%x\t0xffeeffee" % (int(h["address"], 16) + off))
PY
    args=(-o "image list")
    while IFS=$'\t' read -r cmd _; do args+=(-o "$cmd"); done <"$tmp/lldb.plan"
    timeout 120 lldb --batch --core "$dmp" "${args[@]}" >"$tmp/lldb.txt" 2>/dev/null
    python3 - "$truth" "$tmp/lldb.plan" "$tmp/lldb.txt" <<'PY' || fail=1
import json, re, sys
t = json.load(open(sys.argv[1]))
plan = [l.rstrip("\n").split("\t") for l in open(sys.argv[2]) if l.strip()]
out = open(sys.argv[3]).read()
bad = []
if "was loaded" not in out:
    bad.append("lldb did not load the core")
mods = {(int(a, 16), p.strip()) for a, p in re.findall(r"^\[\s*\d+\]\s+(?:\S+\s+)?(0x[0-9a-f]+) (.+?)\s*$", out, re.M)}
for m in t["modules"]:
    if (int(m["base"], 16), m["path"]) not in mods:
        bad.append("module %s at %s not in lldb's image list" % (m["path"], m["base"]))
for cmd, want in plan:
    addr = int(cmd.split()[-1], 16)
    got = re.search(r"^0x0*%x: (0x[0-9a-f]+)" % addr, out, re.M)
    if not got or int(got.group(1), 16) != int(want, 16):
        bad.append("%s: lldb %s, expected %s" % (cmd, got.group(1) if got else "nothing", want))
if bad:
    print("FAIL: %s: lldb: %s" % (t["variant"], "; ".join(bad[:5])))
    sys.exit(1)
PY
done
[ $fail -eq 0 ] && echo "ok: $(ls "$dir"/*.truth.json | wc -l) simulator dumps"
exit $fail
