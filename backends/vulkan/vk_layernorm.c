/* Vulkan backend: layer normalisation over the last axis of x[R, C]
 * (spirv/layernorm.comp). The forward and dx run one work-group per row;
 * dgamma and dbeta are two passes over chunks of rows (partial sums in the
 * context's scratch buffer, then one ordered sum per column). */
#include <math.h>
#include <string.h>
#include "vk_internal.h"

/* The sizes of one LN op's dispatches. */
typedef struct ln_plan {
    size_t rows, cols;
    uint32_t groups[2];     /* row modes: R work-groups as x * y */
    size_t chunk, k;        /* parameter passes: rows per chunk, chunks */
} ln_plan;

static uint64_t grid_strides(const glia_bctx *ctx, uint64_t items)
{
    uint64_t grid = (uint64_t)vkb_groups(items, ctx->wg, ctx->max_groups[0]) * ctx->wg;
    return (items + grid - 1) / grid;
}

/* Plan op; UNSUPPORTED (with the message set) if a size or loop exceeds what
 * the shaders or the driver allow. */
static glia_status plan(const glia_bctx *ctx, const glia_op *op, ln_plan *p)
{
    memset(p, 0, sizeof *p);
    p->rows = op->p.ln.rows;
    p->cols = op->p.ln.cols;
    glia_status s = glia_vk_check_elems((uint64_t)p->rows * p->cols, "a layer norm");
    if (s != GLIA_STATUS_OK)
        return s;
    size_t gx = p->rows < ctx->max_groups[0] ? p->rows : ctx->max_groups[0];
    if (gx == 0)
        gx = 1;
    size_t gy = (p->rows + gx - 1) / gx;
    if (gy > ctx->max_groups[1])
        return glia_seterr(GLIA_STATUS_UNSUPPORTED, "vulkan: a layer norm of %zu rows exceeds %u x %u work-groups",
                           p->rows, ctx->max_groups[0], ctx->max_groups[1]);
    p->groups[0] = (uint32_t)gx;
    p->groups[1] = (uint32_t)(gy ? gy : 1);
    if ((s = glia_vk_check_loop(ctx, (p->cols + ctx->wg - 1) / ctx->wg, "a layer norm row")) != GLIA_STATUS_OK)
        return s;
    if (op->kind != GLIA_OP_LN_BWD || (!op->t[6].buf && !op->t[7].buf))
        return GLIA_STATUS_OK;
    /* about sqrt(R) rows per chunk and as many chunks: both passes' loops stay short */
    p->chunk = (size_t)ceil(sqrt((double)p->rows));
    if (p->chunk == 0)
        p->chunk = 1;
    p->k = (p->rows + p->chunk - 1) / p->chunk;
    if (p->k == 0)
        p->k = 1;
    if ((s = glia_vk_check_elems(2 * (uint64_t)p->k * p->cols, "a layer norm's partial sums")) != GLIA_STATUS_OK)
        return s;
    s = glia_vk_check_loop(ctx, grid_strides(ctx, (uint64_t)p->k * p->cols) * p->chunk,
                           "a layer norm's parameter gradient");
    if (s == GLIA_STATUS_OK)
        s = glia_vk_check_loop(ctx, grid_strides(ctx, p->cols) * p->k, "a layer norm's parameter gradient");
    return s;
}

int glia_vk_layernorm_supported(glia_bctx *ctx, const glia_op *op)
{
    ln_plan p;
    return plan(ctx, op, &p) == GLIA_STATUS_OK;
}

static void start(glia_bctx *ctx, vkb_dispatch *d, uint32_t mode, const glia_op *op)
{
    memset(d, 0, sizeof *d);
    d->shader = GLIA_VK_SHADER_LAYERNORM;
    d->nspec = 2;
    d->spec[0] = ctx->wg;
    d->spec[1] = mode;
    d->nb = LN_NB;
    d->pc[LN_ROWS] = (uint32_t)op->p.ln.rows;
    d->pc[LN_COLS] = (uint32_t)op->p.ln.cols;
    d->pc[LN_EPS] = vkb_f2u(op->p.ln.eps);
    d->groups[1] = d->groups[2] = 1;
}

