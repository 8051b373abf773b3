# Vulkan backend: included by the top CMakeLists (when GLIA_VULKAN is on).
# Needs the Vulkan headers and glslc (or glslangValidator) at build time; the
# loader itself is opened at run time, so the library links without it.
get_filename_component(GLIA_VK_ROOT "${CMAKE_CURRENT_LIST_DIR}/../.." ABSOLUTE)

find_package(Vulkan QUIET)
if(Vulkan_INCLUDE_DIRS)
  set(GLIA_VK_INCLUDE ${Vulkan_INCLUDE_DIRS})
else()
  find_path(GLIA_VK_INCLUDE vulkan/vulkan.h)
endif()
find_program(GLIA_GLSLC glslc)
find_program(GLIA_GLSLANG glslangValidator)
if(NOT GLIA_VK_INCLUDE OR (NOT GLIA_GLSLC AND NOT GLIA_GLSLANG))
  message(STATUS "glia: Vulkan backend disabled (need vulkan/vulkan.h and glslc or glslangValidator)")
  return()
endif()

# SPIR-V 1.3 (Vulkan 1.1): every driver glia supports runs it, lavapipe of Mesa 22 included.
set(GLIA_VK_GEN ${CMAKE_BINARY_DIR}/generated/vulkan)
file(MAKE_DIRECTORY ${GLIA_VK_GEN})
file(GLOB GLIA_VK_SHADERS CONFIGURE_DEPENDS ${GLIA_VK_ROOT}/spirv/*.comp)
list(SORT GLIA_VK_SHADERS)
set(GLIA_VK_SHADER_DEPS ${GLIA_VK_ROOT}/backends/vulkan/vk_common.glsl
                        ${GLIA_VK_ROOT}/backends/vulkan/vk_shader_abi.h)
set(GLIA_VK_SPV "")
foreach(src ${GLIA_VK_SHADERS})
  get_filename_component(name ${src} NAME_WE)
  set(spv ${GLIA_VK_GEN}/${name}.spv)
  if(GLIA_GLSLC)
    set(cmd ${GLIA_GLSLC} --target-env=vulkan1.1 -O -I ${GLIA_VK_ROOT}/backends/vulkan -o ${spv} ${src})
  else()
    set(cmd ${GLIA_GLSLANG} -V --target-env vulkan1.1 -I${GLIA_VK_ROOT}/backends/vulkan -o ${spv} ${src})
  endif()
  add_custom_command(OUTPUT ${spv} COMMAND ${cmd} DEPENDS ${src} ${GLIA_VK_SHADER_DEPS}
                     COMMENT "glia: compiling ${name}.comp to SPIR-V" VERBATIM)
  list(APPEND GLIA_VK_SPV ${spv})
endforeach()
add_custom_command(
  OUTPUT ${GLIA_VK_GEN}/vk_spirv.c ${GLIA_VK_GEN}/vk_spirv.h
  COMMAND ${CMAKE_COMMAND} -DOUT_DIR=${GLIA_VK_GEN} "-DSPV=${GLIA_VK_SPV}"
          -P ${GLIA_VK_ROOT}/backends/vulkan/embed_spirv.cmake
  DEPENDS ${GLIA_VK_SPV} ${GLIA_VK_ROOT}/backends/vulkan/embed_spirv.cmake
  COMMENT "glia: embedding SPIR-V" VERBATIM)

set(GLIA_VK_SOURCES
  ${GLIA_VK_ROOT}/backends/vulkan/vk_backend.c
  ${GLIA_VK_ROOT}/backends/vulkan/vk_instance.c
  ${GLIA_VK_ROOT}/backends/vulkan/vk_tuning.c
  ${GLIA_VK_ROOT}/backends/vulkan/vk_memory.c
  ${GLIA_VK_ROOT}/backends/vulkan/vk_pipeline.c
  ${GLIA_VK_ROOT}/backends/vulkan/vk_stream.c
  ${GLIA_VK_ROOT}/backends/vulkan/vk_ops.c
  ${GLIA_VK_ROOT}/backends/vulkan/vk_reduce.c
  ${GLIA_VK_ROOT}/backends/vulkan/vk_layernorm.c
  ${GLIA_VK_ROOT}/backends/vulkan/vk_gemm.c
  ${GLIA_VK_ROOT}/backends/vulkan/vk_testing.c
  ${GLIA_VK_GEN}/vk_spirv.c)
target_sources(glia PRIVATE ${GLIA_VK_SOURCES})
target_include_directories(glia PRIVATE ${GLIA_VK_INCLUDE} ${GLIA_VK_GEN}
                           ${GLIA_VK_ROOT}/backends/vulkan)
target_link_libraries(glia PUBLIC ${CMAKE_DL_LIBS})
target_compile_definitions(glia PRIVATE GLIA_HAVE_VULKAN)
set(GLIA_HAVE_VULKAN ON)
