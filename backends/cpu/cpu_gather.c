/* CPU backend: row gather (GATHER_ROWS) and its backward, the sum of the
 * gathered rows' gradients per table row through the inverse index (a fixed
 * order, so the result does not depend on threads). */
#include <string.h>
#include "cpu_impl.h"

typedef struct gather_job {
    const glia_op *op;
    float *const *t;
} gather_job;

static void gather_task(void *arg, size_t b, size_t e)
{
    const gather_job *j = arg;
    const int32_t *idx = (const int32_t *)(const void *)j->t[1];
    size_t w = j->op->p.gather.w;
    for (size_t i = b; i < e; i++)
        memcpy(j->t[2] + i * w, j->t[0] + (size_t)idx[i] * w, w * sizeof *j->t[2]);
}

static void gather_bwd_task(void *arg, size_t b, size_t e)
{
    const gather_job *j = arg;
    const int32_t *order = (const int32_t *)(const void *)j->t[1], *start = (const int32_t *)(const void *)j->t[2];
    size_t w = j->op->p.gather.w;
    for (size_t r = b; r < e; r++) {
        float *d = j->t[3] + r * w;
        memset(d, 0, w * sizeof *d);
        for (int32_t k = start[r]; k < start[r + 1]; k++) {
            const float *g = j->t[0] + (size_t)order[k] * w;
            for (size_t c = 0; c < w; c++)
                d[c] += g[c];
        }
    }
}

void glia_cpu_gather_rows(glia_bctx *ctx, const glia_op *op, glia_cpu_ptrs t)
{
    gather_job j = {op, t};
    size_t w = op->p.gather.w ? op->p.gather.w : 1;
    glia_cpu_parallel_for(ctx->pool, op->p.gather.n, (GLIA_CPU_GRAIN + w - 1) / w, gather_task, &j);
}

void glia_cpu_gather_rows_bwd(glia_bctx *ctx, const glia_op *op, glia_cpu_ptrs t)
{
    gather_job j = {op, t};
    size_t per = op->p.gather.rows ? op->p.gather.n / op->p.gather.rows * op->p.gather.w + 1 : 1;
    glia_cpu_parallel_for(ctx->pool, op->p.gather.rows, (GLIA_CPU_GRAIN + per - 1) / per, gather_bwd_task, &j);
}
