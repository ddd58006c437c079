#!/usr/bin/env bash
# --module-path on real data: a copy of the Linux .NET core whose app assembly (dotnet_leak.dll)
# is marked not captured (createdump's convention: PT_LOAD p_filesz 0, p_memsz > 0), so its types
# are UNKNOWN; then
#  - with --module-path naming the original assembly (file, or directory), every dumpheap -stat
#    row equals SOS's table for the unmodified dump (fixtures/data/*.sos.txt, lldb + libsosplugin)
#    and the module is reported as named from disk;
#  - the assembly bytes come from the unmodified dump (the image, laid out back into a file); when
#    mcs is installed the source is rebuilt too (mcs is deterministic) and must give the same file;
#  - a minidump (dotnet-2.0-x64.dmp, same assembly build) whose image is made not captured: named
#    again through the module list's file name; a file with another TimeDateStamp is refused;
#  - server GC: the same on a copy of dotnet-2.0-linux-x64-svr.core (both heaps; SOS's table of it);
#  - refused: the same file with another MVID (warning, exit 6, names stay UNKNOWN); a file that
#    is not an assembly (truncated: warning, exit 6); a missing path (warning, exit 6); a
#    different build of the source (its name position does not fit: "no file", names UNKNOWN).
set -u
BIN=${DS_BIN:?DS_BIN not set}
FIX=${DS_FIXTURE_DIR:-}
SRC=${DS_SOURCE_DIR:-}
core="$FIX/dotnet-2.0-linux-x64.core"
sos="$SRC/fixtures/data/dotnet-2.0-linux-x64.sos.txt"
if [ ! -f "$core" ] || [ ! -f "$sos" ]; then
    echo "skip: fixture $core or $sos not available"
    exit 77
fi
command -v python3 >/dev/null 2>&1 || { echo "skip: python3 not found"; exit 77; }
command -v jq >/dev/null 2>&1 || { echo "skip: jq not found"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# The image of dotnet_leak.dll in this core: MZ at 0x7fb8640f3000, SizeOfImage 0xc000 (the
# script checks that it is a PE whose metadata names the assembly dotnet_leak).
cat >"$tmp/patch.py" <<'EOF'
import struct, subprocess, sys
core, out_core, out_dll, base = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4], 16)
f = open(core, 'rb')
h = f.read(64)
phoff, phnum = struct.unpack_from('<Q', h, 32)[0], struct.unpack_from('<H', h, 56)[0]
f.seek(phoff)
ph = bytearray(f.read(56 * phnum))
loads = []
for i in range(phnum):
    t, fl, off, va, pa, fs, ms, al = struct.unpack_from('<IIQQQQQQ', ph, 56 * i)
    if t == 1:
        loads.append((i, va, fs, ms, off))
def read(va, n):
    out = bytearray()
    while n:
        for i, v, fs, ms, off in loads:
            if v <= va < v + fs:
                k = min(n, v + fs - va)
                f.seek(off + va - v)
                out += f.read(k)
                va += k
                n -= k
                break
        else:
            sys.exit('not captured: %x' % va)
    return bytes(out)
hdr = read(base, 0x1000)
pe = struct.unpack_from('<I', hdr, 0x3c)[0]
assert hdr[:2] == b'MZ' and hdr[pe:pe + 4] == b'PE\0\0'
nsec, optsz = struct.unpack_from('<H', hdr, pe + 6)[0], struct.unpack_from('<H', hdr, pe + 20)[0]
size, soh = struct.unpack_from('<II', hdr, pe + 24 + 56)
img = read(base, size)
secs, fsize = [], soh
for k in range(nsec):
    n, vs, va, rs, ro = struct.unpack_from('<8sIIII', img, pe + 24 + optsz + 40 * k)
    secs.append((va, rs, ro))
    fsize = max(fsize, ro + rs)
