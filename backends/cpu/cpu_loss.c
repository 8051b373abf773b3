/* CPU backend: elementwise BCE-with-logits and the Dice partial sums. The
 * upstream gradient g lives in device memory (a one-element buffer), which on
 * this backend is host memory, so it is read directly. */
#include <math.h>
#include "cpu_impl.h"

typedef struct loss_job {
    const glia_op *op;
    float *const *t;
    float k;
} loss_job;

static void bce_task(void *arg, size_t b, size_t e)
{
    loss_job *j = arg;
    const float *x = j->t[0], *t = j->t[1];
    float *l = j->t[2];
    for (size_t i = b; i < e; i++)
        l[i] = (x[i] > 0.0f ? x[i] : 0.0f) - x[i] * t[i] + log1pf(expf(-fabsf(x[i])));
}

static void bce_bwd_task(void *arg, size_t b, size_t e)
{
    loss_job *j = arg;
    const float *x = j->t[0], *t = j->t[1];
    float *dx = j->t[3], k = j->k;
    for (size_t i = b; i < e; i++)
        dx[i] = k * (1.0f / (1.0f + expf(-x[i])) - t[i]);
}

void glia_cpu_bce_logits(glia_bctx *ctx, const glia_op *op, glia_cpu_ptrs t)
{
    loss_job j = {op, t, 0};
    glia_cpu_parallel_for(ctx->pool, op->p.loss.n, GLIA_CPU_GRAIN / 8, bce_task, &j);
}

void glia_cpu_bce_logits_bwd(glia_bctx *ctx, const glia_op *op, glia_cpu_ptrs t)
{
    loss_job j = {op, t, t[2][0] * op->p.loss.scale};
    glia_cpu_parallel_for(ctx->pool, op->p.loss.n, GLIA_CPU_GRAIN / 8, bce_bwd_task, &j);
}

/* ---- Dice sums over p[A, B, C]: per b, sum p*t, sum p, sum t ------------------ */

static void dice_seg(void *arg, size_t b, size_t s, size_t e, double *sums)
{
    loss_job *j = arg;
    size_t B = j->op->p.dice.b, C = j->op->p.dice.c;
    for (size_t pos = s; pos < e;) {
        size_t off, n = glia_cpu_slice_run(pos, e, C, B, b, &off);
        const float *p = j->t[0] + off, *t = j->t[1] + off;
        sums[0] += glia_cpu_dot(p, t, n);
        sums[1] += glia_cpu_sum(p, n);
        sums[2] += glia_cpu_sum(t, n);
        pos += n;
    }
}

static void dice_fin(void *arg, size_t b, const double *sums)
{
    loss_job *j = arg;
    for (int k = 0; k < 3; k++)
        j->t[2][3 * b + k] = (float)sums[k];
}

void glia_cpu_dice_sums(glia_bctx *ctx, const glia_op *op, glia_cpu_ptrs t)
{
    loss_job j = {op, t, 0};
    glia_cpu_reduce(ctx->pool, op->p.dice.b, op->p.dice.a * op->p.dice.c, 3, dice_seg, NULL,
                    dice_fin, &j);
}

static void dice_bwd_task(void *arg, size_t s, size_t e)
{
    loss_job *j = arg;
    size_t B = j->op->p.dice.b, C = j->op->p.dice.c;
    const float *g = j->t[1];
    for (size_t pos = s; pos < e;) {
        size_t row, col, n = glia_cpu_run(pos, e, C, &row, &col);
        size_t b = row % B;
        float gi = g[3 * b], gp = g[3 * b + 1];
        const float *t = j->t[0] + pos;
        float *dp = j->t[2] + pos;
        for (size_t i = 0; i < n; i++)
            dp[i] = gi * t[i] + gp;
        pos += n;
    }
}

void glia_cpu_dice_sums_bwd(glia_bctx *ctx, const glia_op *op, glia_cpu_ptrs t)
{
    loss_job j = {op, t, 0};
    glia_cpu_parallel_for(ctx->pool, op->p.dice.a * op->p.dice.b * op->p.dice.c, GLIA_CPU_GRAIN,
                          dice_bwd_task, &j);
}
