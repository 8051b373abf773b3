# Image I/O and the data pipeline (included by tests/CMakeLists.txt).
foreach(t nifti data fuzz nnunet)
  glia_add_test(test_${t} SOURCES test_${t}.c testutil.c LABELS cpu TEST_NAME ${t})
endforeach()

# Interop with nibabel (label interop): Debian's python3-nibabel belongs to
# /usr/bin/python3, which may not be the first python3 on PATH.
glia_python_with(GLIA_NIBABEL_PYTHON "import nibabel, numpy")
if(GLIA_NIBABEL_PYTHON)
  add_test(NAME interop_nibabel
           COMMAND ${GLIA_NIBABEL_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/interop/nibabel_check.py
                   $<TARGET_FILE:glia_cli> ${CMAKE_CURRENT_BINARY_DIR}/nibabel-work)
  set_tests_properties(interop_nibabel PROPERTIES LABELS interop TIMEOUT 300)
else()
  message(STATUS "glia: no python3 with nibabel and numpy; the nibabel interop test is not registered")
endif()
