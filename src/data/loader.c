/* The batch loader: worker threads decode, preprocess, sample and augment
 * batches ahead of training into a bounded ring of slots. Batch b is made
 * from its own seeded stream (seed, b), so the sequence does not depend on the
 * thread count or timing; the consumer takes batches strictly in order.
 * Decoded, preprocessed cases are cached (LRU within a byte budget). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "glia/tensor.h"
#include "data/data_priv.h"

typedef struct cache_entry {
    glia_case *c;
    size_t bytes;
    int refs, loading;
    uint64_t last_use;
    uint8_t *slice_fg;     /* per axial slice: any foreground */
    int64_t *fg;           /* foreground voxel indices (strided to at most 65536) */
    int64_t nfg;
    glia_status status;    /* a failed load: every user gets this error */
    char *message;
} cache_entry;

typedef struct slot {
    int64_t index;
    int ready;
    int n;
    float *image, *target;
    int *case_index, *slice;
    size_t cap_samples;    /* samples the buffers hold */
    glia_status status;
    char message[512];
} slot;

struct glia_loader {
    const glia_dataset *ds;
    glia_loader_options o;
    glia_augment aug;
    int has_aug;
    int *cases, ncases;
    int C, T;
    int64_t shape[3];      /* d, h, w */
    size_t sample_vox;     /* d * h * w */
    cache_entry *cache;    /* one per dataset case */
    size_t cache_used;
    uint64_t clock;
    int nslots;
    slot *slots;
    int64_t next_claim, consumed, released, total; /* total: batches of a sequential pass, else -1 */
    int holding, stop, nthreads;
    pthread_t *threads;
    pthread_mutex_t mu;
    pthread_cond_t space, ready, loaded;
    glia_loader_stats stats;
};

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void entry_clear(glia_loader *l, cache_entry *e)
{
    l->cache_used -= e->bytes;
    glia_case_free(e->c);
    free(e->slice_fg);
    free(e->fg);
    free(e->message);
    memset(e, 0, sizeof *e);
}

/* Foreground summaries used by sampling: which slices have any, and where. */
static glia_status summarise(cache_entry *e)
{
    const glia_case *c = e->c;
    int64_t plane = c->dim[0] * c->dim[1], n = plane * c->dim[2], count = 0;
    e->slice_fg = calloc((size_t)c->dim[2], 1);
    if (!e->slice_fg)
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "loader: slice flags");
    if (!c->label)
        return GLIA_STATUS_OK;
    for (int64_t v = 0; v < n; v++)
        if (c->label[v]) {
            e->slice_fg[v / plane] = 1;
            count++;
        }
    int64_t stride = (count + 65535) / 65536;
    if (count == 0)
        return GLIA_STATUS_OK;
    e->fg = malloc((size_t)(count / stride + 1) * sizeof *e->fg);
    if (!e->fg)
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "loader: foreground list");
    int64_t seen = 0;
    for (int64_t v = 0; v < n; v++)
        if (c->label[v] && seen++ % stride == 0)
            e->fg[e->nfg++] = v;
    return GLIA_STATUS_OK;
}

static void evict(glia_loader *l, int keep)
{
    while (l->cache_used > l->o.cache_bytes) {
        int victim = -1;
        for (int i = 0; i < l->ds->ncases; i++) {
            cache_entry *e = &l->cache[i];
            if (i != keep && e->c && !e->refs && !e->loading &&
                (victim < 0 || e->last_use < l->cache[victim].last_use))
                victim = i;
        }
        if (victim < 0)
            return;
        entry_clear(l, &l->cache[victim]);
    }
}

