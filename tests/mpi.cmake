# Data parallelism under a real MPI launcher (label mpi): two ranks against one
# process (tests/mpi/mpi_test.sh). Registered when the build has MPI and a
# python3 with numpy reads the checkpoints.
if(GLIA_HAVE_MPI AND MPIEXEC_EXECUTABLE)
  glia_python_with(GLIA_NUMPY_PYTHON "import numpy")
  if(GLIA_NUMPY_PYTHON)
    foreach(c nobn syncbn mixed kill term infer bench)
      add_test(NAME mpi_${c}
               COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/mpi/mpi_test.sh ${c} $<TARGET_FILE:glia_cli>
                       ${MPIEXEC_EXECUTABLE} ${GLIA_NUMPY_PYTHON} ${CMAKE_CURRENT_BINARY_DIR}/mpi-${c})
      set_tests_properties(mpi_${c} PROPERTIES LABELS mpi SKIP_RETURN_CODE 77 TIMEOUT 600)
    endforeach()
  else()
    message(STATUS "glia: no python3 with numpy; the mpi tests are not registered")
  endif()
else()
  message(STATUS "glia: no MPI; the mpi tests are not registered")
endif()
