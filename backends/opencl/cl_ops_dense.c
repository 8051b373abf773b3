/* GEMM through CLBlast, and convolution as vol2col + GEMM over chunks of
 * samples and output positions that fit the context's bounded workspace. */
#include <clblast_c.h>
#include "backends/opencl/cl_priv.h"

/* C[b] = alpha*op(A[b])*op(B[b]) + beta*C[b], row-major, offsets in elements. */
typedef struct gemm_call {
    int ta, tb;
    size_t m, n, k;
    cl_mem a, b, c;
    size_t ao, bo, co, lda, ldb, ldc, sa, sb, sc, batch;
    float alpha, beta;
} gemm_call;

static glia_status gemm(glia_bctx *ctx, const gemm_call *g)
{
    if (g->m == 0 || g->n == 0 || g->batch == 0)
        return GLIA_STATUS_OK;
    if (g->k == 0) {   /* CLBlast rejects k = 0; C = beta*C is what remains */
        glia_status s = glia_cl_check_u32((uint64_t)g->batch * g->m * g->n, "gemm");
        if (s != GLIA_STATUS_OK)
            return s;
        return GLIA_CL_LAUNCH(ctx, GLIA_CLK_SCALE2D, g->batch * g->m * g->n, 0,
                              GLIA_KA_MEM(g->c), GLIA_KA_U64(g->co), GLIA_KA_U32(g->batch),
                              GLIA_KA_U32(g->m), GLIA_KA_U32(g->n), GLIA_KA_U64(g->ldc),
                              GLIA_KA_U64(g->sc), GLIA_KA_F32(g->beta));
    }
    CLBlastTranspose ta = g->ta ? CLBlastTransposeYes : CLBlastTransposeNo;
    CLBlastTranspose tb = g->tb ? CLBlastTransposeYes : CLBlastTransposeNo;
    CLBlastStatusCode e;
    if (g->batch == 1) {
        e = CLBlastSgemm(CLBlastLayoutRowMajor, ta, tb, g->m, g->n, g->k, g->alpha, g->a, g->ao,
                         g->lda, g->b, g->bo, g->ldb, g->beta, g->c, g->co, g->ldc, &ctx->q,
                         NULL);
        return e == CLBlastSuccess ? GLIA_STATUS_OK : glia_clblast_fail(e, "CLBlastSgemm");
    }
    e = CLBlastSgemmStridedBatched(CLBlastLayoutRowMajor, ta, tb, g->m, g->n, g->k, g->alpha,
                                   g->a, g->ao, g->lda, g->sa, g->b, g->bo, g->ldb, g->sb,
                                   g->beta, g->c, g->co, g->ldc, g->sc, g->batch, &ctx->q, NULL);
    return e == CLBlastSuccess ? GLIA_STATUS_OK
                               : glia_clblast_fail(e, "CLBlastSgemmStridedBatched");
}

static glia_status op_gemm(glia_bctx *ctx, const glia_op *op)
{
    const glia_gemm_desc *d = &op->p.gemm;
    gemm_call g = {
        .ta = d->trans_a, .tb = d->trans_b,
        .m = (size_t)d->m, .n = (size_t)d->n, .k = (size_t)d->k,
        .a = op->t[0].buf->mem, .b = op->t[1].buf->mem, .c = op->t[2].buf->mem,
        .ao = op->t[0].off, .bo = op->t[1].off, .co = op->t[2].off,
        .lda = (size_t)d->lda, .ldb = (size_t)d->ldb, .ldc = (size_t)d->ldc,
        .sa = (size_t)d->stride_a, .sb = (size_t)d->stride_b, .sc = (size_t)d->stride_c,
        .batch = (size_t)d->batch, .alpha = d->alpha, .beta = d->beta,
    };
    return gemm(ctx, &g);
}

/* ---- convolution ----------------------------------------------------------- */

typedef struct conv_geom {
    const glia_conv_desc *d;
    size_t kvol, K, P, in_sz, co;  /* K = Ci*kvol rows of a column, P = output positions */
} conv_geom;

/* A chunk: samples [n0, n0+nb), output positions [p0, p0+pc). */
typedef struct chunk {
    size_t n0, nb, p0, pc;
} chunk;

#define CONV_GEOM_ARGS(d)                                                                     \
    GLIA_KA_I32((d)->k[0]), GLIA_KA_I32((d)->k[1]), GLIA_KA_I32((d)->k[2]),                 \
        GLIA_KA_I32((d)->stride[0]), GLIA_KA_I32((d)->stride[1]), GLIA_KA_I32((d)->stride[2]), \
        GLIA_KA_I32((d)->pad[0]), GLIA_KA_I32((d)->pad[1]), GLIA_KA_I32((d)->pad[2])

