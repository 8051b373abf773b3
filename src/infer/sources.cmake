# Inference: slice-wise and sliding-window prediction, the predictor, inputs, outputs, overlays.
if(NOT TARGET PkgConfig::CJSON)
  pkg_check_modules(CJSON REQUIRED IMPORTED_TARGET libcjson)
endif()
target_sources(glia PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/predict.c
  ${CMAKE_CURRENT_LIST_DIR}/predictor.c
  ${CMAKE_CURRENT_LIST_DIR}/input.c
  ${CMAKE_CURRENT_LIST_DIR}/output.c
  ${CMAKE_CURRENT_LIST_DIR}/overlay.c
  ${CMAKE_CURRENT_LIST_DIR}/overlay_view.c
)
target_link_libraries(glia PRIVATE PkgConfig::CJSON)
