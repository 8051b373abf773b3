# The product: glia train, eval, infer and demo, end to end on small synthetic data
# (included by tests/CMakeLists.txt).
foreach(t train_e2e eval infer)
  if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/test_${t}.c)
    glia_add_test(test_${t} SOURCES test_${t}.c product_util.c LABELS cpu TEST_NAME ${t}
                  ARGS $<TARGET_FILE:glia_cli>)
  endif()
endforeach()