dll = bytearray(fsize)
dll[:soh] = img[:soh]
for va, rs, ro in secs:
    dll[ro:ro + rs] = img[va:va + rs]
assert b'\0dotnet_leak\0' in dll, 'not the dotnet_leak assembly'
open(out_dll, 'wb').write(dll)
n = 0
for i, v, fs, ms, off in loads:
    if v < base + size and v + ms > base:
        assert v >= base and v + ms <= base + size, 'PT_LOAD straddles the image'
        struct.pack_into('<Q', ph, 56 * i + 32, 0)  # p_filesz = 0: not captured
        n += 1
assert n > 0
subprocess.check_call(['cp', '--sparse=always', core, out_core])
g = open(out_core, 'r+b')
g.seek(phoff)
g.write(ph)
g.close()
EOF
python3 "$tmp/patch.py" "$core" "$tmp/nodll.core" "$tmp/dotnet_leak.dll" 7fb8640f3000 || exit 1

rows() { # statistics rows of a dumpheap -stat text output
    awk '/^Statistics:/{s=1; getline; next} s && /^Total /{s=0} s' "$1"
}
sed -n '/^(lldb) dumpheap -stat$/,/^Total/p' "$sos" | sed '1,3d;$d' >"$tmp/sos.rows"
[ "$(wc -l <"$tmp/sos.rows")" -gt 100 ] || fail "SOS table not found in $sos"

# without --module-path: the app's types are UNKNOWN
"$BIN" dumpheap -stat "$tmp/nodll.core" >"$tmp/none.txt" 2>"$tmp/none.err"
rc=$?
[ $rc -eq 0 ] || fail "patched core: exit $rc"
grep -q 'DsLeak' "$tmp/none.txt" && fail "patched core: DsLeak types still named"
rows "$tmp/none.txt" | cmp -s - "$tmp/sos.rows" && fail "patched core: table equals SOS's (patch ineffective)"

check_named() { # name, output, stderr, exit code
    [ "$4" -eq 0 ] || fail "$1: exit $4: $(cat "$3")"
    rows "$2" | diff -u "$tmp/sos.rows" - >"$tmp/$1.diff" || fail "$1: table differs from SOS's: $(head -20 "$tmp/$1.diff")"
    grep -Eq '^  named +module [0-9a-f]+ dotnet_leak <- .*dotnet_leak\.dll \(same build: MVID 4081fa3d92164143ba60b34108a4d86a' "$2" ||
        fail "$1: the module named from disk is not reported"
}

"$BIN" dumpheap -stat --module-path "$tmp/dotnet_leak.dll" "$tmp/nodll.core" >"$tmp/file.txt" 2>"$tmp/file.err"
check_named file "$tmp/file.txt" "$tmp/file.err" $?

mkdir -p "$tmp/dir" "$tmp/empty"
cp "$tmp/dotnet_leak.dll" "$tmp/dir/"
"$BIN" dumpheap -stat --module-path "$tmp/empty:$tmp/dir" "$tmp/nodll.core" >"$tmp/dir.txt" 2>"$tmp/dir.err"
check_named dir "$tmp/dir.txt" "$tmp/dir.err" $?

"$BIN" --json dumpheap -stat --module-path "$tmp/dir" "$tmp/nodll.core" >"$tmp/dir.json" 2>/dev/null
jq -e '[.result.module_path[] | select(.accepted and .name == "dotnet_leak")] | length == 1' "$tmp/dir.json" >/dev/null ||
    fail "JSON: module_path has no accepted dotnet_leak row"
jq -e '[.result.statistics.types[] | select(.name == "DsLeak.Font" and .count == 66000)] | length == 1' \
    "$tmp/dir.json" >/dev/null || fail "JSON: DsLeak.Font (66000, SOS) not named"

