/* Vulkan backend: the stream. Commands are recorded into the command buffer of
 * the current batch; a batch is submitted after tune->submit_every commands,
 * when its staging space runs out, or when the host waits (read, sync). A ring
 * of VKB_BATCHES batches lets the host record the next while the GPU runs the
 * previous ones. Barriers are inserted only on a hazard: a command that reads a
 * buffer written since the last barrier, or writes one read or written since.
 * The sets survive submissions, because a barrier also orders the commands of
 * earlier submissions to the same queue. */
#include <stdlib.h>
#include <string.h>
#include "vk_internal.h"

#define VKB_DSETS 512   /* descriptor sets per batch without push descriptors */

static glia_status lost(glia_bctx *ctx, VkResult r, const char *call)
{
    if (r == VK_ERROR_DEVICE_LOST)
        ctx->lost = 1;
    return glia_vk_error(r, call);
}

glia_status glia_vk_stream_init(glia_bctx *ctx)
{
    ctx->cur = -1;
    for (int i = 0; i < VKB_BATCHES; i++) {
        vkb_batch *b = &ctx->batch[i];
        VkCommandPoolCreateInfo pci = {
            .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
            .flags = VK_COMMAND_POOL_CREATE_TRANSIENT_BIT,
            .queueFamilyIndex = ctx->qfam,
        };
        VkResult r = ctx->vi.fn.vkCreateCommandPool(ctx->dev, &pci, NULL, &b->pool);
        if (r != VK_SUCCESS)
            return glia_vk_error(r, "vkCreateCommandPool");
        VkCommandBufferAllocateInfo ai = {
            .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
            .commandPool = b->pool,
            .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
            .commandBufferCount = 1,
        };
        r = ctx->vi.fn.vkAllocateCommandBuffers(ctx->dev, &ai, &b->cmd);
        if (r != VK_SUCCESS)
            return glia_vk_error(r, "vkAllocateCommandBuffers");
        VkFenceCreateInfo fci = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
        r = ctx->vi.fn.vkCreateFence(ctx->dev, &fci, NULL, &b->fence);
        if (r != VK_SUCCESS)
            return glia_vk_error(r, "vkCreateFence");
    }
    return glia_vk_descriptor_pools(ctx);
}

glia_status glia_vk_descriptor_pools(glia_bctx *ctx)
{
    for (int i = 0; i < VKB_BATCHES && !ctx->push_desc; i++) {
        vkb_batch *b = &ctx->batch[i];
        if (b->dpool)
            continue;
        VkDescriptorPoolSize ps = {VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 8 * VKB_DSETS};
        VkDescriptorPoolCreateInfo dci = {
            .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
            .maxSets = VKB_DSETS,
            .poolSizeCount = 1,
            .pPoolSizes = &ps,
        };
        VkResult r = ctx->vi.fn.vkCreateDescriptorPool(ctx->dev, &dci, NULL, &b->dpool);
        if (r != VK_SUCCESS)
            return glia_vk_error(r, "vkCreateDescriptorPool");
    }
    return GLIA_STATUS_OK;
}

static void free_deferred(glia_bctx *ctx, vkb_batch *b)
{
    while (b->deferred) {
        glia_bbuf *x = b->deferred;
        b->deferred = x->next_free;
        glia_vk_buf_destroy(ctx, x);
    }
}

/* Finish a submitted batch: wait for it (or only poll), then recycle it. */
static glia_status retire(glia_bctx *ctx, vkb_batch *b, int wait)
{
    if (b->state != 2)
        return GLIA_STATUS_OK;
    VkResult r = wait ? ctx->vi.fn.vkWaitForFences(ctx->dev, 1, &b->fence, VK_TRUE, UINT64_MAX)
                      : ctx->vi.fn.vkGetFenceStatus(ctx->dev, b->fence);
    if (r == VK_NOT_READY || r == VK_TIMEOUT)
        return GLIA_STATUS_OK;
    if (r != VK_SUCCESS) {
        if (r != VK_ERROR_DEVICE_LOST)
            return glia_vk_error(r, wait ? "vkWaitForFences" : "vkGetFenceStatus");
        /* a lost device finishes nothing more: recycle the batch anyway */
        lost(ctx, r, wait ? "vkWaitForFences" : "vkGetFenceStatus");
    }
    ctx->vi.fn.vkResetFences(ctx->dev, 1, &b->fence);
    b->state = 0;
    if (b->serial > ctx->done)
        ctx->done = b->serial;
    free_deferred(ctx, b);
    if (b->dpool)
        ctx->vi.fn.vkResetDescriptorPool(ctx->dev, b->dpool, 0);
    b->dsets = 0;
    b->staging_used = 0;
    b->dispatches = 0;
    return r == VK_SUCCESS ? GLIA_STATUS_OK : GLIA_STATUS_DEVICE_LOST;
}

