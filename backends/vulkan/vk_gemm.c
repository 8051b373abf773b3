/* Vulkan backend: GEMM and the convolutions (implicit GEMM, gemm.comp).
 *
 * The planner costs every tile of the tuning table the device can run (padded
 * work, micro-tile speed, how much of the device it fills) and takes the
 * cheapest. Where a tile leaves the device idle and K is long (convolution
 * weight gradients: K = n*spatial), K may be split into slices whose raw sums
 * go to a workspace that splitk.comp adds up in a fixed order. Backward data runs once per residue class of the
 * strides, so a strided (or transposed) convolution wastes no taps. */
#include <string.h>
#include "vk_internal.h"

typedef struct plan {
    const vkb_gemm_cfg *cfg;
    uint32_t nsplit, kchunk;     /* K slices summed by splitk.comp, and their length */
    uint32_t kpass;              /* K per sequential pass (passes accumulate into C) */
    int vec;                     /* vec4 loads of A and B in full tiles */
} plan;

static uint32_t cfg_wg(const vkb_gemm_cfg *c) { return (uint32_t)(c->bm / c->tm) * (uint32_t)(c->bn / c->tn); }

static int cfg_ok(const glia_bctx *ctx, const vkb_gemm_cfg *c)
{
    if (!c->bm || c->tm % 4 || c->tn % 4 || c->bm % c->tm || c->bn % c->tn)
        return 0;
    uint32_t wg = cfg_wg(c);
    const VkPhysicalDeviceLimits *l = &ctx->props.limits;
    if (wg > l->maxComputeWorkGroupInvocations || wg > l->maxComputeWorkGroupSize[0] || wg < c->bk ||
        (c->bm * c->bk) % wg || (c->bn * c->bk) % wg)
        return 0;
    /* the shared arrays of gemm.comp, convolution tables included */
    uint32_t shared = 2u * c->bk * (c->bm / 4u + 1u) * 16u + 2u * c->bk * (c->bn / 4u + 1u) * 16u +
                      2u * c->bk * 4u + 2u * c->bk * 16u + c->bn * 16u;
    return shared <= l->maxComputeSharedMemorySize;
}

int glia_vk_gemm_cfg_usable(const glia_bctx *ctx, const vkb_tuning *t)
{
    for (int i = 0; i < VKB_GEMM_CFGS; i++)
        if (cfg_ok(ctx, &t->gemm[i]))
            return 1;
    return 0;
}

static uint64_t tiles(const vkb_gemm_cfg *c, uint64_t m, uint64_t n)
{
    return ((m + c->bm - 1) / c->bm) * ((n + c->bn - 1) / c->bn);
}

/* Relative speed per padded FMA: the micro-tile's FMAs per shared-memory
 * load, scaled down for blocks too small to reuse their global loads. */
static double tile_speed(const vkb_gemm_cfg *c)
{
    double micro = (double)c->tm * c->tn / (c->tm + c->tn);
    double block = (double)c->bm * c->bn / (16.0 * (c->bm + c->bn));
    return micro * (block < 1 ? block : 1);
}

/* What moving one float through memory costs, in padded FMAs at tile_speed 1:
 * a GPU does some 80 flops per float of DRAM bandwidth, at speed ~4. */
#define SPLIT_FLOAT_COST 20.0

/* Slices of K that fill the device with work-groups of tile c. */
static uint32_t split_for(const glia_bctx *ctx, const vkb_gemm_cfg *c, uint64_t m, uint64_t n, uint64_t k,
                          uint64_t batch)
{
    uint64_t threads = tiles(c, m, n) * batch * cfg_wg(c), target = ctx->tune->target_threads;
    if (threads >= target || k < 8u * c->bk)
        return 1;
    uint64_t s = (target + threads - 1) / threads;
    uint64_t most = k / (4u * c->bk);   /* at least 4 steps per slice */
    if (s > most)
        s = most;
    if (s > 64)
        s = 64;
    while (s > 1 && batch * s * m * n * 4 > ctx->max_range)   /* the workspace holds every slice */
        s /= 2;
    return s < 1 ? 1 : (uint32_t)s;
}

