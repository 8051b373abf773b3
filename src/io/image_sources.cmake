# Image volumes (NIfTI, PNG, TIFF); included by the top CMakeLists.txt.
find_package(ZLIB REQUIRED)
find_package(PNG REQUIRED)
find_package(TIFF REQUIRED)
target_sources(glia PRIVATE
  src/io/volume.c
  src/io/geom.c
  src/io/nifti.c
  src/io/png.c
  src/io/tiff.c
  src/io/volume_npy.c
)
target_link_libraries(glia PUBLIC ZLIB::ZLIB PNG::PNG TIFF::TIFF)
