/* Vulkan backend: per-channel reductions (REDUCE, Dice sums) and batch norm,
 * all through reduce.comp. A channel's A*C elements are split into G chunks
 * so that B*G work-groups keep the device busy; with G > 1 a second pass sums
 * the chunk results in a fixed order, so results never depend on timing.
 * Many short channels (a broadcast bias's gradient) take one invocation each
 * instead: a work-group per channel of eight elements would leave almost
 * every invocation idle, and lavapipe pays for each of 10^5..10^6 groups. */
#include <string.h>
#include "vk_internal.h"

/* Operands of one reduction: inputs 0,1, per-channel parameters 2,3, outputs 5,6,7
 * (4 is the partial-sum workspace, bound here). */
typedef struct red_args {
    uint32_t mode;
    size_t a, b, c;
    glia_bview v[8];
    size_t need[8];
    unsigned writes;
    float alpha, beta, eps, mom;
    uint32_t flags;
} red_args;

static uint32_t nsums(uint32_t mode) { return mode == RD_DICE ? 3 : mode == RD_BN_BWD ? 2 : 1; }

static glia_status pass(glia_bctx *ctx, const red_args *r, uint32_t which, uint32_t g, uint32_t chunk,
                        glia_bbuf *part)
{
    vkb_dispatch d;
    memset(&d, 0, sizeof d);
    d.shader = GLIA_VK_SHADER_REDUCE;
    d.nspec = 3;
    d.spec[0] = ctx->wg;
    d.spec[1] = r->mode;
    d.spec[2] = which;
    d.nb = RD_NB;
    for (int i = 0; i < 8; i++) {
        d.v[i] = r->v[i];
        d.need[i] = r->v[i].buf ? r->need[i] : 0;
    }
    d.writes = r->writes;
    if (part) {
        d.v[4] = (glia_bview){part, 0, GLIA_ETYPE_F32};
        d.need[4] = r->b * g * nsums(r->mode);
        if (which == RD_PASS_PARTIAL)
            d.writes |= 1u << 4;
    }
    if (which == RD_PASS_PARTIAL)
        d.writes &= 1u << 4;   /* the first pass writes only the partial sums */
    d.pc[RD_A] = (uint32_t)r->a;
    d.pc[RD_B] = (uint32_t)r->b;
    d.pc[RD_C] = (uint32_t)r->c;
    d.pc[RD_G] = g;
    d.pc[RD_CHUNK] = chunk;
    glia_vk_magic((uint32_t)r->c, &d.pc[RD_MAGIC], &d.pc[RD_MAGIC + 1]);
    d.pc[RD_ALPHA] = vkb_f2u(r->alpha);
    d.pc[RD_BETA] = vkb_f2u(r->beta);
    d.pc[RD_EPS] = vkb_f2u(r->eps);
    d.pc[RD_MOM] = vkb_f2u(r->mom);
    d.pc[RD_FLAGS] = r->flags;
    if (which == RD_PASS_COLUMNS) {
        /* channels beyond 65535 work-groups' worth go in further dispatches */
        size_t per_dispatch = (size_t)ctx->max_groups[0] * ctx->wg;
        for (size_t y = 0; y < r->b; y += per_dispatch) {
            size_t n = r->b - y < per_dispatch ? r->b - y : per_dispatch;
            d.pc[RD_YBASE] = (uint32_t)y;
            d.groups[0] = (uint32_t)((n + ctx->wg - 1) / ctx->wg);
            d.groups[1] = d.groups[2] = 1;
            glia_status s = glia_vk_dispatch(ctx, &d);
            if (s != GLIA_STATUS_OK)
                return s;
        }
        return GLIA_STATUS_OK;
    }
    /* channels beyond the 65535 work-group rows go in further dispatches */
    for (size_t y = 0; y < r->b; y += ctx->max_groups[1]) {
        size_t rows = r->b - y < ctx->max_groups[1] ? r->b - y : ctx->max_groups[1];
        d.pc[RD_YBASE] = (uint32_t)y;
        d.groups[0] = which == RD_PASS_PARTIAL ? g : 1;
        d.groups[1] = (uint32_t)rows;
        d.groups[2] = 1;
        glia_status s = glia_vk_dispatch(ctx, &d);
        if (s != GLIA_STATUS_OK)
            return s;
    }
    return GLIA_STATUS_OK;
}

/* The longest channel the columns pass sums in one invocation. */
#define COLUMN_MAX 4096

static glia_status reduce(glia_bctx *ctx, const red_args *r)
{
    size_t per = r->a * r->c;
    glia_status s = glia_vk_check_elems(r->a * r->b * r->c, "a reduction");
    if (s != GLIA_STATUS_OK || r->b == 0)
        return s;
    /* channels enough to keep the device busy, each short: one invocation per channel */
    size_t loop_cap = ctx->tune->loop_limit ? ctx->tune->loop_limit / 4 : COLUMN_MAX;
    if (r->b >= ctx->tune->target_threads && per <= COLUMN_MAX && per <= loop_cap)
        return pass(ctx, r, RD_PASS_COLUMNS, 1, (uint32_t)(per ? per : 1), NULL);
    /* enough chunks to fill the device, none shorter than 8 elements per invocation */
    size_t groups = 2 * (size_t)ctx->tune->target_threads / ctx->wg;
    size_t want = (groups + r->b - 1) / r->b;
    size_t most = (per + 8 * (size_t)ctx->wg - 1) / (8 * (size_t)ctx->wg);
    size_t g = want < most ? want : most;
    if (g > 1024)
        g = 1024;
    if (ctx->tune->loop_limit) {
        /* keep each invocation's loop well inside the driver's iteration cap */
        size_t per_loop = (size_t)ctx->wg * (ctx->tune->loop_limit / 4);
        size_t least = (per + per_loop - 1) / per_loop;
        if (g < least)
            g = least;
    }
    if (g < 1)
        g = 1;
    size_t chunk = (per + g - 1) / g;
    if (chunk == 0)
        chunk = 1;
    g = (per + chunk - 1) / chunk;
    if (g <= 1)
        return pass(ctx, r, RD_PASS_DIRECT, 1, (uint32_t)(per ? per : 1), NULL);
    glia_bbuf *part;
    s = glia_vk_scratch(ctx, r->b * g * nsums(r->mode) * sizeof(float), &part);
    if (s == GLIA_STATUS_OK)
        s = pass(ctx, r, RD_PASS_PARTIAL, (uint32_t)g, (uint32_t)chunk, part);
    if (s == GLIA_STATUS_OK)
        s = pass(ctx, r, RD_PASS_FINAL, (uint32_t)g, (uint32_t)chunk, part);
    return s;
}

