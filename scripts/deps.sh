#!/usr/bin/env bash
# Installs what dumpsleuth needs to build and test on Debian 12 (run as root, or with sudo).
# Usage: scripts/deps.sh [build|test|fuzz]...
set -euo pipefail
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
pkgs=(build-essential cmake pkg-config xz-utils libcjson-dev libcapstone-dev libkdumpfile-dev)
for what in "$@"; do
  case "$what" in
    build) ;;
    test) pkgs+=(libcmocka-dev jq lldb python3 mono-utils mono-mcs curl ca-certificates) ;;
    fuzz) pkgs+=(clang libclang-rt-14-dev) ;;
    *) echo "deps.sh: unknown set '$what'" >&2; exit 2 ;;
  esac
done
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  # An unrelated broken index (e.g. a foreign architecture) must not stop us: tolerate update errors.
  $SUDO apt-get update -qq || echo "deps.sh: apt-get update reported errors; continuing" >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