static double plan_cost(const glia_bctx *ctx, const vkb_gemm_cfg *c, uint64_t m, uint64_t n, uint64_t k,
                        uint64_t batch, uint32_t s)
{
    double groups = (double)tiles(c, m, n) * (double)batch * s;
    double util = groups * cfg_wg(c) / ctx->tune->target_threads;
    double kp = (double)((k + c->bk - 1) / c->bk * c->bk);
    double work = (double)tiles(c, m, n) * batch * c->bm * c->bn * (kp > 0 ? kp : 1);
    double cost = work / (tile_speed(c) * (util < 1 ? util : 1));
    if (s > 1)
        cost += 2.0 * s * (double)m * (double)n * (double)batch * SPLIT_FLOAT_COST;
    return cost;
}

static glia_status make_plan(glia_bctx *ctx, uint64_t m, uint64_t n, uint64_t k, uint64_t batch,
                             int may_split, plan *p)
{
    p->cfg = NULL;
    p->vec = 0;
    double best = 0;
    for (int i = 0; i < VKB_GEMM_CFGS; i++) {
        const vkb_gemm_cfg *c = &ctx->tune->gemm[i];
        if (!cfg_ok(ctx, c))
            continue;
        uint32_t split = may_split ? split_for(ctx, c, m, n, k, batch) : 1;
        for (uint32_t s = 1;; s = split) {
            double cost = plan_cost(ctx, c, m, n, k, batch, s);
            if (!p->cfg || cost < best) {
                best = cost;
                p->cfg = c;
                p->nsplit = s;
            }
            if (s == split)
                break;
        }
    }
    if (!p->cfg)
        return glia_seterr(GLIA_STATUS_UNSUPPORTED, "vulkan: no GEMM tile of the tuning table fits %s "
                           "(shared memory %u bytes, %u invocations)", ctx->props.deviceName,
                           ctx->props.limits.maxComputeSharedMemorySize,
                           ctx->props.limits.maxComputeWorkGroupInvocations);
    /* a driver that caps loop iterations gets slices or passes short enough */
    const vkb_gemm_cfg *c = p->cfg;
    uint64_t steps = UINT64_MAX;
    if (ctx->tune->loop_limit) {
        uint32_t wg = cfg_wg(c), per = 2u * c->bk + (c->bm + c->bn) * c->bk / wg + 4u;
        steps = ctx->tune->loop_limit / per;
    }
    uint64_t kmax = steps == UINT64_MAX ? UINT64_MAX : steps * c->bk;
    if (p->nsplit > 1 && (k + p->nsplit - 1) / p->nsplit > kmax) {
        uint64_t s = (k + kmax - 1) / kmax;
        p->nsplit = s <= 64 && batch * s * m * n * 4 <= ctx->max_range ? (uint32_t)s : 1;
    }
    p->kchunk = (uint32_t)(k ? k : 1);
    p->kpass = (uint32_t)(k > kmax ? kmax : (k ? k : 1));
    if (p->nsplit > 1) {
        uint64_t chunk = (k + p->nsplit - 1) / p->nsplit;
        chunk = (chunk + c->bk - 1) / c->bk * c->bk;
        p->kchunk = (uint32_t)chunk;
        p->nsplit = (uint32_t)((k + chunk - 1) / chunk);
        p->kpass = (uint32_t)k;
    }
    return GLIA_STATUS_OK;
}

