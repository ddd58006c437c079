#!/usr/bin/env bash
# info / modules / threads on our Wine fixtures, checked against what our dumper recorded while it
# wrote each dump (fixtures/data/*.dumper.json: VirtualQueryEx, thread contexts, module enumeration),
# i.e. against the producer, not against dumpsleuth's own output.
set -u
command -v jq >/dev/null || { echo "SKIP: jq not installed"; exit 77; }
[ -f "$DS_FIXTURE_DIR/native-x64.dmp" ] || { echo "SKIP: fixtures not built"; exit 77; }
fail=0
eq() { # what got expected
  if [ "$2" != "$3" ]; then echo "FAIL: $1: got '$2', expected '$3'"; fail=1; else echo "ok: $1 = $2"; fi
}
for fx in native-x64 native-x86 native-wow64; do
  d="$DS_FIXTURE_DIR/$fx.dmp"; s="$DS_FIXTURE_DIR/$fx.dumper.json"; t="$DS_FIXTURE_DIR/$fx.truth.json"
  info=$("$DS_BIN" --json info "$d"); rc=$?
  [ $rc -eq 0 ] || { echo "FAIL: $fx info exit $rc"; fail=1; }
  kind=$(jq -r .dump_kind "$s")
  eq "$fx arch" "$(jq -r '.result.arch' <<<"$info")" "$([ "$kind" = x86 ] && echo x86 || echo x64)"
  eq "$fx wow64" "$(jq -r '.result.wow64' <<<"$info")" "$([ "$kind" = wow64 ] && echo true || echo false)"
  eq "$fx pid" "$(jq -r '.result.pid' <<<"$info")" "$(jq -r .pid "$s")"
  eq "$fx os build" "$(jq -r '.result.os.build' <<<"$info")" "$(jq -r .system_info.build "$s")"
  eq "$fx stream count" "$(jq -r '.result.streams | length' <<<"$info")" "$(jq -r .stream_count "$s")"
  eq "$fx stream types" "$(jq -c '[.result.streams[].type]' <<<"$info")" "$(jq -c '[.streams[].type]' "$s")"
  eq "$fx dump time" "$(jq -r '.result.dump_time_unix' <<<"$info")" "$(jq -r .header.time_date_stamp "$s")"
  eq "$fx kind" "$(jq -r '.result.kind' <<<"$info")" "full"
  eq "$fx regions" "$(jq -r '.result.counts.regions' <<<"$info")" "$(jq -r .memory_info_regions "$s")"
  eq "$fx handles" "$(jq -r '.result.counts.handles' <<<"$info")" "$(jq -r .handles.count "$s")"

  th=$("$DS_BIN" --json threads "$d")
  eq "$fx thread ids" "$(jq -c '[.result.threads[].tid]' <<<"$th")" "$(jq -c '[.threads[].tid]' "$s")"
  eq "$fx TEBs" "$(jq -c '[.result.threads[].teb]' <<<"$th")" "$(jq -c '[.threads[].teb]' "$s")"
  eq "$fx SPs" "$(jq -c '[.result.threads[].sp]' <<<"$th")" "$(jq -c '[.threads[].sp]' "$s")"
  eq "$fx PCs" "$(jq -c '[.result.threads[].pc]' <<<"$th")" "$(jq -c '[.threads[].pc]' "$s")"
  eq "$fx start addresses" "$(jq -c '[.result.threads[].start_address]' <<<"$th")" "$(jq -c '[.threads[].start_address]' "$s")"
  if [ "$kind" = wow64 ]; then
    eq "$fx TEB32s" "$(jq -c '[.result.threads[].teb32]' <<<"$th")" "$(jq -c '[.threads[].teb32]' "$s")"
  fi
  # the generator's own thread ids (truth) are all present
  for tid in $(jq -r '.threads[].tid' "$t"); do
    jq -e --argjson t "$tid" '[.result.threads[].tid] | index($t) != null' <<<"$th" >/dev/null ||
      { echo "FAIL: $fx: truth thread $tid missing"; fail=1; }
  done

  mo=$("$DS_BIN" --json modules "$d")
  eq "$fx module bases" "$(jq -c '[.result.modules[].base]' <<<"$mo")" "$(jq -c '[.modules[].base]' "$s")"
  eq "$fx module sizes" "$(jq -c '[.result.modules[].size]' <<<"$mo")" "$(jq -c '[.modules[].size]' "$s")"
  eq "$fx module timestamps" "$(jq -c '[.result.modules[].timestamp]' <<<"$mo")" "$(jq -c '[.modules[].time_date_stamp]' "$s")"
  eq "$fx exe version" "$(jq -r '.result.modules[0].file_version' <<<"$mo")" "$(jq -r '.modules[0].file_version' "$s")"
  eq "$fx exe pdb" "$(jq -r '.result.modules[0].debug_id.pdb' <<<"$mo")" "$(jq -r '.modules[0].cv_pdb' "$s")"
  eq "$fx exe guid" "$(jq -r '.result.modules[0].debug_id.guid | ascii_downcase' <<<"$mo")" "{$(jq -r '.modules[0].cv_guid' "$s")}"
  eq "$fx unloaded" "$(jq -c '[.result.unloaded_modules[] | [.base, .size]]' <<<"$mo")" "$(jq -c '[.unloaded_modules[] | [.base, .size]]' "$s")"
  # text and JSON agree on the counts
  eq "$fx text thread rows" "$("$DS_BIN" threads "$d" | grep -cE '^[ *] *[0-9]+ ')" "$(jq '.result.count' <<<"$th")"
done
exit $fail
