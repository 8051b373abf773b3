#!/usr/bin/env bash
# Install dependencies (Debian 12), build, and run the whole test suite.
# GLIA_REQUIRE_BACKENDS lists the backends whose devices must be present: a
# missing OpenCL (PoCL) or Vulkan (lavapipe) device fails the run rather than
# skipping it. Set it empty to run on a machine without them.
set -euo pipefail
cd "$(dirname "$0")/.."
./ci/install-deps.sh
jobs=$(nproc 2>/dev/null || echo 2)
# every option the suite needs, whatever an earlier configure of build/ (ci/demo.sh, a user) left in its cache
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DGLIA_TESTS=ON -DGLIA_OPENCL=ON -DGLIA_VULKAN=ON -DGLIA_MPI=ON >/dev/null
cmake --build build -j"$jobs"
export GLIA_REQUIRE_BACKENDS="${GLIA_REQUIRE_BACKENDS-cpu,opencl,vulkan}"
# PoCL and lavapipe are CPU drivers: let them use the cores, one test at a time.
(cd build && ctest --output-on-failure --timeout 900 "$@")
# Every file reader under libFuzzer with ASan and UBSan, for a fixed number of
# executions (about 2 minutes with the build, on 2 cores); tools/fuzz.sh SECONDS
# runs them for longer. Only where clang is (install-deps.sh installs it).
if command -v clang >/dev/null 2>&1; then
  ./tools/fuzz.sh --runs 500
fi
