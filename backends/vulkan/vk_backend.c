/* Vulkan backend: the backend table, device open/close and op dispatch. */
#include <stdlib.h>
#include <string.h>
#include "vk_internal.h"

#define MAX_PHYS 64

static glia_status vk_enumerate(glia_device_info *out, int max, int *count)
{
    *count = 0;
    vkb_instance vi;
    if (glia_vk_instance_create(&vi, NULL) != GLIA_STATUS_OK)
        return GLIA_STATUS_OK;   /* no loader or no driver: no devices */
    VkPhysicalDevice pd[MAX_PHYS];
    int n = 0;
    glia_status s = glia_vk_physical_devices(&vi, pd, MAX_PHYS, &n);
    if (s == GLIA_STATUS_OK) {
        if (n > MAX_PHYS)
            n = MAX_PHYS;
        for (int i = 0; i < n && i < max; i++)
            glia_vk_device_info(&vi, pd[i], i, &out[i]);
        *count = n;
    }
    glia_vk_instance_destroy(&vi);
    return s;
}

static void vk_close(glia_bctx *ctx)
{
    if (!ctx)
        return;
    if (ctx->dev) {
        glia_vk_stream_destroy(ctx);
        glia_vk_mem_destroy(ctx);
        glia_vk_pipelines_destroy(ctx);
        ctx->vi.fn.vkDestroyDevice(ctx->dev, NULL);
    }
    glia_vk_instance_destroy(&ctx->vi);
    free(ctx);
}

/* A compute-only family (async compute) if there is one, else any with compute. */
static int pick_queue(glia_bctx *ctx)
{
    uint32_t n = 0;
    VkQueueFamilyProperties q[16];
    ctx->vi.fn.vkGetPhysicalDeviceQueueFamilyProperties(ctx->pd, &n, NULL);
    if (n > 16)
        n = 16;
    ctx->vi.fn.vkGetPhysicalDeviceQueueFamilyProperties(ctx->pd, &n, q);
    int any = -1;
    for (uint32_t i = 0; i < n; i++) {
        if (!(q[i].queueFlags & VK_QUEUE_COMPUTE_BIT) || q[i].queueCount == 0)
            continue;
        if (!(q[i].queueFlags & VK_QUEUE_GRAPHICS_BIT))
            return (int)i;
        if (any < 0)
            any = (int)i;
    }
    return any;
}

static int dev_ext(const VkExtensionProperties *e, uint32_t n, const char *name)
{
    for (uint32_t i = 0; i < n; i++)
        if (strcmp(e[i].extensionName, name) == 0)
            return 1;
    return 0;
}

static glia_status create_device(glia_bctx *ctx)
{
    uint32_t next = 0;
    VkResult r = ctx->vi.fn.vkEnumerateDeviceExtensionProperties(ctx->pd, NULL, &next, NULL);
    if (r != VK_SUCCESS)
        return glia_vk_error(r, "vkEnumerateDeviceExtensionProperties");
    VkExtensionProperties *ext = calloc(next ? next : 1, sizeof *ext);
    if (!ext)
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "vulkan: no host memory for extensions");
    r = ctx->vi.fn.vkEnumerateDeviceExtensionProperties(ctx->pd, NULL, &next, ext);
    if (r != VK_SUCCESS && r != VK_INCOMPLETE) {
        free(ext);
        return glia_vk_error(r, "vkEnumerateDeviceExtensionProperties");
    }
    const char *enable[2];
    uint32_t nenable = 0;
    ctx->push_desc = !(ctx->tune->workarounds & VKB_WA_NO_PUSH_DESCRIPTORS) &&
                     dev_ext(ext, next, VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME);
    if (ctx->push_desc)
        enable[nenable++] = VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME;
    /* a portability driver (MoltenVK) must have its subset enabled */
    if (dev_ext(ext, next, "VK_KHR_portability_subset"))
        enable[nenable++] = "VK_KHR_portability_subset";
    free(ext);

    int fam = pick_queue(ctx);
    if (fam < 0)
        return glia_seterr(GLIA_STATUS_UNSUPPORTED, "vulkan: %s has no compute queue", ctx->props.deviceName);
    ctx->qfam = (uint32_t)fam;
    float prio = 1.0f;
    VkDeviceQueueCreateInfo qci = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
        .queueFamilyIndex = ctx->qfam,
        .queueCount = 1,
        .pQueuePriorities = &prio,
    };
    VkDeviceCreateInfo dci = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
        .queueCreateInfoCount = 1,
        .pQueueCreateInfos = &qci,
        .enabledExtensionCount = nenable,
        .ppEnabledExtensionNames = enable,
    };
    r = ctx->vi.fn.vkCreateDevice(ctx->pd, &dci, NULL, &ctx->dev);
    if (r != VK_SUCCESS) {
        ctx->dev = VK_NULL_HANDLE;
        return glia_vk_error(r, "vkCreateDevice");
    }
