# The data pipeline: dataset layouts, cases, splits, preprocessing, augmentation, loader, phantoms.
if(NOT TARGET PkgConfig::CJSON)
  pkg_check_modules(CJSON REQUIRED IMPORTED_TARGET libcjson)
endif()
target_sources(glia PRIVATE
  src/data/dataset.c
  src/data/layout_brats.c
  src/data/layout_files.c
  src/data/layout_nnunet.c
  src/data/case.c
  src/data/split.c
  src/data/preprocess.c
  src/data/augment.c
  src/data/loader.c
  src/data/synth.c
  src/data/synth_write.c
  src/data/synth_nnunet.c
  src/data/ticker.c
)
target_link_libraries(glia PRIVATE PkgConfig::CJSON)
