/* Vulkan backend: device memory. Every glia_bbuf is its own VkBuffer (so
 * barriers and hazards are tracked per tensor storage), placed in a large
 * device-local VkDeviceMemory block shared with others: drivers limit the
 * number of allocations (maxMemoryAllocationCount can be 4096) and each
 * allocation is slow. Host-visible memory is used only for staging buffers. */
#include <stdlib.h>
#include <string.h>
#include "vk_internal.h"

static int find_type(const VkPhysicalDeviceMemoryProperties *mp, uint32_t bits,
                     VkMemoryPropertyFlags want, VkMemoryPropertyFlags avoid)
{
    for (uint32_t i = 0; i < mp->memoryTypeCount; i++) {
        VkMemoryPropertyFlags f = mp->memoryTypes[i].propertyFlags;
        if ((bits & (1u << i)) && (f & want) == want && !(f & avoid))
            return (int)i;
    }
    return -1;
}

static int device_type_for(const VkPhysicalDeviceMemoryProperties *mp, uint32_t bits)
{
    /* real VRAM first, then any device-local memory (integrated, lavapipe), then anything */
    int t = find_type(mp, bits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT);
    if (t < 0)
        t = find_type(mp, bits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, 0);
    if (t < 0)
        t = find_type(mp, bits, 0, 0);
    return t;
}

static VkBufferCreateInfo buffer_info(VkDeviceSize size, VkBufferUsageFlags usage)
{
    VkBufferCreateInfo bi = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
        .size = size,
        .usage = usage,
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
    };
    return bi;
}

#define USAGE_DEVICE (VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT | \
                      VK_BUFFER_USAGE_TRANSFER_DST_BIT)
#define USAGE_STAGING (VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT)

glia_status glia_vk_mem_init(glia_bctx *ctx)
{
    VkBufferCreateInfo bi = buffer_info(4096, USAGE_DEVICE);
    VkBuffer probe;
    VkResult r = ctx->vi.fn.vkCreateBuffer(ctx->dev, &bi, NULL, &probe);
    if (r != VK_SUCCESS)
        return glia_vk_error(r, "vkCreateBuffer");
    VkMemoryRequirements req;
    ctx->vi.fn.vkGetBufferMemoryRequirements(ctx->dev, probe, &req);
    ctx->vi.fn.vkDestroyBuffer(ctx->dev, probe, NULL);
    bi = buffer_info(4096, USAGE_STAGING);
    r = ctx->vi.fn.vkCreateBuffer(ctx->dev, &bi, NULL, &probe);
    if (r != VK_SUCCESS)
        return glia_vk_error(r, "vkCreateBuffer");
    VkMemoryRequirements sreq;
    ctx->vi.fn.vkGetBufferMemoryRequirements(ctx->dev, probe, &sreq);
    ctx->vi.fn.vkDestroyBuffer(ctx->dev, probe, NULL);

    const VkPhysicalDeviceMemoryProperties *mp = &ctx->memprops;
    ctx->dev_type = device_type_for(mp, req.memoryTypeBits);
    /* cached memory makes the read back fast; coherent spares flushes */
    const VkMemoryPropertyFlags hv = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT;
    const VkMemoryPropertyFlags hc = VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    const VkMemoryPropertyFlags hk = VK_MEMORY_PROPERTY_HOST_CACHED_BIT;
    ctx->host_type = find_type(mp, sreq.memoryTypeBits, hv | hc | hk, 0);
    if (ctx->host_type < 0)
        ctx->host_type = find_type(mp, sreq.memoryTypeBits, hv | hc, 0);
    if (ctx->host_type < 0)
        ctx->host_type = find_type(mp, sreq.memoryTypeBits, hv, 0);
    if (ctx->dev_type < 0 || ctx->host_type < 0)
        return glia_seterr(GLIA_STATUS_UNSUPPORTED, "vulkan: %s has no usable %s memory type",
                           ctx->props.deviceName, ctx->dev_type < 0 ? "device" : "host-visible");
    ctx->host_coherent = (mp->memoryTypes[ctx->host_type].propertyFlags & hc) != 0;

    VkDeviceSize heap = mp->memoryHeaps[mp->memoryTypes[ctx->dev_type].heapIndex].size;
    VkDeviceSize bs = (VkDeviceSize)256 << 20;
    while (bs > ((VkDeviceSize)16 << 20) && bs > heap / 16)
        bs /= 2;
    if (bs > ctx->max_alloc)
        bs = ctx->max_alloc;
    ctx->block_size = bs;
    return glia_vk_buf_create(ctx, 256, &ctx->dummy);
}