#define LOAD(name)                                                                       \
    ctx->vi.fn.name = (PFN_##name)ctx->vi.fn.vkGetDeviceProcAddr(ctx->dev, #name);      \
    if (!ctx->vi.fn.name)                                                                \
        return glia_seterr(GLIA_STATUS_BACKEND_ERROR, "vulkan: the device lacks " #name);
    VKB_DEVICE_FNS(LOAD)
#undef LOAD
    if (ctx->push_desc) {
        ctx->vi.fn.vkCmdPushDescriptorSetKHR = (PFN_vkCmdPushDescriptorSetKHR)
            ctx->vi.fn.vkGetDeviceProcAddr(ctx->dev, "vkCmdPushDescriptorSetKHR");
        ctx->push_desc = ctx->vi.fn.vkCmdPushDescriptorSetKHR != NULL;
    }
    ctx->vi.fn.vkGetDeviceQueue(ctx->dev, ctx->qfam, 0, &ctx->queue);
    return GLIA_STATUS_OK;
}

static uint32_t pow2_floor(uint32_t v)
{
    uint32_t p = 1;
    while (p * 2 <= v)
        p *= 2;
    return p;
}

static void read_limits(glia_bctx *ctx)
{
    VkPhysicalDeviceSubgroupProperties sg = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES};
    VkPhysicalDeviceMaintenance3Properties m3 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES, .pNext = &sg};
    VkPhysicalDeviceProperties2 p2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = &m3};
    ctx->vi.fn.vkGetPhysicalDeviceProperties2(ctx->pd, &p2);
    ctx->props = p2.properties;
    ctx->vi.fn.vkGetPhysicalDeviceMemoryProperties(ctx->pd, &ctx->memprops);
    const VkPhysicalDeviceLimits *l = &ctx->props.limits;
    ctx->subgroup = sg.subgroupSize ? sg.subgroupSize : 1;
    ctx->max_alloc = m3.maxMemoryAllocationSize ? m3.maxMemoryAllocationSize : ((VkDeviceSize)1 << 30);
    ctx->max_range = (VkDeviceSize)l->maxStorageBufferRange & ~(VkDeviceSize)15;
    ctx->align = l->minStorageBufferOffsetAlignment < 4 ? 4 : l->minStorageBufferOffsetAlignment;
    for (int i = 0; i < 3; i++)
        ctx->max_groups[i] = l->maxComputeWorkGroupCount[i] < 65535 ? l->maxComputeWorkGroupCount[i] : 65535;
    uint32_t wg = ctx->tune->wg;
    if (wg > l->maxComputeWorkGroupInvocations)
        wg = l->maxComputeWorkGroupInvocations;
    if (wg > l->maxComputeWorkGroupSize[0])
        wg = l->maxComputeWorkGroupSize[0];
    /* the reduction trees need a power of two; a multiple of the subgroup fills it */
    wg = pow2_floor(wg);
    if (wg < ctx->subgroup && pow2_floor(ctx->subgroup) <= l->maxComputeWorkGroupInvocations)
        wg = pow2_floor(ctx->subgroup);
    ctx->wg = wg;
}

static glia_status vk_open(int index, const glia_device_options *opts, glia_bctx **out)
{
    *out = NULL;
    glia_bctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "vulkan: no host memory for a device");
    ctx->cur = -1;
    glia_status s = glia_vk_instance_create(&ctx->vi, &ctx->val);
    VkPhysicalDevice pd[MAX_PHYS];
    int n = 0;
    if (s == GLIA_STATUS_OK)
        s = glia_vk_physical_devices(&ctx->vi, pd, MAX_PHYS, &n);
    if (s == GLIA_STATUS_OK && (index < 0 || index >= n || index >= MAX_PHYS))
        s = glia_seterr(GLIA_STATUS_NO_DEVICE, "vulkan:%d does not exist (%d Vulkan device%s)", index, n,
                        n == 1 ? "" : "s");
    if (s == GLIA_STATUS_OK) {
        ctx->pd = pd[index];
        VkPhysicalDeviceProperties p;
        ctx->vi.fn.vkGetPhysicalDeviceProperties(ctx->pd, &p);
        ctx->tune = glia_vk_tuning(p.vendorID, glia_vk_driver_id(&ctx->vi, ctx->pd));
        read_limits(ctx);
        s = create_device(ctx);
    }
    if (s == GLIA_STATUS_OK)
        s = glia_vk_pipelines_init(ctx, opts ? opts->cache_dir : NULL);
    if (s == GLIA_STATUS_OK)
        s = glia_vk_stream_init(ctx);
    if (s == GLIA_STATUS_OK)
        s = glia_vk_mem_init(ctx);
    if (s != GLIA_STATUS_OK) {
        vk_close(ctx);
        return s;
    }
    *out = ctx;
    return GLIA_STATUS_OK;
}