/* Enqueue the tiles of one gemm.comp launch; d has bindings and parameters. */
static glia_status launch(glia_bctx *ctx, vkb_dispatch *d, const plan *p, uint32_t mode, int ta, int tb,
                          uint64_t m, uint64_t n, uint64_t z)
{
    const vkb_gemm_cfg *c = p->cfg;
    d->shader = GLIA_VK_SHADER_GEMM;
    d->nspec = 11;
    uint32_t spec[11] = {cfg_wg(c), c->bm, c->bn, c->bk, c->tm, c->tn, mode, (uint32_t)ta, (uint32_t)tb,
                         p->nsplit > 1, (uint32_t)p->vec};
    memcpy(d->spec, spec, sizeof spec);
    d->nb = GM_NB;
    d->pc[GM_M] = (uint32_t)m;
    d->pc[GM_N] = (uint32_t)n;
    d->pc[GM_NSPLIT] = p->nsplit;
    uint64_t gx = (n + c->bn - 1) / c->bn, gy = (m + c->bm - 1) / c->bm, k = d->pc[GM_K];
    uint32_t beta = d->pc[GM_BETA];
    uint64_t kb = 0;
    do {
        /* later passes add to what the earlier ones wrote */
        d->pc[GM_KBASE] = (uint32_t)kb;
        uint64_t left = k > kb ? k - kb : 1;
        d->pc[GM_KCHUNK] = p->nsplit > 1 ? p->kchunk : (uint32_t)(left < p->kpass ? left : p->kpass);
        d->pc[GM_BETA] = kb ? vkb_f2u(1.0f) : beta;
        for (uint64_t zb = 0; zb < z; zb += ctx->max_groups[2])
            for (uint64_t yb = 0; yb < gy; yb += ctx->max_groups[1])
                for (uint64_t xb = 0; xb < gx; xb += ctx->max_groups[0]) {
                    d->pc[GM_XBASE] = (uint32_t)xb;
                    d->pc[GM_YBASE] = (uint32_t)yb;
                    d->pc[GM_ZBASE] = (uint32_t)zb;
                    d->groups[0] = (uint32_t)(gx - xb < ctx->max_groups[0] ? gx - xb : ctx->max_groups[0]);
                    d->groups[1] = (uint32_t)(gy - yb < ctx->max_groups[1] ? gy - yb : ctx->max_groups[1]);
                    d->groups[2] = (uint32_t)(z - zb < ctx->max_groups[2] ? z - zb : ctx->max_groups[2]);
                    glia_status s = glia_vk_dispatch(ctx, d);
                    if (s != GLIA_STATUS_OK)
                        return s;
                }
        kb += p->kpass;
    } while (kb < k);
    return GLIA_STATUS_OK;
}

/* C[b] = alpha * sum of the slices + beta * C[b] (splitk.comp). */
static glia_status finish_split(glia_bctx *ctx, glia_bbuf *ws, uint32_t nsplit, uint64_t m, uint64_t n,
                                uint64_t batch, glia_bview c, uint64_t ldc, uint64_t sc, size_t cneed,
                                float alpha, float beta)
{
    vkb_dispatch d;
    glia_vk_dispatch_1d(ctx, &d, GLIA_VK_SHADER_SPLITK, 0, m * n);
    d.nspec = 1;
    d.nb = SK_NB;
    d.v[0] = (glia_bview){ws, 0, GLIA_ETYPE_F32};
    d.need[0] = batch * nsplit * m * n;
    d.v[1] = c;
    d.need[1] = cneed;
    d.writes = 2;
    d.groups[1] = (uint32_t)(batch < ctx->max_groups[1] ? batch : ctx->max_groups[1]);
    d.pc[SK_M] = (uint32_t)m;
    d.pc[SK_N] = (uint32_t)n;
    d.pc[SK_S] = nsplit;
    d.pc[SK_LDC] = (uint32_t)ldc;
    d.pc[SK_SC] = (uint32_t)sc;
    d.pc[SK_ALPHA] = vkb_f2u(alpha);
    d.pc[SK_BETA] = vkb_f2u(beta);
    d.pc[SK_BATCH] = (uint32_t)batch;
    glia_vk_magic((uint32_t)n, &d.pc[SK_MAGIC], &d.pc[SK_MAGIC + 1]);
    return glia_vk_dispatch(ctx, &d);
}

