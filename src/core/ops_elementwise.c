/* Elementwise ops and reductions to a scalar, with their backward functions. */
#include <stdlib.h>
#include <string.h>
#include "core.h"

glia_status glia_axpbyz(glia_device *dev, size_t n, float a, glia_bview x, float b, glia_bview y,
                        glia_bview z)
{
    glia_op op = {.kind = GLIA_OP_AXPBYZ, .t = {x, y, z}};
    op.p.axpbyz.n = n;
    op.p.axpbyz.a = a;
    op.p.axpbyz.b = b;
    return glia_run(dev, &op);
}

glia_status glia_tensor_axpby(float a, glia_tensor *x, float b, glia_tensor *y, glia_tensor **out)
{
    glia_status s = glia_tensor_empty_like(x, out);
    if (s != GLIA_STATUS_OK)
        return s;
    s = glia_axpbyz(x->dev, (size_t)x->numel, a, glia_view(x), b, glia_view(y), glia_view(*out));
    return glia_out_fail(s, out);
}

/* Run op into a fresh tensor shaped like `like` placed in slot `slot`;
 * on failure free it. */
static glia_status run_into(glia_op *op, int slot, const glia_tensor *like, glia_tensor **out)
{
    glia_status s = glia_tensor_empty_like(like, out);
    if (s != GLIA_STATUS_OK)
        return s;
    op->t[slot] = glia_view(*out);
    if ((s = glia_run(like->dev, op)) != GLIA_STATUS_OK) {
        glia_tensor_free(*out);
        *out = NULL;
    }
    return s;
}

/* Accumulate g scaled by a into t's gradient. */
static glia_status accum_scaled(glia_tensor *t, float a, glia_tensor *g)
{
    if (!t->requires_grad)
        return GLIA_STATUS_OK;
    if (a == 1.0f)
        return glia_grad_accum(t, g);
    glia_tensor *sg;
    glia_status s = glia_tensor_axpby(a, g, 0.0f, NULL, &sg);
    if (s == GLIA_STATUS_OK)
        s = glia_grad_accum(t, sg);
    glia_tensor_free(sg);
    return s;
}

static glia_status binary_tensor(glia_binary_mode mode, glia_tensor *x, glia_tensor *y, glia_tensor **out)
{
    glia_op op = {.kind = GLIA_OP_BINARY, .t = {glia_view(x), glia_view(y)}};
    op.p.binary.n = (size_t)x->numel;
    op.p.binary.mode = mode;
    return run_into(&op, 2, x, out);
}

/* ---- add / sub ----------------------------------------------------------- */
static glia_status add_backward(glia_node *nd, glia_tensor *g)
{
    glia_status s = accum_scaled(nd->in[0], 1.0f, g);
    return s == GLIA_STATUS_OK ? accum_scaled(nd->in[1], nd->p.add.b_scale, g) : s;
}

static glia_status add_sub(glia_tensor *a, glia_tensor *b, float sign, const char *name, glia_tensor **out)
{
    glia_status s;
    if (!out)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "%s: out is NULL", name);
    *out = NULL;
    if ((s = glia_check_tensor(a, name)) != GLIA_STATUS_OK || (s = glia_check_tensor(b, name)) != GLIA_STATUS_OK ||
        (s = glia_check_same_shape(a, b, name)) != GLIA_STATUS_OK)
        return s;
    if ((s = glia_tensor_axpby(1.0f, a, sign, b, out)) != GLIA_STATUS_OK)
        return s;
    glia_tensor *in[2] = {a, b};
    if (glia_grad_needed(a->dev, in, 2)) {
        glia_node *nd;
        if ((s = glia_tape_record(a->dev, add_backward, *out, in, 2, &nd)) != GLIA_STATUS_OK) {
            glia_tensor_free(*out);
            *out = NULL;
            return s;
        }
        nd->p.add.b_scale = sign;
        glia_tape_gradonly(nd, 3u | GLIA_NODE_OUT);
    }
    return GLIA_STATUS_OK;
}

glia_status glia_add(glia_tensor *a, glia_tensor *b, glia_tensor **out) { return add_sub(a, b, 1.0f, "glia_add", out); }
glia_status glia_sub(glia_tensor *a, glia_tensor *b, glia_tensor **out) { return add_sub(a, b, -1.0f, "glia_sub", out); }

