/* Gradient averaging in buckets, overlapped with backward (PyTorch DDP's
 * scheme). Trainable tensors are dealt into buckets of about bucket_bytes in
 * reverse registration order, the order backward finishes them. When backward
 * reports the last tensor of a bucket done, its gradients are read into the
 * bucket's host buffer and its non-blocking allreduce starts; every backward
 * node then tests the oldest transfer so MPI makes progress meanwhile. Buckets
 * start strictly in index order on every rank (MPI requires the same order of
 * collectives everywhere). After backward: the rest start, all are waited for,
 * and each gradient becomes the mean over ranks. */
#include <stdlib.h>
#include <string.h>
#include "core/core.h"
#include "dist/dist_priv.h"

typedef struct rparam {
    glia_tensor *t;
    int bucket;
    size_t off, n;
    int ready;
} rparam;

typedef struct rbucket {
    size_t first, count;      /* its tensors: params[first .. first + count) */
    size_t n;                 /* floats */
    float *buf;
    int pending;              /* tensors not yet ready */
    glia_dist_req *req;
} rbucket;

struct glia_reducer {
    glia_dist *d;
    rparam *p;
    size_t np;
    rbucket *b;
    int nb, next_start, next_test;
    glia_status err;          /* the first failure inside a hook */
    glia_reducer_stats st;
};

glia_status glia_reducer_new(glia_dist *d, glia_params *params, size_t bucket_bytes, glia_reducer **out)
{
    if (!params || !out)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_reducer_new: NULL argument");
    *out = NULL;
    glia_reducer *r = calloc(1, sizeof *r);
    int count = glia_params_count(params);
    if (r) {
        r->p = calloc((size_t)count + 1, sizeof *r->p);
        r->b = calloc((size_t)count + 1, sizeof *r->b);
    }
    if (!r || !r->p || !r->b) {
        glia_reducer_free(r);
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "glia_reducer_new");
    }
    r->d = d;
    if (bucket_bytes < sizeof(float))
        bucket_bytes = sizeof(float);
    rbucket *cur = NULL;
    for (int i = count - 1; i >= 0; i--) {
        const char *name;
        glia_param_kind kind;
        glia_tensor *t;
        if (glia_params_get(params, i, &name, &kind, &t) != GLIA_STATUS_OK || kind != GLIA_PARAM_TRAINABLE)
            continue;
        size_t n = (size_t)glia_tensor_numel(t);
        /* a tensor larger than a bucket gets one of its own */
        if (!cur || (cur->n + n) * sizeof(float) > bucket_bytes) {
            cur = &r->b[r->nb++];
            cur->first = r->np;
        }
        r->p[r->np] = (rparam){.t = t, .bucket = (int)(cur - r->b), .off = cur->n, .n = n};
        r->np++;
        cur->count++;
        cur->n += n;
    }
    for (int k = 0; k < r->nb; k++) {
        r->b[k].buf = malloc(r->b[k].n * sizeof(float) + 1);
        if (!r->b[k].buf) {
            glia_reducer_free(r);
            return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "gradient buckets");
        }
        r->st.bytes += r->b[k].n * sizeof(float);
    }
    r->st.buckets = r->nb;
    *out = r;
    return GLIA_STATUS_OK;
}

void glia_reducer_free(glia_reducer *r)
{
    if (!r)
        return;
    for (int k = 0; r->b && k < r->nb; k++) {
        glia_dist_wait(r->b[k].req);
        free(r->b[k].buf);
    }
    free(r->b);
    free(r->p);
    free(r);
}

const glia_reducer_stats *glia_reducer_get_stats(const glia_reducer *r) { return r ? &r->st : NULL; }

/* Read bucket k's gradients (zeros for a tensor the loss did not reach) and start its sum. */
static glia_status start_bucket(glia_reducer *r, int k)
{
    rbucket *b = &r->b[k];
    double t0 = glia_now_();
    glia_status s = GLIA_STATUS_OK;
    for (size_t i = b->first; i < b->first + b->count && s == GLIA_STATUS_OK; i++) {
        glia_tensor *g = glia_tensor_grad(r->p[i].t);
        if (g)
            s = glia_tensor_read(g, b->buf + r->p[i].off, r->p[i].n);
        else
            memset(b->buf + r->p[i].off, 0, r->p[i].n * sizeof(float));
    }
    r->st.stage_seconds += glia_now_() - t0;
    /* a rank whose read failed still joins the collective, so no other rank waits forever on it */
    glia_status c = glia_dist_iallreduce_f32(r->d, b->buf, b->n, &b->req);
    return s != GLIA_STATUS_OK ? s : c;
}

static void start_ready(glia_reducer *r)
{
    while (r->next_start < r->nb && r->b[r->next_start].pending == 0) {
        glia_status s = start_bucket(r, r->next_start++);
        if (s != GLIA_STATUS_OK && r->err == GLIA_STATUS_OK)
            r->err = s;
    }
}

static void on_leaf(void *user, glia_tensor *t)
{
    glia_reducer *r = user;
    for (size_t i = 0; i < r->np; i++)
        if (r->p[i].t == t && !r->p[i].ready) {
            r->p[i].ready = 1;
            r->b[r->p[i].bucket].pending--;
            start_ready(r);
            return;
        }
}

static void on_step(void *user)
{
    glia_reducer *r = user;
    while (r->next_test < r->next_start && glia_dist_test(r->b[r->next_test].req))
        r->next_test++;
}

/* Mean over ranks back into each gradient. */
static glia_status finish_bucket(glia_reducer *r, int k)
{
    rbucket *b = &r->b[k];
    double t0 = glia_now_();
    glia_status s = glia_dist_wait(b->req);
    b->req = NULL;
    double t1 = glia_now_();
    r->st.wait_seconds += t1 - t0;
    float scale = 1.0f / (float)glia_dist_size(r->d);
    for (size_t j = 0; j < b->n && scale != 1.0f; j++)
        b->buf[j] *= scale;
    for (size_t i = b->first; i < b->first + b->count && s == GLIA_STATUS_OK; i++)
        if (glia_tensor_grad(r->p[i].t))
            s = glia_grad_write_(r->p[i].t, b->buf + r->p[i].off);
    r->st.stage_seconds += glia_now_() - t1;
    return s;
}

glia_status glia_reducer_backward(glia_reducer *r, glia_tensor *loss)
{
    if (!r)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_reducer_backward: NULL reducer");
    double t0 = glia_now_();
    for (size_t i = 0; i < r->np; i++)
        r->p[i].ready = 0;
    for (int k = 0; k < r->nb; k++) {
        r->b[k].pending = (int)r->b[k].count;
    }
    r->next_start = r->next_test = 0;
    r->err = GLIA_STATUS_OK;
    glia_backward_hooks h = {.leaf_ready = on_leaf, .step = on_step, .user = r};
    glia_status s = loss ? glia_backward_hooked(loss, &h) : GLIA_STATUS_OK;
    /* whatever backward did not reach (or a failed backward left) starts now, in order */
    for (int k = r->next_start; k < r->nb; k++)
        r->b[k].pending = 0;
    start_ready(r);
    glia_status f = GLIA_STATUS_OK;
    for (int k = 0; k < r->nb; k++) {
        glia_status fk = finish_bucket(r, k);
        if (f == GLIA_STATUS_OK)
            f = fk;
    }
    r->st.steps++;
    r->st.backward_seconds += glia_now_() - t0;
    if (s == GLIA_STATUS_OK)
        s = r->err;
    return s != GLIA_STATUS_OK ? s : f;
}