static glia_status vk_buf_alloc(glia_bctx *ctx, size_t bytes, glia_bbuf **out)
{
    glia_status s = glia_vk_check_state(ctx);
    return s != GLIA_STATUS_OK ? s : glia_vk_buf_create(ctx, bytes, out);
}

static void vk_buf_free(glia_bctx *ctx, glia_bbuf *buf) { glia_vk_buf_release(ctx, buf); }

static glia_status vk_sync(glia_bctx *ctx)
{
    glia_status s = glia_vk_finish(ctx);
    glia_status v = glia_vk_check_state(ctx);
    return s != GLIA_STATUS_OK ? s : v;
}

static int vk_supports(glia_bctx *ctx, const glia_op *op)
{
    if (!glia_op_well_formed(op))
        return 0;
    /* layer norm sizes beyond its shader's loops are refused here, not run */
    if (op->kind == GLIA_OP_LN_FWD || op->kind == GLIA_OP_LN_BWD)
        return glia_vk_layernorm_supported(ctx, op);
    return 1;
}

static glia_status vk_run(glia_bctx *ctx, const glia_op *op)
{
    glia_status s = glia_vk_check_state(ctx);
    if (s != GLIA_STATUS_OK)
        return s;
    if ((unsigned)op->kind >= GLIA_OP_COUNT_)
        return glia_seterr(GLIA_STATUS_UNSUPPORTED, "vulkan: op kind %d is not supported", (int)op->kind);
    switch (op->kind) {
    case GLIA_OP_FILL:
    case GLIA_OP_COPY_ND:
    case GLIA_OP_AXPBYZ:
    case GLIA_OP_BINARY:
    case GLIA_OP_UNARY:
    case GLIA_OP_UNARY_BWD:
    case GLIA_OP_BCE_LOGITS:
    case GLIA_OP_BCE_LOGITS_BWD:
    case GLIA_OP_SGD:
    case GLIA_OP_ADAM:
    case GLIA_OP_BROADCAST:
    case GLIA_OP_DICE_SUMS_BWD:
        s = glia_vk_run_elementwise(ctx, op);
        break;
    case GLIA_OP_SOFTMAX_FWD:
    case GLIA_OP_SOFTMAX_BWD:
    case GLIA_OP_SOFTMAX_CE:
    case GLIA_OP_SOFTMAX_CE_BWD:
    case GLIA_OP_ARGMAX:
        s = glia_vk_run_channel(ctx, op);
        break;
    case GLIA_OP_GATHER_ROWS:
    case GLIA_OP_GATHER_ROWS_BWD:
        s = glia_vk_run_gather(ctx, op);
        break;
    case GLIA_OP_MAXPOOL_FWD:
    case GLIA_OP_MAXPOOL_BWD:
    case GLIA_OP_UPSAMPLE_FWD:
    case GLIA_OP_UPSAMPLE_BWD:
        s = glia_vk_run_pool(ctx, op);
        break;
    case GLIA_OP_REDUCE:
    case GLIA_OP_DICE_SUMS:
    case GLIA_OP_BN_FWD_TRAIN:
    case GLIA_OP_BN_FWD_INFER:
    case GLIA_OP_BN_BWD:
        s = glia_vk_run_reduce(ctx, op);
        break;
    case GLIA_OP_LN_FWD:
    case GLIA_OP_LN_BWD:
        s = glia_vk_run_layernorm(ctx, op);
        break;
    case GLIA_OP_GEMM:
        s = glia_vk_run_gemm(ctx, op);
        break;
    case GLIA_OP_CONV_FWD:
    case GLIA_OP_CONV_BWD_DATA:
    case GLIA_OP_CONV_BWD_WEIGHT:
        s = glia_vk_run_conv(ctx, op);
        break;
    case GLIA_OP_COUNT_:   /* no default: a new op kind must be handled here (-Wswitch) */
        return glia_seterr(GLIA_STATUS_UNSUPPORTED, "vulkan: op kind %d is not supported", (int)op->kind);
    }
    return s;
}

const glia_backend glia_backend_vulkan = {
    .version = GLIA_BACKEND_VERSION,
    .name = "vulkan",
    .enumerate = vk_enumerate,
    .open = vk_open,
    .close = vk_close,
    .buf_alloc = vk_buf_alloc,
    .buf_free = vk_buf_free,
    .write = glia_vk_write,
    .read = glia_vk_read,
    .sync = vk_sync,
    .supports = vk_supports,
    .run = vk_run,
};
