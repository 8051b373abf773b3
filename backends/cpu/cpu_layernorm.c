/* CPU backend: layer normalisation over the last axis of x[R, C].
 *
 * Rows are independent, so the forward and dx run parallel over rows, each
 * row's statistics in double (a row is read from cache for its second pass).
 * dgamma and dbeta sum over rows instead: they run parallel over blocks of
 * columns, each column summed over all rows in order in double, so the result
 * does not depend on the thread count and is as accurate as the reference. */
#include <math.h>
#include "cpu_impl.h"

/* Columns per dgamma/dbeta task: one row's run of them is a few cache lines. */
#define COL_BLOCK 64

typedef struct ln_job {
    const glia_op *op;
    float *const *t;
} ln_job;

/* At least about GLIA_CPU_GRAIN elements per chunk of rows. */
static size_t row_grain(size_t cols)
{
    size_t g = GLIA_CPU_GRAIN / (cols ? cols : 1);
    return g ? g : 1;
}

static void fwd_task(void *arg, size_t rb, size_t re)
{
    ln_job *j = arg;
    size_t C = j->op->p.ln.cols;
    const float *gamma = j->t[1], *beta = j->t[2];
    for (size_t r = rb; r < re; r++) {
        const float *x = j->t[0] + r * C;
        float *y = j->t[3] + r * C;
        double mean = glia_cpu_sum(x, C) / (double)C, sq = 0;
        for (size_t c = 0; c < C; c++) {
            double d = x[c] - mean;
            sq += d * d;
        }
        double invstd = 1.0 / sqrt(sq / (double)C + j->op->p.ln.eps);
        float m = (float)mean, k = (float)invstd;
        for (size_t c = 0; c < C; c++) {
            float v = (x[c] - m) * k;
            if (gamma)
                v *= gamma[c];
            y[c] = beta ? v + beta[c] : v;
        }
        j->t[4][r] = m;
        j->t[5][r] = k;
    }
}

void glia_cpu_ln_fwd(glia_bctx *ctx, const glia_op *op, glia_cpu_ptrs t)
{
    ln_job j = {op, t};
    glia_cpu_parallel_for(ctx->pool, op->p.ln.rows, row_grain(op->p.ln.cols), fwd_task, &j);
}

/* ---- backward: t0=x, t1=gamma, t2=dy, t3=mean, t4=invstd, t5=dx, t6=dgamma, t7=dbeta */

static void dx_task(void *arg, size_t rb, size_t re)
{
    ln_job *j = arg;
    size_t C = j->op->p.ln.cols;
    const float *gamma = j->t[1];
    for (size_t r = rb; r < re; r++) {
        const float *x = j->t[0] + r * C, *dy = j->t[2] + r * C;
        float *dx = j->t[5] + r * C;
        float mean = j->t[3][r], invstd = j->t[4][r];
        double sg = 0, sgxh = 0;
        for (size_t c = 0; c < C; c++) {
            double g = gamma ? (double)dy[c] * gamma[c] : (double)dy[c];
            sg += g;
            sgxh += g * ((x[c] - mean) * invstd);
        }
        /* dx = invstd * (g - mean(g) - xhat * mean(g * xhat)) */
        float mg = (float)(sg / (double)C), mgx = (float)(sgxh / (double)C);
        for (size_t c = 0; c < C; c++) {
            float g = gamma ? dy[c] * gamma[c] : dy[c];
            dx[c] = invstd * (g - mg - (x[c] - mean) * invstd * mgx);
        }
    }
}

static void param_task(void *arg, size_t bb, size_t be)
{
    ln_job *j = arg;
    size_t R = j->op->p.ln.rows, C = j->op->p.ln.cols;
    for (size_t b = bb; b < be; b++) {
        size_t c0 = b * COL_BLOCK, n = C - c0 < COL_BLOCK ? C - c0 : COL_BLOCK;
        double dg[COL_BLOCK] = {0}, db[COL_BLOCK] = {0};
        for (size_t r = 0; r < R; r++) {
            const float *x = j->t[0] + r * C + c0, *dy = j->t[2] + r * C + c0;
            float mean = j->t[3][r];
            double invstd = j->t[4][r];
            for (size_t c = 0; c < n; c++) {
                db[c] += dy[c];
                dg[c] += (double)dy[c] * (x[c] - mean) * invstd;
            }
        }
        for (size_t c = 0; c < n; c++) {
            if (j->t[6])
                j->t[6][c0 + c] = (float)dg[c];
            if (j->t[7])
                j->t[7][c0 + c] = (float)db[c];
        }
    }
}

void glia_cpu_ln_bwd(glia_bctx *ctx, const glia_op *op, glia_cpu_ptrs t)
{
    ln_job j = {op, t};
    size_t R = op->p.ln.rows, C = op->p.ln.cols;
    if (t[6] || t[7]) {
        size_t blocks = (C + COL_BLOCK - 1) / COL_BLOCK;
        size_t per_block = R * COL_BLOCK, grain = per_block >= GLIA_CPU_GRAIN ? 1 : GLIA_CPU_GRAIN / per_block;
        glia_cpu_parallel_for(ctx->pool, blocks, grain, param_task, &j);
    }
    glia_cpu_parallel_for(ctx->pool, R, row_grain(C), dx_task, &j);
}
