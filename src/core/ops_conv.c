/* Convolution, transposed convolution and matrix product, with backward.
 * A transposed convolution is the convolution primitive with roles swapped:
 * its forward is the convolution's backward-data and vice versa. */
#include <string.h>
#include "core.h"

static glia_status run_conv(glia_op_kind kind, const glia_conv_desc *d, glia_tensor *a, glia_tensor *b,
                            glia_tensor *y)
{
    glia_op op = {.kind = kind, .t = {glia_view(a), glia_view(b), glia_view(y)}};
    op.p.conv = *d;
    return glia_run(y->dev, &op);
}

/* The [N, C, S] view of an activation for per-channel bias ops:
 * BROADCAST adds bias[c] into y, REDUCE sums y over N and S into bias[c]. */
static glia_status bias_op(glia_op_kind kind, glia_tensor *bias, glia_tensor *y)
{
    glia_op op = {.kind = kind};
    op.t[kind == GLIA_OP_BROADCAST ? 0 : 1] = glia_view(bias);
    op.t[kind == GLIA_OP_BROADCAST ? 1 : 0] = glia_view(y);
    op.p.bcast.a = (size_t)y->shape[0];
    op.p.bcast.b = (size_t)y->shape[1];
    op.p.bcast.c = (size_t)(y->numel / (y->shape[0] * y->shape[1]));
    op.p.bcast.alpha = 1.0f;
    op.p.bcast.beta = kind == GLIA_OP_BROADCAST ? 1.0f : 0.0f;
    return glia_run(y->dev, &op);
}

/* Per-channel sum of g[N, C, S] into the bias gradient. */
static glia_status bias_grad(glia_tensor *g, glia_tensor *bias)
{
    if (!bias || !bias->requires_grad)
        return GLIA_STATUS_OK;
    glia_tensor *db = NULL;
    glia_status s = glia_tensor_empty_like(bias, &db);
    if (s == GLIA_STATUS_OK && (s = bias_op(GLIA_OP_REDUCE, db, g)) == GLIA_STATUS_OK)
        s = glia_grad_accum(bias, db);
    glia_tensor_free(db);
    return s;
}

/* in[0] = x, in[1] = w, in[2] = bias; p.conv is the primitive's descriptor.
 * `transposed` nodes use the primitive with input and output swapped. */
static glia_status conv_backward_common(glia_node *nd, glia_tensor *g, int transposed)
{
    glia_tensor *x = nd->in[0], *w = nd->in[1], *gx = NULL, *gw = NULL;
    glia_status s = GLIA_STATUS_OK;
    /* the weight gradient first: it is the last reader of x, whose memory the
     * input gradient (x's size) can then take over */
    if (w->requires_grad && (s = glia_tensor_empty_like(w, &gw)) == GLIA_STATUS_OK &&
        (s = run_conv(GLIA_OP_CONV_BWD_WEIGHT, &nd->p.conv, transposed ? g : x, transposed ? x : g, gw)) ==
            GLIA_STATUS_OK)
        s = glia_grad_accum(w, gw);
    if (s == GLIA_STATUS_OK)
        glia_tape_done_reading(nd, 1u);
    if (s == GLIA_STATUS_OK && x->requires_grad && (s = glia_tensor_empty_like(x, &gx)) == GLIA_STATUS_OK &&
        (s = run_conv(transposed ? GLIA_OP_CONV_FWD : GLIA_OP_CONV_BWD_DATA, &nd->p.conv, g, w, gx)) ==
            GLIA_STATUS_OK)
        s = glia_grad_accum(x, gx);
    if (s == GLIA_STATUS_OK)
        s = bias_grad(g, nd->in[2]);
    glia_tensor_free(gx);
    glia_tensor_free(gw);
    return s;
}

static glia_status conv_backward(glia_node *nd, glia_tensor *g) { return conv_backward_common(nd, g, 0); }
static glia_status convt_backward(glia_node *nd, glia_tensor *g) { return conv_backward_common(nd, g, 1); }

