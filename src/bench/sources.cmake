# Benchmarks (glia bench): included by the top CMakeLists.txt.
if(NOT TARGET PkgConfig::CJSON)
  pkg_check_modules(CJSON REQUIRED IMPORTED_TARGET libcjson)
endif()
target_sources(glia PRIVATE
  src/bench/bench_cases.c
  src/bench/bench_shapes.c
  src/bench/bench_run.c
  src/bench/bench_peak.c
  src/bench/bench_json.c
  src/bench/bench_compare.c
  src/bench/bench_chart.c
)
# bench_compare.c reads the reports with cJSON
target_link_libraries(glia PRIVATE PkgConfig::CJSON)