/* Take a reference to case i, decoding it if needed (called without the lock held). */
static glia_status acquire(glia_loader *l, int i, cache_entry **out)
{
    pthread_mutex_lock(&l->mu);
    cache_entry *e = &l->cache[i];
    while (e->loading)
        pthread_cond_wait(&l->loaded, &l->mu);
    if (e->c || e->status != GLIA_STATUS_OK) {
        glia_status s = e->status;
        if (s == GLIA_STATUS_OK) {
            e->refs++;
            e->last_use = ++l->clock;
            l->stats.cache_hits++;
        } else {
            glia_seterr(s, "%s", e->message ? e->message : "case failed to load");
        }
        pthread_mutex_unlock(&l->mu);
        *out = e;
        return s;
    }
    e->loading = 1;
    l->stats.cache_misses++;
    pthread_mutex_unlock(&l->mu);

    glia_case *c = NULL;
    glia_status s = glia_dataset_load(l->ds, i, &c);
    if (s == GLIA_STATUS_OK)
        s = glia_case_preprocess(c, &l->o.pre);
    cache_entry fresh = {.c = c};
    if (s == GLIA_STATUS_OK)
        s = summarise(&fresh);
    char *msg = s != GLIA_STATUS_OK ? glia_strdup_(glia_last_error()) : NULL;

    pthread_mutex_lock(&l->mu);
    if (s == GLIA_STATUS_OK) {
        *e = fresh;
        e->bytes = (size_t)(c->dim[0] * c->dim[1] * c->dim[2]) * ((size_t)c->channels * sizeof(float) + 1);
        l->cache_used += e->bytes;
        e->refs = 1;
        e->last_use = ++l->clock;
        evict(l, i);
    } else {
        glia_case_free(c);
        free(fresh.slice_fg);
        free(fresh.fg);
        e->status = s;
        e->message = msg;
    }
    e->loading = 0;
    pthread_cond_broadcast(&l->loaded);
    pthread_mutex_unlock(&l->mu);
    *out = e;
    return s;
}

static void release(glia_loader *l, cache_entry *e)
{
    pthread_mutex_lock(&l->mu);
    if (e->refs > 0)
        e->refs--;
    evict(l, -1);
    pthread_mutex_unlock(&l->mu);
}

/* Copy the box at start (i, j, k) of size (w, h, d) out of the case; zero outside. */
static void extract(const glia_case *c, const int64_t *start, const int64_t *shape, float *img, uint8_t *lab)
{
    int64_t w = shape[2], h = shape[1], d = shape[0];
    int64_t n = c->dim[0] * c->dim[1] * c->dim[2], sv = w * h * d;
    for (int ch = 0; ch < c->channels; ch++)
        for (int64_t z = 0; z < d; z++)
            for (int64_t y = 0; y < h; y++)
                for (int64_t x = 0; x < w; x++) {
                    int64_t i = start[0] + x, j = start[1] + y, k = start[2] + z, o = (z * h + y) * w + x;
                    int in = i >= 0 && i < c->dim[0] && j >= 0 && j < c->dim[1] && k >= 0 && k < c->dim[2];
                    int64_t v = (k * c->dim[1] + j) * c->dim[0] + i;
                    img[ch * sv + o] = in ? c->image[ch * n + v] : 0;
                    if (ch == 0 && lab)
                        lab[o] = in && c->label ? c->label[v] : 0;
                }
}

static void encode_targets(const glia_loader *l, const uint8_t *lab, float *t)
{
    for (int ch = 0; ch < l->T; ch++) {
        unsigned mask = glia_dataset_region_classes(l->ds, l->o.target, ch);
        for (size_t v = 0; v < l->sample_vox; v++)
            t[ch * l->sample_vox + v] = (float)((mask >> lab[v]) & 1u);
    }
}

static int64_t rand_below(glia_rng *r, int64_t n) { return n <= 1 ? 0 : (int64_t)(glia_rng_u32(r) % (uint32_t)n); }

/* Pick a sample (case and start) for sample s of batch b. */
static glia_status draw_sample(glia_loader *l, glia_rng *r, cache_entry **e, int64_t start[3], int *ci)
{
    const int64_t *sh = l->shape;
    for (int tries = 0;; tries++) {
        *ci = l->cases[rand_below(r, l->ncases)];
        glia_status s = acquire(l, *ci, e);
        if (s != GLIA_STATUS_OK)
            return s;
        const glia_case *c = (*e)->c;
        if (l->o.dims == 2) {
            start[2] = rand_below(r, c->dim[2]);
            start[0] = (c->dim[0] - sh[2]) / 2;
            start[1] = (c->dim[1] - sh[1]) / 2;
            /* an empty-mask slice is redrawn with probability drop_empty */
            float u = glia_rng_uniform(r);
            if (!(*e)->slice_fg[start[2]] && u < l->o.drop_empty && tries < 64) {
                release(l, *e);
                continue;
            }
            return GLIA_STATUS_OK;
        }
        int64_t cen[3] = {-1, -1, -1};
        if (glia_rng_uniform(r) < l->o.fg_fraction && (*e)->nfg > 0) {
            int64_t v = (*e)->fg[rand_below(r, (*e)->nfg)];
            cen[0] = v % c->dim[0];
            cen[1] = v / c->dim[0] % c->dim[1];
            cen[2] = v / (c->dim[0] * c->dim[1]);
        }
        int64_t psz[3] = {sh[2], sh[1], sh[0]};
        for (int a = 0; a < 3; a++) {
            int64_t span = c->dim[a] - psz[a];
            if (cen[a] >= 0) { /* the foreground voxel anywhere inside the patch, the patch inside the volume */
                int64_t lo = cen[a] - psz[a] + 1, hi = cen[a];
                if (span >= 0) {
                    lo = lo < 0 ? 0 : lo;
                    hi = hi > span ? span : hi;
                }
                start[a] = lo + rand_below(r, hi - lo + 1);
            } else {
                start[a] = span >= 0 ? rand_below(r, span + 1) : span / 2;
            }
        }
        return GLIA_STATUS_OK;
    }
}

