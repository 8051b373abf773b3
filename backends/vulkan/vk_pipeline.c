/* Vulkan backend: pipelines. One pipeline layout serves every shader (eight
 * storage buffers, 128 bytes of push constants). A pipeline is created the
 * first time its (shader, specialisation) is used and kept in a hash table
 * for the life of the device; the driver's VkPipelineCache is saved to
 * cache_dir so the next run skips shader compilation. The file is wrapped with
 * a size and checksum and its Vulkan header is checked against the device: a
 * corrupt or foreign file is ignored and rewritten. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "vk_internal.h"

static const char cache_magic[8] = {'G', 'L', 'I', 'A', 'V', 'K', 'P', '1'};
#define CACHE_FILE_MAX ((long)256 << 20)

static uint64_t fnv1a(const void *data, size_t n, uint64_t h)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}
#define FNV_SEED 0xcbf29ce484222325ULL

static void put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static uint32_t get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The payload, if the file is ours, intact and made by this device and driver. */
static void *load_cache(glia_bctx *ctx, size_t *len)
{
    *len = 0;
    FILE *f = fopen(ctx->pcache_path, "rb");
    if (!f)
        return NULL;
    unsigned char *buf = NULL;
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0)
        size = ftell(f);
    if (size < 24 + 32 || size > CACHE_FILE_MAX || fseek(f, 0, SEEK_SET) != 0 ||
        !(buf = malloc((size_t)size)) || fread(buf, 1, (size_t)size, f) != (size_t)size) {
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    const unsigned char *pl = buf + 24;
    size_t n = (size_t)size - 24;
    int ok = memcmp(buf, cache_magic, 8) == 0 && get_u64(buf + 8) == n &&
             get_u64(buf + 16) == fnv1a(pl, n, FNV_SEED) &&
             get_u32(pl) >= 32 && get_u32(pl) <= n &&
             get_u32(pl + 4) == VK_PIPELINE_CACHE_HEADER_VERSION_ONE &&
             get_u32(pl + 8) == ctx->props.vendorID && get_u32(pl + 12) == ctx->props.deviceID &&
             memcmp(pl + 16, ctx->props.pipelineCacheUUID, VK_UUID_SIZE) == 0;
    if (!ok) {
        free(buf);
        return NULL;
    }
    memmove(buf, pl, n);
    *len = n;
    return buf;
}

/* Best effort: a cache that cannot be written costs compile time, nothing else. */
static void save_cache(glia_bctx *ctx)
{
    size_t n = 0;
    if (ctx->vi.fn.vkGetPipelineCacheData(ctx->dev, ctx->pcache, &n, NULL) != VK_SUCCESS || n == 0)
        return;
    unsigned char *buf = malloc(n + 24);
    if (!buf)
        return;
    if (ctx->vi.fn.vkGetPipelineCacheData(ctx->dev, ctx->pcache, &n, buf + 24) != VK_SUCCESS) {
        free(buf);
        return;
    }
    memcpy(buf, cache_magic, 8);
    put_u64(buf + 8, n);
    put_u64(buf + 16, fnv1a(buf + 24, n, FNV_SEED));
    size_t plen = strlen(ctx->pcache_path) + 32;
    char *tmp = malloc(plen);
    if (tmp) {
        /* write aside and rename: readers never see a half-written file */
        snprintf(tmp, plen, "%s.%ld.tmp", ctx->pcache_path, (long)getpid());
        FILE *f = fopen(tmp, "wb");
        if (f) {
            int ok = fwrite(buf, 1, n + 24, f) == n + 24;
            ok = fclose(f) == 0 && ok;
            if (!ok || rename(tmp, ctx->pcache_path) != 0)
                remove(tmp);
        }
        free(tmp);
    }
    free(buf);
}

