# Vulkan backend tests beyond the shared op table (label vulkan).
if(GLIA_HAVE_VULKAN)
  glia_add_test(test_vk_backend SOURCES test_vk_backend.c op_cases.c testutil.c LABELS vulkan)

  # The same programs under the Khronos validation layer (Debian:
  # vulkan-validationlayers), with synchronization validation on so a missing
  # barrier is a hazard message too. The backend turns every validation message
  # into an error status and prints it, so a message fails the op table by
  # status and by output. vk_backend_validation also fails if the layer is
  # missing and checks that a deliberate invalid call is caught (so that
  # message is expected in its output).
  set(GLIA_VK_LAYER_ENV "VK_INSTANCE_LAYERS=VK_LAYER_KHRONOS_validation"
                        "VK_LAYER_ENABLES=VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT"
                        "GLIA_TEST_CACHE_DIR=${CMAKE_BINARY_DIR}/test-cache")
  add_test(NAME ops_vulkan_validation COMMAND test_ops vulkan)
  set_tests_properties(ops_vulkan_validation PROPERTIES LABELS vulkan
                       ENVIRONMENT "${GLIA_VK_LAYER_ENV}"
                       FAIL_REGULAR_EXPRESSION "glia vulkan validation|Validation Error|VUID-|SYNC-HAZARD")
  add_test(NAME vk_backend_validation COMMAND test_vk_backend)
  set_tests_properties(vk_backend_validation PROPERTIES LABELS vulkan
                       ENVIRONMENT "${GLIA_VK_LAYER_ENV}")
else()
  # Built without the backend: the op table still runs for "vulkan", finds no
  # device and fails when GLIA_REQUIRE_BACKENDS names vulkan (CI), so a build
  # that silently lost Vulkan cannot pass as one that tested it.
  glia_add_test(test_ops SOURCES test_ops.c op_cases.c testutil.c LABELS vulkan
                ARGS vulkan TEST_NAME ops_vulkan)
endif()