/* Elements a row-major rows x cols operand with leading dimension ld spans, over batch items. */
static uint64_t span(uint64_t rows, uint64_t cols, uint64_t ld, uint64_t batch, uint64_t stride)
{
    if (rows == 0 || cols == 0 || batch == 0)
        return 0;
    return (batch - 1) * stride + (rows - 1) * ld + cols;
}

glia_status glia_vk_gemm_kernel(glia_bctx *ctx, const glia_gemm_desc *g, glia_bview a, glia_bview b, glia_bview c)
{
    uint64_t m = (uint64_t)g->m, n = (uint64_t)g->n, k = (uint64_t)g->k, batch = (uint64_t)g->batch;
    if (m == 0 || n == 0 || batch == 0)
        return GLIA_STATUS_OK;
    uint64_t na = g->trans_a ? span(k, m, g->lda, batch, g->stride_a) : span(m, k, g->lda, batch, g->stride_a);
    uint64_t nb = g->trans_b ? span(n, k, g->ldb, batch, g->stride_b) : span(k, n, g->ldb, batch, g->stride_b);
    uint64_t nc = span(m, n, g->ldc, batch, g->stride_c);
    glia_status s;
    if ((s = glia_vk_check_elems(na, "GEMM operand A")) != GLIA_STATUS_OK ||
        (s = glia_vk_check_elems(nb, "GEMM operand B")) != GLIA_STATUS_OK ||
        (s = glia_vk_check_elems(nc, "GEMM operand C")) != GLIA_STATUS_OK ||
        (s = glia_vk_check_elems(k, "GEMM depth")) != GLIA_STATUS_OK)
        return s;
    plan p;
    if ((s = make_plan(ctx, m, n, k, batch, 1, &p)) != GLIA_STATUS_OK)
        return s;
    /* vec4 loads need 16-byte aligned rows and a whole number of vec4s per invocation */
    const vkb_gemm_cfg *cf = p.cfg;
    uint32_t wg = cfg_wg(cf);
    p.vec = g->lda % 4 == 0 && g->ldb % 4 == 0 && a.off % 4 == 0 && b.off % 4 == 0 &&
            (batch == 1 || (g->stride_a % 4 == 0 && g->stride_b % 4 == 0)) &&
            cf->bk % 4 == 0 && (cf->bm * cf->bk / 4u) % wg == 0 && (cf->bn * cf->bk / 4u) % wg == 0;
    vkb_dispatch d;
    memset(&d, 0, sizeof d);
    d.v[0] = a;
    d.need[0] = na;
    d.v[1] = b;
    d.need[1] = nb;
    d.pc[GM_K] = (uint32_t)k;
    d.pc[GM_ALPHA] = vkb_f2u(g->alpha);
    d.pc[GM_BETA] = vkb_f2u(g->beta);
    d.pc[GM_LDA] = (uint32_t)g->lda;
    d.pc[GM_LDB] = (uint32_t)g->ldb;
    d.pc[GM_LDC] = (uint32_t)g->ldc;
    d.pc[GM_SA] = (uint32_t)g->stride_a;
    d.pc[GM_SB] = (uint32_t)g->stride_b;
    d.pc[GM_SC] = (uint32_t)g->stride_c;
    d.writes = 4;
    if (p.nsplit == 1) {
        d.v[2] = c;
        d.need[2] = nc;
        return launch(ctx, &d, &p, GM_PLAIN, g->trans_a, g->trans_b, m, n, batch);
    }
    glia_bbuf *ws;
    if ((s = glia_vk_scratch(ctx, batch * p.nsplit * m * n * 4, &ws)) != GLIA_STATUS_OK)
        return s;
    d.v[2] = (glia_bview){ws, 0, GLIA_ETYPE_F32};
    d.need[2] = batch * p.nsplit * m * n;
    if ((s = launch(ctx, &d, &p, GM_PLAIN, g->trans_a, g->trans_b, m, n, batch * p.nsplit)) != GLIA_STATUS_OK)
        return s;
    return finish_split(ctx, ws, p.nsplit, m, n, batch, c, (uint64_t)g->ldc, (uint64_t)g->stride_c, nc,
                        g->alpha, g->beta);
}