static glia_status conv_impl(glia_tensor *x, glia_tensor *w, glia_tensor *b, const glia_conv_params *prm,
                             int transposed, glia_tensor **out)
{
    const char *name = transposed ? "glia_conv_transpose" : "glia_conv";
    glia_status s;
    if (!out)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "%s: out is NULL", name);
    *out = NULL;
    if ((s = glia_check_tensor(x, "conv: input")) != GLIA_STATUS_OK ||
        (s = glia_check_tensor(w, "conv: weight")) != GLIA_STATUS_OK ||
        (s = glia_check_same_device(x, w, name)) != GLIA_STATUS_OK ||
        (b && (s = glia_check_same_device(x, b, name)) != GLIA_STATUS_OK))
        return s;
    char sx[64], sw[64];
    glia_shape_str(x, sx, sizeof sx);
    glia_shape_str(w, sw, sizeof sw);
    if ((x->ndim != 4 && x->ndim != 5) || w->ndim != x->ndim)
        return glia_seterr(GLIA_STATUS_SHAPE_MISMATCH, "%s: input %s and weight %s must both be 4-D or 5-D",
                           name, sx, sw);
    int nsp = x->ndim - 2, ax0 = 3 - nsp; /* spatial axes fill the descriptor from the right */
    int64_t cin = transposed ? w->shape[0] : w->shape[1];
    int64_t cout = transposed ? w->shape[1] : w->shape[0];
    if (x->shape[1] != cin)
        return glia_seterr(GLIA_STATUS_SHAPE_MISMATCH, "%s: input %s has %lld channels, weight %s expects %lld",
                           name, sx, (long long)x->shape[1], sw, (long long)cin);
    if (b && (b->ndim != 1 || b->shape[0] != cout))
        return glia_seterr(GLIA_STATUS_SHAPE_MISMATCH, "%s: bias must have shape [%lld]", name, (long long)cout);
    glia_conv_desc d = {.nd = nsp, .n = x->shape[0]};
    int64_t oshape[GLIA_MAX_DIMS] = {x->shape[0], cout};
    for (int a = 0; a < 3; a++) {
        d.in[a] = d.out[a] = 1;
        d.k[a] = d.stride[a] = 1;
        d.pad[a] = 0;
    }
    for (int i = 0; i < nsp; i++) {
        int a = ax0 + i;
        int st = prm && prm->stride[i] ? prm->stride[i] : 1, pd = prm ? prm->padding[i] : 0;
        int64_t k = w->shape[2 + i], in = x->shape[2 + i], o;
        if (st < 1 || pd < 0 || k > 4096 || pd > 4096)
            return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "%s: stride %d / padding %d on axis %d", name, st, pd, i);
        o = transposed ? (in - 1) * st - 2 * pd + k : (in + 2 * pd - k) / st + 1;
        if ((!transposed && in + 2 * pd < k) || o < 1)
            return glia_seterr(GLIA_STATUS_SHAPE_MISMATCH,
                               "%s: input %s with weight %s, stride %d, padding %d gives no output on axis %d",
                               name, sx, sw, st, pd, i);
        /* the primitive's "input" is the larger side: y for a transposed conv */
        d.in[a] = transposed ? o : in;
        d.out[a] = transposed ? in : o;
        d.k[a] = (int)k;
        d.stride[a] = st;
        d.pad[a] = pd;
        oshape[2 + i] = o;
    }
    d.cin = transposed ? cout : cin;
    d.cout = transposed ? cin : cout;
    if ((s = glia_tensor_empty(x->dev, x->ndim, oshape, out)) != GLIA_STATUS_OK)
        return s;
    s = run_conv(transposed ? GLIA_OP_CONV_BWD_DATA : GLIA_OP_CONV_FWD, &d, x, w, *out);
    if (s == GLIA_STATUS_OK)
        s = b ? bias_op(GLIA_OP_BROADCAST, b, *out) : GLIA_STATUS_OK;
    glia_tensor *in[3] = {x, w, b};
    if (s == GLIA_STATUS_OK && glia_grad_needed(x->dev, in, 3)) {
        glia_node *nd;
        if ((s = glia_tape_record(x->dev, transposed ? convt_backward : conv_backward, *out, in, b ? 3 : 2,
                                  &nd)) == GLIA_STATUS_OK) {
            nd->p.conv = d;
            glia_tape_gradonly(nd, GLIA_NODE_OUT);   /* backward reads x, w and the incoming gradient */
        }
    }
    return glia_out_fail(s, out);
}

glia_status glia_conv(glia_tensor *x, glia_tensor *w, glia_tensor *b, const glia_conv_params *params,
                      glia_tensor **out)
{
    return conv_impl(x, w, b, params, 0, out);
}

glia_status glia_conv_transpose(glia_tensor *x, glia_tensor *w, glia_tensor *b, const glia_conv_params *params,
                                glia_tensor **out)
{
    return conv_impl(x, w, b, params, 1, out);
}

/* ---- matmul -------------------------------------------------------------- */
static int64_t rows(const glia_tensor *t, int tr) { return t->shape[t->ndim - (tr ? 1 : 2)]; }
static int64_t cols(const glia_tensor *t, int tr) { return t->shape[t->ndim - (tr ? 2 : 1)]; }

