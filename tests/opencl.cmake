# OpenCL backend tests beyond the shared op table (label opencl).
if(GLIA_HAVE_OPENCL)
  glia_add_test(test_cl_cache SOURCES test_cl_cache.c testutil.c LABELS opencl)
  glia_add_test(test_cl_backend SOURCES test_cl_backend.c testutil.c LABELS opencl)
endif()
