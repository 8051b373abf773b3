# Evaluation: overlap, HD95, volumes, tables, and datasets scored from files or a predictor.
if(NOT TARGET PkgConfig::CJSON)
  pkg_check_modules(CJSON REQUIRED IMPORTED_TARGET libcjson)
endif()
target_sources(glia PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/hd95.c
  ${CMAKE_CURRENT_LIST_DIR}/metrics.c
  ${CMAKE_CURRENT_LIST_DIR}/table.c
  ${CMAKE_CURRENT_LIST_DIR}/table_gather.c
  ${CMAKE_CURRENT_LIST_DIR}/dataset_eval.c
)
target_link_libraries(glia PRIVATE PkgConfig::CJSON)
