# Training runs: configuration and presets, the trainer, validation, checkpoints, logs and curves.
if(NOT TARGET PkgConfig::CJSON)
  pkg_check_modules(CJSON REQUIRED IMPORTED_TARGET libcjson)
endif()
target_sources(glia PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/config.c
  ${CMAKE_CURRENT_LIST_DIR}/defaults.c
  ${CMAKE_CURRENT_LIST_DIR}/presets.c
  ${CMAKE_CURRENT_LIST_DIR}/trainer.c
  ${CMAKE_CURRENT_LIST_DIR}/validate.c
  ${CMAKE_CURRENT_LIST_DIR}/ckpt.c
  ${CMAKE_CURRENT_LIST_DIR}/runlock.c
  ${CMAKE_CURRENT_LIST_DIR}/history.c
  ${CMAKE_CURRENT_LIST_DIR}/curves.c
)
target_link_libraries(glia PRIVATE PkgConfig::CJSON)
