# Benchmarks (glia bench): included by the top CMakeLists.txt.
target_sources(glia PRIVATE
  src/bench/bench_cases.c
  src/bench/bench_shapes.c
  src/bench/bench_run.c
  src/bench/bench_peak.c
  src/bench/bench_json.c
  src/bench/bench_jsonread.c
  src/bench/bench_compare.c
  src/bench/bench_chart.c
)
