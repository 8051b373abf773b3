/* CPU backend: layer normalisation over the last axis of x[R, C].
 *
 * Rows are independent, so the forward and dx run parallel over rows, each
 * row's statistics in double (a row is read from cache for its second pass).
 * dgamma and dbeta sum over rows instead: in double over fixed chunks of rows
 * and blocks of columns, then the chunks in order, so the result does not
 * depend on the thread count and is as accurate as the reference. */
#include <math.h>
#include <stdlib.h>
#include "cpu_impl.h"

/* Columns per dgamma/dbeta task: one row's run of them is a few KiB. */
#define COL_BLOCK 1024

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

/* dgamma and dbeta: task (k, b) sums column block b over chunk k of rows into
 * part[k] = {dgamma[C], dbeta[C]}, then each column adds its chunks in order.
 * Chunks and blocks depend on R and C only, so the sums do not depend on the
 * thread count, and every partial is a double. */
typedef struct param_job {
    ln_job ln;
    double *part;
    size_t chunk_rows, chunks, block_cols, blocks;
} param_job;

static void param_part_task(void *arg, size_t b, size_t e)
{
    param_job *j = arg;
    float *const *t = j->ln.t;
    size_t R = j->ln.op->p.ln.rows, C = j->ln.op->p.ln.cols;
    for (size_t task = b; task < e; task++) {
        size_t k = task / j->blocks, c0 = task % j->blocks * j->block_cols;
        size_t n = C - c0 < j->block_cols ? C - c0 : j->block_cols;
        size_t r0 = k * j->chunk_rows, r1 = R - r0 < j->chunk_rows ? R : r0 + j->chunk_rows;
        double *dg = j->part + k * 2 * C + c0, *db = dg + C;
        for (size_t c = 0; c < n; c++)
            dg[c] = db[c] = 0;
        for (size_t r = r0; r < r1; r++) {
            const float *x = t[0] + r * C + c0, *dy = t[2] + r * C + c0;
            float mean = t[3][r];
            double invstd = t[4][r];
            for (size_t c = 0; c < n; c++) {
                db[c] += dy[c];
                dg[c] += (double)dy[c] * (x[c] - mean) * invstd;
            }
        }
    }
}

static void param_final_task(void *arg, size_t b, size_t e)
{
    param_job *j = arg;
    size_t C = j->ln.op->p.ln.cols;
    for (size_t c = b; c < e; c++) {
        double dg = 0, db = 0;
        for (size_t k = 0; k < j->chunks; k++) {
            dg += j->part[k * 2 * C + c];
            db += j->part[k * 2 * C + C + c];
        }
        if (j->ln.t[6])
            j->ln.t[6][c] = (float)dg;
        if (j->ln.t[7])
            j->ln.t[7][c] = (float)db;
    }
}

/* Partial sums hold at most this many doubles: chunks of rows grow to fit. */
#define PART_MAX ((size_t)1 << 23)
/* Elements one partial-sum task reads. */
#define TASK_ELEMS ((size_t)16384)

static glia_status param_grads(glia_bctx *ctx, const glia_op *op, glia_cpu_ptrs t)
{
    size_t R = op->p.ln.rows, C = op->p.ln.cols;
    param_job j = {.ln = {op, t}, .block_cols = C < COL_BLOCK ? C : COL_BLOCK};
    j.blocks = (C + j.block_cols - 1) / j.block_cols;
    j.chunk_rows = TASK_ELEMS / j.block_cols ? TASK_ELEMS / j.block_cols : 1;
    size_t most = PART_MAX / (2 * C) ? PART_MAX / (2 * C) : 1;   /* chunks that fit */
    if ((R + j.chunk_rows - 1) / j.chunk_rows > most)
        j.chunk_rows = (R + most - 1) / most;
    j.chunks = (R + j.chunk_rows - 1) / j.chunk_rows;
    j.part = malloc(j.chunks * 2 * C * sizeof *j.part);
    if (!j.part)
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "cpu LN_BWD: %zu bytes of partial sums",
                           j.chunks * 2 * C * sizeof *j.part);
    glia_cpu_parallel_for(ctx->pool, j.chunks * j.blocks, 1, param_part_task, &j);
    size_t grain = GLIA_CPU_GRAIN / j.chunks ? GLIA_CPU_GRAIN / j.chunks : 1;
    glia_cpu_parallel_for(ctx->pool, C, grain, param_final_task, &j);
    free(j.part);
    return GLIA_STATUS_OK;
}

glia_status glia_cpu_ln_bwd(glia_bctx *ctx, const glia_op *op, glia_cpu_ptrs t)
{
    ln_job j = {op, t};
    size_t R = op->p.ln.rows, C = op->p.ln.cols;
    if (R == 0 || C == 0)
        return GLIA_STATUS_OK;
    if (t[6] || t[7]) {
        glia_status s = param_grads(ctx, op, t);
        if (s != GLIA_STATUS_OK)
            return s;
    }
    glia_cpu_parallel_for(ctx->pool, R, row_grain(C), dx_task, &j);
    return GLIA_STATUS_OK;
}