/* ---- mul / div ----------------------------------------------------------- */
static glia_status mul_backward(glia_node *nd, glia_tensor *g)
{
    glia_tensor *ga = NULL, *gb = NULL;
    glia_status s = GLIA_STATUS_OK;
    if (nd->in[0]->requires_grad && (s = binary_tensor(GLIA_BINARY_MUL, g, nd->in[1], &ga)) == GLIA_STATUS_OK)
        s = glia_grad_accum(nd->in[0], ga);
    if (s == GLIA_STATUS_OK && nd->in[1]->requires_grad &&
        (s = binary_tensor(GLIA_BINARY_MUL, g, nd->in[0], &gb)) == GLIA_STATUS_OK)
        s = glia_grad_accum(nd->in[1], gb);
    glia_tensor_free(ga);
    glia_tensor_free(gb);
    return s;
}

static glia_status div_backward(glia_node *nd, glia_tensor *g)
{
    /* d(a/b)/da = 1/b; d(a/b)/db = -(a/b)/b */
    glia_tensor *ga = NULL, *t = NULL;
    glia_status s = binary_tensor(GLIA_BINARY_DIV, g, nd->in[1], &ga);
    if (s == GLIA_STATUS_OK && nd->in[0]->requires_grad)
        s = glia_grad_accum(nd->in[0], ga);
    if (s == GLIA_STATUS_OK && nd->in[1]->requires_grad &&
        (s = binary_tensor(GLIA_BINARY_MUL, ga, nd->out, &t)) == GLIA_STATUS_OK)
        s = accum_scaled(nd->in[1], -1.0f, t);
    glia_tensor_free(ga);
    glia_tensor_free(t);
    return s;
}

static glia_status mul_div(glia_tensor *a, glia_tensor *b, glia_binary_mode mode, const char *name,
                           glia_tensor **out)
{
    glia_status s;
    if (!out)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "%s: out is NULL", name);
    *out = NULL;
    if ((s = glia_check_tensor(a, name)) != GLIA_STATUS_OK || (s = glia_check_tensor(b, name)) != GLIA_STATUS_OK ||
        (s = glia_check_same_shape(a, b, name)) != GLIA_STATUS_OK)
        return s;
    if ((s = binary_tensor(mode, a, b, out)) != GLIA_STATUS_OK)
        return s;
    glia_tensor *in[2] = {a, b};
    if (glia_grad_needed(a->dev, in, 2) &&
        (s = glia_tape_record(a->dev, mode == GLIA_BINARY_MUL ? mul_backward : div_backward, *out, in, 2,
                              NULL)) != GLIA_STATUS_OK) {
        glia_tensor_free(*out);
        *out = NULL;
    }
    return s;
}

glia_status glia_mul(glia_tensor *a, glia_tensor *b, glia_tensor **out)
{
    return mul_div(a, b, GLIA_BINARY_MUL, "glia_mul", out);
}
glia_status glia_div(glia_tensor *a, glia_tensor *b, glia_tensor **out)
{
    return mul_div(a, b, GLIA_BINARY_DIV, "glia_div", out);
}

/* ---- unary --------------------------------------------------------------- */
static glia_status unary_backward(glia_node *nd, glia_tensor *g)
{
    glia_unary_mode mode = nd->p.unary.mode;
    glia_grad_reads reads = glia_unary_grad(mode);
    if (reads == GLIA_GRAD_LINEAR)
        return accum_scaled(nd->in[0], nd->p.unary.a, g);
    glia_tensor *fwd = reads == GLIA_GRAD_X ? nd->in[0] : nd->out;
    glia_op op = {.kind = GLIA_OP_UNARY_BWD, .t = {glia_view(fwd), glia_view(g)}};
    op.p.unary.n = (size_t)g->numel;
    op.p.unary.mode = mode;
    op.p.unary.a = nd->p.unary.a;   /* LEAKY_RELU's slope */
    glia_tensor *gx = NULL;
    glia_status s = run_into(&op, 2, g, &gx);
    if (s == GLIA_STATUS_OK)
        s = glia_grad_accum(nd->in[0], gx);
    glia_tensor_free(gx);
    return s;
}

/* The tensors a unary backward never reads (glia_tape_gradonly), from what
 * the op table says the mode's backward reads. */
static unsigned unary_unread(glia_grad_reads reads)
{
    switch (reads) {
    case GLIA_GRAD_X: return GLIA_NODE_OUT;
    case GLIA_GRAD_Y: return 1u;
    case GLIA_GRAD_LINEAR:
    case GLIA_GRAD_NONE: break;
    }
    return 1u | GLIA_NODE_OUT;
}

