# `cmake --install` into a temporary prefix, then examples/embed.c built against
# it through pkg-config (shared and static) and find_package(glia), and the
# shared library's exports checked against the public headers.
add_test(NAME install
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/install_test.sh ${CMAKE_BINARY_DIR}
                 ${CMAKE_SOURCE_DIR} ${CMAKE_INSTALL_LIBDIR} ${CMAKE_C_COMPILER})
set_tests_properties(install PROPERTIES LABELS cpu TIMEOUT 120)
