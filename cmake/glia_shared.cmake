# libglia.so (libglia.so.0 -> libglia.so.0.1.0) from the objects of the static
# library `glia`, which tests and the CLI link (tests use internal functions the
# shared library does not export). One compilation serves both: the objects are
# position-independent, and -fno-semantic-interposition keeps the calls inside
# a file direct and inlinable as in a non-PIC build (glia does not support
# replacing its own functions by interposition).
# Exported: only the functions of include/glia/*.h, each at version GLIA_0,
# through the version script cmake/glia_exports.cmake writes (why a script and
# not an export macro: see there). Included by the top CMakeLists.txt after
# every source of `glia` is listed.
include(CheckCCompilerFlag)
include(GNUInstallDirs)
set_target_properties(glia PROPERTIES POSITION_INDEPENDENT_CODE ON)
check_c_compiler_flag(-fno-semantic-interposition GLIA_HAVE_NO_SEMANTIC_INTERPOSITION)
if(GLIA_HAVE_NO_SEMANTIC_INTERPOSITION)
  target_compile_options(glia PRIVATE -fno-semantic-interposition)
endif()

file(GLOB GLIA_PUBLIC_HEADERS CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/include/glia/*.h)
set(GLIA_VERSION_SCRIPT ${CMAKE_BINARY_DIR}/generated/glia.map)
add_custom_command(
  OUTPUT ${GLIA_VERSION_SCRIPT}
  COMMAND ${CMAKE_COMMAND} -DCC=${CMAKE_C_COMPILER} -DINCLUDE_DIR=${PROJECT_SOURCE_DIR}/include
          -DOUT=${GLIA_VERSION_SCRIPT} -P ${PROJECT_SOURCE_DIR}/cmake/glia_exports.cmake
  DEPENDS ${GLIA_PUBLIC_HEADERS} ${PROJECT_SOURCE_DIR}/cmake/glia_exports.cmake
  COMMENT "glia: the exported symbols from include/glia/*.h" VERBATIM)

# Listing the script as a source makes the library wait for it; the linker gets it below.
add_library(glia_shared SHARED $<TARGET_OBJECTS:glia> ${GLIA_VERSION_SCRIPT})
# The static library's own dependencies (public and private) link the shared
# one; its archive adds no object, every one being in the shared library already.
target_link_libraries(glia_shared PRIVATE glia)
target_include_directories(glia_shared INTERFACE
  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include> $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
target_link_options(glia_shared PRIVATE -Wl,--version-script=${GLIA_VERSION_SCRIPT})
# --no-undefined: a dependency missing from the link fails here, not in a user's
# program. Not under GLIA_FUZZ: clang links the sanitizer runtimes into
# executables only, so every __asan_ and __ubsan_ symbol would count as missing.
if(NOT GLIA_FUZZ)
  target_link_options(glia_shared PRIVATE -Wl,--no-undefined)
endif()
set_target_properties(glia_shared PROPERTIES
  OUTPUT_NAME glia
  EXPORT_NAME glia
  VERSION ${PROJECT_VERSION}
  SOVERSION ${PROJECT_VERSION_MAJOR}
  LINK_DEPENDS ${GLIA_VERSION_SCRIPT})