static glia_status unary(glia_tensor *x, glia_unary_mode mode, float a, float b, const char *name,
                         glia_tensor **out)
{
    glia_status s;
    if (!out)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "%s: out is NULL", name);
    *out = NULL;
    if ((s = glia_check_tensor(x, name)) != GLIA_STATUS_OK)
        return s;
    glia_op op = {.kind = GLIA_OP_UNARY, .t = {glia_view(x)}};
    op.p.unary.n = (size_t)x->numel;
    op.p.unary.mode = mode;
    op.p.unary.a = a;
    op.p.unary.b = b;
    if ((s = run_into(&op, 1, x, out)) != GLIA_STATUS_OK)
        return s;
    glia_grad_reads reads = glia_unary_grad(mode);
    if (reads != GLIA_GRAD_NONE && glia_grad_needed(x->dev, &x, 1)) {
        glia_node *nd;
        if ((s = glia_tape_record(x->dev, unary_backward, *out, &x, 1, &nd)) != GLIA_STATUS_OK) {
            glia_tensor_free(*out);
            *out = NULL;
            return s;
        }
        nd->p.unary.mode = mode;
        nd->p.unary.a = a;
        glia_tape_gradonly(nd, unary_unread(reads));
    }
    return GLIA_STATUS_OK;
}

glia_status glia_affine(glia_tensor *x, float a, float b, glia_tensor **out)
{
    return unary(x, GLIA_UNARY_AFFINE, a, b, "glia_affine", out);
}
glia_status glia_relu(glia_tensor *x, glia_tensor **out) { return unary(x, GLIA_UNARY_RELU, 0, 0, "glia_relu", out); }
glia_status glia_gelu(glia_tensor *x, glia_tensor **out) { return unary(x, GLIA_UNARY_GELU, 0, 0, "glia_gelu", out); }
glia_status glia_leaky_relu(glia_tensor *x, float slope, glia_tensor **out)
{
    /* the backward reads y's sign, which is x's only for a positive slope */
    if (!(slope > 0.0f)) {
        if (out)
            *out = NULL;
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_leaky_relu: slope %g must be > 0",
                           (double)slope);
    }
    return unary(x, GLIA_UNARY_LEAKY_RELU, slope, 0, "glia_leaky_relu", out);
}
glia_status glia_sigmoid(glia_tensor *x, glia_tensor **out)
{
    return unary(x, GLIA_UNARY_SIGMOID, 0, 0, "glia_sigmoid", out);
}
glia_status glia_threshold(glia_tensor *x, float threshold, glia_tensor **out)
{
    return unary(x, GLIA_UNARY_THRESHOLD, threshold, 0, "glia_threshold", out);
}

/* ---- sum / mean ---------------------------------------------------------- */
static glia_status sum_backward(glia_node *nd, glia_tensor *g)
{
    glia_tensor *x = nd->in[0], *gx = NULL;
    glia_op op = {.kind = GLIA_OP_BROADCAST, .t = {glia_view(g)}};
    op.p.bcast.a = 1;
    op.p.bcast.b = 1;
    op.p.bcast.c = (size_t)x->numel;
    op.p.bcast.alpha = nd->p.sum.scale;
    op.p.bcast.beta = 0.0f;
    glia_status s = run_into(&op, 1, x, &gx);
    if (s == GLIA_STATUS_OK)
        s = glia_grad_accum(x, gx);
    glia_tensor_free(gx);
    return s;
}

static glia_status reduce_all(glia_tensor *x, float scale, const char *name, glia_tensor **out)
{
    glia_status s;
    if (!out)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "%s: out is NULL", name);
    *out = NULL;
    if ((s = glia_check_tensor(x, name)) != GLIA_STATUS_OK)
        return s;
    int64_t one = 1;
    if ((s = glia_tensor_empty(x->dev, 1, &one, out)) != GLIA_STATUS_OK)
        return s;
    glia_op op = {.kind = GLIA_OP_REDUCE, .t = {glia_view(x), glia_view(*out)}};
    op.p.bcast.a = 1;
    op.p.bcast.b = 1;
    op.p.bcast.c = (size_t)x->numel;
    op.p.bcast.alpha = scale;
    op.p.bcast.beta = 0.0f;
    if ((s = glia_run(x->dev, &op)) == GLIA_STATUS_OK && glia_grad_needed(x->dev, &x, 1)) {
        glia_node *nd;
        if ((s = glia_tape_record(x->dev, sum_backward, *out, &x, 1, &nd)) == GLIA_STATUS_OK)
            nd->p.sum.scale = scale;
    }
    return glia_out_fail(s, out);
}

glia_status glia_sum(glia_tensor *x, glia_tensor **out) { return reduce_all(x, 1.0f, "glia_sum", out); }
glia_status glia_mean(glia_tensor *x, glia_tensor **out)
{
    return reduce_all(x, x ? 1.0f / (float)x->numel : 1.0f, "glia_mean", out);
}