/* Wait for every batch up to serial s, oldest first. */
static glia_status wait_serial(glia_bctx *ctx, uint64_t s)
{
    glia_status st = GLIA_STATUS_OK;
    for (;;) {
        vkb_batch *old = NULL;
        for (int i = 0; i < VKB_BATCHES; i++) {
            vkb_batch *b = &ctx->batch[i];
            if (b->state == 2 && b->serial <= s && (!old || b->serial < old->serial))
                old = b;
        }
        if (!old)
            return st;
        glia_status e = retire(ctx, old, 1);
        if (e != GLIA_STATUS_OK && st == GLIA_STATUS_OK)
            st = e;
    }
}

static glia_status begin(glia_bctx *ctx)
{
    if (ctx->cur >= 0)
        return GLIA_STATUS_OK;
    if (ctx->lost)
        return glia_seterr(GLIA_STATUS_DEVICE_LOST, "vulkan: the device %s was lost", ctx->props.deviceName);
    vkb_batch *b = &ctx->batch[ctx->next];
    glia_status s = wait_serial(ctx, b->serial);
    if (s != GLIA_STATUS_OK)
        return s;
    VkResult r = ctx->vi.fn.vkResetCommandPool(ctx->dev, b->pool, 0);
    if (r != VK_SUCCESS)
        return glia_vk_error(r, "vkResetCommandPool");
    VkCommandBufferBeginInfo bi = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
        .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
    };
    r = ctx->vi.fn.vkBeginCommandBuffer(b->cmd, &bi);
    if (r != VK_SUCCESS)
        return glia_vk_error(r, "vkBeginCommandBuffer");
    b->serial = ++ctx->serial;
    b->state = 1;
    ctx->cur = ctx->next;
    ctx->next = (ctx->next + 1) % VKB_BATCHES;
    ctx->bound = VK_NULL_HANDLE;
    return GLIA_STATUS_OK;
}

static glia_status submit(glia_bctx *ctx)
{
    if (ctx->cur < 0)
        return GLIA_STATUS_OK;
    vkb_batch *b = &ctx->batch[ctx->cur];
    ctx->cur = -1;
    VkResult r = ctx->vi.fn.vkEndCommandBuffer(b->cmd);
    const char *call = "vkEndCommandBuffer";
    if (r == VK_SUCCESS) {
        VkSubmitInfo si = {
            .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
            .commandBufferCount = 1,
            .pCommandBuffers = &b->cmd,
        };
        call = "vkQueueSubmit";
        r = ctx->vi.fn.vkQueueSubmit(ctx->queue, 1, &si, b->fence);
    }
    if (r != VK_SUCCESS) {
        /* nothing of it will run: recycle it as if it had */
        b->state = 0;
        free_deferred(ctx, b);
        b->staging_used = 0;
        return lost(ctx, r, call);
    }
    b->state = 2;
    /* recycle what has finished meanwhile, so deferred frees happen early */
    for (int i = 0; i < VKB_BATCHES; i++) {
        glia_status s = retire(ctx, &ctx->batch[i], 0);
        if (s != GLIA_STATUS_OK)
            return s;
    }
    return GLIA_STATUS_OK;
}

glia_status glia_vk_finish(glia_bctx *ctx)
{
    glia_status s = submit(ctx);
    glia_status w = wait_serial(ctx, ctx->serial);
    return s != GLIA_STATUS_OK ? s : w;
}

glia_status glia_vk_check_state(glia_bctx *ctx)
{
    if (ctx->lost)
        return glia_seterr(GLIA_STATUS_DEVICE_LOST, "vulkan: the device %s was lost", ctx->props.deviceName);
    int n = atomic_load(&ctx->val.errors);
    if (n > ctx->val_reported) {
        ctx->val_reported = n;
        return glia_seterr(GLIA_STATUS_BACKEND_ERROR, "vulkan: the validation layer reported %d message(s), "
                           "the first: %.300s", n, ctx->val.first);
    }
    return GLIA_STATUS_OK;
}

