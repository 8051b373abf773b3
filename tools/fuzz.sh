#!/bin/sh
# Build the libFuzzer targets of tests/fuzz (clang, the library under ASan and
# UBSan) with their seed corpora, then run every target in turn and print, per
# target, libFuzzer's final executions and coverage (cov: edges, ft: features).
#
#   tools/fuzz.sh [SECONDS]   each target for SECONDS (default 60): a campaign
#   tools/fuzz.sh --runs N    each target for N executions (ci/test.sh: a smoke run)
#
# New inputs accumulate in BUILD/fuzz-corpus/<target>/ (the next campaign starts
# from them), crashes land in BUILD/fuzz-crashes/ (rerun one: BUILD/tests/fuzz/
# fuzz_<target> FILE), logs in BUILD/fuzz-logs/. BUILD is $GLIA_FUZZ_BUILD, by
# default build-fuzz; $GLIA_FUZZ_TARGETS picks targets ("nifti png").
# Exit status 1 when any target failed (crash, leak, timeout, out of memory).
set -eu
cd "$(dirname "$0")/.."
if [ "${1:-}" = --runs ]; then
    limit="-runs=${2:?usage: $0 --runs N}"
else
    limit="-max_total_time=${1:-60}"
fi
if ! command -v clang >/dev/null 2>&1; then
    echo "tools/fuzz.sh: the fuzz targets need clang (libFuzzer)" >&2
    exit 1
fi
build=${GLIA_FUZZ_BUILD:-build-fuzz}
jobs=$(nproc 2>/dev/null || echo 2)
# Debug: -O1 and -g come from GLIA_FUZZ, and assertions stay on.
cmake -S . -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug -DGLIA_FUZZ=ON \
    -DGLIA_OPENCL=OFF -DGLIA_VULKAN=OFF -DGLIA_MPI=OFF -DGLIA_TESTS=OFF >/dev/null
cmake --build "$build" -j"$jobs" --target fuzz >"$build/fuzz-build.log" 2>&1 || {
    tail -n 40 "$build/fuzz-build.log" >&2
    exit 1
}
targets=${GLIA_FUZZ_TARGETS:-$(cd "$build/tests/fuzz" && ls fuzz_* | sed 's/^fuzz_//')}
mkdir -p "$build/fuzz-crashes" "$build/fuzz-logs"
failed=""
printf '%-14s %12s %8s %8s  %s\n' target executions cov ft result
for t in $targets; do
    log=$build/fuzz-logs/$t.log
    mkdir -p "$build/fuzz-corpus/$t"
    if "$build/tests/fuzz/fuzz_$t" "$limit" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$build/fuzz-crashes/$t-" \
        "$build/fuzz-corpus/$t" "$build/fuzz-seeds/$t" >"$log" 2>&1; then
        result=ok
    else
        result="FAILED (see $log)"
        failed="$failed $t"
    fi
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    # the last status line ("#N DONE cov: C ft: F ...") carries the final coverage
    last=$(grep '^#[0-9]' "$log" | tail -n 1)
    cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
    ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
    printf '%-14s %12s %8s %8s  %s\n' "$t" "${execs:--}" "${cov:--}" "${ft:--}" "$result"
done
if [ -n "$failed" ]; then
    for t in $failed; do
        echo "--- fuzz_$t:" >&2
        grep -v '^#[0-9]\|^INFO:' "$build/fuzz-logs/$t.log" | tail -n 40 >&2
    done
    echo "tools/fuzz.sh: failed:$failed" >&2
    exit 1
fi