# fq names from disk too
"$BIN" fq -stat --module-path "$tmp/dotnet_leak.dll" "$tmp/nodll.core" >"$tmp/fq.txt" 2>"$tmp/fq.err" || fail "fq exit $?"
"$BIN" fq -stat "$core" >"$tmp/fq0.txt" 2>/dev/null
grep -q DsLeak "$tmp/fq0.txt" || fail "fq: no DsLeak type in the unmodified core's queue"
diff <(grep -v '^$' "$tmp/fq.txt" | sed '/^--module-path:/,$d') <(grep -v '^$' "$tmp/fq0.txt") >/dev/null ||
    fail "fq with --module-path differs from the unmodified core"

# mcs rebuilds the same file (deterministic): an independent copy of the assembly
if command -v mcs >/dev/null 2>&1 && [ -f "$SRC/fixtures/gen/dotnet_leak.cs" ]; then
    mkdir -p "$tmp/mcs" "$tmp/mcs2"
    if mcs -optimize+ -unsafe -out:"$tmp/mcs/dotnet_leak.dll" "$SRC/fixtures/gen/dotnet_leak.cs" >/dev/null 2>&1; then
        cmp -s "$tmp/mcs/dotnet_leak.dll" "$tmp/dotnet_leak.dll" || fail "mcs rebuild differs from the assembly in the dump"
        "$BIN" dumpheap -stat --module-path "$tmp/mcs" "$tmp/nodll.core" >"$tmp/mcs.txt" 2>"$tmp/mcs.err"
        check_named mcs "$tmp/mcs.txt" "$tmp/mcs.err" $?
    fi
    # a different build: one more class
    sed 's/^namespace DsLeak$/namespace DsLeak { class Extra { } }\nnamespace DsLeak/' \
        "$SRC/fixtures/gen/dotnet_leak.cs" >"$tmp/mcs2/dotnet_leak.cs"
    if mcs -optimize+ -unsafe -out:"$tmp/mcs2/dotnet_leak.dll" "$tmp/mcs2/dotnet_leak.cs" >/dev/null 2>&1; then
        "$BIN" dumpheap -stat --module-path "$tmp/mcs2" "$tmp/nodll.core" >"$tmp/mcs2.txt" 2>&1
        grep -q 'DsLeak' "$tmp/mcs2.txt" && fail "a different build named DsLeak types"
        grep -q '^  named ' "$tmp/mcs2.txt" && fail "a different build was accepted"
    fi
fi

# the same file with another MVID: refused with a warning, exit 6
python3 - "$tmp/dotnet_leak.dll" "$tmp/wrong.dll" <<'EOF'
import sys
d = bytearray(open(sys.argv[1], 'rb').read())
i = d.find(bytes.fromhex('4081fa3d92164143ba60b34108a4d86a'))
assert i > 0
d[i] ^= 0xff
open(sys.argv[2], 'wb').write(d)
EOF
"$BIN" dumpheap -stat --module-path "$tmp/wrong.dll" "$tmp/nodll.core" >"$tmp/wrong.txt" 2>"$tmp/wrong.err"
rc=$?
[ $rc -eq 6 ] || fail "other MVID: exit $rc, expected 6"
grep -q 'wrong.dll refused for module .*dotnet_leak.*MVID bf81fa3d92164143ba60b34108a4d86a is not in the dump' "$tmp/wrong.err" ||
    fail "other MVID: no refusal warning: $(cat "$tmp/wrong.err")"
grep -q 'DsLeak' "$tmp/wrong.txt" && fail "other MVID: DsLeak types named"

# truncated (metadata outside the file)
head -c 12288 "$tmp/dotnet_leak.dll" >"$tmp/trunc.dll"
"$BIN" dumpheap -stat --module-path "$tmp/trunc.dll" "$tmp/nodll.core" >"$tmp/trunc.txt" 2>"$tmp/trunc.err"
rc=$?
[ $rc -eq 6 ] || fail "truncated: exit $rc, expected 6"
grep -q 'trunc.dll: refused: metadata .* not inside the file' "$tmp/trunc.err" || fail "truncated: no warning"
grep -q 'DsLeak' "$tmp/trunc.txt" && fail "truncated: DsLeak types named"