void glia_vk_stream_destroy(glia_bctx *ctx)
{
    if (ctx->dev)
        glia_vk_finish(ctx);
    for (int i = 0; i < VKB_BATCHES; i++) {
        vkb_batch *b = &ctx->batch[i];
        free_deferred(ctx, b);
        glia_vk_buf_destroy(ctx, b->staging);
        if (b->dpool)
            ctx->vi.fn.vkDestroyDescriptorPool(ctx->dev, b->dpool, NULL);
        if (b->fence)
            ctx->vi.fn.vkDestroyFence(ctx->dev, b->fence, NULL);
        if (b->pool)
            ctx->vi.fn.vkDestroyCommandPool(ctx->dev, b->pool, NULL);
        memset(b, 0, sizeof *b);
    }
}

void glia_vk_buf_release(glia_bctx *ctx, glia_bbuf *buf)
{
    if (!buf)
        return;
    if (buf->last_use > ctx->done) {
        for (int i = 0; i < VKB_BATCHES; i++) {
            vkb_batch *b = &ctx->batch[i];
            if (b->state != 0 && b->serial == buf->last_use) {
                buf->next_free = b->deferred;
                b->deferred = buf;
                return;
            }
        }
    }
    glia_vk_buf_destroy(ctx, buf);
}

/* ---- hazards -------------------------------------------------------------- */
static int in_set(glia_bbuf *const *set, int n, const glia_bbuf *b)
{
    for (int i = 0; i < n; i++)
        if (set[i] == b)
            return 1;
    return 0;
}

static void barrier(glia_bctx *ctx, VkCommandBuffer cmd)
{
    VkMemoryBarrier mb = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
        .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
        .dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT |
                         VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
    };
    VkPipelineStageFlags st = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;
    ctx->vi.fn.vkCmdPipelineBarrier(cmd, st, st, 0, 1, &mb, 0, NULL, 0, NULL);
    ctx->nrd = ctx->nwr = 0;
}

/* Record a barrier if this command's accesses conflict with earlier ones, then
 * note them. bufs[i] is written if bit i of writes is set. */
static void track(glia_bctx *ctx, glia_bbuf *const *bufs, int n, unsigned writes)
{
    vkb_batch *b = &ctx->batch[ctx->cur];
    int need = ctx->nrd + n > VKB_HAZARDS || ctx->nwr + n > VKB_HAZARDS;
    for (int i = 0; i < n && !need; i++) {
        if (!bufs[i])
            continue;
        if (in_set(ctx->wr, ctx->nwr, bufs[i]) || ((writes >> i & 1) && in_set(ctx->rd, ctx->nrd, bufs[i])))
            need = 1;
    }
    if (need)
        barrier(ctx, b->cmd);
    for (int i = 0; i < n; i++) {
        if (!bufs[i])
            continue;
        bufs[i]->last_use = b->serial;
        if (writes >> i & 1) {
            if (!in_set(ctx->wr, ctx->nwr, bufs[i]))
                ctx->wr[ctx->nwr++] = bufs[i];
        } else if (!in_set(ctx->rd, ctx->nrd, bufs[i])) {
            ctx->rd[ctx->nrd++] = bufs[i];
        }
    }
}

static glia_status counted(glia_bctx *ctx)
{
    vkb_batch *b = &ctx->batch[ctx->cur];
    if (++b->dispatches >= ctx->tune->submit_every)
        return submit(ctx);
    return GLIA_STATUS_OK;
}

/* ---- dispatch ------------------------------------------------------------- */
static glia_status bind_descriptors(glia_bctx *ctx, const VkDescriptorBufferInfo *info, int nb)
{
    VkWriteDescriptorSet w[8];
    for (int i = 0; i < nb; i++) {
        w[i] = (VkWriteDescriptorSet){
            .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
            .dstBinding = (uint32_t)i,
            .descriptorCount = 1,
            .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
            .pBufferInfo = &info[i],
        };
    }
    vkb_batch *b = &ctx->batch[ctx->cur];
    if (ctx->push_desc) {
        ctx->vi.fn.vkCmdPushDescriptorSetKHR(b->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, ctx->layout, 0,
                                             (uint32_t)nb, w);
        return GLIA_STATUS_OK;
    }
    VkDescriptorSetAllocateInfo ai = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
        .descriptorPool = b->dpool,
        .descriptorSetCount = 1,
        .pSetLayouts = &ctx->dsl,
    };
    VkDescriptorSet set;
    VkResult r = ctx->vi.fn.vkAllocateDescriptorSets(ctx->dev, &ai, &set);
    if (r != VK_SUCCESS)
        return glia_vk_error(r, "vkAllocateDescriptorSets");
    b->dsets++;
    for (int i = 0; i < nb; i++)
        w[i].dstSet = set;
    ctx->vi.fn.vkUpdateDescriptorSets(ctx->dev, (uint32_t)nb, w, 0, NULL);
    ctx->vi.fn.vkCmdBindDescriptorSets(b->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, ctx->layout, 0, 1, &set, 0, NULL);
    return GLIA_STATUS_OK;
}

