#!/usr/bin/env bash
# Install dependencies (Debian 12), build, list the devices and run `glia demo`:
# synthesise data, train a small U-Net on the device 'auto' picks, evaluate, segment.
set -euo pipefail
cd "$(dirname "$0")/.."
GLIA_DEPS_NO_INTEROP="${GLIA_DEPS_NO_INTEROP-1}" ./ci/install-deps.sh
# only the command-line tool is built; the test options stay as ci/test.sh sets them
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc 2>/dev/null || echo 2)" --target glia_cli
./build/glia devices
# synthetic BraTS data -> train a small 2-D U-Net on 'auto' -> evaluate -> segment (a few minutes)
rm -rf build/glia-demo
./build/glia demo -o build/glia-demo
