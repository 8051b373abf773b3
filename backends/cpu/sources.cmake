# The native CPU backend's sources beyond cpu_backend.c (listed in the top CMakeLists).
set(GLIA_CPU_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/cpu_pool.c
  ${CMAKE_CURRENT_LIST_DIR}/cpu_elementwise.c
  ${CMAKE_CURRENT_LIST_DIR}/cpu_copy.c
  ${CMAKE_CURRENT_LIST_DIR}/cpu_gather.c
  ${CMAKE_CURRENT_LIST_DIR}/cpu_gemm.c
  ${CMAKE_CURRENT_LIST_DIR}/cpu_conv.c
  ${CMAKE_CURRENT_LIST_DIR}/cpu_winograd.c
  ${CMAKE_CURRENT_LIST_DIR}/cpu_winograd43.c
  ${CMAKE_CURRENT_LIST_DIR}/cpu_direct.c
  ${CMAKE_CURRENT_LIST_DIR}/cpu_wcache.c
  ${CMAKE_CURRENT_LIST_DIR}/cpu_blascore.c
  ${CMAKE_CURRENT_LIST_DIR}/cpu_norm.c
  ${CMAKE_CURRENT_LIST_DIR}/cpu_layernorm.c
  ${CMAKE_CURRENT_LIST_DIR}/cpu_resample.c
  ${CMAKE_CURRENT_LIST_DIR}/cpu_channel.c
  ${CMAKE_CURRENT_LIST_DIR}/cpu_loss.c
  ${CMAKE_CURRENT_LIST_DIR}/cpu_optim.c
)
target_sources(glia PRIVATE ${GLIA_CPU_SOURCES})
# The backend never reads errno, and without errno semantics sqrtf becomes
# one instruction that vectorises (Adam's update runs ~3x faster). Nor does it
# read floating-point exception flags: without them a compare-and-select (the
# clamp of glia_cpu_expf) vectorises too, the results are the same.
set_source_files_properties(${GLIA_CPU_SOURCES} PROPERTIES COMPILE_OPTIONS "-fno-math-errno;-fno-trapping-math")
