/* Vulkan backend: the one table of per-vendor / per-driver tuning and
 * workarounds. The first entry that matches the device wins; the last entry
 * matches everything.
 *
 * GEMM tiles are candidates for the planner (vk_gemm.c), which costs each by
 * the padded work it does, its micro-tile's FMA per shared-memory load, and
 * how much of the device its work-groups fill; candidates the device's limits
 * cannot run (shared memory, invocations) are skipped. Skinny tiles serve the
 * convolutions with few output (or input) channels. */
#include "vk_internal.h"

#define VENDOR_NVIDIA 0x10DEu
#define VENDOR_AMD 0x1002u
#define VENDOR_INTEL 0x8086u

/* bm, bn, bk, tm, tn */
#define GPU_TILES                                                                  \
    {128, 128, 8, 8, 8},  /* 256 invocations, 19 KiB shared, ~128 registers */     \
    {64, 64, 8, 8, 8},    /* 64 invocations */                                     \
    {32, 32, 16, 4, 4},                                                            \
    {16, 128, 8, 4, 8},   /* few rows: Cout of a last layer, Cin of a first */     \
    {128, 16, 8, 8, 4}    /* few columns */

static const vkb_tuning table[] = {
    {
        .name = "nvidia",
        .vendor_id = VENDOR_NVIDIA,
        .gemm = {GPU_TILES},
        .wg = 256,
        .submit_every = 64,
        /* H100: 132 SMs, each holding two 256-invocation groups of the
         * ~128-register GEMM */
        .target_threads = 132 * 512,
    },
    {
        .name = "amd",
        .vendor_id = VENDOR_AMD,
        .gemm = {GPU_TILES},
        .wg = 256,
        .submit_every = 64,
        .target_threads = 96 * 512,
    },
    {
        /* Intel Xe: smaller register files favour 64x64 tiles */
        .name = "intel",
        .vendor_id = VENDOR_INTEL,
        .gemm = {{64, 64, 16, 8, 4}, {64, 64, 16, 4, 4}, {32, 32, 16, 4, 4}, {16, 64, 16, 4, 4}},
        .wg = 256,
        .submit_every = 64,
        .target_threads = 32 * 1024,
    },
    {
        /* lavapipe runs a work-group on one CPU thread and switches coroutines
         * at every barrier: wide micro-tiles win. Its pipeline cache does not
         * keep compiled code (Mesa 22), so every tile is compiled by every
         * process: two tiles that LLVM compiles quickly */
        .name = "lavapipe",
        .driver_id = VK_DRIVER_ID_MESA_LLVMPIPE,
        .gemm = {{64, 64, 16, 8, 8}, {16, 64, 16, 4, 8}},
        .wg = 128,
        .submit_every = 256,
        .target_threads = 256,
        /* gallivm ends any loop nest after 65535 iterations (counted over the
         * inner loops too) without an error: long loops are cut into passes */
        .loop_limit = 65535,
    },
    {
        .name = "generic",
        .gemm = {{64, 64, 16, 4, 4}, {32, 32, 16, 4, 4}, {16, 16, 16, 4, 4}},
        .wg = 128,
        .submit_every = 64,
        .target_threads = 16 * 1024,
    },
};

const vkb_tuning *glia_vk_tuning_entry(int i)
{
    return i >= 0 && (size_t)i < sizeof table / sizeof table[0] ? &table[i] : NULL;
}

const vkb_tuning *glia_vk_tuning(uint32_t vendor_id, VkDriverId driver_id)
{
    size_t n = sizeof table / sizeof table[0];
    for (size_t i = 0; i + 1 < n; i++) {
        if (table[i].vendor_id && table[i].vendor_id != vendor_id)
            continue;
        if (table[i].driver_id && table[i].driver_id != driver_id)
            continue;
        return &table[i];
    }
    return &table[n - 1];
}
