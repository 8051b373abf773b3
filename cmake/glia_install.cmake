# What `cmake --install` puts under the prefix: the CLI, libglia.so (with its
# SONAME links) and libglia.a, the public headers, glia.pc, and the CMake
# package (find_package(glia) -> glia::glia, the shared library). Included by
# the top CMakeLists.txt after cmake/glia_shared.cmake.
include(CMakePackageConfigHelpers)
set(GLIA_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/glia)

install(TARGETS glia_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS glia_shared EXPORT glia-targets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
# The static library is not in the CMake package: its dependencies would have to
# be found again by every user; pkg-config --static lists them instead.
install(TARGETS glia ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(FILES ${GLIA_PUBLIC_HEADERS} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/glia)

install(EXPORT glia-targets NAMESPACE glia:: DESTINATION ${GLIA_CMAKE_DIR})
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/glia-config.cmake.in
  ${CMAKE_BINARY_DIR}/generated/glia-config.cmake INSTALL_DESTINATION ${GLIA_CMAKE_DIR})
# The SONAME changes with the major version, so a package of another major is not compatible.
write_basic_package_version_file(${CMAKE_BINARY_DIR}/generated/glia-config-version.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_BINARY_DIR}/generated/glia-config.cmake
              ${CMAKE_BINARY_DIR}/generated/glia-config-version.cmake
        DESTINATION ${GLIA_CMAKE_DIR})

include(${CMAKE_CURRENT_LIST_DIR}/glia_pkgconfig.cmake)

# glia(1), written from the built command's own help so the two never differ.
add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/glia.1
                   COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/glia_man.sh $<TARGET_FILE:glia_cli> ${PROJECT_VERSION}
                           ${CMAKE_BINARY_DIR}/glia.1
                   DEPENDS glia_cli ${CMAKE_CURRENT_LIST_DIR}/glia_man.sh VERBATIM)
add_custom_target(glia_man ALL DEPENDS ${CMAKE_BINARY_DIR}/glia.1)
install(FILES ${CMAKE_BINARY_DIR}/glia.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
