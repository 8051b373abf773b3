/* A caching allocator per device, in the manner of PyTorch's: freed storage
 * goes to a free list of its size class and is reused by the next request of
 * that class, so a training step allocates from the driver only on its first
 * run. Reuse needs no synchronisation because each device has one in-order
 * stream: work that used a block is ordered before work that reuses it. */
#include <stdlib.h>
#include <string.h>
#include "core.h"

/* Classes: multiples of 512 bytes below 1 MiB, then eight per power of two, so
 * rounding wastes at most 12.5% and similar activation sizes share a class. */
static size_t size_class(size_t bytes)
{
    if (bytes < 512)
        return 512;
    if (bytes <= ((size_t)1 << 20))
        return (bytes + 511) & ~(size_t)511;
    int top = 63 - __builtin_clzll((unsigned long long)bytes);
    size_t step = (size_t)1 << (top - 3);
    return (bytes + step - 1) & ~(step - 1);
}

static glia_bin *find_bin(glia_allocator *a, size_t bytes, int create)
{
    int lo = 0, hi = a->nbins;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (a->bins[mid].bytes < bytes)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < a->nbins && a->bins[lo].bytes == bytes)
        return &a->bins[lo];
    if (!create)
        return NULL;
    if (a->nbins == a->cap) {
        int cap = a->cap ? a->cap * 2 : 32;
        glia_bin *bins = realloc(a->bins, (size_t)cap * sizeof *bins);
        if (!bins)
            return NULL;
        a->bins = bins;
        a->cap = cap;
    }
    memmove(&a->bins[lo + 1], &a->bins[lo], (size_t)(a->nbins - lo) * sizeof *a->bins);
    a->bins[lo].bytes = bytes;
    a->bins[lo].free = NULL;
    a->nbins++;
    return &a->bins[lo];
}

static void release_cached(glia_device *dev)
{
    glia_allocator *a = &dev->alloc;
    for (int i = 0; i < a->nbins; i++) {
        while (a->bins[i].free) {
            glia_block *b = a->bins[i].free;
            a->bins[i].free = b->next;
            dev->be->buf_free(dev->ctx, b->buf);
            a->cached -= b->bytes;
            free(b);
        }
    }
}

glia_status glia_alloc_block(glia_device *dev, size_t bytes, glia_block **out)
{
    glia_allocator *a = &dev->alloc;
    size_t cls = size_class(bytes);
    glia_bin *bin = find_bin(a, cls, 1);
    if (!bin)
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "allocator: no host memory for a size bin");
    glia_block *b = bin->free;
    /* an idle block of a larger class, up to twice the request, rather than new memory beside it: the
     * backward pass allocates gradients of other sizes than the activations it frees */
    for (glia_bin *up = bin + 1; !b && up < a->bins + a->nbins && up->bytes <= 2 * cls; up++)
        if ((b = up->free))
            bin = up;
    if (b) {
        bin->free = b->next;
        a->cached -= b->bytes;
        cls = b->bytes;
    } else {
        b = calloc(1, sizeof *b);
        if (!b)
            return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "allocator: no host memory for a block");
        glia_status s = dev->be->buf_alloc(dev->ctx, cls, &b->buf);
        if (s == GLIA_STATUS_DEVICE_OOM && a->cached) {
            /* the cache may hold what the driver is missing: give it back, retry once */
            release_cached(dev);
            s = dev->be->buf_alloc(dev->ctx, cls, &b->buf);
        }
        if (s != GLIA_STATUS_OK) {
            free(b);
            if (s == GLIA_STATUS_DEVICE_OOM)
                return glia_seterr(s, "%s: cannot allocate %zu bytes on %s:%d (in use %llu bytes, "
                                   "device has %llu): try a smaller batch or patch",
                                   glia_last_error(), cls, dev->info.backend, dev->info.index,
                                   (unsigned long long)a->in_use,
                                   (unsigned long long)dev->info.memory_bytes);
            return s;
        }
        b->bytes = cls;
    }
    b->refs = 1;
    b->next = NULL;
    a->in_use += cls;
    if (a->in_use > a->peak)
        a->peak = a->in_use;
    *out = b;
    return GLIA_STATUS_OK;
}

void glia_block_release(glia_device *dev, glia_block *b)
{
    if (!b || --b->refs > 0)
        return;
    glia_allocator *a = &dev->alloc;
    glia_bin *bin = find_bin(a, b->bytes, 0);
    a->in_use -= b->bytes;
    if (!bin) { /* cannot happen: the bin was made when the block was */
        dev->be->buf_free(dev->ctx, b->buf);
        free(b);
        return;
    }
    b->next = bin->free;
    bin->free = b;
    a->cached += b->bytes;
}

void glia_alloc_destroy(glia_device *dev)
{
    release_cached(dev);
    free(dev->alloc.bins);
    memset(&dev->alloc, 0, sizeof dev->alloc);
}

void glia_device_memory_stats(const glia_device *dev, glia_memory_stats *out)
{
    if (!out)
        return;
    memset(out, 0, sizeof *out);
    if (!dev)
        return;
    out->in_use_bytes = dev->alloc.in_use;
    out->peak_bytes = dev->alloc.peak;
    out->cached_bytes = dev->alloc.cached;
}

void glia_device_empty_cache(glia_device *dev)
{
    if (dev)
        release_cached(dev);
}
