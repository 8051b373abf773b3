/* Reductions over the a and c axes of [A,B,C] (cl/reduce.cl): REDUCE, batch
 * norm (statistics, backward) and Dice sums, each as partial sums into the
 * context's scratch followed by one finishing group per b. */
#include "backends/opencl/cl_abi.h"
#include "backends/opencl/cl_priv.h"


/* Items per group in stage one, elements per item at least, and the bound on
 * B*G that keeps the partials buffer small. */
#define GROUP_CAP 256
#define PER_ITEM 16
#define MAX_PARTIALS 4096
#define MAX_G 1024

typedef struct sums {
    size_t b, g;            /* B and the groups per b of the partial pass */
} sums;

static size_t pow2_at_least(size_t n)
{
    size_t p = 1;
    while (p < n)
        p *= 2;
    return p;
}

/* Stage one: partial sums of mode's quantities; y and stat may be unused ({NULL}). */
static glia_status partial(glia_bctx *ctx, int mode, glia_bview x, glia_bview y, glia_bview stat,
                           size_t A, size_t B, size_t C, sums *out)
{
    size_t total = A * C, L;
    glia_status s = glia_cl_pow2_group(ctx, GLIA_CLK_REDUCE_PARTIAL,
                                       total < GROUP_CAP ? pow2_at_least(total) : GROUP_CAP,
                                       sizeof(float), &L);
    if (s != GLIA_STATUS_OK)
        return s;
    size_t g = (total + L * PER_ITEM - 1) / (L * PER_ITEM);
    size_t gmax = B < MAX_PARTIALS ? MAX_PARTIALS / B : 1;
    if (g > gmax)
        g = gmax;
    if (g > MAX_G)
        g = MAX_G;
    if (g == 0)
        g = 1;
    s = glia_cl_check_u32((uint64_t)total + g * L, "reduction");
    if (s == GLIA_STATUS_OK)
        s = glia_cl_check_u32((uint64_t)B * g * L, "reduction");
    if (s == GLIA_STATUS_OK)
        s = glia_cl_scratch(ctx, &ctx->part, &ctx->part_bytes, B * g * 3 * sizeof(float),
                            "reduction");
    if (s != GLIA_STATUS_OK)
        return s;
    out->b = B;
    out->g = g;
    return GLIA_CL_LAUNCH(ctx, GLIA_CLK_REDUCE_PARTIAL, B * g * L, L, GLIA_KA_I32(mode),
                          GLIA_KA_OPT(x, x), GLIA_KA_OPT(y, x), GLIA_KA_OPT(stat, x),
                          GLIA_KA_U32(A), GLIA_KA_U32(B), GLIA_KA_U32(C), GLIA_KA_U32(g),
                          GLIA_KA_MEM(ctx->part), GLIA_KA_LOCAL(L * sizeof(float)));
}

typedef struct final_args {
    glia_bview o0, o1, o2, stat;   /* unused: {NULL, 0} */
    float alpha, beta, count, eps, momentum;
    int has_running;
} final_args;

/* Stage two: one group per b adds its partials and applies mode. */
static glia_status finish(glia_bctx *ctx, int mode, const sums *sm, const final_args *a)
{
    size_t L;
    glia_status s = glia_cl_pow2_group(ctx, GLIA_CLK_REDUCE_FINAL,
                                       sm->g < GROUP_CAP ? pow2_at_least(sm->g) : GROUP_CAP,
                                       sizeof(float), &L);
    if (s != GLIA_STATUS_OK)
        return s;
    /* unused outputs get the first output's buffer: never written */
    return GLIA_CL_LAUNCH(ctx, GLIA_CLK_REDUCE_FINAL, sm->b * L, L, GLIA_KA_I32(mode),
                          GLIA_KA_MEM(ctx->part), GLIA_KA_U32(sm->g), GLIA_KA_VIEW(a->o0),
                          GLIA_KA_OPT(a->o1, a->o0), GLIA_KA_OPT(a->o2, a->o0),
                          GLIA_KA_OPT(a->stat, a->o0), GLIA_KA_F32(a->alpha),
                          GLIA_KA_F32(a->beta), GLIA_KA_F32(a->count), GLIA_KA_F32(a->eps),
                          GLIA_KA_F32(a->momentum), GLIA_KA_I32(a->has_running),
                          GLIA_KA_LOCAL(L * sizeof(float)));
}

static const glia_bview none = {0};