static glia_status vol2col(glia_bctx *ctx, const conv_geom *g, glia_bview x, const chunk *c)
{
    const glia_conv_desc *d = g->d;
    return GLIA_CL_LAUNCH(ctx, GLIA_CLK_VOL2COL, d->cin * c->nb * c->pc, 0,
                          GLIA_KA_MEM(x.buf->mem), GLIA_KA_U64(x.off + c->n0 * g->in_sz),
                          GLIA_KA_MEM(ctx->ws), GLIA_KA_U64(0), GLIA_KA_U32(d->cin),
                          GLIA_KA_U32(d->in[0]), GLIA_KA_U32(d->in[1]), GLIA_KA_U32(d->in[2]),
                          GLIA_KA_U32(d->out[1]), GLIA_KA_U32(d->out[2]), CONV_GEOM_ARGS(d),
                          GLIA_KA_U32(c->nb), GLIA_KA_U32(c->p0), GLIA_KA_U32(c->pc));
}

/* The flat input range [j0, j0+jn) of each plane that positions [p0, p0+pc)
 * read from: whole rows between the first and last output row's windows. */
static void input_span(const conv_geom *g, const chunk *c, size_t *j0, size_t *jn)
{
    const glia_conv_desc *d = g->d;
    int64_t oplane = d->out[1] * d->out[2];
    int64_t pa = (int64_t)c->p0, pb = (int64_t)(c->p0 + c->pc - 1);
    int64_t oda = pa / oplane, odb = pb / oplane;
    int64_t dlo = oda * d->stride[0] - d->pad[0], dhi = odb * d->stride[0] - d->pad[0] + d->k[0] - 1;
    int64_t hlo = 0, hhi = d->in[1] - 1;
    if (oda == odb) {
        hlo = (pa / d->out[2]) % d->out[1] * d->stride[1] - d->pad[1];
        hhi = (pb / d->out[2]) % d->out[1] * d->stride[1] - d->pad[1] + d->k[1] - 1;
    }
    dlo = dlo < 0 ? 0 : dlo;
    hlo = hlo < 0 ? 0 : hlo;
    dhi = dhi >= d->in[0] ? d->in[0] - 1 : dhi;
    hhi = hhi >= d->in[1] ? d->in[1] - 1 : hhi;
    if (dlo > dhi || hlo > hhi) {   /* the chunk only sees padding */
        *j0 = *jn = 0;
        return;
    }
    *j0 = (size_t)((dlo * d->in[1] + hlo) * d->in[2]);
    *jn = (size_t)((dhi * d->in[1] + hhi + 1) * d->in[2]) - *j0;
}

static glia_status col2vol(glia_bctx *ctx, const conv_geom *g, glia_bview dx, const chunk *c,
                           int accumulate)
{
    const glia_conv_desc *d = g->d;
    size_t j0 = 0, jn = g->in_sz / d->cin;
    if (accumulate)
        input_span(g, c, &j0, &jn);
    return GLIA_CL_LAUNCH(ctx, GLIA_CLK_COL2VOL, d->cin * c->nb * jn, 0, GLIA_KA_MEM(ctx->ws),
                          GLIA_KA_U64(0), GLIA_KA_MEM(dx.buf->mem),
                          GLIA_KA_U64(dx.off + c->n0 * g->in_sz), GLIA_KA_U32(d->cin),
                          GLIA_KA_U32(d->in[0]), GLIA_KA_U32(d->in[1]), GLIA_KA_U32(d->in[2]),
                          GLIA_KA_U32(d->out[0]), GLIA_KA_U32(d->out[1]), GLIA_KA_U32(d->out[2]),
                          CONV_GEOM_ARGS(d), GLIA_KA_U32(c->nb), GLIA_KA_U32(c->p0),
                          GLIA_KA_U32(c->pc), GLIA_KA_U32(j0), GLIA_KA_U32(jn),
                          GLIA_KA_I32(accumulate));
}

/* Samples and positions per chunk for `per_col` workspace floats per column
 * (one sample, one position), at most max_nb samples; grows ctx->ws to fit. */