glia_status glia_vk_run_gemm(glia_bctx *ctx, const glia_op *op)
{
    return glia_vk_gemm_kernel(ctx, &op->p.gemm, op->t[0], op->t[1], op->t[2]);
}

/* ---- convolutions --------------------------------------------------------- */
static void conv_params(vkb_dispatch *d, const glia_conv_desc *cv)
{
    d->pc[CV_CIN] = (uint32_t)cv->cin;
    d->pc[CV_COUT] = (uint32_t)cv->cout;
    for (int i = 0; i < 3; i++) {
        d->pc[CV_IN + i] = (uint32_t)cv->in[i];
        d->pc[CV_OUT + i] = (uint32_t)cv->out[i];
        d->pc[CV_K + i] = (uint32_t)cv->k[i];
        d->pc[CV_S + i] = (uint32_t)(cv->stride[i] > 0 ? cv->stride[i] : 1);
        d->pc[CV_P + i] = (uint32_t)cv->pad[i];
    }
    d->pc[GM_ALPHA] = vkb_f2u(1.0f);
    d->pc[GM_BETA] = vkb_f2u(0.0f);
}

static glia_status conv_bwd_data(glia_bctx *ctx, const glia_op *op, vkb_dispatch *d)
{
    const glia_conv_desc *cv = &op->p.conv;
    int s3[3];
    for (int i = 0; i < 3; i++) {
        s3[i] = cv->stride[i] > 0 ? cv->stride[i] : 1;
        if (s3[i] > 1023)
            return glia_seterr(GLIA_STATUS_UNSUPPORTED, "vulkan: convolution stride %d above 1023", s3[i]);
    }
    for (int rd = 0; rd < s3[0]; rd++)
        for (int rh = 0; rh < s3[1]; rh++)
            for (int rw = 0; rw < s3[2]; rw++) {
                int r[3] = {rd, rh, rw};
                uint64_t nj = 1, taps = 1;
                for (int i = 0; i < 3; i++) {
                    int64_t pos = cv->in[i] > r[i] ? (cv->in[i] - r[i] + s3[i] - 1) / s3[i] : 0;
                    int k0 = (r[i] + cv->pad[i]) % s3[i];
                    int tap = cv->k[i] > k0 ? (cv->k[i] - k0 + s3[i] - 1) / s3[i] : 0;
                    nj *= (uint64_t)pos;
                    taps *= (uint64_t)tap;
                }
                if (nj == 0)
                    continue;
                uint64_t m = (uint64_t)cv->cin, n = (uint64_t)cv->n * nj, k = (uint64_t)cv->cout * taps;
                plan p;
                glia_status s = make_plan(ctx, m, n, k, 1, 0, &p);
                if (s != GLIA_STATUS_OK)
                    return s;
                d->pc[GM_K] = (uint32_t)k;
                d->pc[CV_CLS] = (uint32_t)rd | (uint32_t)rh << 10 | (uint32_t)rw << 20;
                if ((s = launch(ctx, d, &p, GM_CONV_BWD_DATA, 0, 0, m, n, 1)) != GLIA_STATUS_OK)
                    return s;
            }
    return GLIA_STATUS_OK;
}