static glia_status bn_apply(glia_bctx *ctx, const glia_op *op, glia_bview mean, glia_bview var,
                            int infer)
{
    size_t total = op->p.bn.n * op->p.bn.c * op->p.bn.s;
    return GLIA_CL_LAUNCH(ctx, GLIA_CLK_BN_APPLY, total, 0, GLIA_KA_VIEW(op->t[0]),
                          GLIA_KA_VIEW(op->t[1]), GLIA_KA_VIEW(op->t[2]), GLIA_KA_VIEW(op->t[3]),
                          GLIA_KA_VIEW(mean), GLIA_KA_VIEW(var), GLIA_KA_U32(op->p.bn.c),
                          GLIA_KA_U32(op->p.bn.s), GLIA_KA_U32(total), GLIA_KA_I32(infer),
                          GLIA_KA_F32(op->p.bn.eps));
}

static glia_status bn_train(glia_bctx *ctx, const glia_op *op)
{
    size_t n = op->p.bn.n, c = op->p.bn.c, sp = op->p.bn.s;
    const glia_bview *t = op->t;
    sums sm;
    final_args fa = {.o0 = t[4], .count = (float)((double)n * sp)};
    glia_status s = partial(ctx, MODE_SUM, t[0], none, none, n, c, sp, &sm);
    if (s == GLIA_STATUS_OK)
        s = finish(ctx, FINAL_MEAN, &sm, &fa);
    /* variance around the mean, not E[x^2] - mean^2, which cancels badly in float */
    if (s == GLIA_STATUS_OK)
        s = partial(ctx, MODE_SQDEV, t[0], none, t[4], n, c, sp, &sm);
    if (s == GLIA_STATUS_OK) {
        fa.o0 = t[5];
        fa.o1 = t[6];
        fa.o2 = t[7];
        fa.stat = t[4];
        fa.eps = op->p.bn.eps;
        fa.momentum = op->p.bn.momentum;
        fa.has_running = t[6].buf != NULL && t[7].buf != NULL;
        s = finish(ctx, FINAL_VAR, &sm, &fa);
    }
    return s == GLIA_STATUS_OK ? bn_apply(ctx, op, t[4], t[5], 0) : s;
}

static glia_status bn_bwd(glia_bctx *ctx, const glia_op *op)
{
    size_t n = op->p.bn.n, c = op->p.bn.c, sp = op->p.bn.s, total = n * c * sp;
    const glia_bview *t = op->t;
    sums sm;
    final_args fa = {.o0 = t[6], .o1 = t[7], .stat = t[4]};
    glia_status s = partial(ctx, MODE_BNBWD, t[0], t[2], t[3], n, c, sp, &sm);
    if (s == GLIA_STATUS_OK)
        s = finish(ctx, FINAL_BNBWD, &sm, &fa);
    if (s != GLIA_STATUS_OK)
        return s;
    return GLIA_CL_LAUNCH(ctx, GLIA_CLK_BN_BWD_DX, total, 0, GLIA_KA_VIEW(t[0]),
                          GLIA_KA_VIEW(t[1]), GLIA_KA_VIEW(t[2]), GLIA_KA_VIEW(t[3]),
                          GLIA_KA_VIEW(t[4]), GLIA_KA_VIEW(t[6]), GLIA_KA_VIEW(t[7]),
                          GLIA_KA_VIEW(t[5]), GLIA_KA_U32(c), GLIA_KA_U32(sp),
                          GLIA_KA_U32(total), GLIA_KA_F32((float)((double)n * sp)));
}

glia_status glia_cl_run_reduce(glia_bctx *ctx, const glia_op *op)
{
    const glia_bview *t = op->t;
    sums sm;
    glia_status s;
    switch (op->kind) {
    case GLIA_OP_REDUCE: {
        final_args fa = {.o0 = t[1], .alpha = op->p.bcast.alpha, .beta = op->p.bcast.beta};
        s = partial(ctx, MODE_SUM, t[0], none, none, op->p.bcast.a, op->p.bcast.b,
                    op->p.bcast.c, &sm);
        return s == GLIA_STATUS_OK ? finish(ctx, FINAL_REDUCE, &sm, &fa) : s;
    }
    case GLIA_OP_DICE_SUMS: {
        final_args fa = {.o0 = t[2]};
        s = partial(ctx, MODE_DICE, t[0], t[1], none, op->p.dice.a, op->p.dice.b, op->p.dice.c,
                    &sm);
        return s == GLIA_STATUS_OK ? finish(ctx, FINAL_DICE, &sm, &fa) : s;
    }
    default:
        break;
    }
    s = glia_cl_check_u32((uint64_t)op->p.bn.n * op->p.bn.c * op->p.bn.s, "batch norm");
    if (s != GLIA_STATUS_OK)
        return s;
    switch (op->kind) {
    case GLIA_OP_BN_FWD_TRAIN:
        return bn_train(ctx, op);
    case GLIA_OP_BN_FWD_INFER:
        return bn_apply(ctx, op, t[6], t[7], 1);
    case GLIA_OP_BN_BWD:
        return bn_bwd(ctx, op);
    default:
        return glia_cl_misrouted(op);
    }
}
