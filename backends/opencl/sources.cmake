# The OpenCL backend: OpenCL 1.2 host code, CLBlast for GEMM, kernels from cl/ (one program per .cl file)
# embedded as C strings at build time. Included by the top CMakeLists.txt.
find_package(OpenCL QUIET)
find_package(CLBlast CONFIG QUIET)
if(TARGET clblast)
  set(GLIA_CLBLAST_LIB clblast)
else()
  find_library(GLIA_CLBLAST_LIB clblast)
  find_path(GLIA_CLBLAST_INCLUDE clblast_c.h)
endif()
if(NOT OpenCL_FOUND OR NOT GLIA_CLBLAST_LIB)
  message(WARNING "glia: OpenCL (${OpenCL_FOUND}) or CLBlast (${GLIA_CLBLAST_LIB}) not found; "
                  "the OpenCL backend is not built")
  return()
endif()

# Development switch: read cl/*.cl from the source tree at run time instead of the
# embedded copies, so a kernel edit needs no rebuild.
option(GLIA_OPENCL_LIVE_KERNELS "Load OpenCL kernels from the source tree at run time" OFF)

file(GLOB GLIA_CL_KERNEL_FILES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/cl/*.cl)
list(SORT GLIA_CL_KERNEL_FILES)
# The mode headers shared with the C code are prepended to every program.
list(APPEND GLIA_CL_KERNEL_FILES ${CMAKE_SOURCE_DIR}/backends/op_modes.h
     ${CMAKE_SOURCE_DIR}/backends/opencl/cl_abi.h)
set(GLIA_CL_EMBEDDED ${CMAKE_BINARY_DIR}/generated/glia_cl_sources.c)
add_custom_command(
  OUTPUT ${GLIA_CL_EMBEDDED}
  COMMAND ${CMAKE_COMMAND} -DOUT=${GLIA_CL_EMBEDDED} "-DFILES=${GLIA_CL_KERNEL_FILES}"
          -P ${CMAKE_SOURCE_DIR}/backends/opencl/embed_cl.cmake
  DEPENDS ${GLIA_CL_KERNEL_FILES} ${CMAKE_SOURCE_DIR}/backends/opencl/embed_cl.cmake
  COMMENT "Embedding OpenCL kernels"
  VERBATIM)

target_sources(glia PRIVATE
  ${GLIA_CL_EMBEDDED}
  backends/opencl/cl_backend.c
  backends/opencl/cl_device.c
  backends/opencl/cl_error.c
  backends/opencl/cl_program.c
  backends/opencl/cl_cache.c
  backends/opencl/cl_launch.c
  backends/opencl/cl_ops_basic.c
  backends/opencl/cl_ops_reduce.c
  backends/opencl/cl_ops_dense.c
  backends/opencl/cl_ops_layernorm.c)
target_link_libraries(glia PRIVATE OpenCL::OpenCL ${GLIA_CLBLAST_LIB})
if(GLIA_CLBLAST_INCLUDE)
  target_include_directories(glia PRIVATE ${GLIA_CLBLAST_INCLUDE})
endif()
target_compile_definitions(glia PRIVATE GLIA_HAVE_OPENCL CL_TARGET_OPENCL_VERSION=120)
if(GLIA_OPENCL_LIVE_KERNELS)
  target_compile_definitions(glia PRIVATE GLIA_CL_LIVE_DIR="${CMAKE_SOURCE_DIR}/cl")
endif()
set(GLIA_HAVE_OPENCL ON)
