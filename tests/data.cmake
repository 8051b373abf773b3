# Image I/O and the data pipeline (included by tests/CMakeLists.txt).
foreach(t nifti data fuzz)
  if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/test_${t}.c)
    glia_add_test(test_${t} SOURCES test_${t}.c LABELS cpu TEST_NAME ${t})
  endif()
endforeach()