/* One work-group per row. */
static glia_status rows(glia_bctx *ctx, const glia_op *op, const ln_plan *p)
{
    const glia_bview *t = op->t;
    size_t n = p->rows * p->cols, r = p->rows, c = p->cols;
    int fwd = op->kind == GLIA_OP_LN_FWD;
    vkb_dispatch d;
    start(ctx, &d, fwd ? LN_FWD : LN_BWD_DX, op);
    glia_vk_use(&d, 0, t[0], n, 0);
    glia_vk_use(&d, 1, t[1], c, 0);
    if (fwd) {
        glia_vk_use(&d, 2, t[2], c, 0);
        glia_vk_use(&d, 3, t[3], n, 1);
        glia_vk_use(&d, 4, t[4], r, 1);
        glia_vk_use(&d, 5, t[5], r, 1);
    } else {
        glia_vk_use(&d, 2, t[2], n, 0);
        glia_vk_use(&d, 3, t[3], r, 0);
        glia_vk_use(&d, 4, t[4], r, 0);
        glia_vk_use(&d, 5, t[5], n, 1);
    }
    d.pc[LN_FLAGS] = (t[1].buf ? LN_HAS_1 : 0u) | (fwd && t[2].buf ? LN_HAS_2 : 0u);
    d.groups[0] = p->groups[0];
    d.groups[1] = p->groups[1];
    return glia_vk_dispatch(ctx, &d);
}

static glia_status params(glia_bctx *ctx, const glia_op *op, const ln_plan *p)
{
    const glia_bview *t = op->t;
    size_t n = p->rows * p->cols, r = p->rows, c = p->cols, parts = 2 * p->k * c;
    glia_bbuf *part;
    glia_status s = glia_vk_scratch(ctx, parts * sizeof(float), &part);
    if (s != GLIA_STATUS_OK)
        return s;
    glia_bview pv = {part, 0, GLIA_ETYPE_F32};
    vkb_dispatch d;
    start(ctx, &d, LN_PARAM_PART, op);
    glia_vk_use(&d, 0, t[0], n, 0);
    glia_vk_use(&d, 2, t[2], n, 0);
    glia_vk_use(&d, 3, t[3], r, 0);
    glia_vk_use(&d, 4, t[4], r, 0);
    glia_vk_use(&d, 5, pv, parts, 1);
    d.pc[LN_CHUNK] = (uint32_t)p->chunk;
    d.pc[LN_K] = (uint32_t)p->k;
    d.groups[0] = vkb_groups(p->k * c, ctx->wg, ctx->max_groups[0]);
    if ((s = glia_vk_dispatch(ctx, &d)) != GLIA_STATUS_OK)
        return s;
    start(ctx, &d, LN_PARAM_FINAL, op);
    glia_vk_use(&d, 5, pv, parts, 0);
    glia_vk_use(&d, 6, t[6], c, 1);
    glia_vk_use(&d, 7, t[7], c, 1);
    d.pc[LN_FLAGS] = (t[6].buf ? LN_HAS_1 : 0u) | (t[7].buf ? LN_HAS_2 : 0u);
    d.pc[LN_K] = (uint32_t)p->k;
    d.groups[0] = vkb_groups(c, ctx->wg, ctx->max_groups[0]);
    return glia_vk_dispatch(ctx, &d);
}

glia_status glia_vk_run_layernorm(glia_bctx *ctx, const glia_op *op)
{
    ln_plan p;
    glia_status s = plan(ctx, op, &p);
    if (s != GLIA_STATUS_OK || p.rows == 0 || p.cols == 0)
        return s;
    switch (op->kind) {
    case GLIA_OP_LN_FWD:
        return rows(ctx, op, &p);
    case GLIA_OP_LN_BWD:
        if (p.k && (s = params(ctx, op, &p)) != GLIA_STATUS_OK)
            return s;
        return rows(ctx, op, &p);
    default:
        return glia_vk_misrouted(op);
    }
}
