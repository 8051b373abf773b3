# The native CPU backend's sources beyond cpu_backend.c (listed in the top CMakeLists).
target_sources(glia PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/cpu_pool.c
  ${CMAKE_CURRENT_LIST_DIR}/cpu_elementwise.c
  ${CMAKE_CURRENT_LIST_DIR}/cpu_gemm.c
  ${CMAKE_CURRENT_LIST_DIR}/cpu_conv.c
  ${CMAKE_CURRENT_LIST_DIR}/cpu_norm.c
  ${CMAKE_CURRENT_LIST_DIR}/cpu_resample.c
  ${CMAKE_CURRENT_LIST_DIR}/cpu_channel.c
  ${CMAKE_CURRENT_LIST_DIR}/cpu_loss.c
  ${CMAKE_CURRENT_LIST_DIR}/cpu_optim.c
)
