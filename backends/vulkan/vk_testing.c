/* Vulkan backend: the hooks of vk_testing.h. */
#include <stdlib.h>
#include <string.h>
#include "vk_internal.h"
#include "vk_testing.h"

int glia_vk_testing_tunings(void)
{
    int n = 0;
    while (glia_vk_tuning_entry(n))
        n++;
    return n;
}

const char *glia_vk_testing_tuning_name(int i)
{
    const vkb_tuning *t = glia_vk_tuning_entry(i);
    return t ? t->name : "";
}

int glia_vk_testing_use_tuning(glia_bctx *ctx, int i)
{
    const vkb_tuning *t = glia_vk_tuning_entry(i);
    if (!t || !glia_vk_gemm_cfg_usable(ctx, t))
        return 0;
    ctx->tune = t;
    return 1;
}

uint64_t glia_vk_testing_max_range(const glia_bctx *ctx) { return ctx->max_range; }

int glia_vk_testing_layer_available(const char *name)
{
    vkb_instance vi;
    if (glia_vk_instance_create(&vi, NULL) != GLIA_STATUS_OK)
        return 0;
    uint32_t n = 0;
    int found = 0;
    if (vi.fn.vkEnumerateInstanceLayerProperties(&n, NULL) == VK_SUCCESS && n > 0) {
        VkLayerProperties *l = calloc(n, sizeof *l);
        if (l && vi.fn.vkEnumerateInstanceLayerProperties(&n, l) == VK_SUCCESS)
            for (uint32_t i = 0; i < n; i++)
                found |= strcmp(l[i].layerName, name) == 0;
        free(l);
    }
    glia_vk_instance_destroy(&vi);
    return found;
}

void glia_vk_testing_invalid_call(glia_bctx *ctx)
{
    VkBufferCreateInfo bi = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
        .size = 0,   /* VUID-VkBufferCreateInfo-size-00912 */
        .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT,
    };
    VkBuffer b = VK_NULL_HANDLE;
    if (ctx->vi.fn.vkCreateBuffer(ctx->dev, &bi, NULL, &b) == VK_SUCCESS && b)
        ctx->vi.fn.vkDestroyBuffer(ctx->dev, b, NULL);
}

void glia_vk_testing_magic(uint32_t d, uint32_t *magic, uint32_t *shifts) { glia_vk_magic(d, magic, shifts); }

int glia_vk_testing_pipelines(const glia_bctx *ctx) { return (int)ctx->npipes; }

glia_status glia_vk_testing_use_descriptor_sets(glia_bctx *ctx)
{
    glia_status s = glia_vk_finish(ctx);
    if (s != GLIA_STATUS_OK)
        return s;
    glia_vk_pipelines_destroy(ctx);
    ctx->bound = VK_NULL_HANDLE;
    ctx->push_desc = 0;
    s = glia_vk_pipelines_init(ctx, NULL);
    return s != GLIA_STATUS_OK ? s : glia_vk_descriptor_pools(ctx);
}