static void arg(red_args *r, int slot, glia_bview v, size_t need, int write)
{
    r->v[slot] = v;
    r->need[slot] = need;
    if (write)
        r->writes |= 1u << slot;
}

static glia_status bn_apply(glia_bctx *ctx, const glia_op *op, uint32_t mode)
{
    size_t n = op->p.bn.n, c = op->p.bn.c, sp = op->p.bn.s, all = n * c * sp;
    vkb_dispatch d;
    glia_vk_chanwise(ctx, &d, mode, n, c, sp);
    for (int i = 0; i < 8; i++) {
        d.v[i] = op->t[i];
        d.need[i] = op->t[i].buf ? c : 0;
    }
    int out = mode == CW_BN_BWD ? 5 : 3;
    d.need[0] = all;
    d.need[out] = all;
    d.writes = 1u << out;
    if (mode == CW_BN_BWD) {
        d.need[2] = all;
    } else {
        /* slots the mode does not read stay unbound */
        int unused[2] = {mode == CW_BN_TRAIN ? 6 : 4, mode == CW_BN_TRAIN ? 7 : 5};
        for (int i = 0; i < 2; i++) {
            d.v[unused[i]] = (glia_bview){NULL, 0, GLIA_ETYPE_F32};
            d.need[unused[i]] = 0;
        }
    }
    d.pc[CW_EPS] = vkb_f2u(op->p.bn.eps);
    d.pc[CW_COUNT] = vkb_f2u((float)(n * sp));
    return glia_vk_dispatch(ctx, &d);
}

glia_status glia_vk_run_reduce(glia_bctx *ctx, const glia_op *op)
{
    red_args r;
    memset(&r, 0, sizeof r);
    const glia_bview *t = op->t;
    glia_status s;
    switch (op->kind) {
    case GLIA_OP_REDUCE:
        r.mode = RD_SUM;
        r.a = op->p.bcast.a, r.b = op->p.bcast.b, r.c = op->p.bcast.c;
        r.alpha = op->p.bcast.alpha, r.beta = op->p.bcast.beta;
        arg(&r, 0, t[0], r.a * r.b * r.c, 0);
        arg(&r, 5, t[1], r.b, 1);
        return reduce(ctx, &r);
    case GLIA_OP_DICE_SUMS:
        r.mode = RD_DICE;
        r.a = op->p.dice.a, r.b = op->p.dice.b, r.c = op->p.dice.c;
        arg(&r, 0, t[0], r.a * r.b * r.c, 0);
        arg(&r, 1, t[1], r.a * r.b * r.c, 0);
        arg(&r, 5, t[2], 3 * r.b, 1);
        return reduce(ctx, &r);
    case GLIA_OP_BN_FWD_INFER: {
        size_t all = op->p.bn.n * op->p.bn.c * op->p.bn.s;
        if ((s = glia_vk_check_elems(all, "a batch norm")) != GLIA_STATUS_OK || all == 0)
            return s;
        return bn_apply(ctx, op, CW_BN_INFER);
    }
    default:
        break;
    }
    /* batch norm, training forward or backward: x[N,C,S] */
    r.a = op->p.bn.n, r.b = op->p.bn.c, r.c = op->p.bn.s;
    size_t all = r.a * r.b * r.c;
    if (all == 0)
        return GLIA_STATUS_OK;
    r.eps = op->p.bn.eps;
    r.mom = op->p.bn.momentum;
    arg(&r, 0, t[0], all, 0);
    if (op->kind == GLIA_OP_BN_FWD_TRAIN) {
        r.mode = RD_BN_MEAN;
        arg(&r, 5, t[4], r.b, 1);
        if ((s = reduce(ctx, &r)) != GLIA_STATUS_OK)
            return s;
        memset(&r.v[5], 0, sizeof r.v[5]);
        r.writes = 0;
        r.mode = RD_BN_VAR;
        arg(&r, 2, t[4], r.b, 0);
        arg(&r, 5, t[5], r.b, 1);
        if (t[6].buf && t[7].buf) {
            r.flags = 1;
            arg(&r, 6, t[6], r.b, 1);
            arg(&r, 7, t[7], r.b, 1);
        }
        if ((s = reduce(ctx, &r)) != GLIA_STATUS_OK)
            return s;
        return bn_apply(ctx, op, CW_BN_TRAIN);
    }
    r.mode = RD_BN_BWD;
    arg(&r, 1, t[2], all, 0);
    arg(&r, 2, t[3], r.b, 0);
    arg(&r, 3, t[4], r.b, 0);
    arg(&r, 5, t[6], r.b, 1);
    arg(&r, 6, t[7], r.b, 1);
    if ((s = reduce(ctx, &r)) != GLIA_STATUS_OK)
        return s;
    return bn_apply(ctx, op, CW_BN_BWD);
}
