#!/usr/bin/env bash
# search / extract / profile on the Wine fixtures: text and JSON agree, the counts equal the truth
# files and an independent grep over the raw dump, extracted bytes equal what search hit, extract
# refuses to overwrite and reports bytes that are not in the dump.
set -u
BIN=${DS_BIN:?DS_BIN not set}
FIX=${DS_FIXTURE_DIR:?DS_FIXTURE_DIR not set}
command -v jq >/dev/null 2>&1 || { echo "SKIP: jq not available"; exit 77; }
[ -f "$FIX/native-x64.dmp" ] || { echo "SKIP: fixtures not available"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
eq() { # got want description
    if [ "$1" = "$2" ]; then ok "$3 ($1)"; else fail "$3: got '$1', want '$2'"; fi
}
# main.c's terminal-safe stdout/stderr wrappers (src/output/termsafe.c) are never freed; that is
# not ours to fix here, so that one allocation is suppressed (every other leak still fails).
printf 'leak:ds_termsafe_open\n' >"$tmp/lsan.supp"
export LSAN_OPTIONS="suppressions=$tmp/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"

for name in native-x64 native-x86 native-wow64; do
    dmp="$FIX/$name.dmp" truth="$FIX/$name.truth.json"
    [ -f "$dmp" ] || { echo "skip $name: not available"; continue; }
    ascii=$(jq -r .markers.ascii "$truth")
    wide=$(jq -r .markers.wide "$truth")
    want_a=$(jq -r .markers.ascii_count "$truth")
    want_w=$(jq -r .markers.wide_count "$truth")

    # --count: text and JSON say the same
    "$BIN" search --count -a "$ascii" "$dmp" >"$tmp/t" 2>"$tmp/e"; rc=$?
    eq "$rc" 0 "$name: search --count exit code"
    "$BIN" --json search --count -a "$ascii" "$dmp" >"$tmp/j" 2>/dev/null
    t_total=$(sed -n 's/^Total hits: \([0-9]*\) in \([0-9]*\) regions$/\1/p' "$tmp/t")
    t_regions=$(sed -n 's/^Total hits: \([0-9]*\) in \([0-9]*\) regions$/\2/p' "$tmp/t")
    eq "$t_total" "$want_a" "$name: ASCII marker count (text) = truth"
    eq "$(jq -r .result.total "$tmp/j")" "$t_total" "$name: JSON total = text total"
    eq "$(jq -r .result.regions_with_hits "$tmp/j")" "$t_regions" "$name: JSON regions = text"
    t_unk=$(awk '$1 == "<unknown>" && NF == 3 {print $2}' "$tmp/t")
    eq "$(jq -r '.result.by_usage[] | select(.usage == "<unknown>") | .hits' "$tmp/j")" "$t_unk" \
        "$name: <unknown> hits, JSON = text"
    eq "$(jq -r '[.result.by_usage[].hits] | add' "$tmp/j")" "$want_a" \
        "$name: by_usage rows add up to the total"
    eq "$(jq -r '.result.top_regions[0].hits' "$tmp/j")" "$(jq -r .markers.ascii_per_region "$truth")" \
        "$name: top region holds ascii_per_region markers"

    "$BIN" --json search --count -u "$wide" "$dmp" >"$tmp/j" 2>/dev/null
    eq "$(jq -r .result.total "$tmp/j")" "$want_w" "$name: UTF-16 marker count = truth"

    # Independent check: grep over the raw dump file. The file holds every captured byte once, plus
    # stream metadata (which could only add copies), so grep's count is an upper bound for ours;
    # the truth file says the marker exists only in captured memory, so the two must be equal.
    g=$(LC_ALL=C grep -a -o -F -- "$ascii" "$dmp" | wc -l)
    eq "$g" "$t_total" "$name: grep -o | wc -l over the raw file = our count"

    # hit lines: WinDbg's s/db shape, and the --limit message
    "$BIN" search --limit 3 -a "$ascii" "$dmp" >"$tmp/t" 2>/dev/null
    eq "$(grep -c "44 53 4c 45 55 54 48 2d-41 53 43 49 49 2d 4d 41  DSLEUTH-ASCII-MA" "$tmp/t")" 3 \
        "$name: three db-style hit lines"
    grep -q "^\.\.\. $((want_a - 3)) more hits not shown" "$tmp/t" ||
        fail "$name: --limit does not say how many more"

    # extract the first VirtualAlloc region; the markers are at the truth's offsets and the bytes
    # at every search hit in that region equal the marker
    base=$(jq -r '.virtualalloc.regions[0].base' "$truth")
    out="$tmp/x-$name"
    "$BIN" extract --region "$base" -o "$out" "$dmp" >"$tmp/m" 2>&1; rc=$?
    eq "$rc" 0 "$name: extract --region exit code"
    f=$(ls "$out"/*.bin 2>/dev/null | head -1)
    eq "$(stat -c %s "$f" 2>/dev/null)" "$(jq -r '.virtualalloc.regions[0].size' "$truth")" \
        "$name: extracted file size = region size"
    for off in $(jq -r '.virtualalloc.ascii_marker_offsets[]' "$truth"); do
        got=$(dd if="$f" bs=1 skip="$off" count=${#ascii} 2>/dev/null)
        eq "$got" "$ascii" "$name: marker at truth offset $off of the extracted file"
    done
    "$BIN" --json search --range "$base L20000" -a "$ascii" "$dmp" >"$tmp/j" 2>/dev/null
    for a in $(jq -r '.result.hits[].address' "$tmp/j"); do
        off=$((a - base))
        got=$(dd if="$f" bs=1 skip="$off" count=16 2>/dev/null | od -An -tx1 | tr -s ' \n' ' ' |
            sed 's/^ //; s/ $//')
        want=$(jq -r --arg a "$a" '.result.hits[] | select(.address == $a) | .bytes' "$tmp/j" |
            tr '-' ' ')
        eq "$got" "$want" "$name: file bytes at hit $a = search's bytes"
    done
    # refuses to overwrite (exit 2, file untouched), --force overwrites
    sum=$(md5sum <"$f")
    "$BIN" extract --region "$base" --fill 0xcc -o "$out" "$dmp" >/dev/null 2>"$tmp/e"; rc=$?
    eq "$rc" 2 "$name: extract refuses to overwrite"
    grep -q "exists" "$tmp/e" || fail "$name: no 'exists' message"
    eq "$(md5sum <"$f")" "$sum" "$name: file unchanged after refusal"
    "$BIN" extract --force --region "$base" -o "$out" "$dmp" >/dev/null 2>&1; rc=$?
    eq "$rc" 0 "$name: extract --force"

    # a partially captured image: the dumper kept only the first page of system DLLs
    mod=$("$BIN" --json modules "$dmp" 2>/dev/null | jq -c '[.result.modules[] |
        select(.name == "kernelbase" or .name == "kernel32")][0] | [.base, .size]')
    mbase=$(jq -r '.[0]' <<<"$mod") msize=$(jq -r '.[1]' <<<"$mod")
    "$BIN" --json extract --range "$mbase L$(printf %x "$msize")" --fill 0xcc -o "$tmp/img-$name" \
        "$dmp" >"$tmp/j" 2>"$tmp/e"; rc=$?
    eq "$rc" 6 "$name: extract of a partially captured image exits 6 (partial)"
    cap=$(jq -r '.result.files[0].captured' "$tmp/j") unc=$(jq -r '.result.files[0].not_captured' "$tmp/j")
    [ "$cap" -gt 0 ] && [ "$unc" -gt 0 ] || fail "$name: image should be partially captured ($cap/$unc)"
    eq "$((cap + unc))" "$msize" "$name: captured + not_captured = size"
    grep -q "not in the dump" "$tmp/e" || fail "$name: uncaptured bytes not reported on stderr"
    fimg="$tmp/img-$name/$(jq -r '.result.files[0].file' "$tmp/j")"
    eq "$(head -c 2 "$fimg")" "MZ" "$name: image file starts with MZ (captured header page)"
    cc=$(tail -c 4096 "$fimg" | od -An -tx1 -v | tr -s ' \n' '\n' | grep -c '^cc$')
    eq "$cc" 4096 "$name: uncaptured tail filled with --fill 0xcc"
    "$BIN" extract --range "$mbase L$(printf %x "$msize")" -o "$tmp/img2-$name" "$dmp" \
        >"$tmp/t" 2>/dev/null
    grep -q "Warning: 1 file contains bytes that are not in the dump" "$tmp/t" ||
        fail "$name: text manifest does not warn about uncaptured bytes"
    eq "$(awk '$NF ~ /\.bin$/ {print $5}' "$tmp/t")" "$unc" "$name: text NotCaptured = JSON"
done

# profile: one command answers "these 300 regions are HTML/JavaScript text"
dmp="$FIX/native-x64.dmp"
"$BIN" profile -f Unk,MEM_COMMIT --size 0x20000 "$dmp" >"$tmp/t" 2>/dev/null; rc=$?
eq "$rc" 0 "profile exit code"
grep -q "^Verdict: 300 of 300 regions (37.500 MB) hold HTML + JavaScript$" "$tmp/t" ||
    fail "profile verdict line: $(grep Verdict "$tmp/t")"
"$BIN" --json profile -f Unk,MEM_COMMIT --size 0x20000 "$dmp" >"$tmp/j" 2>/dev/null
eq "$(jq -r '.result.verdict.kinds | join(",")' "$tmp/j")" "html,javascript" "profile JSON verdict"
eq "$(jq -r '.result.regions' "$tmp/j")" "$(jq -r .virtualalloc.count "$FIX/native-x64.truth.json")" \
    "profile region count = truth"

# usage errors
"$BIN" search "$dmp" >/dev/null 2>&1; eq "$?" 2 "search without a pattern"
"$BIN" search -b "zz" "$dmp" >/dev/null 2>&1; eq "$?" 2 "search -b with a bad byte"
"$BIN" search -a x --range "2000-1000" "$dmp" >/dev/null 2>&1; eq "$?" 2 "search with a bad range"
"$BIN" extract -o "$tmp/none" "$dmp" >/dev/null 2>&1; eq "$?" 2 "extract without a selection"

[ "$fails" -eq 0 ] && echo "all passed" || echo "$fails failed"
[ "$fails" -eq 0 ]