# missing
"$BIN" dumpheap -stat --module-path "$tmp/nothere.dll" "$tmp/nodll.core" >"$tmp/miss.txt" 2>"$tmp/miss.err"
rc=$?
[ $rc -eq 6 ] || fail "missing: exit $rc, expected 6"
grep -q 'nothere.dll: No such file or directory' "$tmp/miss.err" || fail "missing: no warning"

# a minidump (module list: base, SizeOfImage, TimeDateStamp, CheckSum): dotnet-2.0-x64.dmp ran the same
# dotnet_leak.dll build (same MVID); its image's Memory64List descriptors are moved far away, so the
# image is no longer captured (the MemoryInfoList still maps it)
wdmp="$FIX/dotnet-2.0-x64.dmp"
if [ -f "$wdmp" ]; then
    python3 - "$wdmp" "$tmp/noimg.dmp" <<'EOF' || fail "minidump patch failed"
import shutil, struct, sys
src, dst = sys.argv[1], sys.argv[2]
base, size = 0x1b0c0000, 0xc000  # dotnet_leak.dll in this dump (module list)
shutil.copyfile(src, dst)
f = open(dst, 'r+b')
h = f.read(32)
assert h[:4] == b'MDMP'
n, dirrva = struct.unpack_from('<II', h, 8)
f.seek(dirrva)
d = f.read(12 * n)
moved = 0
for i in range(n):
    typ, sz, rva = struct.unpack_from('<III', d, 12 * i)
    if typ != 9:  # Memory64ListStream
        continue
    f.seek(rva)
    cnt, _ = struct.unpack('<QQ', f.read(16))
    descs = bytearray(f.read(16 * cnt))
    for k in range(cnt):
        start, dsz = struct.unpack_from('<QQ', descs, 16 * k)
        if start < base + size and start + dsz > base:
            assert start >= base and start + dsz <= base + size
            struct.pack_into('<Q', descs, 16 * k, 0x7ff000000000 + moved * 0x100000000)
            moved += 1
    f.seek(rva + 16)
    f.write(descs)
assert moved > 0
EOF
    "$BIN" dumpheap -stat "$wdmp" >"$tmp/w.orig" 2>/dev/null
    "$BIN" dumpheap -stat "$tmp/noimg.dmp" >"$tmp/w.none" 2>/dev/null
    grep -q 'DsLeak' "$tmp/w.none" && fail "minidump: DsLeak types named without the image"
    "$BIN" dumpheap -stat --module-path "$tmp/dir" "$tmp/noimg.dmp" >"$tmp/w.mp" 2>"$tmp/w.err"
    rc=$?
    [ $rc -eq 0 ] || fail "minidump --module-path: exit $rc: $(cat "$tmp/w.err")"
    rows "$tmp/w.mp" | diff -u <(rows "$tmp/w.orig") - >/dev/null ||
        fail "minidump --module-path: table differs from the unmodified dump's"
    grep -Eq '^  named +module [0-9a-f]+ dotnet_leak <- .*/dir/dotnet_leak\.dll \(same build' "$tmp/w.mp" ||
        fail "minidump: module named from disk not reported"
    # another TimeDateStamp: refused by the module list
    mkdir -p "$tmp/ts"
    python3 - "$tmp/dotnet_leak.dll" "$tmp/ts/dotnet_leak.dll" <<'EOF'
