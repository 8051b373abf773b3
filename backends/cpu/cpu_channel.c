/* CPU backend: ops over the channel axis of x[N, C, S] (softmax, softmax
 * cross-entropy, argmax). Work items are blocks of BS spatial positions of one
 * sample; inside a block every channel is a contiguous run, so the loops over
 * positions vectorise and per-position state lives in small stack arrays. */
#include <math.h>
#include "cpu_impl.h"

#define BS 256

typedef struct ch_job {
    const glia_op *op;
    float *const *t;
} ch_job;

typedef void (*block_fn)(const ch_job *j, size_t n, size_t s0, size_t len);

typedef struct ch_run {
    ch_job j;
    block_fn fn;
    size_t nblk;
} ch_run;

static void ch_task(void *arg, size_t b0, size_t b1)
{
    ch_run *r = arg;
    size_t S = r->j.op->p.chan.s;
    for (size_t b = b0; b < b1; b++) {
        size_t n = b / r->nblk, s0 = b % r->nblk * BS;
        r->fn(&r->j, n, s0, S - s0 < BS ? S - s0 : BS);
    }
}

static void ch_for(glia_bctx *ctx, const glia_op *op, float *const *t, block_fn fn)
{
    size_t C = op->p.chan.c;
    if (C == 0)
        return;
    ch_run r = {{op, t}, fn, (op->p.chan.s + BS - 1) / BS};
    /* exp/log are calls per element: aim at smaller chunks than plain loops */
    size_t grain = GLIA_CPU_GRAIN / 8 / (C * BS);
    glia_cpu_parallel_for(ctx->pool, op->p.chan.n * r.nblk, grain ? grain : 1, ch_task, &r);
}

/* Offset of channel c of sample n at position s0. */
static size_t at(const ch_job *j, size_t n, size_t c, size_t s0)
{
    return (n * j->op->p.chan.c + c) * j->op->p.chan.s + s0;
}

/* m[i] = max over channels; e_c = exp(x_c - m) stored to y (if y), sum[i] = sum of e_c. */
static void exp_block(const ch_job *j, size_t n, size_t s0, size_t len, float *y, float *m,
                      float *sum)
{
    size_t C = j->op->p.chan.c;
    const float *x = j->t[0];
    for (size_t i = 0; i < len; i++) {
        m[i] = x[at(j, n, 0, s0) + i];
        sum[i] = 0.0f;
    }
    for (size_t c = 1; c < C; c++) {
        const float *xc = x + at(j, n, c, s0);
        for (size_t i = 0; i < len; i++)
            m[i] = xc[i] > m[i] ? xc[i] : m[i];
    }
    for (size_t c = 0; c < C; c++) {
        const float *xc = x + at(j, n, c, s0);
        float *yc = y ? y + at(j, n, c, s0) : NULL;
        for (size_t i = 0; i < len; i++) {
            float e = glia_cpu_expf(xc[i] - m[i]);
            sum[i] += e;
            if (yc)
                yc[i] = e;
        }
    }
}

/* Softmax over the last axis (S = 1: attention's rows): each sample's C
 * channels are contiguous, so the loops run along them. */
static void softmax_row(const ch_job *j, size_t n)
{
    size_t C = j->op->p.chan.c;
    const float *x = j->t[0] + n * C;
    float *y = j->t[1] + n * C, m = x[0];
    for (size_t c = 1; c < C; c++)
        m = x[c] > m ? x[c] : m;
    for (size_t c = 0; c < C; c++)
        y[c] = glia_cpu_expf(x[c] - m);
    float inv = (float)(1.0 / glia_cpu_sum(y, C));
    for (size_t c = 0; c < C; c++)
        y[c] *= inv;
}

static void softmax_block(const ch_job *j, size_t n, size_t s0, size_t len)
{
    if (j->op->p.chan.s == 1) {
        softmax_row(j, n);
        return;
    }
    float m[BS], sum[BS];
    exp_block(j, n, s0, len, j->t[1], m, sum);
    for (size_t c = 0; c < j->op->p.chan.c; c++) {
        float *yc = j->t[1] + at(j, n, c, s0);
        for (size_t i = 0; i < len; i++)
            yc[i] /= sum[i];
    }
}

