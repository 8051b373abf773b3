/* CPU backend: transformed weights kept between calls (the Winograd forward's
 * U = G g G^T today), so that inference, which convolves the same weights
 * again and again (every batch, every sliding window, R2U-Net's recurrent
 * convolutions three times per block), transforms them once. On unet2d's
 * inference the transforms were ~10% of the time.
 *
 * Nothing tells the backend that weights did not change (optimizers update
 * them in place, inference folds batch norm into fresh tensors), so an entry
 * is found by a hash of the weights' contents and then compared with a copy of
 * them, element for element: a hit is exact, never a guess. Training changes
 * the weights every step; so that it does not pay for copies it never reuses,
 * weights are cached only the second time their hash is seen. The cache holds
 * at most GLIA_CPU_WCACHE_BYTES (source copies and transforms), least recently
 * used entries leave first. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "cpu_impl.h"

#define MAX_ENTRIES 128
#define SEEN 256

typedef struct entry {
    int kind;
    size_t nsrc, nout;
    uint64_t hash, used;
    float *src, *out;
} entry;

struct glia_cpu_wcache {
    entry e[MAX_ENTRIES];
    int n;
    uint64_t seen[SEEN];   /* hashes met once, a ring */
    int seen_next;
    size_t bytes;
    uint64_t clock;
};

void glia_cpu_wcache_free(glia_cpu_wcache *c)
{
    if (!c)
        return;
    for (int i = 0; i < c->n; i++) {
        free(c->e[i].src);
        free(c->e[i].out);
    }
    free(c);
}

/* Four interleaved multiply-rotate lanes over the 64-bit words: fast, and any
 * change of any element changes it with overwhelming likelihood (the compare
 * that follows makes a collision harmless anyway). */
static uint64_t hash_of(int kind, const float *w, size_t n)
{
    const uint64_t k = 0x9e3779b97f4a7c15ull;
    uint64_t h[4] = {(uint64_t)kind + 1, n, 3, 4};
    size_t words = n / 2, i = 0;
    for (; i + 4 <= words; i += 4)
        for (int l = 0; l < 4; l++) {
            uint64_t v;
            memcpy(&v, w + 2 * (i + (size_t)l), sizeof v);
            h[l] = ((h[l] ^ v) * k);
            h[l] ^= h[l] >> 29;
        }
    for (size_t j = 2 * i; j < n; j++) {
        uint32_t v;
        memcpy(&v, w + j, sizeof v);
        h[0] = (h[0] ^ v) * k;
    }
    return (h[0] ^ (h[1] << 1)) * k ^ (h[2] * 3 + h[3]);
}

const float *glia_cpu_wcache_find(glia_bctx *ctx, int kind, const float *w, size_t nsrc, size_t nout, uint64_t *hash)
{
    *hash = hash_of(kind, w, nsrc);
    glia_cpu_wcache *c = ctx->wcache;
    for (int i = 0; c && i < c->n; i++) {
        entry *e = &c->e[i];
        if (e->kind == kind && e->nsrc == nsrc && e->nout == nout && e->hash == *hash &&
            memcmp(e->src, w, nsrc * sizeof *w) == 0) {
            e->used = ++c->clock;
            return e->out;
        }
    }
    return NULL;
}

static void evict(glia_cpu_wcache *c, int i)
{
    c->bytes -= (c->e[i].nsrc + c->e[i].nout) * sizeof(float);
    free(c->e[i].src);
    free(c->e[i].out);
    c->e[i] = c->e[--c->n];
}

void glia_cpu_wcache_put(glia_bctx *ctx, int kind, const float *w, size_t nsrc, const float *out, size_t nout,
                         uint64_t hash)
{
    size_t bytes = (nsrc + nout) * sizeof(float);
    if (bytes > GLIA_CPU_WCACHE_BYTES)
        return;
    if (!ctx->wcache && !(ctx->wcache = calloc(1, sizeof *ctx->wcache)))
        return; /* no memory for a cache: run without one */
    glia_cpu_wcache *c = ctx->wcache;
    int seen = 0;
    for (int i = 0; i < SEEN && !seen; i++)
        seen = c->seen[i] == hash;
    if (!seen) {
        c->seen[c->seen_next] = hash;
        c->seen_next = (c->seen_next + 1) % SEEN;
        return;
    }
    while (c->n > 0 && (c->n == MAX_ENTRIES || c->bytes + bytes > GLIA_CPU_WCACHE_BYTES)) {
        int lru = 0;
        for (int i = 1; i < c->n; i++)
            if (c->e[i].used < c->e[lru].used)
                lru = i;
        evict(c, lru);
    }
    entry e = {kind, nsrc, nout, hash, ++c->clock, malloc(nsrc * sizeof *w), malloc(nout * sizeof *out)};
    if (!e.src || !e.out) {
        free(e.src);
        free(e.out);
        return;
    }
    memcpy(e.src, w, nsrc * sizeof *w);
    memcpy(e.out, out, nout * sizeof *out);
    c->e[c->n++] = e;
    c->bytes += bytes;
}
