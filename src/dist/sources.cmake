# Data parallelism: the job over MPI (Open MPI or MPICH) when the build finds
# one (GLIA_MPI=ON, the default, if present), else a job of one; the gradient
# reducer and the collectives above it work either way.
option(GLIA_MPI "Build data-parallel training and inference over MPI (if found)" ON)
set(GLIA_HAVE_MPI OFF)
if(GLIA_MPI)
  find_package(MPI COMPONENTS C QUIET)
  if(MPI_C_FOUND)
    set(GLIA_HAVE_MPI ON)
  endif()
endif()
target_sources(glia PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/dist.c
  ${CMAKE_CURRENT_LIST_DIR}/reducer.c
  ${CMAKE_CURRENT_LIST_DIR}/bench_comm.c
)
if(GLIA_HAVE_MPI)
  target_sources(glia PRIVATE ${CMAKE_CURRENT_LIST_DIR}/comm_mpi.c)
  target_link_libraries(glia PUBLIC MPI::MPI_C)
  message(STATUS "glia: MPI ${MPI_C_VERSION} (${MPI_C_LIBRARIES}); mpiexec: ${MPIEXEC_EXECUTABLE}")
else()
  target_sources(glia PRIVATE ${CMAKE_CURRENT_LIST_DIR}/comm_none.c)
  message(STATUS "glia: no MPI; every run is a job of one")
endif()