static void block_free(glia_bctx *ctx, vkb_block *blk)
{
    for (vkb_block **p = &ctx->blocks; *p; p = &(*p)->next) {
        if (*p == blk) {
            *p = blk->next;
            break;
        }
    }
    ctx->vi.fn.vkFreeMemory(ctx->dev, blk->mem, NULL);
    free(blk->free);
    free(blk);
}

void glia_vk_mem_destroy(glia_bctx *ctx)
{
    if (ctx->scratch)
        glia_vk_buf_destroy(ctx, ctx->scratch);
    if (ctx->dummy)
        glia_vk_buf_destroy(ctx, ctx->dummy);
    ctx->scratch = ctx->dummy = NULL;
    /* blocks still holding buffers belong to tensors leaked by the caller */
    while (ctx->blocks)
        block_free(ctx, ctx->blocks);
}

/* First fit in the block's sorted free list. */
static int range_take(vkb_block *blk, VkDeviceSize size, VkDeviceSize align, VkDeviceSize *off)
{
    for (int i = 0; i < blk->nfree; i++) {
        vkb_range *f = &blk->free[i];
        VkDeviceSize start = (f->off + align - 1) / align * align;
        if (start + size > f->off + f->size)
            continue;
        VkDeviceSize head = start - f->off, tail = f->off + f->size - start - size;
        if (head && tail) {
            if (blk->nfree == blk->capfree) {
                int cap = blk->capfree * 2;
                vkb_range *nf = realloc(blk->free, (size_t)cap * sizeof *nf);
                if (!nf)
                    return 0;
                blk->free = nf;
                blk->capfree = cap;
                f = &blk->free[i];
            }
            memmove(&blk->free[i + 2], &blk->free[i + 1], (size_t)(blk->nfree - i - 1) * sizeof *f);
            blk->free[i + 1].off = start + size;
            blk->free[i + 1].size = tail;
            blk->nfree++;
            f->size = head;
        } else if (head) {
            f->size = head;
        } else if (tail) {
            f->off = start + size;
            f->size = tail;
        } else {
            memmove(f, f + 1, (size_t)(blk->nfree - i - 1) * sizeof *f);
            blk->nfree--;
        }
        *off = start;
        return 1;
    }
    return 0;
}

/* Return [off, off+size) and merge with its neighbours. */
static int range_give(vkb_block *blk, VkDeviceSize off, VkDeviceSize size)
{
    int i = 0;
    while (i < blk->nfree && blk->free[i].off < off)
        i++;
    int prev = i > 0 && blk->free[i - 1].off + blk->free[i - 1].size == off;
    int next = i < blk->nfree && off + size == blk->free[i].off;
    if (prev && next) {
        blk->free[i - 1].size += size + blk->free[i].size;
        memmove(&blk->free[i], &blk->free[i + 1], (size_t)(blk->nfree - i - 1) * sizeof *blk->free);
        blk->nfree--;
    } else if (prev) {
        blk->free[i - 1].size += size;
    } else if (next) {
        blk->free[i].off = off;
        blk->free[i].size += size;
    } else {
        if (blk->nfree == blk->capfree) {
            int cap = blk->capfree * 2;
            vkb_range *nf = realloc(blk->free, (size_t)cap * sizeof *nf);
            if (!nf)
                return 0;   /* the range is lost until the block is freed */
            blk->free = nf;
            blk->capfree = cap;
        }
        memmove(&blk->free[i + 1], &blk->free[i], (size_t)(blk->nfree - i) * sizeof *blk->free);
        blk->free[i].off = off;
        blk->free[i].size = size;
        blk->nfree++;
    }
    return 1;
}

