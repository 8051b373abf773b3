/* Vulkan backend: the one table of per-vendor / per-driver tuning and
 * workarounds. The first entry that matches the device wins; the last entry
 * matches everything. GEMM tiles are listed largest first: the planner takes
 * the largest that still gives the device enough work-groups, and skips any
 * the device's limits cannot run (shared memory, invocations). */
#include "vk_internal.h"

#define VENDOR_NVIDIA 0x10DEu
#define VENDOR_AMD 0x1002u
#define VENDOR_INTEL 0x8086u

static const vkb_tuning table[] = {
    {
        /* 128x128x8 tiles, 8x8 per invocation, 256 invocations: 19 KiB of
         * shared memory and ~128 registers, so two groups fit on an SM */
        .name = "nvidia",
        .vendor_id = VENDOR_NVIDIA,
        .gemm = {{128, 128, 8, 8, 8}, {64, 64, 16, 4, 4}, {32, 32, 16, 4, 4}},
        .wg = 256,
        .submit_every = 64,
        .target_groups = 528,
    },
    {
        .name = "amd",
        .vendor_id = VENDOR_AMD,
        .gemm = {{128, 128, 8, 8, 8}, {64, 64, 16, 4, 4}, {32, 32, 16, 4, 4}},
        .wg = 256,
        .submit_every = 64,
        .target_groups = 480,
    },
    {
        /* Intel Xe: smaller register files favour 64x64 tiles */
        .name = "intel",
        .vendor_id = VENDOR_INTEL,
        .gemm = {{64, 64, 16, 8, 4}, {64, 64, 16, 4, 4}, {32, 32, 16, 4, 4}},
        .wg = 256,
        .submit_every = 64,
        .target_groups = 192,
    },
    {
        /* lavapipe runs each work-group on one CPU thread and every barrier is a
         * coroutine switch per subgroup: fewer, wider invocations win */
        .name = "lavapipe",
        .driver_id = VK_DRIVER_ID_MESA_LLVMPIPE,
        .gemm = {{64, 64, 16, 8, 8}, {32, 32, 16, 8, 8}, {32, 32, 16, 4, 4}},
        .wg = 128,
        .submit_every = 256,
        .target_groups = 16,
    },
    {
        .name = "generic",
        .gemm = {{64, 64, 16, 4, 4}, {32, 32, 16, 4, 4}, {16, 16, 16, 4, 4}},
        .wg = 128,
        .submit_every = 64,
        .target_groups = 128,
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
