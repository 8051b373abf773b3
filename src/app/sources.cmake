# The application layer below training, evaluation and inference: label
# metadata, the checkpoint's preprocessing record, file and clock helpers, and
# the raster that training curves and inference overlays draw on (src/plot).
if(NOT TARGET PkgConfig::CJSON)
  pkg_check_modules(CJSON REQUIRED IMPORTED_TARGET libcjson)
endif()
target_sources(glia PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/util.c
  ${CMAKE_CURRENT_LIST_DIR}/labels.c
  ${CMAKE_CURRENT_LIST_DIR}/preprocess_record.c
  ${CMAKE_CURRENT_LIST_DIR}/../plot/canvas.c
  ${CMAKE_CURRENT_LIST_DIR}/../plot/font.c
  ${CMAKE_CURRENT_LIST_DIR}/../plot/ticks.c
)
target_link_libraries(glia PRIVATE PkgConfig::CJSON)
