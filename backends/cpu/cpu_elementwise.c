/* CPU backend: fill, copies, elementwise arithmetic, bias broadcast and
 * reduction. Each op is a range task over flat elements (or rows) run by the
 * pool; the mode switch sits outside the inner loops so they vectorise. */
#include <math.h>
#include <string.h>
#include "cpu_impl.h"

typedef struct ew_job {
    const glia_op *op;
    float *const *t;
    float v;
} ew_job;

static void run(glia_bctx *ctx, size_t n, size_t grain, glia_cpu_range_fn fn,
                const glia_op *op, float *const *t, float v)
{
    ew_job j = {op, t, v};
    glia_cpu_parallel_for(ctx->pool, n, grain, fn, &j);
}

/* ---- fill ------------------------------------------------------------------ */

static void fill_task(void *arg, size_t b, size_t e)
{
    ew_job *j = arg;
    float *y = j->t[0], v = j->v;
    for (size_t i = b; i < e; i++)
        y[i] = v;
}

void glia_cpu_fill(glia_bctx *ctx, const glia_op *op, glia_cpu_ptrs t)
{
    float v = op->p.fill.value * (t[1] ? t[1][0] : 1.0f);
    run(ctx, op->p.fill.n, GLIA_CPU_GRAIN, fill_task, op, t, v);
}

/* ---- arithmetic ------------------------------------------------------------------ */

static void axpbyz_task(void *arg, size_t b, size_t e)
{
    ew_job *j = arg;
    const float *x = j->t[0], *y = j->t[1];
    float *z = j->t[2], a = j->op->p.axpbyz.a, bb = j->op->p.axpbyz.b;
    if (!y || bb == 0.0f) {
        for (size_t i = b; i < e; i++)
            z[i] = a * x[i];
    } else {
        for (size_t i = b; i < e; i++)
            z[i] = a * x[i] + bb * y[i];
    }
}

void glia_cpu_axpbyz(glia_bctx *ctx, const glia_op *op, glia_cpu_ptrs t)
{
    run(ctx, op->p.axpbyz.n, GLIA_CPU_GRAIN, axpbyz_task, op, t, 0);
}

static void binary_task(void *arg, size_t b, size_t e)
{
    ew_job *j = arg;
    const float *x = j->t[0], *y = j->t[1];
    float *z = j->t[2];
    if (j->op->p.binary.mode == GLIA_BINARY_DIV) {
        for (size_t i = b; i < e; i++)
            z[i] = x[i] / y[i];
    } else {
        for (size_t i = b; i < e; i++)
            z[i] = x[i] * y[i];
    }
}

void glia_cpu_binary(glia_bctx *ctx, const glia_op *op, glia_cpu_ptrs t)
{
    run(ctx, op->p.binary.n, GLIA_CPU_GRAIN, binary_task, op, t, 0);
}

/* GELU in float: Phi(x) = erfc(-x/sqrt 2)/2 keeps full relative precision in
 * the negative tail, where 1 + erf(x/sqrt 2) would cancel. */
static inline float glia_cpu_gelu(float x) { return 0.5f * x * erfcf(-x * (float)M_SQRT1_2); }
static inline float glia_cpu_gelu_grad(float x)
{
    return 0.5f * erfcf(-x * (float)M_SQRT1_2) + x * expf(-0.5f * x * x) * (float)(0.5 * M_2_SQRTPI * M_SQRT1_2);
}

static void unary_task(void *arg, size_t b, size_t e)
{
    ew_job *j = arg;
    const float *x = j->t[0];
    float *y = j->t[1], a = j->op->p.unary.a, c = j->op->p.unary.b;
    switch (j->op->p.unary.mode) {
    case GLIA_UNARY_AFFINE:
        for (size_t i = b; i < e; i++)
            y[i] = a * x[i] + c;
        break;
    case GLIA_UNARY_RELU:
        for (size_t i = b; i < e; i++)
            y[i] = x[i] < 0.0f ? 0.0f : x[i]; /* NaN passes, as in PyTorch */
        break;
    case GLIA_UNARY_SIGMOID:
        for (size_t i = b; i < e; i++)
            y[i] = 1.0f / (1.0f + expf(-x[i]));
        break;
    case GLIA_UNARY_THRESHOLD:
        for (size_t i = b; i < e; i++)
            y[i] = x[i] > a ? 1.0f : 0.0f;
        break;
    case GLIA_UNARY_GELU:
        for (size_t i = b; i < e; i++)
            y[i] = glia_cpu_gelu(x[i]);
        break;
    case GLIA_UNARY_LEAKY_RELU:
        for (size_t i = b; i < e; i++)
            y[i] = x[i] > 0.0f ? x[i] : a * x[i];
        break;
    case GLIA_UNARY_COUNT_: /* no default: -Wswitch rejects a table mode without a loop */
        break;
    }
}

