# The segmentation models (included by the top CMakeLists.txt).
target_sources(glia PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/model.c
  ${CMAKE_CURRENT_LIST_DIR}/unet2d.c
  ${CMAKE_CURRENT_LIST_DIR}/unet3d.c
  ${CMAKE_CURRENT_LIST_DIR}/r2unet.c
)
