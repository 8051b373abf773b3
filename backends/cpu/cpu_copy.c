/* CPU backend: the N-d strided copy (COPY_ND). Parallel over rows (every axis
 * but the last); a row whose elements are contiguous on both sides is one
 * memcpy, so a channel concatenation or slice runs at memcpy speed. */
#include <string.h>
#include "cpu_impl.h"

typedef struct copy_job {
    const glia_copy_desc *d;
    const float *src;
    float *dst;
} copy_job;

static void copy_rows(void *arg, size_t r0, size_t r1)
{
    const copy_job *j = arg;
    const glia_copy_desc *d = j->d;
    int last = d->ndim - 1;
    size_t len = (size_t)d->shape[last];
    int64_t ss = d->src_stride[last], ds = d->dst_stride[last];
    float beta = d->beta;
    for (size_t r = r0; r < r1; r++) {
        int64_t rest = (int64_t)r, so = 0, dof = 0;
        for (int k = last - 1; k >= 0; k--) {
            int64_t ik = rest % d->shape[k];
            rest /= d->shape[k];
            so += ik * d->src_stride[k];
            dof += ik * d->dst_stride[k];
        }
        const float *s = j->src + so;
        float *t = j->dst + dof;
        if (ss == 1 && ds == 1 && beta == 0.0f) {
            memcpy(t, s, len * sizeof *t);
        } else if (beta == 0.0f) {
            for (size_t i = 0; i < len; i++)
                t[i * ds] = s[i * ss];
        } else {
            for (size_t i = 0; i < len; i++)
                t[i * ds] = s[i * ss] + beta * t[i * ds];
        }
    }
}

void glia_cpu_copy_nd(glia_bctx *ctx, const glia_op *op, glia_cpu_ptrs t)
{
    const glia_copy_desc *d = &op->p.copy;
    size_t rows = 1, len = (size_t)d->shape[d->ndim - 1];
    for (int k = 0; k + 1 < d->ndim; k++)
        rows *= (size_t)d->shape[k];
    if (rows == 0 || len == 0)
        return;
    copy_job j = {d, t[0], t[1]};
    glia_cpu_parallel_for(ctx->pool, rows, (GLIA_CPU_GRAIN + len - 1) / len, copy_rows, &j);
}
