/* OpenCL backend: layer normalisation over the last axis (cl/layernorm.cl). */
#include <math.h>
#include "backends/opencl/cl_priv.h"

/* Items per row group: enough to share a long row (InstanceNorm's rows are
 * whole volumes), no more than a short row can use. */
#define GROUP_CAP 256

static glia_status row_group(glia_bctx *ctx, glia_cl_kern k, size_t cols, size_t *out)
{
    size_t cap = 1;
    while (cap < cols && cap < GROUP_CAP)
        cap *= 2;
    return glia_cl_pow2_group(ctx, k, cap, sizeof(float), out);
}

static glia_status ln_fwd(glia_bctx *ctx, const glia_op *op)
{
    const glia_bview *t = op->t;
    size_t L;
    glia_status s = row_group(ctx, GLIA_CLK_LN_FWD, op->p.ln.cols, &L);
    if (s != GLIA_STATUS_OK)
        return s;
    /* a missing gamma or beta gets x's buffer in its place: never read */
    return GLIA_CL_LAUNCH(ctx, GLIA_CLK_LN_FWD, op->p.ln.rows * L, L, GLIA_KA_VIEW(t[0]),
                          GLIA_KA_OPT(t[1], t[0]), GLIA_KA_OPT(t[2], t[0]), GLIA_KA_VIEW(t[3]),
                          GLIA_KA_VIEW(t[4]), GLIA_KA_VIEW(t[5]), GLIA_KA_U32(op->p.ln.cols),
                          GLIA_KA_I32(t[1].buf != NULL), GLIA_KA_I32(t[2].buf != NULL),
                          GLIA_KA_F32(op->p.ln.eps), GLIA_KA_LOCAL(L * sizeof(float)));
}

/* dgamma and dbeta: partial sums over about sqrt(R) chunks of about sqrt(R)
 * rows, so both passes have work for many items and short loops. */
static glia_status param_grads(glia_bctx *ctx, const glia_op *op)
{
    const glia_bview *t = op->t;
    size_t R = op->p.ln.rows, C = op->p.ln.cols, chunk = (size_t)ceil(sqrt((double)R));
    if (chunk == 0)
        chunk = 1;
    size_t k = (R + chunk - 1) / chunk;
    glia_status s = glia_cl_check_u32((uint64_t)k * C, "layer norm partial sums");
    if (s == GLIA_STATUS_OK)
        s = glia_cl_scratch(ctx, &ctx->part, &ctx->part_bytes, 2 * k * C * sizeof(float), "layer norm");
    if (s == GLIA_STATUS_OK)
        s = GLIA_CL_LAUNCH(ctx, GLIA_CLK_LN_BWD_PARAM_PART, k * C, 0, GLIA_KA_VIEW(t[0]), GLIA_KA_VIEW(t[2]),
                           GLIA_KA_VIEW(t[3]), GLIA_KA_VIEW(t[4]), GLIA_KA_MEM(ctx->part), GLIA_KA_U32(R),
                           GLIA_KA_U32(C), GLIA_KA_U32(chunk), GLIA_KA_U32(k));
    if (s != GLIA_STATUS_OK)
        return s;
    /* a missing output gets dx's buffer in its place: never written */
    return GLIA_CL_LAUNCH(ctx, GLIA_CLK_LN_BWD_PARAM_FINAL, C, 0, GLIA_KA_MEM(ctx->part),
                          GLIA_KA_OPT(t[6], t[5]), GLIA_KA_OPT(t[7], t[5]), GLIA_KA_U32(C), GLIA_KA_U32(k),
                          GLIA_KA_I32(t[6].buf != NULL), GLIA_KA_I32(t[7].buf != NULL));
}

static glia_status ln_bwd(glia_bctx *ctx, const glia_op *op)
{
    const glia_bview *t = op->t;
    glia_status s = GLIA_STATUS_OK;
    if ((t[6].buf || t[7].buf) && (s = param_grads(ctx, op)) != GLIA_STATUS_OK)
        return s;
    size_t L;
    if ((s = row_group(ctx, GLIA_CLK_LN_BWD_DX, op->p.ln.cols, &L)) != GLIA_STATUS_OK)
        return s;
    return GLIA_CL_LAUNCH(ctx, GLIA_CLK_LN_BWD_DX, op->p.ln.rows * L, L, GLIA_KA_VIEW(t[0]),
                          GLIA_KA_OPT(t[1], t[0]), GLIA_KA_VIEW(t[2]), GLIA_KA_VIEW(t[3]),
                          GLIA_KA_VIEW(t[4]), GLIA_KA_VIEW(t[5]), GLIA_KA_U32(op->p.ln.cols),
                          GLIA_KA_I32(t[1].buf != NULL), GLIA_KA_LOCAL(L * sizeof(float)));
}

glia_status glia_cl_run_layernorm(glia_bctx *ctx, const glia_op *op)
{
    glia_status s = glia_cl_check_u32((uint64_t)op->p.ln.rows * op->p.ln.cols, "layer norm");
    if (s != GLIA_STATUS_OK || op->p.ln.rows == 0 || op->p.ln.cols == 0)
        return s;
    switch (op->kind) {
    case GLIA_OP_LN_FWD:
        return ln_fwd(ctx, op);
    case GLIA_OP_LN_BWD:
        return ln_bwd(ctx, op);
    default:
        return glia_cl_misrouted(op);
    }
}