void glia_cpu_unary(glia_bctx *ctx, const glia_op *op, glia_cpu_ptrs t)
{
    /* expf is a call per element: split sigmoid into smaller chunks */
    size_t grain = op->p.unary.mode == GLIA_UNARY_SIGMOID || op->p.unary.mode == GLIA_UNARY_GELU
                       ? GLIA_CPU_GRAIN / 8
                       : GLIA_CPU_GRAIN;
    run(ctx, op->p.unary.n, grain, unary_task, op, t, 0);
}

static void unary_bwd_task(void *arg, size_t b, size_t e)
{
    ew_job *j = arg;
    const float *y = j->t[0], *dy = j->t[1];   /* t0: what glia_unary_grad says the mode reads */
    float *dx = j->t[2];
    switch (j->op->p.unary.mode) {
    case GLIA_UNARY_SIGMOID:
        for (size_t i = b; i < e; i++)
            dx[i] = dy[i] * y[i] * (1.0f - y[i]);
        break;
    case GLIA_UNARY_RELU:
        /* both loads unconditional: the select then vectorises instead of
         * branching on the sign of y (a 50/50 guess on activations) */
        for (size_t i = b; i < e; i++) {
            float g = dy[i];
            dx[i] = y[i] > 0.0f ? g : 0.0f;
        }
        break;
    case GLIA_UNARY_GELU:      /* t0 = x */
        for (size_t i = b; i < e; i++)
            dx[i] = dy[i] * glia_cpu_gelu_grad(y[i]);   /* y = t0 = x here */
        break;
    case GLIA_UNARY_LEAKY_RELU: {   /* t0 = y: for a slope > 0, y > 0 iff x > 0 */
        float a = j->op->p.unary.a;
        for (size_t i = b; i < e; i++)
            dx[i] = y[i] > 0.0f ? dy[i] : a * dy[i];
        break;
    }
    case GLIA_UNARY_AFFINE:     /* no UNARY_BWD: supports() rejects these modes */
    case GLIA_UNARY_THRESHOLD:
    case GLIA_UNARY_COUNT_:
        break;
    }
}

void glia_cpu_unary_bwd(glia_bctx *ctx, const glia_op *op, glia_cpu_ptrs t)
{
    run(ctx, op->p.unary.n, GLIA_CPU_GRAIN, unary_bwd_task, op, t, 0);
}

/* ---- bias broadcast and reduction over [A, B, C] ---------------------------------- */

static void broadcast_task(void *arg, size_t s, size_t e)
{
    ew_job *j = arg;
    size_t B = j->op->p.bcast.b, C = j->op->p.bcast.c;
    float alpha = j->op->p.bcast.alpha, beta = j->op->p.bcast.beta;
    const float *x = j->t[0];
    float *y = j->t[1];
    for (size_t pos = s; pos < e;) {
        size_t row, col, n = glia_cpu_run(pos, e, C, &row, &col);
        float v = alpha * x[row % B], *yr = y + pos;
        if (beta == 0.0f) {
            for (size_t i = 0; i < n; i++)
                yr[i] = v;
        } else {
            for (size_t i = 0; i < n; i++)
                yr[i] = v + beta * yr[i];
        }
        pos += n;
    }
}

void glia_cpu_broadcast(glia_bctx *ctx, const glia_op *op, glia_cpu_ptrs t)
{
    size_t n = op->p.bcast.a * op->p.bcast.b * op->p.bcast.c;
    run(ctx, n, GLIA_CPU_GRAIN, broadcast_task, op, t, 0);
}

static void reduce_seg(void *arg, size_t b, size_t s, size_t e, double *sums)
{
    ew_job *j = arg;
    size_t B = j->op->p.bcast.b, C = j->op->p.bcast.c;
    for (size_t pos = s; pos < e;) {
        size_t off, n = glia_cpu_slice_run(pos, e, C, B, b, &off);
        sums[0] += glia_cpu_sum(j->t[0] + off, n);
        pos += n;
    }
}

static void reduce_fin(void *arg, size_t b, const double *sums)
{
    ew_job *j = arg;
    float *out = j->t[1];
    double v = j->op->p.bcast.alpha * sums[0];
    if (j->op->p.bcast.beta != 0.0f)
        v += (double)j->op->p.bcast.beta * out[b];
    out[b] = (float)v;
}

void glia_cpu_reduce_op(glia_bctx *ctx, const glia_op *op, glia_cpu_ptrs t)
{
    ew_job j = {op, t, 0};
    glia_cpu_reduce(ctx->pool, op->p.bcast.b, op->p.bcast.a * op->p.bcast.c, 1, reduce_seg, NULL,
                    reduce_fin, &j);
}