static glia_status plan(glia_bctx *ctx, const conv_geom *g, size_t per_col, size_t max_nb,
                        size_t *nb, size_t *pc)
{
    size_t cap = glia_cl_workspace_bound(ctx) / sizeof(float);
    if (per_col > cap)
        return glia_seterr(GLIA_STATUS_UNSUPPORTED,
                           "opencl conv: one column of %zu floats exceeds the workspace bound "
                           "(%zu floats)", per_col, cap);
    if (per_col * g->P <= cap) {
        *pc = g->P;
        *nb = cap / (per_col * g->P);
        *nb = *nb > max_nb ? max_nb : *nb;
    } else {
        *nb = 1;
        *pc = cap / per_col;
    }
    glia_status s = glia_cl_check_u32((uint64_t)per_col * *nb * *pc, "conv workspace");
    if (s == GLIA_STATUS_OK)   /* input planes are indexed in 32 bits too */
        s = glia_cl_check_u32((uint64_t)g->in_sz * *nb, "conv input");
    if (s != GLIA_STATUS_OK)
        return s;
    return glia_cl_scratch(ctx, &ctx->ws, &ctx->ws_bytes, per_col * *nb * *pc * sizeof(float),
                           "convolution");
}

/* Advance c (zero-initialised before the first call) to the next chunk, in
 * sample-major order; 0 when past the last. */
static int chunk_next(const conv_geom *g, size_t nb, size_t pc, chunk *c)
{
    size_t n = (size_t)g->d->n;
    if (c->nb == 0) {
        c->n0 = c->p0 = 0;
    } else if (c->p0 + c->pc < g->P) {
        c->p0 += c->pc;
    } else {
        c->n0 += c->nb;
        c->p0 = 0;
    }
    if (c->n0 >= n)
        return 0;
    c->nb = n - c->n0 < nb ? n - c->n0 : nb;
    c->pc = g->P - c->p0 < pc ? g->P - c->p0 : pc;
    return 1;
}

/* y[n] = w * col(x[n]) */
static glia_status conv_fwd(glia_bctx *ctx, const conv_geom *g, const glia_op *op)
{
    size_t nb, pc;
    glia_status s = plan(ctx, g, g->K, (size_t)g->d->n, &nb, &pc);
    for (chunk c = {0, 0, 0, 0}; s == GLIA_STATUS_OK && chunk_next(g, nb, pc, &c);) {
        gemm_call gc = {
            .m = g->co, .n = c.pc, .k = g->K,
            .a = op->t[1].buf->mem, .ao = op->t[1].off, .lda = g->K, .sa = 0,
            .b = ctx->ws, .bo = 0, .ldb = c.nb * c.pc, .sb = c.pc,
            .c = op->t[2].buf->mem, .co = op->t[2].off + c.n0 * g->co * g->P + c.p0,
            .ldc = g->P, .sc = g->co * g->P,
            .batch = c.nb, .alpha = 1.0f, .beta = 0.0f,
        };
        s = vol2col(ctx, g, op->t[0], &c);
        if (s == GLIA_STATUS_OK)
            s = gemm(ctx, &gc);
    }
    return s;
}

/* dx[n] = col^-1(w^T * dy[n]); chunks of positions accumulate into a zeroed dx */
static glia_status conv_bwd_data(glia_bctx *ctx, const conv_geom *g, const glia_op *op)
{
    size_t nb, pc;
    glia_status s = plan(ctx, g, g->K, (size_t)g->d->n, &nb, &pc);
    int accumulate = pc < g->P;
    if (s == GLIA_STATUS_OK && accumulate) {
        size_t n = (size_t)g->d->n * g->in_sz;
        s = GLIA_CL_LAUNCH(ctx, GLIA_CLK_FILL, n, 0, GLIA_KA_VIEW(op->t[2]), GLIA_KA_U64(n),
                           GLIA_KA_F32(0.0f), GLIA_KA_VIEW(op->t[2]), GLIA_KA_I32(0));
    }
    for (chunk c = {0, 0, 0, 0}; s == GLIA_STATUS_OK && chunk_next(g, nb, pc, &c);) {
        gemm_call gc = {
            .ta = 1, .m = g->K, .n = c.pc, .k = g->co,
            .a = op->t[1].buf->mem, .ao = op->t[1].off, .lda = g->K, .sa = 0,
            .b = op->t[0].buf->mem, .bo = op->t[0].off + c.n0 * g->co * g->P + c.p0,
            .ldb = g->P, .sb = g->co * g->P,
            .c = ctx->ws, .co = 0, .ldc = c.nb * c.pc, .sc = c.pc,
            .batch = c.nb, .alpha = 1.0f, .beta = 0.0f,
        };
        s = gemm(ctx, &gc);
        if (s == GLIA_STATUS_OK)
            s = col2vol(ctx, g, op->t[2], &c, accumulate);
    }
    return s;
}

