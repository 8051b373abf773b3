# File formats: safetensors checkpoints (JSON header through Debian's libcjson), .npy arrays.
pkg_check_modules(CJSON REQUIRED IMPORTED_TARGET libcjson)
target_sources(glia PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/atomic.c
  ${CMAKE_CURRENT_LIST_DIR}/text.c
  ${CMAKE_CURRENT_LIST_DIR}/meta.c
  ${CMAKE_CURRENT_LIST_DIR}/safetensors.c
  ${CMAKE_CURRENT_LIST_DIR}/safetensors_write.c
  ${CMAKE_CURRENT_LIST_DIR}/npy.c
  ${CMAKE_CURRENT_LIST_DIR}/checkpoint.c
)
target_link_libraries(glia PRIVATE PkgConfig::CJSON)