glia_status glia_vk_dispatch(glia_bctx *ctx, vkb_dispatch *d)
{
    vkb_pipe_key key = {.shader = d->shader, .nspec = d->nspec};
    memcpy(key.spec, d->spec, d->nspec * sizeof d->spec[0]);
    VkPipeline pipe;
    glia_status s = glia_vk_pipeline(ctx, &key, &pipe);
    if (s != GLIA_STATUS_OK)
        return s;

    VkDescriptorBufferInfo info[8];
    glia_bbuf *bufs[8];
    int written = -1;   /* a binding this dispatch writes, for the unused ones */
    for (int i = 0; i < d->nb; i++) {
        glia_bbuf *buf = d->v[i].buf;
        bufs[i] = buf;
        if (!buf)
            continue;
        /* bind from the aligned offset below the view; the rest goes in push
         * constants, counted in the view's elements */
        VkDeviceSize es = glia_etype_size(d->v[i].type);
        VkDeviceSize off = (VkDeviceSize)d->v[i].off * es;
        VkDeviceSize base = off / ctx->align * ctx->align;
        VkDeviceSize range = buf->size - base;
        if (range > ctx->max_range)
            range = ctx->max_range;
        VkDeviceSize need = off - base + (VkDeviceSize)d->need[i] * es;
        if (off > buf->size || need > range)
            return glia_seterr(GLIA_STATUS_DEVICE_OOM,
                               "vulkan: %s operand %d spans %llu bytes from byte %llu of a %llu-byte buffer; "
                               "one binding can reach %llu bytes (maxStorageBufferRange of %s)",
                               glia_vk_spirv_name[d->shader], i, (unsigned long long)(d->need[i] * es),
                               (unsigned long long)off, (unsigned long long)buf->size,
                               (unsigned long long)ctx->max_range, ctx->props.deviceName);
        info[i] = (VkDescriptorBufferInfo){buf->buf, base, range};
        d->pc[i] = (uint32_t)((off - base) / es);
        if (written < 0 && (d->writes >> i & 1))
            written = i;
    }
    /* An unused binding still needs a buffer. The validation layer counts a
     * write the shader could make in any mode as a write of what is bound, so
     * a shared dummy would be "written" by one dispatch and read by the next
     * without a barrier. Binding a buffer this dispatch writes anyway (its
     * hazards are tracked) avoids that without extra barriers; the dummy only
     * serves dispatches that write nothing. */
    for (int i = 0; i < d->nb; i++) {
        if (d->v[i].buf)
            continue;
        info[i] = written >= 0 ? info[written] : (VkDescriptorBufferInfo){ctx->dummy->buf, 0, ctx->dummy->size};
        d->pc[i] = 0;
    }

    s = begin(ctx);
    if (s != GLIA_STATUS_OK)
        return s;
    if (!ctx->push_desc && ctx->batch[ctx->cur].dsets >= VKB_DSETS) {
        if ((s = submit(ctx)) != GLIA_STATUS_OK || (s = begin(ctx)) != GLIA_STATUS_OK)
            return s;
    }
    vkb_batch *b = &ctx->batch[ctx->cur];
    track(ctx, bufs, d->nb, d->writes);
    if (ctx->bound != pipe) {
        ctx->vi.fn.vkCmdBindPipeline(b->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pipe);
        ctx->bound = pipe;
    }
    s = bind_descriptors(ctx, info, d->nb);
    if (s != GLIA_STATUS_OK)
        return s;
    ctx->vi.fn.vkCmdPushConstants(b->cmd, ctx->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0,
                                  VKB_PC_WORDS * 4, d->pc);
    ctx->vi.fn.vkCmdDispatch(b->cmd, d->groups[0], d->groups[1], d->groups[2]);
    return counted(ctx);
}

/* ---- transfers ------------------------------------------------------------ */
/* n bytes of the current batch's staging buffer (a new batch if it is full). */
static glia_status stage(glia_bctx *ctx, VkDeviceSize n, VkDeviceSize *off)
{
    glia_status s = begin(ctx);
    if (s != GLIA_STATUS_OK)
        return s;
    vkb_batch *b = &ctx->batch[ctx->cur];
    if (b->staging && b->staging_used + n > b->staging->size && b->staging_used > 0) {
        if ((s = submit(ctx)) != GLIA_STATUS_OK || (s = begin(ctx)) != GLIA_STATUS_OK)
            return s;
        b = &ctx->batch[ctx->cur];
    }
    if (!b->staging || b->staging->size < n) {
        /* nothing recorded uses it yet (staging_used is 0): replace it */
        VkDeviceSize size = b->staging ? b->staging->size : (VkDeviceSize)1 << 20;
        while (size < n)
            size *= 2;
        glia_vk_buf_destroy(ctx, b->staging);
        b->staging = NULL;
        if ((s = glia_vk_staging_create(ctx, size, &b->staging)) != GLIA_STATUS_OK)
            return s;
    }
    *off = b->staging_used;
    b->staging_used += (n + 15) & ~(VkDeviceSize)15;
    return GLIA_STATUS_OK;
}