/* out = op(a) op(b) without autograd; out is created. */
static glia_status gemm_new(glia_tensor *a, int ta, glia_tensor *b, int tb, glia_tensor **out)
{
    int64_t batch = a->ndim == 3 ? a->shape[0] : 1;
    int64_t m = rows(a, ta), k = cols(a, ta), n = cols(b, tb);
    int64_t shape[3] = {batch, m, n};
    glia_status s = glia_tensor_empty(a->dev, a->ndim, a->ndim == 3 ? shape : shape + 1, out);
    if (s != GLIA_STATUS_OK)
        return s;
    glia_op op = {.kind = GLIA_OP_GEMM, .t = {glia_view(a), glia_view(b), glia_view(*out)}};
    op.p.gemm = (glia_gemm_desc){.trans_a = ta, .trans_b = tb, .m = m, .n = n, .k = k,
                                 .lda = a->shape[a->ndim - 1], .ldb = b->shape[b->ndim - 1], .ldc = n,
                                 .batch = batch, .stride_a = m * k, .stride_b = k * n, .stride_c = m * n,
                                 .alpha = 1.0f, .beta = 0.0f};
    if ((s = glia_run(a->dev, &op)) != GLIA_STATUS_OK) {
        glia_tensor_free(*out);
        *out = NULL;
    }
    return s;
}

static glia_status matmul_backward(glia_node *nd, glia_tensor *g)
{
    glia_tensor *a = nd->in[0], *b = nd->in[1], *ga = NULL, *gb = NULL;
    int ta = nd->p.matmul.trans_a, tb = nd->p.matmul.trans_b;
    glia_status s = GLIA_STATUS_OK;
    if (a->requires_grad && (s = ta ? gemm_new(b, tb, g, 1, &ga) : gemm_new(g, 0, b, !tb, &ga)) == GLIA_STATUS_OK)
        s = glia_grad_accum(a, ga);
    if (s == GLIA_STATUS_OK && b->requires_grad &&
        (s = tb ? gemm_new(g, 1, a, ta, &gb) : gemm_new(a, !ta, g, 0, &gb)) == GLIA_STATUS_OK)
        s = glia_grad_accum(b, gb);
    glia_tensor_free(ga);
    glia_tensor_free(gb);
    return s;
}

glia_status glia_matmul(glia_tensor *a, glia_tensor *b, int trans_a, int trans_b, glia_tensor **out)
{
    glia_status s;
    if (!out)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_matmul: out is NULL");
    *out = NULL;
    if ((s = glia_check_tensor(a, "glia_matmul: a")) != GLIA_STATUS_OK ||
        (s = glia_check_tensor(b, "glia_matmul: b")) != GLIA_STATUS_OK ||
        (s = glia_check_same_device(a, b, "glia_matmul")) != GLIA_STATUS_OK)
        return s;
    char sa[64], sb[64];
    glia_shape_str(a, sa, sizeof sa);
    glia_shape_str(b, sb, sizeof sb);
    if (a->ndim < 2 || a->ndim > 3 || b->ndim != a->ndim || (a->ndim == 3 && a->shape[0] != b->shape[0]) ||
        cols(a, trans_a) != rows(b, trans_b))
        return glia_seterr(GLIA_STATUS_SHAPE_MISMATCH, "glia_matmul: %s%s times %s%s does not fit", sa,
                           trans_a ? "^T" : "", sb, trans_b ? "^T" : "");
    trans_a = trans_a != 0;
    trans_b = trans_b != 0;
    if ((s = gemm_new(a, trans_a, b, trans_b, out)) != GLIA_STATUS_OK)
        return s;
    glia_tensor *in[2] = {a, b};
    if (glia_grad_needed(a->dev, in, 2)) {
        glia_node *nd;
        if ((s = glia_tape_record(a->dev, matmul_backward, *out, in, 2, &nd)) != GLIA_STATUS_OK) {
            glia_tensor_free(*out);
            *out = NULL;
            return s;
        }
        nd->p.matmul.trans_a = trans_a;
        nd->p.matmul.trans_b = trans_b;
        /* the backward reads b for a's gradient and a for b's, never the output (attention's scores,
         * every linear layer's pre-bias product: kept to the backward, they were most of SwinUNETR's
         * activation memory) */
        glia_tape_gradonly(nd, GLIA_NODE_OUT | (b->requires_grad ? 0u : 1u) | (a->requires_grad ? 0u : 2u));
    }
    return GLIA_STATUS_OK;
}
