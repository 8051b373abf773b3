/* glia — Vulkan backend hooks for tests/test_vk_*.c only: they reach into an
 * opened context to exercise paths the device in CI would not take (other
 * vendors' GEMM tiles and split-K, the validation messenger). */
#ifndef GLIA_VK_TESTING_H
#define GLIA_VK_TESTING_H

#include <stdint.h>
#include "backends/backend.h"

/* Entries of the vendor tuning table and their names ("nvidia", ...). */
int glia_vk_testing_tunings(void);
const char *glia_vk_testing_tuning_name(int i);
/* Run ctx with entry i (GEMM tiles, split-K target, submission batch size).
 * Returns 0 if none of the entry's GEMM tiles fits the device's limits. */
int glia_vk_testing_use_tuning(glia_bctx *ctx, int i);
/* maxStorageBufferRange in bytes, as the context uses it. */
uint64_t glia_vk_testing_max_range(const glia_bctx *ctx);
/* 1 if the loader offers the named instance layer. */
int glia_vk_testing_layer_available(const char *name);
/* Make one deliberately invalid Vulkan call (a zero-sized buffer). Only for
 * runs with the validation layer, which must then report it. */
void glia_vk_testing_invalid_call(glia_bctx *ctx);
/* The magic numbers of the shaders' fast division (see vk_common.glsl). */
void glia_vk_testing_magic(uint32_t d, uint32_t *magic, uint32_t *shifts);
/* Bind descriptor sets from per-batch pools from now on, as on drivers
 * without VK_KHR_push_descriptor (the pipeline layout is rebuilt). */
glia_status glia_vk_testing_use_descriptor_sets(glia_bctx *ctx);
/* Pipelines created so far, and whether the pipeline cache will be written at close. */
int glia_vk_testing_pipelines(const glia_bctx *ctx);

#endif
