#!/bin/sh
# Regenerates the small PE test images of tests/unit/test_pe.c and their objdump provenance.
# Needs mingw-w64 (x86_64-w64-mingw32-*, i686-w64-mingw32-*), binutils >= 2.40 (--pdb).
# The binaries are committed; the expected values in test_pe.c come from the *.objdump.txt
# files written here (objdump output, independent of dumpsleuth) and from version.rc.
set -eu
export TZ=UTC LC_ALL=C
cd "$(dirname "$0")"

# x64 DLL: named + ordinal-only + forwarded exports, version resource, .pdata,
# CodeView RSDS record with a PDB path (ld --pdb).
x86_64-w64-mingw32-windres -O coff -o version64.res version.rc
x86_64-w64-mingw32-gcc -O1 -shared -s -o testdll64.dll testdll.c testdll.def version64.res \
    -Wl,--pdb=testdll64.pdb
# x86 (PE32) DLL: same exports and resource, CodeView RSDS from --build-id (no PDB path).
i686-w64-mingw32-windres -O coff -o version32.res version.rc
i686-w64-mingw32-gcc -O1 -shared -s -o testdll32.dll testdll.c testdll.def version32.res \
    -Wl,--build-id
rm -f version64.res version32.res testdll64.pdb testdll32.pdb testdll64.lib testdll32.lib

x86_64-w64-mingw32-objdump -x testdll64.dll > testdll64.objdump.txt
i686-w64-mingw32-objdump -x testdll32.dll > testdll32.objdump.txt