static void softmax_bwd_block(const ch_job *j, size_t n, size_t s0, size_t len)
{
    size_t C = j->op->p.chan.c;
    float acc[BS] = {0};
    for (size_t c = 0; c < C; c++) {
        const float *y = j->t[0] + at(j, n, c, s0), *dy = j->t[1] + at(j, n, c, s0);
        for (size_t i = 0; i < len; i++)
            acc[i] += dy[i] * y[i];
    }
    for (size_t c = 0; c < C; c++) {
        const float *y = j->t[0] + at(j, n, c, s0), *dy = j->t[1] + at(j, n, c, s0);
        float *dx = j->t[2] + at(j, n, c, s0);
        for (size_t i = 0; i < len; i++)
            dx[i] = y[i] * (dy[i] - acc[i]);
    }
}

/* l = -sum_c t_c * (x_c - m - log(sum)) */
static void ce_block(const ch_job *j, size_t n, size_t s0, size_t len)
{
    size_t C = j->op->p.chan.c, S = j->op->p.chan.s;
    float m[BS], sum[BS], l[BS] = {0};
    exp_block(j, n, s0, len, NULL, m, sum);
    for (size_t i = 0; i < len; i++)
        sum[i] = m[i] + logf(sum[i]);
    for (size_t c = 0; c < C; c++) {
        const float *x = j->t[0] + at(j, n, c, s0), *t = j->t[1] + at(j, n, c, s0);
        for (size_t i = 0; i < len; i++)
            l[i] -= t[i] * (x[i] - sum[i]);
    }
    float *out = j->t[2] + n * S + s0;
    for (size_t i = 0; i < len; i++)
        out[i] = l[i];
}

/* dx = g*scale*(softmax(x) * sum_c t - t); dx holds exp(x - m) first */
static void ce_bwd_block(const ch_job *j, size_t n, size_t s0, size_t len)
{
    size_t C = j->op->p.chan.c;
    float m[BS], sum[BS], tsum[BS] = {0};
    float k = j->t[2][0] * j->op->p.chan.scale;
    exp_block(j, n, s0, len, j->t[3], m, sum);
    for (size_t c = 0; c < C; c++) {
        const float *t = j->t[1] + at(j, n, c, s0);
        for (size_t i = 0; i < len; i++)
            tsum[i] += t[i];
    }
    for (size_t i = 0; i < len; i++)
        sum[i] = tsum[i] / sum[i];
    for (size_t c = 0; c < C; c++) {
        const float *t = j->t[1] + at(j, n, c, s0);
        float *dx = j->t[3] + at(j, n, c, s0);
        for (size_t i = 0; i < len; i++)
            dx[i] = k * (dx[i] * sum[i] - t[i]);
    }
}

static void argmax_block(const ch_job *j, size_t n, size_t s0, size_t len)
{
    size_t C = j->op->p.chan.c, S = j->op->p.chan.s;
    float best[BS], *out = j->t[1] + n * S + s0;
    const float *x0 = j->t[0] + at(j, n, 0, s0);
    for (size_t i = 0; i < len; i++) {
        best[i] = x0[i];
        out[i] = 0.0f;
    }
    for (size_t c = 1; c < C; c++) {
        const float *xc = j->t[0] + at(j, n, c, s0);
        for (size_t i = 0; i < len; i++)
            if (xc[i] > best[i]) {
                best[i] = xc[i];
                out[i] = (float)c;
            }
    }
}

void glia_cpu_softmax_fwd(glia_bctx *ctx, const glia_op *op, glia_cpu_ptrs t)
{
    ch_for(ctx, op, t, softmax_block);
}

void glia_cpu_softmax_bwd(glia_bctx *ctx, const glia_op *op, glia_cpu_ptrs t)
{
    ch_for(ctx, op, t, softmax_bwd_block);
}

void glia_cpu_softmax_ce(glia_bctx *ctx, const glia_op *op, glia_cpu_ptrs t)
{
    ch_for(ctx, op, t, ce_block);
}

void glia_cpu_softmax_ce_bwd(glia_bctx *ctx, const glia_op *op, glia_cpu_ptrs t)
{
    ch_for(ctx, op, t, ce_bwd_block);
}

void glia_cpu_argmax(glia_bctx *ctx, const glia_op *op, glia_cpu_ptrs t)
{
    ch_for(ctx, op, t, argmax_block);
}
