#!/usr/bin/env bash
# Install dependencies (Debian 12), build, list the devices and train a tiny
# network on the device 'auto' picks.
set -euo pipefail
cd "$(dirname "$0")/.."
GLIA_DEPS_NO_INTEROP="${GLIA_DEPS_NO_INTEROP-1}" ./ci/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DGLIA_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc 2>/dev/null || echo 2)"
./build/glia devices
./build/glia toy --device auto