static glia_status ensure_slot(slot *sl, size_t samples, const glia_loader *l)
{
    if (sl->cap_samples >= samples)
        return GLIA_STATUS_OK;
    size_t iv = samples * (size_t)l->C * l->sample_vox, tv = samples * (size_t)l->T * l->sample_vox;
    float *img = realloc(sl->image, iv * sizeof *img + 1), *tg = img ? realloc(sl->target, tv * sizeof *tg + 1) : NULL;
    if (img)
        sl->image = img;
    if (tg)
        sl->target = tg;
    int *ci = tg ? realloc(sl->case_index, samples * sizeof *ci) : NULL;
    if (ci)
        sl->case_index = ci;
    int *sc = ci ? realloc(sl->slice, samples * sizeof *sc) : NULL;
    if (sc)
        sl->slice = sc;
    if (!sc)
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "loader: batch of %zu samples", samples);
    sl->cap_samples = samples;
    return GLIA_STATUS_OK;
}

static glia_status fill_random(glia_loader *l, slot *sl, int64_t b, uint8_t *lab)
{
    glia_status s = GLIA_STATUS_OK;
    sl->n = l->o.batch;
    for (int i = 0; i < sl->n && s == GLIA_STATUS_OK; i++) {
        glia_rng r;
        glia_rng_init(&r, glia_mix_seed_(l->o.seed, (uint64_t)b, (uint64_t)(l->o.sample_offset + i)));
        cache_entry *e = NULL;
        int64_t start[3];
        if ((s = draw_sample(l, &r, &e, start, &sl->case_index[i])) != GLIA_STATUS_OK)
            break;
        float *img = sl->image + (size_t)i * l->C * l->sample_vox;
        extract(e->c, start, l->shape, img, lab);
        release(l, e);
        sl->slice[i] = (int)start[2];
        if (l->has_aug)
            s = glia_augment_apply(&l->aug, glia_rng_u32(&r) | (uint64_t)glia_rng_u32(&r) << 32, img, l->C, lab,
                                   l->shape[0], l->shape[1], l->shape[2]);
        encode_targets(l, lab, sl->target + (size_t)i * l->T * l->sample_vox);
    }
    return s;
}

/* Sequential: batch b is case b whole, as slices (2-D) or one volume (3-D). */
static glia_status fill_sequential(glia_loader *l, slot *sl, int64_t b, uint8_t **lab, size_t *labcap)
{
    cache_entry *e = NULL;
    int ci = l->cases[b];
    glia_status s = acquire(l, ci, &e);
    if (s != GLIA_STATUS_OK)
        return s;
    const glia_case *c = e->c;
    int n = l->o.dims == 2 ? (int)c->dim[2] : 1;
    if ((s = ensure_slot(sl, (size_t)n, l)) == GLIA_STATUS_OK && *labcap < l->sample_vox) {
        uint8_t *nl = realloc(*lab, l->sample_vox);
        if (!nl)
            s = glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "loader: labels");
        else {
            *lab = nl;
            *labcap = l->sample_vox;
        }
    }
    for (int i = 0; i < n && s == GLIA_STATUS_OK; i++) {
        int64_t start[3] = {(c->dim[0] - l->shape[2]) / 2, (c->dim[1] - l->shape[1]) / 2, i};
        if (l->o.dims == 3)
            for (int a = 0; a < 3; a++)
                start[a] = (c->dim[a] - l->shape[2 - a]) / 2;
        extract(c, start, l->shape, sl->image + (size_t)i * l->C * l->sample_vox, *lab);
        encode_targets(l, *lab, sl->target + (size_t)i * l->T * l->sample_vox);
        sl->case_index[i] = ci;
        sl->slice[i] = (int)start[2];
    }
    sl->n = n;
    release(l, e);
    return s;
}