static glia_status cache_init(glia_bctx *ctx, const char *dir)
{
    size_t len = 0;
    void *data = NULL;
    if (dir && !(ctx->tune->workarounds & VKB_WA_NO_PIPELINE_CACHE)) {
        size_t plen = strlen(dir) + 96;
        ctx->pcache_path = malloc(plen);
        if (!ctx->pcache_path)
            return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "vulkan: no host memory for a path");
        int at = snprintf(ctx->pcache_path, plen, "%s/glia-vk-%04x-%04x-%08x-", dir,
                          (unsigned)ctx->props.vendorID, (unsigned)ctx->props.deviceID,
                          (unsigned)ctx->props.driverVersion);
        for (unsigned i = 0; i < VK_UUID_SIZE; i++)
            at += snprintf(ctx->pcache_path + at, plen - (size_t)at, "%02x",
                           ctx->props.pipelineCacheUUID[i]);
        snprintf(ctx->pcache_path + at, plen - (size_t)at, ".bin");
        data = load_cache(ctx, &len);
        ctx->pcache_dirty = data == NULL;   /* missing or corrupt: write it anew */
    }
    VkPipelineCacheCreateInfo ci = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO,
        .initialDataSize = len,
        .pInitialData = data,
    };
    VkResult r = ctx->vi.fn.vkCreatePipelineCache(ctx->dev, &ci, NULL, &ctx->pcache);
    if (r != VK_SUCCESS && data) {
        /* the driver refused the data: start empty */
        ci.initialDataSize = 0;
        ci.pInitialData = NULL;
        ctx->pcache_dirty = 1;
        r = ctx->vi.fn.vkCreatePipelineCache(ctx->dev, &ci, NULL, &ctx->pcache);
    }
    free(data);
    if (r != VK_SUCCESS)
        return glia_vk_error(r, "vkCreatePipelineCache");
    return GLIA_STATUS_OK;
}

glia_status glia_vk_pipelines_init(glia_bctx *ctx, const char *cache_dir)
{
    VkDescriptorSetLayoutBinding bind[8];
    for (uint32_t i = 0; i < 8; i++) {
        bind[i] = (VkDescriptorSetLayoutBinding){
            .binding = i,
            .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
            .descriptorCount = 1,
            .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
        };
    }
    VkDescriptorSetLayoutCreateInfo dci = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
        .flags = ctx->push_desc ? VK_DESCRIPTOR_SET_LAYOUT_CREATE_PUSH_DESCRIPTOR_BIT_KHR : 0,
        .bindingCount = 8,
        .pBindings = bind,
    };
    VkResult r = ctx->vi.fn.vkCreateDescriptorSetLayout(ctx->dev, &dci, NULL, &ctx->dsl);
    if (r != VK_SUCCESS)
        return glia_vk_error(r, "vkCreateDescriptorSetLayout");
    VkPushConstantRange range = {
        .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
        .size = VKB_PC_WORDS * 4,
    };
    VkPipelineLayoutCreateInfo lci = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
        .setLayoutCount = 1,
        .pSetLayouts = &ctx->dsl,
        .pushConstantRangeCount = 1,
        .pPushConstantRanges = &range,
    };
    r = ctx->vi.fn.vkCreatePipelineLayout(ctx->dev, &lci, NULL, &ctx->layout);
    if (r != VK_SUCCESS)
        return glia_vk_error(r, "vkCreatePipelineLayout");
    ctx->cappipes = 64;
    ctx->pipes = calloc(ctx->cappipes, sizeof *ctx->pipes);
    if (!ctx->pipes)
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "vulkan: no host memory for pipelines");
    return cache_init(ctx, cache_dir);
}

void glia_vk_pipelines_destroy(glia_bctx *ctx)
{
    if (ctx->pcache) {
        if (ctx->pcache_dirty && ctx->pcache_path)
            save_cache(ctx);
        ctx->vi.fn.vkDestroyPipelineCache(ctx->dev, ctx->pcache, NULL);
    }
    for (uint32_t i = 0; ctx->pipes && i < ctx->cappipes; i++)
        if (ctx->pipes[i].pipe)
            ctx->vi.fn.vkDestroyPipeline(ctx->dev, ctx->pipes[i].pipe, NULL);
    for (int i = 0; i < GLIA_VK_SHADER_COUNT_; i++)
        if (ctx->modules[i])
            ctx->vi.fn.vkDestroyShaderModule(ctx->dev, ctx->modules[i], NULL);
    if (ctx->layout)
        ctx->vi.fn.vkDestroyPipelineLayout(ctx->dev, ctx->layout, NULL);
    if (ctx->dsl)
        ctx->vi.fn.vkDestroyDescriptorSetLayout(ctx->dev, ctx->dsl, NULL);
    free(ctx->pipes);
    free(ctx->pcache_path);
    ctx->pipes = NULL;
    ctx->pcache_path = NULL;
}

