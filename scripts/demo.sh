#!/usr/bin/env bash
# Installs, builds and runs dumpsleuth's main job on a bundled real dump.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh build
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDS_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
./build/dumpsleuth summary fixtures/work/native-x64.dmp