static void *worker(void *arg)
{
    glia_loader *l = arg;
    uint8_t *lab = NULL;
    size_t labcap = 0;
    if (!l->o.sequential) {
        lab = malloc(l->sample_vox);
        labcap = lab ? l->sample_vox : 0;
    }
    for (;;) {
        pthread_mutex_lock(&l->mu);
        while (!l->stop && (l->next_claim >= l->released + l->nslots || (l->total >= 0 && l->next_claim >= l->total)))
            pthread_cond_wait(&l->space, &l->mu);
        if (l->stop) {
            pthread_mutex_unlock(&l->mu);
            break;
        }
        int64_t b = l->next_claim++;
        slot *sl = &l->slots[b % l->nslots];
        pthread_mutex_unlock(&l->mu);

        glia_status s;
        if (l->o.sequential)
            s = fill_sequential(l, sl, b, &lab, &labcap);
        else
            s = lab ? fill_random(l, sl, b, lab) : glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "loader: labels");
        sl->status = s;
        if (s != GLIA_STATUS_OK)
            snprintf(sl->message, sizeof sl->message, "%s", glia_last_error());

        pthread_mutex_lock(&l->mu);
        sl->index = b;
        sl->ready = 1;
        pthread_cond_broadcast(&l->ready);
        pthread_mutex_unlock(&l->mu);
    }
    free(lab);
    return NULL;
}

void glia_loader_free(glia_loader *l)
{
    if (!l)
        return;
    pthread_mutex_lock(&l->mu);
    l->stop = 1;
    pthread_cond_broadcast(&l->space);
    pthread_mutex_unlock(&l->mu);
    for (int t = 0; t < l->nthreads; t++)
        pthread_join(l->threads[t], NULL);
    for (int i = 0; l->cache && i < l->ds->ncases; i++)
        entry_clear(l, &l->cache[i]);
    for (int i = 0; l->slots && i < l->nslots; i++) {
        free(l->slots[i].image);
        free(l->slots[i].target);
        free(l->slots[i].case_index);
        free(l->slots[i].slice);
    }
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->space);
    pthread_cond_destroy(&l->ready);
    pthread_cond_destroy(&l->loaded);
    free(l->slots);
    free(l->cache);
    free(l->cases);
    free(l->threads);
    free(l);
}

static glia_status check_options(const glia_dataset *ds, const glia_loader_options *o, int ncases)
{
    if (o->dims != 2 && o->dims != 3)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_loader_new: dims must be 2 or 3, not %d", o->dims);
    if (o->batch < 0 || o->batch > 4096 || o->sample_offset < 0 || o->threads < 0 || o->queue < 0 ||
        !(o->drop_empty >= 0 && o->drop_empty <= 1) || !(o->fg_fraction >= 0 && o->fg_fraction <= 1))
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_loader_new: batch 0..4096, sample_offset, threads and "
                                                         "queue >= 0, probabilities in [0, 1]");
    for (int a = 0; a < 3; a++)
        if (o->patch[a] < 0 || o->patch[a] > 4096)
            return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_loader_new: patch sizes 0..4096");
    if (ncases < 1)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_loader_new: no %s cases of %s to load",
                           o->sequential ? "" : "labelled", ds->dir);
    return GLIA_STATUS_OK;
}

