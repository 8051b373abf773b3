# The models (included by the top CMakeLists.txt): the registry and its field
# tables, one file per architecture, and the toy network of glia_toy_train.
target_sources(glia PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/model.c
  ${CMAKE_CURRENT_LIST_DIR}/bn_fold.c
  ${CMAKE_CURRENT_LIST_DIR}/fields.c
  ${CMAKE_CURRENT_LIST_DIR}/unet2d.c
  ${CMAKE_CURRENT_LIST_DIR}/unet3d.c
  ${CMAKE_CURRENT_LIST_DIR}/r2unet.c
  ${CMAKE_CURRENT_LIST_DIR}/swinunetr.c
  ${CMAKE_CURRENT_LIST_DIR}/swin_blocks.c
  ${CMAKE_CURRENT_LIST_DIR}/swin_flops.c
  ${CMAKE_CURRENT_LIST_DIR}/toy.c
)
