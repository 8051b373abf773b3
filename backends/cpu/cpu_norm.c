/* CPU backend: batch normalisation over x[N, C, S], per channel.
 *
 * Statistics are one read of x: each block of a channel's runs gets its exact
 * mean and centred sum of squares from two passes over the (cache-resident)
 * block, in double, and blocks are merged with Chan's parallel formula. That is
 * as accurate as a two-pass algorithm without a second sweep through memory. */
#include <math.h>
#include "cpu_impl.h"

#define BLOCK 4096

typedef struct bn_job {
    const glia_op *op;
    float *const *t;
} bn_job;

/* sums = {count, mean, M2} */
static void chan_merge(double *acc, const double *part)
{
    double na = acc[0], nb = part[0], n = na + nb;
    if (nb == 0)
        return;
    double delta = part[1] - acc[1];
    acc[1] += delta * nb / n;
    acc[2] += part[2] + delta * delta * na * nb / n;
    acc[0] = n;
}

static void stats_seg(void *arg, size_t c, size_t s, size_t e, double *sums)
{
    bn_job *j = arg;
    size_t C = j->op->p.bn.c, S = j->op->p.bn.s;
    for (size_t pos = s; pos < e;) {
        size_t off, n = glia_cpu_slice_run(pos, e, S, C, c, &off);
        if (n > BLOCK)
            n = BLOCK;
        const float *x = j->t[0] + off;
        double mean = glia_cpu_sum(x, n) / (double)n, m0 = 0, m1 = 0, m2 = 0, m3 = 0;
        size_t i = 0;
        for (; i + 4 <= n; i += 4) {   /* independent chains: the adds are latency-bound */
            double d0 = x[i] - mean, d1 = x[i + 1] - mean, d2 = x[i + 2] - mean, d3 = x[i + 3] - mean;
            m0 += d0 * d0;
            m1 += d1 * d1;
            m2 += d2 * d2;
            m3 += d3 * d3;
        }
        for (; i < n; i++) {
            double d = x[i] - mean;
            m0 += d * d;
        }
        double part[3] = {(double)n, mean, (m0 + m1) + (m2 + m3)};
        chan_merge(sums, part);
        pos += n;
    }
}

static void stats_fin(void *arg, size_t c, const double *sums)
{
    bn_job *j = arg;
    const glia_op *op = j->op;
    double mean = sums[1], var = sums[0] > 0 ? sums[2] / sums[0] : 0;
    j->t[4][c] = (float)mean;
    j->t[5][c] = (float)(1.0 / sqrt(var + op->p.bn.eps));
    double m = op->p.bn.momentum, cnt = sums[0];
    if (j->t[6])
        j->t[6][c] = (float)((1 - m) * j->t[6][c] + m * mean);
    if (j->t[7])   /* src/core rejects N*S == 1 in training, as PyTorch does */
        j->t[7][c] = (float)((1 - m) * j->t[7][c] + m * var * cnt / (cnt - 1));
}

/* y = (x - mean) * (gamma * invstd) + beta with per-channel mean and invstd
 * taken from slots im and is (train: saved stats; inference: computed). */
static void bn_apply_task(void *arg, size_t s, size_t e)
{
    bn_job *j = arg;
    size_t C = j->op->p.bn.c, S = j->op->p.bn.s;
    const float *x = j->t[0], *gamma = j->t[1], *beta = j->t[2];
    float *y = j->t[3];
    int infer = j->op->kind == GLIA_OP_BN_FWD_INFER;
    for (size_t pos = s; pos < e;) {
        size_t row, col, n = glia_cpu_run(pos, e, S, &row, &col);
        size_t c = row % C;
        float mean, k;
        if (infer) {
            mean = j->t[6][c];
            k = (float)(gamma[c] / sqrt((double)j->t[7][c] + j->op->p.bn.eps));
        } else {
            mean = j->t[4][c];
            k = gamma[c] * j->t[5][c];
        }
        float b = beta[c];
        const float *xr = x + pos;
        float *yr = y + pos;
        for (size_t i = 0; i < n; i++)
            yr[i] = (xr[i] - mean) * k + b;
        pos += n;
    }
}

