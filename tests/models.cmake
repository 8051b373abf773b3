# Models, checkpoints and .npy files (included by tests/CMakeLists.txt).
foreach(b ${GLIA_TEST_BACKENDS})
  glia_add_test(test_models SOURCES test_models.c testutil.c LABELS ${b}
                ARGS ${b} TEST_NAME models_${b})
endforeach()
glia_add_test(test_io SOURCES test_io.c testutil.c LABELS cpu TEST_NAME io)

# Interop with PyTorch (label interop): needs a python3 that imports torch and
# numpy. Debian's python3-torch belongs to /usr/bin/python3, which may not be
# the first python3 on PATH, so that one is tried first.
add_executable(glia_step interop/glia_step.c)
target_link_libraries(glia_step PRIVATE glia)
add_executable(glia_ops interop/glia_ops.c)
target_link_libraries(glia_ops PRIVATE glia)
add_executable(glia_swin interop/glia_swin.c)
target_link_libraries(glia_swin PRIVATE glia)
glia_python_with(GLIA_TORCH_PYTHON "import torch, numpy")
if(GLIA_TORCH_PYTHON)
  add_test(NAME interop_torch
           COMMAND ${GLIA_TORCH_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/interop/test_interop.py
                   $<TARGET_FILE:glia_cli> $<TARGET_FILE:glia_step> ${CMAKE_CURRENT_BINARY_DIR}/interop-work)
  set_tests_properties(interop_torch PROPERTIES LABELS interop TIMEOUT 600)
  # python/glia_torch.py (load and save of glia checkpoints) against glia init, info and forward
  add_test(NAME interop_glia_torch
           COMMAND ${GLIA_TORCH_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/interop/test_glia_torch.py
                   $<TARGET_FILE:glia_cli> ${CMAKE_CURRENT_BINARY_DIR}/interop-glia-torch)
  set_tests_properties(interop_glia_torch PROPERTIES LABELS interop TIMEOUT 600)
  add_test(NAME interop_swin_ops
           COMMAND ${GLIA_TORCH_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/interop/test_swin_ops.py
                   $<TARGET_FILE:glia_ops> ${CMAKE_CURRENT_BINARY_DIR}/interop-swin-ops)
  set_tests_properties(interop_swin_ops PROPERTIES LABELS interop TIMEOUT 600
                       ENVIRONMENT "GLIA_TEST_CACHE_DIR=${CMAKE_BINARY_DIR}/test-cache")
  add_test(NAME interop_swin_ref
           COMMAND ${GLIA_TORCH_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/interop/test_swin_ref.py)
  set_tests_properties(interop_swin_ref PROPERTIES LABELS interop TIMEOUT 600)
  add_test(NAME interop_swin_model
           COMMAND ${GLIA_TORCH_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/interop/test_swin_model.py
                   $<TARGET_FILE:glia_swin> ${CMAKE_CURRENT_BINARY_DIR}/interop-swin-model)
  set_tests_properties(interop_swin_model PROPERTIES LABELS interop TIMEOUT 900)
  add_test(NAME interop_swin_train
           COMMAND ${GLIA_TORCH_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/interop/test_swin_train.py
                   $<TARGET_FILE:glia_cli> $<TARGET_FILE:glia_step> ${CMAKE_CURRENT_BINARY_DIR}/interop-swin-train)
  set_tests_properties(interop_swin_train PROPERTIES LABELS interop TIMEOUT 900
                       ENVIRONMENT "GLIA_TEST_CACHE_DIR=${CMAKE_BINARY_DIR}/test-cache")
else()
  message(STATUS "glia: no python3 with torch and numpy; the PyTorch interop test is not registered")
endif()