/* Copy dy of the chunk's samples into the workspace as [Co][nb*P], next to
 * the columns, so that one GEMM with k = nb*P sums over the samples. */
static glia_status gather_dy(glia_bctx *ctx, const conv_geom *g, glia_bview dy, const chunk *c,
                             size_t at)
{
    glia_status s = GLIA_STATUS_OK;
    for (size_t b = 0; b < c->nb && s == GLIA_STATUS_OK; b++)
        s = GLIA_CL_LAUNCH(ctx, GLIA_CLK_COPY2D, g->co * g->P, 0, GLIA_KA_MEM(dy.buf->mem),
                           GLIA_KA_U64(dy.off + (c->n0 + b) * g->co * g->P),
                           GLIA_KA_MEM(ctx->ws), GLIA_KA_U64(at + b * g->P), GLIA_KA_U32(g->co),
                           GLIA_KA_U32(g->P), GLIA_KA_U64(g->P), GLIA_KA_U64(c->nb * g->P),
                           GLIA_KA_F32(0.0f));
    return s;
}

/* dw = sum_n dy[n] * col(x[n])^T, accumulated over chunks */
static glia_status conv_bwd_weight(glia_bctx *ctx, const conv_geom *g, const glia_op *op)
{
    size_t nb, pc;
    /* several samples per GEMM pays where P is small (deep layers) */
    size_t cap = glia_cl_workspace_bound(ctx) / sizeof(float);
    int gather = g->d->n > 1 && (g->K + g->co) * g->P * 2 <= cap;
    glia_status s = gather ? plan(ctx, g, g->K + g->co, (size_t)g->d->n, &nb, &pc)
                           : plan(ctx, g, g->K, 1, &nb, &pc);
    for (chunk c = {0, 0, 0, 0}; s == GLIA_STATUS_OK && chunk_next(g, nb, pc, &c);) {
        size_t ld = c.nb * c.pc;
        gemm_call gc = {
            .tb = 1, .m = g->co, .n = g->K, .k = ld,
            .a = op->t[1].buf->mem, .ao = op->t[1].off + c.n0 * g->co * g->P + c.p0,
            .lda = g->P,
            .b = ctx->ws, .bo = 0, .ldb = ld,
            .c = op->t[2].buf->mem, .co = op->t[2].off, .ldc = g->K,
            .batch = 1, .alpha = 1.0f, .beta = c.n0 == 0 && c.p0 == 0 ? 0.0f : 1.0f,
        };
        s = vol2col(ctx, g, op->t[0], &c);
        if (s == GLIA_STATUS_OK && c.nb > 1) {
            gc.a = ctx->ws;
            gc.ao = g->K * ld;
            gc.lda = ld;
            s = gather_dy(ctx, g, op->t[1], &c, gc.ao);
        }
        if (s == GLIA_STATUS_OK)
            s = gemm(ctx, &gc);
    }
    return s;
}

static glia_status op_conv(glia_bctx *ctx, const glia_op *op)
{
    const glia_conv_desc *d = &op->p.conv;
    conv_geom g = {.d = d};
    g.kvol = (size_t)d->k[0] * d->k[1] * d->k[2];
    g.K = (size_t)d->cin * g.kvol;
    g.P = (size_t)(d->out[0] * d->out[1] * d->out[2]);
    g.in_sz = (size_t)(d->cin * d->in[0] * d->in[1] * d->in[2]);
    g.co = (size_t)d->cout;
    if (d->n == 0 || g.co == 0 || g.P == 0)
        return GLIA_STATUS_OK;
    glia_status s = glia_cl_check_u32((uint64_t)g.co * g.P, "conv output");
    if (s != GLIA_STATUS_OK)
        return s;
    switch (op->kind) {
    case GLIA_OP_CONV_FWD:
        return conv_fwd(ctx, &g, op);
    case GLIA_OP_CONV_BWD_DATA:
        return conv_bwd_data(ctx, &g, op);
    case GLIA_OP_CONV_BWD_WEIGHT:
        return conv_bwd_weight(ctx, &g, op);
    default:
        return glia_cl_misrouted(op);
    }
}

glia_status glia_cl_run_dense(glia_bctx *ctx, const glia_op *op)
{
    return op->kind == GLIA_OP_GEMM ? op_gemm(ctx, op) : op_conv(ctx, op);
}