static void bn_apply(glia_bctx *ctx, bn_job *j)
{
    const glia_op *op = j->op;
    glia_cpu_parallel_for(ctx->pool, op->p.bn.n * op->p.bn.c * op->p.bn.s, GLIA_CPU_GRAIN,
                          bn_apply_task, j);
}

void glia_cpu_bn_fwd_train(glia_bctx *ctx, const glia_op *op, glia_cpu_ptrs t)
{
    bn_job j = {op, t};
    glia_cpu_reduce(ctx->pool, op->p.bn.c, op->p.bn.n * op->p.bn.s, 3, stats_seg, chan_merge,
                    stats_fin, &j);
    bn_apply(ctx, &j);
}

void glia_cpu_bn_fwd_infer(glia_bctx *ctx, const glia_op *op, glia_cpu_ptrs t)
{
    bn_job j = {op, t};
    bn_apply(ctx, &j);
}

/* ---- backward: t0=x, t1=gamma, t2=dy, t3=mean, t4=invstd, t5=dx, t6=dgamma, t7=dbeta */

static void bwd_seg(void *arg, size_t c, size_t s, size_t e, double *sums)
{
    bn_job *j = arg;
    size_t C = j->op->p.bn.c, S = j->op->p.bn.s;
    float mean = j->t[3][c];
    for (size_t pos = s; pos < e;) {
        size_t off, n = glia_cpu_slice_run(pos, e, S, C, c, &off);
        const float *x = j->t[0] + off, *dy = j->t[2] + off;
        double a[4] = {0}, b[4] = {0};   /* independent chains, as in glia_cpu_sum */
        size_t i = 0;
        for (; i + 4 <= n; i += 4)
            for (int k = 0; k < 4; k++) {
                a[k] += dy[i + k];
                b[k] += (double)dy[i + k] * (x[i + k] - mean);
            }
        for (; i < n; i++) {
            a[0] += dy[i];
            b[0] += (double)dy[i] * (x[i] - mean);
        }
        sums[0] += (a[0] + a[1]) + (a[2] + a[3]);
        sums[1] += (b[0] + b[1]) + (b[2] + b[3]);
        pos += n;
    }
}

static void bwd_fin(void *arg, size_t c, const double *sums)
{
    bn_job *j = arg;
    j->t[7][c] = (float)sums[0];
    j->t[6][c] = (float)(sums[1] * j->t[4][c]);
}

static void bwd_apply_task(void *arg, size_t s, size_t e)
{
    bn_job *j = arg;
    size_t C = j->op->p.bn.c, S = j->op->p.bn.s;
    float inv_m = 1.0f / (float)(j->op->p.bn.n * S);
    const float *x = j->t[0], *dy = j->t[2];
    float *dx = j->t[5];
    for (size_t pos = s; pos < e;) {
        size_t row, col, n = glia_cpu_run(pos, e, S, &row, &col);
        size_t c = row % C;
        /* dx = gamma*invstd * (dy - dbeta/M - xhat*dgamma/M), xhat = (x-mean)*invstd */
        float mean = j->t[3][c], invstd = j->t[4][c];
        float k = j->t[1][c] * invstd, mdb = j->t[7][c] * inv_m;
        float kx = j->t[6][c] * inv_m * invstd;
        const float *xr = x + pos, *dyr = dy + pos;
        float *dxr = dx + pos;
        for (size_t i = 0; i < n; i++)
            dxr[i] = k * (dyr[i] - mdb - (xr[i] - mean) * kx);
        pos += n;
    }
}

void glia_cpu_bn_bwd(glia_bctx *ctx, const glia_op *op, glia_cpu_ptrs t)
{
    bn_job j = {op, t};
    glia_cpu_reduce(ctx->pool, op->p.bn.c, op->p.bn.n * op->p.bn.s, 2, bwd_seg, NULL, bwd_fin, &j);
    glia_cpu_parallel_for(ctx->pool, op->p.bn.n * op->p.bn.c * op->p.bn.s, GLIA_CPU_GRAIN,
                          bwd_apply_task, &j);
}