glia_status glia_vk_write(glia_bctx *ctx, glia_bbuf *buf, size_t off, const void *src, size_t bytes)
{
    glia_status s = glia_vk_check_state(ctx);
    if (s != GLIA_STATUS_OK)
        return s;
    const unsigned char *p = src;
    /* small aligned writes travel inside the command buffer (copied at record time) */
    if (bytes <= 65536 && off % 4 == 0 && bytes % 4 == 0 && bytes > 0) {
        if ((s = begin(ctx)) != GLIA_STATUS_OK)
            return s;
        track(ctx, &buf, 1, 1);
        ctx->vi.fn.vkCmdUpdateBuffer(ctx->batch[ctx->cur].cmd, buf->buf, off, bytes, p);
        return counted(ctx);
    }
    while (bytes > 0) {
        VkDeviceSize n = bytes < VKB_STAGING_MAX ? bytes : VKB_STAGING_MAX, so;
        if ((s = stage(ctx, n, &so)) != GLIA_STATUS_OK)
            return s;
        vkb_batch *b = &ctx->batch[ctx->cur];
        memcpy((unsigned char *)b->staging->map + so, p, n);
        if (!ctx->host_coherent) {
            VkMappedMemoryRange mr = {.sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE,
                                      .memory = b->staging->own, .size = VK_WHOLE_SIZE};
            VkResult r = ctx->vi.fn.vkFlushMappedMemoryRanges(ctx->dev, 1, &mr);
            if (r != VK_SUCCESS)
                return glia_vk_error(r, "vkFlushMappedMemoryRanges");
        }
        track(ctx, &buf, 1, 1);
        VkBufferCopy region = {.srcOffset = so, .dstOffset = off, .size = n};
        ctx->vi.fn.vkCmdCopyBuffer(b->cmd, b->staging->buf, buf->buf, 1, &region);
        if ((s = counted(ctx)) != GLIA_STATUS_OK)
            return s;
        p += n;
        off += n;
        bytes -= n;
    }
    return GLIA_STATUS_OK;
}

glia_status glia_vk_read(glia_bctx *ctx, glia_bbuf *buf, size_t off, void *dst, size_t bytes)
{
    glia_status s = glia_vk_check_state(ctx);
    if (s != GLIA_STATUS_OK)
        return s;
    unsigned char *p = dst;
    while (bytes > 0) {
        VkDeviceSize n = bytes < VKB_STAGING_MAX ? bytes : VKB_STAGING_MAX, so;
        if ((s = stage(ctx, n, &so)) != GLIA_STATUS_OK)
            return s;
        vkb_batch *b = &ctx->batch[ctx->cur];
        track(ctx, &buf, 1, 0);
        VkBufferCopy region = {.srcOffset = off, .dstOffset = so, .size = n};
        ctx->vi.fn.vkCmdCopyBuffer(b->cmd, buf->buf, b->staging->buf, 1, &region);
        VkMemoryBarrier mb = {
            .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
            .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
            .dstAccessMask = VK_ACCESS_HOST_READ_BIT,
        };
        ctx->vi.fn.vkCmdPipelineBarrier(b->cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT,
                                        0, 1, &mb, 0, NULL, 0, NULL);
        glia_bbuf *staging = b->staging;
        uint64_t serial = b->serial;
        if ((s = submit(ctx)) != GLIA_STATUS_OK || (s = wait_serial(ctx, serial)) != GLIA_STATUS_OK)
            return s;
        if (!ctx->host_coherent) {
            VkMappedMemoryRange mr = {.sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE,
                                      .memory = staging->own, .size = VK_WHOLE_SIZE};
            VkResult r = ctx->vi.fn.vkInvalidateMappedMemoryRanges(ctx->dev, 1, &mr);
            if (r != VK_SUCCESS)
                return glia_vk_error(r, "vkInvalidateMappedMemoryRanges");
        }
        memcpy(p, (unsigned char *)staging->map + so, n);
        p += n;
        off += n;
        bytes -= n;
    }
    return glia_vk_check_state(ctx);
}