static uint32_t key_hash(const vkb_pipe_key *k)
{
    uint64_t h = fnv1a(&k->shader, sizeof k->shader, FNV_SEED);
    h = fnv1a(k->spec, k->nspec * sizeof k->spec[0], h);
    return (uint32_t)(h ^ (h >> 32));
}

static int key_eq(const vkb_pipe_key *a, const vkb_pipe_key *b)
{
    return a->shader == b->shader && a->nspec == b->nspec &&
           memcmp(a->spec, b->spec, a->nspec * sizeof a->spec[0]) == 0;
}

static vkb_pipe_slot *slot_for(vkb_pipe_slot *tab, uint32_t cap, const vkb_pipe_key *k)
{
    uint32_t i = key_hash(k) & (cap - 1);
    while (tab[i].pipe && !key_eq(&tab[i].key, k))
        i = (i + 1) & (cap - 1);
    return &tab[i];
}

static glia_status grow(glia_bctx *ctx)
{
    uint32_t cap = ctx->cappipes * 2;
    vkb_pipe_slot *tab = calloc(cap, sizeof *tab);
    if (!tab)
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "vulkan: no host memory for pipelines");
    for (uint32_t i = 0; i < ctx->cappipes; i++)
        if (ctx->pipes[i].pipe)
            *slot_for(tab, cap, &ctx->pipes[i].key) = ctx->pipes[i];
    free(ctx->pipes);
    ctx->pipes = tab;
    ctx->cappipes = cap;
    return GLIA_STATUS_OK;
}

static glia_status create(glia_bctx *ctx, const vkb_pipe_key *key, VkPipeline *out)
{
    uint32_t sh = key->shader;
    if (!ctx->modules[sh]) {
        VkShaderModuleCreateInfo mi = {
            .sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
            .codeSize = glia_vk_spirv_bytes[sh],
            .pCode = glia_vk_spirv_code[sh],
        };
        VkResult r = ctx->vi.fn.vkCreateShaderModule(ctx->dev, &mi, NULL, &ctx->modules[sh]);
        if (r != VK_SUCCESS) {
            ctx->modules[sh] = VK_NULL_HANDLE;
            return glia_vk_error(r, "vkCreateShaderModule");
        }
    }
    VkSpecializationMapEntry map[VKB_MAX_SPEC];
    for (uint32_t i = 0; i < key->nspec; i++)
        map[i] = (VkSpecializationMapEntry){.constantID = i, .offset = 4 * i, .size = 4};
    VkSpecializationInfo si = {
        .mapEntryCount = key->nspec,
        .pMapEntries = map,
        .dataSize = 4 * key->nspec,
        .pData = key->spec,
    };
    VkComputePipelineCreateInfo ci = {
        .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
        .stage = {
            .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
            .stage = VK_SHADER_STAGE_COMPUTE_BIT,
            .module = ctx->modules[sh],
            .pName = "main",
            .pSpecializationInfo = &si,
        },
        .layout = ctx->layout,
    };
    VkResult r = ctx->vi.fn.vkCreateComputePipelines(ctx->dev, ctx->pcache, 1, &ci, NULL, out);
    if (r != VK_SUCCESS)
        return glia_seterr(glia_vk_status(r), "vulkan: vkCreateComputePipelines failed: %s (%d), shader %s",
                           glia_vk_result_str(r), (int)r, glia_vk_spirv_name[sh]);
    ctx->pcache_dirty = 1;
    return GLIA_STATUS_OK;
}

glia_status glia_vk_pipeline(glia_bctx *ctx, const vkb_pipe_key *key, VkPipeline *out)
{
    vkb_pipe_slot *s = slot_for(ctx->pipes, ctx->cappipes, key);
    if (s->pipe) {
        *out = s->pipe;
        return GLIA_STATUS_OK;
    }
    if (2 * (ctx->npipes + 1) > ctx->cappipes) {
        glia_status st = grow(ctx);
        if (st != GLIA_STATUS_OK)
            return st;
        s = slot_for(ctx->pipes, ctx->cappipes, key);
    }
    VkPipeline p;
    glia_status st = create(ctx, key, &p);
    if (st != GLIA_STATUS_OK)
        return st;
    s->key = *key;
    s->pipe = p;
    ctx->npipes++;
    *out = p;
    return GLIA_STATUS_OK;
}