static glia_status block_new(glia_bctx *ctx, uint32_t type, VkDeviceSize size, vkb_block **out)
{
    vkb_block *blk = calloc(1, sizeof *blk);
    vkb_range *fr = calloc(8, sizeof *fr);
    if (!blk || !fr) {
        free(blk);
        free(fr);
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "vulkan: no host memory for a memory block");
    }
    VkMemoryAllocateInfo ai = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
        .allocationSize = size,
        .memoryTypeIndex = type,
    };
    VkResult r = ctx->vi.fn.vkAllocateMemory(ctx->dev, &ai, NULL, &blk->mem);
    if (r != VK_SUCCESS) {
        free(blk);
        free(fr);
        if (r == VK_ERROR_OUT_OF_DEVICE_MEMORY || r == VK_ERROR_OUT_OF_HOST_MEMORY)
            return glia_seterr(GLIA_STATUS_DEVICE_OOM,
                               "vulkan: vkAllocateMemory of %llu bytes failed: %s",
                               (unsigned long long)size, glia_vk_result_str(r));
        return glia_vk_error(r, "vkAllocateMemory");
    }
    blk->size = size;
    blk->type = type;
    blk->free = fr;
    blk->capfree = 8;
    blk->nfree = 1;
    fr[0].off = 0;
    fr[0].size = size;
    blk->next = ctx->blocks;
    ctx->blocks = blk;
    *out = blk;
    return GLIA_STATUS_OK;
}

static glia_status place(glia_bctx *ctx, const VkMemoryRequirements *req, uint32_t type, glia_bbuf *b)
{
    VkDeviceSize off = 0;
    vkb_block *blk = NULL;
    if (req->size <= ctx->block_size / 2) {
        for (blk = ctx->blocks; blk; blk = blk->next)
            if (blk->type == type && blk->size == ctx->block_size &&
                range_take(blk, req->size, req->alignment, &off))
                break;
    }
    if (!blk) {
        /* big buffers get a block of their own, freed with them */
        VkDeviceSize size = req->size > ctx->block_size / 2 ? req->size : ctx->block_size;
        glia_status s = block_new(ctx, type, size, &blk);
        if (s != GLIA_STATUS_OK)
            return s;
        if (!range_take(blk, req->size, req->alignment, &off)) {
            block_free(ctx, blk);
            return glia_seterr(GLIA_STATUS_INTERNAL, "vulkan: a new block cannot hold its buffer");
        }
    }
    VkResult r = ctx->vi.fn.vkBindBufferMemory(ctx->dev, b->buf, blk->mem, off);
    if (r != VK_SUCCESS) {
        range_give(blk, off, req->size);
        if (blk->live == 0)
            block_free(ctx, blk);
        return glia_vk_error(r, "vkBindBufferMemory");
    }
    blk->live++;
    b->block = blk;
    b->moff = off;
    b->msize = req->size;
    return GLIA_STATUS_OK;
}

glia_status glia_vk_buf_create(glia_bctx *ctx, size_t bytes, glia_bbuf **out)
{
    *out = NULL;
    VkDeviceSize size = ((VkDeviceSize)bytes + 15) & ~(VkDeviceSize)15;
    if (size > ctx->max_alloc)
        return glia_seterr(GLIA_STATUS_DEVICE_OOM,
                           "vulkan: a buffer of %zu bytes exceeds maxMemoryAllocationSize (%llu) of %s",
                           bytes, (unsigned long long)ctx->max_alloc, ctx->props.deviceName);
    glia_bbuf *b = calloc(1, sizeof *b);
    if (!b)
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "vulkan: no host memory for a buffer");
    VkBufferCreateInfo bi = buffer_info(size, USAGE_DEVICE);
    VkResult r = ctx->vi.fn.vkCreateBuffer(ctx->dev, &bi, NULL, &b->buf);
    if (r != VK_SUCCESS) {
        free(b);
        return glia_vk_error(r, "vkCreateBuffer");
    }
    VkMemoryRequirements req;
    ctx->vi.fn.vkGetBufferMemoryRequirements(ctx->dev, b->buf, &req);
    int type = (req.memoryTypeBits & (1u << ctx->dev_type)) ? ctx->dev_type
                                                             : device_type_for(&ctx->memprops, req.memoryTypeBits);
    glia_status s = type < 0 ? glia_seterr(GLIA_STATUS_UNSUPPORTED, "vulkan: no memory type for a buffer")
                             : place(ctx, &req, (uint32_t)type, b);
    if (s != GLIA_STATUS_OK) {
        ctx->vi.fn.vkDestroyBuffer(ctx->dev, b->buf, NULL);
        free(b);
        return s;
    }
    b->size = size;
    *out = b;
    return GLIA_STATUS_OK;
}