glia_status glia_vk_run_conv(glia_bctx *ctx, const glia_op *op)
{
    const glia_conv_desc *cv = &op->p.conv;
    uint64_t is = (uint64_t)(cv->in[0] * cv->in[1] * cv->in[2]);
    uint64_t os = (uint64_t)(cv->out[0] * cv->out[1] * cv->out[2]);
    uint64_t ks = (uint64_t)cv->k[0] * (uint64_t)cv->k[1] * (uint64_t)cv->k[2];
    uint64_t nx = (uint64_t)cv->n * (uint64_t)cv->cin * is, ny = (uint64_t)cv->n * (uint64_t)cv->cout * os;
    uint64_t nw = (uint64_t)cv->cout * (uint64_t)cv->cin * ks;
    glia_status s;
    if ((s = glia_vk_check_elems(nx, "convolution input")) != GLIA_STATUS_OK ||
        (s = glia_vk_check_elems(ny, "convolution output")) != GLIA_STATUS_OK ||
        (s = glia_vk_check_elems(nw, "convolution weight")) != GLIA_STATUS_OK)
        return s;
    if (nx == 0 || ny == 0 || nw == 0)
        return GLIA_STATUS_OK;
    vkb_dispatch d;
    memset(&d, 0, sizeof d);
    conv_params(&d, cv);
    d.writes = 4;
    if (op->kind == GLIA_OP_CONV_FWD) {
        /* M = Cout, N = n*OS, K = Cin*KS */
        d.v[0] = op->t[1], d.need[0] = nw;
        d.v[1] = op->t[0], d.need[1] = nx;
        d.v[2] = op->t[2], d.need[2] = ny;
        uint64_t m = (uint64_t)cv->cout, n = (uint64_t)cv->n * os, k = (uint64_t)cv->cin * ks;
        plan p;
        if ((s = make_plan(ctx, m, n, k, 1, 0, &p)) != GLIA_STATUS_OK)
            return s;
        d.pc[GM_K] = (uint32_t)k;
        return launch(ctx, &d, &p, GM_CONV_FWD, 0, 0, m, n, 1);
    }
    if (op->kind == GLIA_OP_CONV_BWD_DATA) {
        /* t0 = dy, t1 = w, t2 = dx: M = Cin, N = n*|class|, K = Cout*taps */
        d.v[0] = op->t[1], d.need[0] = nw;
        d.v[1] = op->t[0], d.need[1] = ny;
        d.v[2] = op->t[2], d.need[2] = nx;
        return conv_bwd_data(ctx, op, &d);
    }
    /* weight gradient: t0 = x, t1 = dy, t2 = dw; M = Cout, N = Cin*KS, K = n*OS */
    d.v[0] = op->t[1], d.need[0] = ny;
    d.v[1] = op->t[0], d.need[1] = nx;
    uint64_t m = (uint64_t)cv->cout, n = (uint64_t)cv->cin * ks, k = (uint64_t)cv->n * os;
    plan p;
    if ((s = make_plan(ctx, m, n, k, 1, 1, &p)) != GLIA_STATUS_OK)
        return s;
    d.pc[GM_K] = (uint32_t)k;
    if (p.nsplit == 1) {
        d.v[2] = op->t[2], d.need[2] = nw;
        return launch(ctx, &d, &p, GM_CONV_BWD_WEIGHT, 0, 0, m, n, 1);
    }
    glia_bbuf *ws;
    if ((s = glia_vk_scratch(ctx, p.nsplit * m * n * 4, &ws)) != GLIA_STATUS_OK)
        return s;
    d.v[2] = (glia_bview){ws, 0, GLIA_ETYPE_F32};
    d.need[2] = p.nsplit * m * n;
    if ((s = launch(ctx, &d, &p, GM_CONV_BWD_WEIGHT, 0, 0, m, n, p.nsplit)) != GLIA_STATUS_OK)
        return s;
    return finish_split(ctx, ws, p.nsplit, m, n, 1, op->t[2], n, 0, nw, 1.0f, 0.0f);
}
