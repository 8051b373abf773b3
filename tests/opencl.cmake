# OpenCL backend tests beyond the shared op table (label opencl).
if(GLIA_HAVE_OPENCL)
  glia_add_test(test_cl_cache SOURCES test_cl_cache.c testutil.c LABELS opencl)
  glia_add_test(test_cl_backend SOURCES test_cl_backend.c testutil.c LABELS opencl)
else()
  # Built without the backend: the op table still runs for "opencl", finds no
  # device and fails when GLIA_REQUIRE_BACKENDS names opencl (CI), so a build
  # that silently lost OpenCL cannot pass as one that tested it.
  glia_add_test(test_ops SOURCES test_ops.c op_cases.c testutil.c LABELS opencl
                ARGS opencl TEST_NAME ops_opencl)
endif()
