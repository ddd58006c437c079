#!/usr/bin/env bash
# heap through the CLI, against independent truth:
#  - every simulated NT-heap dump ($DS_NTHEAP_DIR/<variant>.dmp, written by tests/gen/ntheap_sim with
#    the allocator's final state in <variant>.truth.json; docs/internals/ntheap-sim.md): heap -s rows,
#    -m segments and VirtualAlloc blocks, -stat rows, -a entries, -x on truth addresses, issues and
#    exit codes of the corrupted variants; text and JSON agree;
#  - the Wine fixtures (real processes; Wine's heap is not an NT heap): "not an NT heap", exit 5.
set -u
shopt -s extglob
command -v jq >/dev/null || { echo "SKIP: jq not installed"; exit 77; }
dir="${DS_NTHEAP_DIR:-$(dirname "$DS_BIN")/ntheap}"
ls "$dir"/*.truth.json >/dev/null 2>&1 || { echo "SKIP: no simulated NT-heap dumps in $dir"; exit 77; }
fail=0
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
eq() { # what got expected (long values: the first difference only)
  if [ "$2" == "$3" ]; then echo "ok: $1"; return; fi
  fail=1; echo "FAIL: $1:"
  if [ ${#2} -gt 300 ] || [ ${#3} -gt 300 ]; then
    local i=0; while [ "${2:i:1}" == "${3:i:1}" ]; do i=$((i + 1)); done
    local from=$((i > 100 ? i - 100 : 0))
    echo "   got      ...${2:from:250}"; echo "   expected ...${3:from:250}"
  else echo "   got      $2"; echo "   expected $3"; fi
}
run() { # out-file args... ; sets rc
  "$DS_BIN" "${@:2}" >"$1" 2>"$1.err"; rc=$?
  [ $rc -lt 128 ] || { echo "FAIL: crash ($rc): ${*:2}"; fail=1; }
}

for truth in "$dir"/*.truth.json; do
  v=$(basename "$truth" .truth.json); d="$dir/$v.dmp"
  [ -f "$d" ] || { echo "FAIL: $v: dump missing"; fail=1; continue; }
  nissues=$(jq '.issues | length' "$truth")
  bad=$(jq -r '[.issues[].heap] | unique | join(" ")' "$truth")  # heaps with an issue
  expect_rc=0; [ "$nissues" -gt 0 ] && expect_rc=6
  # ---- -s ----
  run "$tmp/s.json" --json heap -s "$d"
  eq "$v -s exit" "$rc" "$expect_rc"
  eq "$v -s heaps" "$(jq -c '[.result.heaps[] | [.address, .bits, .kind]]' "$tmp/s.json")" \
     "$(jq -c '[.heaps[] | [.address, .bits, .kind]]' "$truth")"
  # the !heap -s row of every NT heap (counters are read, not walked: exact even when corrupted,
  # except the walked list length / VA count of a heap whose list is the damaged one)
  q='[.[] | select(.kind == "nt") | [.address, .flags, .reserv_k, .commit_k, .virt_k, .free_k,
       (if .skip_list then null else .list_length end), .ucr,
       (if .skip_va then null else .virt_blocks end), .lock_cont, .fast_heap]]'
  # the walked free-list length stops early at a cycle or at a missing page (then an issue says so)
  skl=$(jq -r '[.issues[] | select((.kind == "list_cycle" and (.detail | test("FreeList|free list"; "i"))) or .kind == "not_in_dump") | .heap] | join(" ")' "$truth")
  skv=$(jq -r '[.issues[] | select(.kind == "list_cycle" and (.detail | test("Virtual|VA"; "i"))) | .heap] | join(" ")' "$truth")
  got=$(jq -c --arg skl "$skl" --arg skv "$skv" '[.result.heaps[] | {address, kind, flags: (if .flags then (.flags | ltrimstr("0x") | explode | map(if . >= 97 then . - 87 else . - 48 end) | reduce .[] as $d (0; . * 16 + $d)) else null end),
        reserv_k: ((.reserved // 0) / 1024 | floor), commit_k: ((.committed // 0) / 1024 | floor),
        virt_k: ((.virtual // 0) / 1024 | floor), free_k: ((.free // 0) / 1024 | floor),
        list_length: .free_list_length, ucr: .ucr_count, virt_blocks: .virtual_blocks,
        lock_cont: .lock_contention, fast_heap: (if .lfh_active then "LFH" else "" end),
        skip_list: (.address as $a | $skl | split(" ") | index($a) != null),
        skip_va: (.address as $a | $skv | split(" ") | index($a) != null)}] | '"$q" "$tmp/s.json")
  exp=$(jq -c --arg skl "$skl" --arg skv "$skv" '[.heaps[] | select(.kind == "nt") | .heap_s + {kind, address,
        skip_list: (.address as $a | $skl | split(" ") | index($a) != null),
        skip_va: (.address as $a | $skv | split(" ") | index($a) != null)}] | '"$q" "$truth")
  eq "$v -s rows" "$got" "$exp"
  # text rows = JSON rows (address, flags, the nine numbers, LFH)
  run "$tmp/s.txt" heap -s "$d"
  eq "$v -s text exit" "$rc" "$expect_rc"
  trows=$(grep -E '^[0-9a-f]{8,16} [0-9a-f]{8} ' "$tmp/s.txt" | while read -r a f r c vv fr l u vb lk fast; do
      a=${a##+(0)}; echo "$((16#$a)) $f $r $c $vv $fr $l $u $vb $((16#$lk)) ${fast:--}"; done)
  jrows=$(jq -r '.result.heaps[] | select(.kind == "nt") | [(.address | ltrimstr("0x")), (.flags | ltrimstr("0x")),
        (.reserved / 1024 | floor), (.committed / 1024 | floor), (.virtual / 1024 | floor), (.free / 1024 | floor),
        .free_list_length, .ucr_count, .virtual_blocks, .lock_contention, (if .lfh_active then "LFH" else "-" end)] | map(tostring) | join(" ")' "$tmp/s.json" |
        while read -r a rest; do echo "$((16#$a)) $rest"; done)
  trows_norm=$trows; jrows_norm=$jrows
  eq "$v -s text rows = JSON" "$trows_norm" "$jrows_norm"
  # the LFH key, when recovered, is the simulator's RtlpLFHKey (a 32-bit value in the truth)
  k=$(jq -r '.result.lfh_key // empty' "$tmp/s.json")
  [ -z "$k" ] || eq "$v LFH key" "$k" "$(jq -r .lfh_key "$truth")"
  for a in $(jq -r '.heaps[] | select(.kind == "not_nt") | .address' "$truth"); do
    grep -qE "^0*${a#0x} not an NT heap: .+" "$tmp/s.txt" && echo "ok: $v: $a 'not an NT heap' line" ||
      { echo "FAIL: $v: no 'not an NT heap' line for $a"; fail=1; }
  done
  # segment heaps: the summary from _SEGMENT_HEAP
  eq "$v segment heaps" "$(jq -c '[.result.heaps[] | select(.kind == "segment") | [.address, .segment_heap.reserved, .segment_heap.committed, .segment_heap.large_reserved, .segment_heap.large_committed, (.segment_heap.segment_count | add)]]' "$tmp/s.json")" \
     "$(jq -c '[.heaps[] | select(.kind == "segment") | [.address, .total_reserved_pages * 4096, .total_committed_pages * 4096, .large_reserved_pages * 4096, .large_committed_pages * 4096, .segment_count]]' "$truth")"
  eq "$v segment heap large blocks" "$(jq -c '[.result.heaps[] | select(.kind == "segment") | .segment_heap.large_blocks[] | [.address, .user_size, .allocated_pages, .unused]]' "$tmp/s.json")" \
     "$(jq -c '[.heaps[] | select(.kind == "segment") | (.large_blocks // [])[] | [.address, .user_size, .allocated_pages, .unused_bytes]]' "$truth")"
  # issues: each truth issue is reported in its heap, with the address when it is exact
  if [ "$nissues" -gt 0 ]; then
    for k in $(seq 0 $((nissues - 1))); do
      ti=$(jq -c ".issues[$k]" "$truth")
      # a missing page is reported at the first address the walker needed in it
      ok=$(jq -n --argjson t "$ti" --slurpfile s "$tmp/s.json" '
        def hex: ltrimstr("0x") | explode | reduce .[] as $c (0; . * 16 + (if $c >= 97 then $c - 87 else $c - 48 end));
        [$s[0].result.heaps[] | select(.address == $t.heap) | .issues[] |
         select((.kind == $t.kind or ((($t.also_acceptable // []) | index(.kind)) != null)) and
                (($t.address_exact | not) or .address == $t.address or
                 ($t.kind == "not_in_dump" and ((.address | hex) / 4096 | floor) == (($t.address | hex) / 4096 | floor))))] | length > 0')
      eq "$v issue $(jq -r .kind <<<"$ti") at $(jq -r .address <<<"$ti") reported" "$ok" "true"
    done
    grep -qE "^Issues in heap " "$tmp/s.txt" && echo "ok: $v issues in the text" ||
      { echo "FAIL: $v: issues not in the text"; fail=1; }
    [ -s "$tmp/s.txt.err" ] && echo "ok: $v warnings on stderr" || { echo "FAIL: $v: no warning on stderr"; fail=1; }
  else
    eq "$v no issues" "$(jq '[.result.heaps[].issues | length] | add // 0' "$tmp/s.json")" "0"
  fi

  # ---- -m: segments and VirtualAlloc blocks (reliable ones) ----
  run "$tmp/m.json" --json heap -m "$d"
  eq "$v -m exit" "$rc" "$expect_rc"
  eq "$v -m segments" \
     "$(jq -c --arg bad "$bad" '[.result.heaps[] | select(.kind == "nt") | select(.address as $a | $bad | split(" ") | index($a) | not) | .segments[] | [.address, .base, .first_entry, .last_valid_entry, .pages, .uncommitted_pages, .committed, ([.ucrs[] | [.address, .size]])]]' "$tmp/m.json")" \
     "$(jq -c --arg bad "$bad" '[.heaps[] | select(.kind == "nt") | select(.address as $a | $bad | split(" ") | index($a) | not) | .segments[] | [.address, .base, .first_entry, .last_valid_entry, .pages, .uncommitted_pages, .committed, ([.ucrs[] | [.address, .size]])]]' "$truth")"
  eq "$v -m VirtualAlloc blocks" \
     "$(jq -c '[.result.heaps[] | select(.kind == "nt") | .virtual_blocks[] | [.address, .user, .commit_size, .reserve_size, .unused, .user_size, .flags]]' "$tmp/m.json")" \
     "$(jq -c '[.heaps[] | select(.kind == "nt") | .virtual_blocks[] | [.address, .user, .commit, .reserve, .unused, .user_size, .flags]]' "$truth")"
  eq "$v -m header fields" \
     "$(jq -c '[.result.heaps[] | select(.kind == "nt") | [.segment_reserve, .segment_commit, .decommit_block_threshold, .decommit_total_threshold, .total_free_size, .next_tag_index, .maximum_tag_index, .tag_entries, .pseudo_tag_entries]]' "$tmp/m.json")" \
     "$(jq -c '[.heaps[] | select(.kind == "nt") | [.segment_reserve, .segment_commit, .decommit_free_block_threshold, .decommit_total_free_threshold, .total_free_size_granules, .next_available_tag_index, .maximum_tag_index, .tag_entries, .pseudo_tag_entries]]' "$truth")"
  run "$tmp/m.txt" heap -m "$d"
  # pointer lines are as wide as the heap's pointers (8 / 16 hex digits)
  eq "$v -m text pointer widths" \
     "$(grep -cE '^    (Tag Entries|PsuedoTag Entries|Virtual Alloc List): +[0-9a-f]{8}$' "$tmp/m.txt") $(grep -cE '^    (Tag Entries|PsuedoTag Entries|Virtual Alloc List): +[0-9a-f]{16}$' "$tmp/m.txt")" \
     "$(jq -r '[.heaps[] | select(.kind == "nt")] | "\([.[] | select(.bits == 32)] | length * 3) \([.[] | select(.bits == 64)] | length * 3)"' "$truth")"
  # the tag lines of the text, per NT heap in order, = the truth (hex, pointer-wide)
  eq "$v -m text tag lines" \
     "$(awk '/^    Next TagIndex: /{n=$3} /^    Maximum TagIndex: /{m=$3} /^    Tag Entries: /{t=$3} /^    PsuedoTag Entries: /{print n, m, t, $3}' "$tmp/m.txt" |
        while read -r n m t p; do printf '%d %d %d %d\n' $((16#$n)) $((16#$m)) $((16#$t)) $((16#$p)); done)" \
     "$(jq -r '.heaps[] | select(.kind == "nt") | "\(.next_available_tag_index) \(.maximum_tag_index) \(.tag_entries) \(.pseudo_tag_entries)"' "$truth" |
        while read -r n m t p; do printf '%d %d %d %d\n' "$n" "$m" $((t)) $((p)); done)"
  eq "$v -m text VA lines = JSON" "$(grep -cE '^        [0-9a-f]+: [0-9a-f]{8} \[commited ' "$tmp/m.txt")" \
     "$(jq '[.result.heaps[] | select(.kind == "nt") | .virtual_blocks | length] | add // 0' "$tmp/m.json")"
  eq "$v -m text segment lines = JSON" "$(grep -cE '^    Segment at ' "$tmp/m.txt")" \
     "$(jq '[.result.heaps[] | select(.kind == "nt") | .segments | length] | add // 0' "$tmp/m.json")"

  # ---- -stat per clean heap: every group (limit 0) ----
  for h in $(jq -r --arg bad "$bad" '.heaps[] | select(.kind == "nt") | .address | select(. as $a | $bad | split(" ") | index($a) | not)' "$truth"); do
    run "$tmp/st.json" --json heap -stat --heap "$h" --limit 0 "$d"
    eq "$v -stat $h exit" "$rc" 0   # only this (clean) heap is walked
    got=$(jq -c '[.result.heaps[0].rows[] | [.size, .count, .total]] | sort' "$tmp/st.json")
    exp=$(jq -c --arg h "$h" '[.heaps[] | select(.address == $h) | .stat[] | [.user_size, .count, .total]] | sort' "$truth")
    eq "$v -stat $h rows" "$got" "$exp"
    eq "$v -stat $h busy bytes" "$(jq '.result.heaps[0].busy_bytes' "$tmp/st.json")" \
       "$(jq --arg h "$h" '.heaps[] | select(.address == $h) | .totals.busy_bytes' "$truth")"
    eq "$v -stat $h sorted by total" "$(jq '[.result.heaps[0].rows[].total] | . == (sort | reverse)' "$tmp/st.json")" "true"
    # text: the first 20 rows as WinDbg prints them ("    size count - total  (pct)")
    run "$tmp/st.txt" heap -stat "$h" "$d"
    eq "$v -stat $h text rows = JSON" \
       "$(grep -E '^    [0-9a-f]+ [0-9a-f]+ - [0-9a-f]+  \([0-9.]+\)$' "$tmp/st.txt" | while read -r sz n _ t _; do echo "$((16#$sz)) $((16#$n)) $((16#$t))"; done)" \
       "$(jq -r '.result.heaps[0].rows[:20][] | "\(.size) \(.count) \(.total)"' "$tmp/st.json")"
  done

  # ---- -a: every backend entry, VA block and LFH block of the clean heaps ----
  run "$tmp/a.json" --json heap -a "$d"
  eq "$v -a exit" "$rc" "$expect_rc"
  eq "$v -a backend entries" \
     "$(jq -c --arg bad "$bad" '[.result.heaps[] | select(.kind == "nt") | select(.address as $a | $bad | split(" ") | index($a) | not) | .entries[] | select(.kind == "busy" or .kind == "free" or .kind == "internal") | [.address, .segment, .size, .prev_size, .kind, .user, (if .kind == "free" then 0 else .user_size end), .flags]]' "$tmp/a.json")" \
     "$(jq -c --arg bad "$bad" '[.heaps[] | select(.kind == "nt") | select(.address as $a | $bad | split(" ") | index($a) | not) | .blocks[] | [.address, .segment, .size, .prev_size, .state, .user, .user_size, .flags]]' "$truth")"
  eq "$v -a LFH blocks" \
     "$(jq -c --arg bad "$bad" '[.result.heaps[] | select(.kind == "nt") | select(.address as $a | $bad | split(" ") | index($a) | not) | .entries[] | select(.kind == "lfh_busy" or .kind == "lfh_free") | [.user, .busy, (if .busy then .user_size else 0 end)]] | sort' "$tmp/a.json")" \
     "$(jq -c --arg bad "$bad" '[.heaps[] | select(.kind == "nt") | select(.address as $a | $bad | split(" ") | index($a) | not) | (.lfh.subsegments // [])[] | .blocks[] | [.user, .busy, (if .busy then .user_size else 0 end)]] | sort' "$truth")"
  run "$tmp/af.json" --json heap -a --free "$d"
  eq "$v -a --free = free entries" "$(jq '[.result.heaps[].entries[] | select(.busy)] | length' "$tmp/af.json")" "0"
  eq "$v -a --free count" "$(jq '.result.matching' "$tmp/af.json")" "$(jq '[.result.heaps[].entries[] | select(.busy | not)] | length' "$tmp/a.json")"

  # ---- -x on truth addresses: a backend user byte, a VA block, an LFH block ----
  for probe in \
      "$(jq -r --arg bad "$bad" '[.heaps[] | select(.kind == "nt") | select(.address as $a | $bad | split(" ") | index($a) | not) | . as $h | .blocks[] | select(.state == "busy") | [$h.address, .address, .user]] | .[length / 2 | floor] // empty | join(" ")' "$truth")" \
      "$(jq -r --arg bad "$bad" '[.heaps[] | select(.kind == "nt") | select(.address as $a | $bad | split(" ") | index($a) | not) | . as $h | .virtual_blocks[] | [$h.address, .address, .user]] | .[0] // empty | join(" ")' "$truth")" \
      "$(jq -r --arg bad "$bad" '[.heaps[] | select(.kind == "nt") | select(.address as $a | $bad | split(" ") | index($a) | not) | . as $h | (.lfh.subsegments // [])[] | .blocks[] | select(.busy) | [$h.address, .address, .user]] | .[0] // empty | join(" ")' "$truth")"; do
    [ -n "$probe" ] || continue
    read -r th te tu <<<"$probe"
    x=$(printf '0x%x' $((tu + 3)))
    run "$tmp/x.json" --json heap -x "$x" "$d"
    eq "$v -x $x" "$(jq -c '.result | [.found, .heap, .entry.address]' "$tmp/x.json")" "[true,\"$th\",\"$te\"]"
    run "$tmp/x.txt" heap -x "$x" "$d"
    grep -qE "^0*${te#0x}  0*${tu#0x}  0*${th#0x}  " "$tmp/x.txt" && echo "ok: $v -x $x text row" ||
      { echo "FAIL: $v -x $x text row"; cat "$tmp/x.txt"; fail=1; }
  done
  # ---- -x in segment-heap large blocks: first and last user byte find the truth's block ----
  for probe in $(jq -r '.heaps[] | select(.kind == "segment") | . as $h | (.large_blocks // [])[] | "\($h.address),\(.address),\(.user_size),\(.allocated_pages),\(.unused_bytes)"' "$truth"); do
    IFS=, read -r th ta tsz tpg tun <<<"$probe"
    for x in "$ta" "$(printf '0x%x' $((ta + tsz - 1)))"; do
      run "$tmp/x.json" --json heap -x "$x" "$d"
      eq "$v -x $x (segment-heap large block)" \
         "$(jq -c '.result | [.found, .heap, .entry, .segment, .large_block.address, .large_block.user_size, .large_block.allocated_pages, .large_block.unused]' "$tmp/x.json")" \
         "[true,\"$th\",null,null,\"$ta\",$tsz,$tpg,$tun]"
      run "$tmp/x.txt" heap -x "$x" "$d"
      grep -qE "^0*${ta#0x}  0*${ta#0x}  0*${th#0x}  +-  +$(printf '%x' $((tpg * 4096)))  +-  +$(printf '%x' "$tun")  busy large" "$tmp/x.txt" &&
        echo "ok: $v -x $x text row" || { echo "FAIL: $v -x $x text row"; cat "$tmp/x.txt"; fail=1; }
    done
    # the byte after the block's pages is not in it
    x=$(printf '0x%x' $((ta + tpg * 4096)))
    run "$tmp/x.json" --json heap -x "$x" "$d"
    eq "$v -x $x (past a large block)" "$(jq -r '.result.large_block.address // "none"' "$tmp/x.json" | grep -cx "$ta")" "0"
  done
done

# seed-x86: the seed's own row and -m lines come out of the simulated dump
if [ -f "$dir/seed-x86.dmp" ]; then
  run "$tmp/seed.txt" heap -s "$dir/seed-x86.dmp"
  grep -qx '06e90000 00001002   64180  56660  63968   1434   473     9  624      7   LFH' "$tmp/seed.txt" &&
    echo "ok: seed-x86: the seed's !heap -s row" || { echo "FAIL: seed-x86: seed row not printed"; fail=1; }
  run "$tmp/seedm.txt" heap 06e90000 -m "$dir/seed-x86.dmp"
  for l in "  $(jq '.heaps[] | select(.address == "0x6e90000") | .index + 1' "$dir/seed-x86.truth.json"):   06e90000 " '    Segment at 65bf0000 to 66bbf000 (008bf000 bytes committed)' \
           '    Total Free Size:      0002cd56' '    Virtual Alloc List:   06e9009c' \
           '    Next TagIndex:        0000' '    Maximum TagIndex:     0000' \
           '    Tag Entries:          00000000' '    PsuedoTag Entries:    00000000' \
           '        0f275000: 00200000 [commited 201000, unused 1000] - busy (b)'; do
    grep -qxF -- "$l" "$tmp/seedm.txt" && echo "ok: seed-x86 -m: '$l'" || { echo "FAIL: seed-x86 -m lacks '$l'"; fail=1; }
  done
fi

# segment heaps only: a copy of segheap-x64 whose PEB lists the segment heap alone (ProcessHeap,
# NumberOfHeaps 1, ProcessHeaps[0]; patched through the minidump's own memory list, parsed here).
# -x on an address in a large block finds it: exit 0, not 5 ("no NT heap" is for the other modes).
sd="$dir/segheap-x64.dmp"; st="$dir/segheap-x64.truth.json"
if [ -f "$sd" ] && command -v python3 >/dev/null; then
  seg=$(jq -r '[.heaps[] | select(.kind == "segment")][0].address' "$st")
  if python3 - "$sd" "$tmp/segonly.dmp" "$(jq -r .peb "$st")" "$seg" <<'PY'
import struct, sys
src, dst, peb, seg = sys.argv[1], sys.argv[2], int(sys.argv[3], 16), int(sys.argv[4], 16)
b = bytearray(open(src, "rb").read())
assert b[:4] == b"MDMP"
n, rva = struct.unpack_from("<II", b, 8)
runs = []
for i in range(n):
    t, size, r = struct.unpack_from("<III", b, rva + 12 * i)
    if t == 9:  # Memory64ListStream: count, BaseRva, then (start, size) with the data in order
        cnt, off = struct.unpack_from("<QQ", b, r)
        for j in range(cnt):
            va, sz = struct.unpack_from("<QQ", b, r + 16 + 16 * j)
            runs.append((va, sz, off))
            off += sz
    elif t == 5:  # MemoryListStream: count, then (start, size, rva)
        (cnt,) = struct.unpack_from("<I", b, r)
        for j in range(cnt):
            va, sz, o = struct.unpack_from("<QII", b, r + 4 + 16 * j)
            runs.append((va, sz, o))
def off(va, ln):
    for s, sz, o in runs:
        if s <= va and va + ln <= s + sz:
            return o + va - s
    sys.exit("0x%x not in the dump" % va)
(arr,) = struct.unpack_from("<Q", b, off(peb + 0xF0, 8))
struct.pack_into("<Q", b, off(peb + 0x30, 8), seg)  # PEB.ProcessHeap
struct.pack_into("<I", b, off(peb + 0xE8, 4), 1)  # PEB.NumberOfHeaps
struct.pack_into("<Q", b, off(arr, 8), seg)  # PEB.ProcessHeaps[0]
open(dst, "wb").write(b)
PY
  then
    run "$tmp/so.json" --json heap -s "$tmp/segonly.dmp"
    eq "segment heaps only: -s lists the segment heap alone, exit 5 (no NT heap)" \
       "$(jq -c '[[.result.heaps[] | [.address, .kind]], .error.exit_code]' "$tmp/so.json")" "[[[\"$seg\",\"segment\"]],5]"
    for probe in $(jq -r '.heaps[] | select(.kind == "segment") | . as $h | .large_blocks[] | "\($h.address),\(.address),\(.user_size)"' "$st"); do
      IFS=, read -r th ta tsz <<<"$probe"
      x=$(printf '0x%x' $((ta + tsz - 1)))
      run "$tmp/so.json" --json heap -x "$x" "$tmp/segonly.dmp"
      eq "segment heaps only: -x $x exit" "$rc" 0
      eq "segment heaps only: -x $x" "$(jq -c '.result | [.found, .heap, .large_block.address]' "$tmp/so.json")" "[true,\"$th\",\"$ta\"]"
      run "$tmp/so.txt" heap -x "$x" "$tmp/segonly.dmp"
      eq "segment heaps only: -x $x text exit" "$rc" 0
      grep -qE "^0*${ta#0x}  0*${ta#0x}  0*${th#0x}  .*busy large" "$tmp/so.txt" &&
        echo "ok: segment heaps only: -x $x text row" || { echo "FAIL: segment heaps only: -x $x text row"; cat "$tmp/so.txt"; fail=1; }
    done
    # an address in no heap: still "no NT heap", exit 5
    run "$tmp/so.json" --json heap -x 0x10 "$tmp/segonly.dmp"
    eq "segment heaps only: -x outside every heap" "$(jq -c '[.result.found, .error.exit_code]' "$tmp/so.json")" "[false,5]"
  else
    echo "FAIL: could not patch $sd"; fail=1
  fi
else
  echo "note: segheap-x64 or python3 missing, segment-heap-only -x case skipped"
fi

# usage errors
run "$tmp/u" heap -m -stat "$dir/w10-x64.dmp"; eq "two modes: usage" "$rc" 2
run "$tmp/u" heap -grp A "$dir/w10-x64.dmp"; eq "-grp without -stat: usage" "$rc" 2
run "$tmp/u" heap -x zz "$dir/w10-x64.dmp"; eq "-x bad address: usage" "$rc" 2
run "$tmp/u" heap --heap 0x1234 "$dir/w10-x64.dmp"; eq "--heap not in the list: exit 5" "$rc" 5

# Wine fixtures: real processes whose heaps are Wine's, not NT heaps
if [ -f "${DS_FIXTURE_DIR:-}/native-x64.dmp" ]; then
  for fx in native-x64 native-x86 native-wow64; do
    run "$tmp/w.txt" heap -s "$DS_FIXTURE_DIR/$fx.dmp"
    eq "$fx: exit 5 (no NT heap)" "$rc" 5
    grep -qE 'not an NT heap: .+|not readable: .+' "$tmp/w.txt" && echo "ok: $fx: heaps reported as not NT heaps" ||
      { echo "FAIL: $fx: no 'not an NT heap' line"; cat "$tmp/w.txt"; fail=1; }
    grep -q 'no NT heap in this dump' "$tmp/w.txt.err" && echo "ok: $fx: error on stderr" ||
      { echo "FAIL: $fx: no error on stderr"; fail=1; }
    run "$tmp/w.json" --json heap -s "$DS_FIXTURE_DIR/$fx.dmp"
    eq "$fx --json: exit 5" "$rc" 5
    eq "$fx --json: no NT heap, every heap listed" "$(jq -c '[(.result.heaps | length > 0), ([.result.heaps[].kind] | index("nt")), .error.exit_code]' "$tmp/w.json")" '[true,null,5]'
  done
  run "$tmp/w.txt" heap -s "$DS_FIXTURE_DIR/linux-gcore-x64.core"
  eq "Linux core: exit 5" "$rc" 5
else
  echo "note: Wine fixtures not built, skipped"
fi
exit $fail