glia_status glia_vk_staging_create(glia_bctx *ctx, VkDeviceSize bytes, glia_bbuf **out)
{
    *out = NULL;
    glia_bbuf *b = calloc(1, sizeof *b);
    if (!b)
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "vulkan: no host memory for a buffer");
    VkBufferCreateInfo bi = buffer_info(bytes, USAGE_STAGING);
    VkResult r = ctx->vi.fn.vkCreateBuffer(ctx->dev, &bi, NULL, &b->buf);
    if (r != VK_SUCCESS) {
        free(b);
        return glia_vk_error(r, "vkCreateBuffer");
    }
    VkMemoryRequirements req;
    ctx->vi.fn.vkGetBufferMemoryRequirements(ctx->dev, b->buf, &req);
    VkMemoryAllocateInfo ai = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
        .allocationSize = req.size,
        .memoryTypeIndex = (uint32_t)ctx->host_type,
    };
    const char *call = "vkAllocateMemory";
    r = ctx->vi.fn.vkAllocateMemory(ctx->dev, &ai, NULL, &b->own);
    if (r == VK_SUCCESS) {
        call = "vkBindBufferMemory";
        r = ctx->vi.fn.vkBindBufferMemory(ctx->dev, b->buf, b->own, 0);
    }
    if (r == VK_SUCCESS) {
        call = "vkMapMemory";
        r = ctx->vi.fn.vkMapMemory(ctx->dev, b->own, 0, VK_WHOLE_SIZE, 0, &b->map);
    }
    if (r != VK_SUCCESS) {
        glia_vk_buf_destroy(ctx, b);
        return glia_vk_error(r, call);
    }
    b->size = bytes;
    *out = b;
    return GLIA_STATUS_OK;
}

void glia_vk_buf_destroy(glia_bctx *ctx, glia_bbuf *b)
{
    if (!b)
        return;
    if (b->buf)
        ctx->vi.fn.vkDestroyBuffer(ctx->dev, b->buf, NULL);
    if (b->own) {
        if (b->map)
            ctx->vi.fn.vkUnmapMemory(ctx->dev, b->own);
        ctx->vi.fn.vkFreeMemory(ctx->dev, b->own, NULL);
    }
    if (b->block) {
        vkb_block *blk = b->block;
        range_give(blk, b->moff, b->msize);
        /* keep no empty block: glia_device_empty_cache must give memory back */
        if (--blk->live == 0)
            block_free(ctx, blk);
    }
    free(b);
}

glia_status glia_vk_scratch(glia_bctx *ctx, size_t bytes, glia_bbuf **out)
{
    if (ctx->scratch && ctx->scratch->size >= bytes) {
        *out = ctx->scratch;
        return GLIA_STATUS_OK;
    }
    size_t want = ctx->scratch ? (size_t)ctx->scratch->size * 2 : (size_t)1 << 20;
    if (want < bytes)
        want = bytes;
    if (want > ctx->max_range && bytes <= ctx->max_range)
        want = (size_t)ctx->max_range;
    glia_bbuf *nb;
    glia_status s = glia_vk_buf_create(ctx, want, &nb);
    if (s != GLIA_STATUS_OK)
        return s;
    if (ctx->scratch)
        glia_vk_buf_release(ctx, ctx->scratch);   /* pending work may still use it */
    ctx->scratch = nb;
    *out = nb;
    return GLIA_STATUS_OK;
}