import struct, sys
d = bytearray(open(sys.argv[1], 'rb').read())
pe = struct.unpack_from('<I', d, 0x3c)[0]
struct.pack_into('<I', d, pe + 8, 0x5a5a5a5a)
open(sys.argv[2], 'wb').write(d)
EOF
    "$BIN" dumpheap -stat --module-path "$tmp/ts" "$tmp/noimg.dmp" >"$tmp/w.ts" 2>"$tmp/w.ts.err"
    rc=$?
    [ $rc -eq 6 ] || fail "minidump, other timestamp: exit $rc, expected 6"
    grep -q 'refused for module .*different build: module list SizeOfImage 0xc000 TimeDateStamp 0x0 CheckSum 0x0, file 0xc000 0x5a5a5a5a' \
        "$tmp/w.ts.err" || fail "minidump, other timestamp: no refusal: $(cat "$tmp/w.ts.err")"
    grep -q 'DsLeak' "$tmp/w.ts" && fail "minidump, other timestamp: DsLeak types named"
fi

# server GC (2 heaps): the same assembly build in dotnet-2.0-linux-x64-svr.core (image at 0x7f51694e5000,
# where its m_pSimpleName 0x7f51694e9676 places it); both heaps' objects are named from disk again and
# every row equals SOS's table for the unmodified server-GC core; fq's per-heap output is unchanged
score="$FIX/dotnet-2.0-linux-x64-svr.core"
ssos="$SRC/fixtures/data/dotnet-2.0-linux-x64-svr.sos.txt"
if [ -f "$score" ] && [ -f "$ssos" ]; then
    if python3 "$tmp/patch.py" "$score" "$tmp/nodll-svr.core" "$tmp/svr.dll" 7f51694e5000; then
        cmp -s "$tmp/svr.dll" "$tmp/dotnet_leak.dll" || fail "svr: the assembly differs from the workstation core's"
        sed -n '/^(lldb) dumpheap -stat$/,/^Total/p' "$ssos" | sed '1,3d;$d' >"$tmp/ssos.rows"
        [ "$(wc -l <"$tmp/ssos.rows")" -gt 100 ] || fail "SOS table not found in $ssos"
        "$BIN" dumpheap -stat "$tmp/nodll-svr.core" >"$tmp/svr.none" 2>/dev/null
        grep -q 'DsLeak' "$tmp/svr.none" && fail "svr patched core: DsLeak types still named"
        "$BIN" dumpheap -stat --module-path "$tmp/dir" "$tmp/nodll-svr.core" >"$tmp/svr.txt" 2>"$tmp/svr.err"
        rc=$?
        [ $rc -eq 0 ] || fail "svr --module-path: exit $rc: $(cat "$tmp/svr.err")"
        rows "$tmp/svr.txt" | diff -u "$tmp/ssos.rows" - >"$tmp/svr.diff" ||
            fail "svr: table differs from SOS's: $(head -20 "$tmp/svr.diff")"
        grep -Eq '^  named +module [0-9a-f]+ dotnet_leak <- .*/dir/dotnet_leak\.dll \(same build: MVID 4081fa3d92164143ba60b34108a4d86a' "$tmp/svr.txt" ||
            fail "svr: the module named from disk is not reported"
        "$BIN" fq --module-path "$tmp/dir" "$tmp/nodll-svr.core" >"$tmp/sfq.txt" 2>/dev/null || fail "svr fq exit $?"
        "$BIN" fq "$score" >"$tmp/sfq0.txt" 2>/dev/null
        [ "$(grep -c '^Heap ' "$tmp/sfq0.txt")" -eq 2 ] || fail "svr fq: not two heaps"
        diff <(grep -v '^$' "$tmp/sfq.txt" | sed '/^--module-path:/,$d') <(grep -v '^$' "$tmp/sfq0.txt") >/dev/null ||
            fail "svr fq with --module-path differs from the unmodified core"
        rm -f "$tmp/nodll-svr.core"
    else
        fail "svr: patching the server-GC core failed"
    fi
fi

# usage
"$BIN" dumpheap -stat --module-path >/dev/null 2>&1
[ $? -eq 2 ] || fail "--module-path without a value: not a usage error"

if [ $fails -gt 0 ]; then
    echo "$fails failure(s)"
    exit 1
fi
echo "ok"