glia_status glia_loader_new(const glia_dataset *ds, const int *cases, int ncases, const glia_loader_options *opts,
                            glia_loader **out)
{
    if (!ds || !cases || !opts || !out || ncases < 0)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_loader_new: NULL argument");
    *out = NULL;
    glia_loader *l = calloc(1, sizeof *l);
    if (!l)
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "glia_loader_new");
    l->ds = ds;
    l->o = *opts;
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->space, NULL);
    pthread_cond_init(&l->ready, NULL);
    pthread_cond_init(&l->loaded, NULL);
    if (!l->o.batch)
        l->o.batch = 8;
    if (!l->o.cache_bytes)
        l->o.cache_bytes = (size_t)1 << 30;
    if (opts->aug && !opts->sequential) {
        l->aug = *opts->aug;
        l->has_aug = 1;
    }
    glia_status s = GLIA_STATUS_OK;
    l->cases = malloc((size_t)ncases * sizeof(int) + 1);
    l->cache = calloc((size_t)ds->ncases + 1, sizeof *l->cache);
    if (!l->cases || !l->cache)
        s = glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "glia_loader_new: %d cases", ncases);
    for (int i = 0; s == GLIA_STATUS_OK && i < ncases; i++) {
        if (cases[i] < 0 || cases[i] >= ds->ncases)
            s = glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_loader_new: no case %d", cases[i]);
        else if (opts->sequential || glia_dataset_case_labelled(ds, cases[i]))
            l->cases[l->ncases++] = cases[i]; /* training skips unlabelled cases */
    }
    if (s == GLIA_STATUS_OK)
        s = check_options(ds, &l->o, l->ncases);
    l->C = ds->channels;
    l->T = s == GLIA_STATUS_OK ? glia_dataset_target_channels(ds, l->o.target) : 0;
    if (s == GLIA_STATUS_OK && l->T == 0)
        s = GLIA_STATUS_INVALID_ARGUMENT;
    /* the first case fixes the sample shape where the options leave it open */
    cache_entry *first = NULL;
    if (s == GLIA_STATUS_OK && (s = acquire(l, l->cases[0], &first)) == GLIA_STATUS_OK) {
        const int64_t *d = first->c->dim;
        l->shape[2] = l->o.patch[0] ? l->o.patch[0] : d[0];
        l->shape[1] = l->o.patch[1] ? l->o.patch[1] : d[1];
        l->shape[0] = l->o.dims == 2 ? 1 : l->o.patch[2] ? l->o.patch[2] : d[2];
        l->sample_vox = (size_t)(l->shape[0] * l->shape[1] * l->shape[2]);
        release(l, first);
    }
    int threads = l->o.threads > 0 ? l->o.threads : glia_default_threads_() - 1;
    threads = threads < 1 ? 1 : threads > 64 ? 64 : threads;
    l->nslots = l->o.queue > 0 ? l->o.queue : 2 * threads + 1;
    l->total = l->o.sequential ? l->ncases : -1;
    if (s == GLIA_STATUS_OK && !(l->slots = calloc((size_t)l->nslots, sizeof *l->slots)))
        s = glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "glia_loader_new: slots");
    for (int i = 0; s == GLIA_STATUS_OK && i < l->nslots; i++) {
        l->slots[i].index = -1;
        if (!l->o.sequential)
            s = ensure_slot(&l->slots[i], (size_t)l->o.batch, l);
    }
    if (s == GLIA_STATUS_OK && !(l->threads = calloc((size_t)threads, sizeof *l->threads)))
        s = glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "glia_loader_new: threads");
    for (int t = 0; s == GLIA_STATUS_OK && t < threads; t++) {
        if (pthread_create(&l->threads[t], NULL, worker, l) != 0)
            s = glia_seterr(GLIA_STATUS_INTERNAL, "glia_loader_new: pthread_create failed for thread %d", t);
        else
            l->nthreads++;
    }
    if (s != GLIA_STATUS_OK) {
        glia_loader_free(l);
        return s;
    }
    *out = l;
    return GLIA_STATUS_OK;
}

glia_status glia_loader_next(glia_loader *l, glia_batch *b)
{
    if (!l || !b)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_loader_next: NULL argument");
    memset(b, 0, sizeof *b);
    pthread_mutex_lock(&l->mu);
    if (l->holding) { /* the caller is done with the previous batch: its slot may be refilled */
        l->slots[(l->consumed - 1) % l->nslots].ready = 0;
        l->released++;
        l->holding = 0;
        pthread_cond_broadcast(&l->space);
    }
    int64_t idx = l->consumed;
    if (l->total >= 0 && idx >= l->total) {
        pthread_mutex_unlock(&l->mu);
        b->index = idx;
        b->channels = l->C;
        b->targets = l->T;
        return GLIA_STATUS_OK;
    }
    slot *sl = &l->slots[idx % l->nslots];
    double t0 = now();
    while (!(sl->ready && sl->index == idx))
        pthread_cond_wait(&l->ready, &l->mu);
    double waited = now() - t0;
    if (idx > 0) {
        l->stats.wait_seconds += waited;
        l->stats.waits += waited > 1e-3;
    }
    l->consumed++;
    l->holding = 1;
    l->stats.batches++;
    pthread_mutex_unlock(&l->mu);
    if (sl->status != GLIA_STATUS_OK)
        return glia_seterr(sl->status, "%s", sl->message);
    b->n = sl->n;
    b->channels = l->C;
    b->targets = l->T;
    memcpy(b->shape, l->shape, sizeof b->shape);
    b->image = sl->image;
    b->target = sl->target;
    b->case_index = sl->case_index;
    b->slice = sl->slice;
    b->index = idx;
    return GLIA_STATUS_OK;
}

void glia_loader_get_stats(const glia_loader *l, glia_loader_stats *s)
{
    if (!l || !s)
        return;
    pthread_mutex_lock((pthread_mutex_t *)&l->mu);
    *s = l->stats;
    pthread_mutex_unlock((pthread_mutex_t *)&l->mu);
}
