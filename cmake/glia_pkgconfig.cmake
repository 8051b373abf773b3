# glia.pc. `pkg-config --libs glia` gives -lglia (the shared library, which
# carries its own dependencies); `--static` adds what libglia.a needs, as this
# build linked it: a dependency with a pkg-config module goes to
# Requires.private, any other to Libs.private as -L/-l flags. The Vulkan loader
# is not among them: the backend opens it at run time (hence -ldl).
# MPI goes in as the libraries CMake's FindMPI chose, since Debian installs
# both Open MPI's and MPICH's modules and the module names say nothing of which
# one the build used. Included by cmake/glia_install.cmake.
set(GLIA_PC_REQUIRES "")
set(GLIA_PC_LIBS "")

# glia_pc_libs(item...): library files, targets' link names or flags -> GLIA_PC_LIBS.
function(glia_pc_libs)
  set(flags ${GLIA_PC_LIBS})
  foreach(item ${ARGN})
    if(IS_ABSOLUTE "${item}")
      get_filename_component(dir "${item}" DIRECTORY)
      get_filename_component(name "${item}" NAME_WE)
      string(REGEX REPLACE "^lib" "" name "${name}")
      list(APPEND flags "-L${dir}" "-l${name}")
    elseif(item MATCHES "^-")
      list(APPEND flags "${item}")
    elseif(item)
      list(APPEND flags "-l${item}")
    endif()
  endforeach()
  list(REMOVE_DUPLICATES flags)
  set(GLIA_PC_LIBS ${flags} PARENT_SCOPE)
endfunction()

# glia_pc_dependency(module lib...): Requires.private `module` when pkg-config
# knows it, else the libraries themselves.
function(glia_pc_dependency module)
  string(MAKE_C_IDENTIFIER "GLIA_PC_${module}" var)
  pkg_check_modules(${var} QUIET ${module})
  if(${var}_FOUND)
    set(GLIA_PC_REQUIRES ${GLIA_PC_REQUIRES} ${module} PARENT_SCOPE)
  else()
    glia_pc_libs(${ARGN})
    set(GLIA_PC_LIBS ${GLIA_PC_LIBS} PARENT_SCOPE)
  endif()
endfunction()

glia_pc_dependency(openblas ${OPENBLAS_LINK_LIBRARIES})
glia_pc_dependency(libcjson ${CJSON_LINK_LIBRARIES})
glia_pc_dependency(libpng ${PNG_LIBRARY})
glia_pc_dependency(libtiff-4 ${TIFF_LIBRARIES})
glia_pc_dependency(zlib ${ZLIB_LIBRARIES})
if(GLIA_HAVE_OPENCL)
  glia_pc_dependency(OpenCL ${OpenCL_LIBRARIES})
  glia_pc_dependency(clblast ${GLIA_CLBLAST_LIB})
endif()
if(GLIA_HAVE_MPI)
  glia_pc_libs(${MPI_C_LIBRARIES})
endif()
glia_pc_libs(${CMAKE_THREAD_LIBS_INIT} ${CMAKE_DL_LIBS} m)
list(JOIN GLIA_PC_REQUIRES ", " GLIA_PC_REQUIRES)
list(JOIN GLIA_PC_LIBS " " GLIA_PC_LIBS)

# The prefix is written at install time, so that `cmake --install --prefix P`
# gives a glia.pc of P whatever prefix the build was configured with.
set(GLIA_PC_FILE ${CMAKE_BINARY_DIR}/generated/glia.pc)
install(CODE "
  set(GLIA_PC_PREFIX \"\${CMAKE_INSTALL_PREFIX}\")
  set(GLIA_PC_LIBDIR \"${CMAKE_INSTALL_LIBDIR}\")
  set(GLIA_PC_INCLUDEDIR \"${CMAKE_INSTALL_INCLUDEDIR}\")
  set(GLIA_PC_REQUIRES \"${GLIA_PC_REQUIRES}\")
  set(GLIA_PC_LIBS \"${GLIA_PC_LIBS}\")
  set(PROJECT_VERSION \"${PROJECT_VERSION}\")
  configure_file(\"${CMAKE_CURRENT_LIST_DIR}/glia.pc.in\" \"${GLIA_PC_FILE}\" @ONLY)")
install(FILES ${GLIA_PC_FILE} DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
