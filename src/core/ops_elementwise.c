/* Elementwise ops, reductions to a scalar, reshape, concat and slice, with
 * their backward functions. */
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
    return s == GLIA_STATUS_OK ? accum_scaled(nd->in[1], nd->p.f[0], g) : s;
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
        nd->p.f[0] = sign;
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
    glia_unary_mode mode = (glia_unary_mode)nd->p.i[0];
    glia_grad_reads reads = glia_unary_grad(mode);
    if (reads == GLIA_GRAD_LINEAR)
        return accum_scaled(nd->in[0], (float)nd->p.f[2], g);
    glia_tensor *fwd = reads == GLIA_GRAD_X ? nd->in[0] : nd->out;
    glia_op op = {.kind = GLIA_OP_UNARY_BWD, .t = {glia_view(fwd), glia_view(g)}};
    op.p.unary.n = (size_t)g->numel;
    op.p.unary.mode = mode;
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
        nd->p.i[0] = mode;
        nd->p.f[2] = a; /* p.i[0] and p.f[0..1] overlap */
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
    op.p.bcast.alpha = nd->p.f[0];
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
            nd->p.f[0] = scale;
    }
    return glia_out_fail(s, out);
}

glia_status glia_sum(glia_tensor *x, glia_tensor **out) { return reduce_all(x, 1.0f, "glia_sum", out); }
glia_status glia_mean(glia_tensor *x, glia_tensor **out)
{
    return reduce_all(x, x ? 1.0f / (float)x->numel : 1.0f, "glia_mean", out);
}

/* ---- reshape ------------------------------------------------------------- */
static glia_status make_view(glia_tensor *t, int ndim, const int64_t *shape, glia_tensor **out)
{
    glia_tensor *v = glia_tensor_struct(t->dev);
    if (!v)
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "reshape: no host memory");
    v->ndim = ndim;
    v->numel = t->numel;
    v->storage = t->storage;
    v->off = t->off;
    memcpy(v->shape, shape, (size_t)ndim * sizeof *shape);
    t->storage->refs++;
    *out = v;
    return GLIA_STATUS_OK;
}

static glia_status reshape_backward(glia_node *nd, glia_tensor *g)
{
    glia_tensor *gx = NULL;
    glia_status s = make_view(g, nd->in[0]->ndim, nd->in[0]->shape, &gx);
    if (s == GLIA_STATUS_OK)
        s = glia_grad_accum(nd->in[0], gx);
    glia_tensor_free(gx);
    return s;
}

glia_status glia_tensor_reshape(glia_tensor *t, int ndim, const int64_t *shape, glia_tensor **out)
{
    glia_status s;
    if (!out)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_tensor_reshape: out is NULL");
    *out = NULL;
    if ((s = glia_check_tensor(t, "glia_tensor_reshape")) != GLIA_STATUS_OK)
        return s;
    if (ndim < 1 || ndim > GLIA_MAX_DIMS || !shape)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_tensor_reshape: bad rank %d or NULL shape", ndim);
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 1 || shape[i] > t->numel)
            return glia_seterr(GLIA_STATUS_SHAPE_MISMATCH, "glia_tensor_reshape: dimension %d is %lld", i,
                               (long long)shape[i]);
        n *= shape[i];
    }
    if (n != t->numel)
        return glia_seterr(GLIA_STATUS_SHAPE_MISMATCH, "glia_tensor_reshape: %lld elements into %lld",
                           (long long)t->numel, (long long)n);
    if ((s = make_view(t, ndim, shape, out)) != GLIA_STATUS_OK)
        return s;
    if (glia_grad_needed(t->dev, &t, 1) &&
        (s = glia_tape_record(t->dev, reshape_backward, *out, &t, 1, NULL)) != GLIA_STATUS_OK) {
        glia_tensor_free(*out);
        *out = NULL;
    }
    return s;
}

/* ---- concat / slice along channels ---------------------------------------- */
static int64_t inner_size(const glia_tensor *t)
{
    int64_t s = 1;
    for (int i = 2; i < t->ndim; i++)
        s *= t->shape[i];
    return s;
}

/* Copy channels [src_c0, +count) of src into [dst_c0, +count) of dst, dst = src + beta*dst. */
static glia_status copy_channels(const glia_tensor *src, int64_t src_c0, glia_tensor *dst, int64_t dst_c0,
                                 int64_t count, float beta)
{
    int64_t inner = inner_size(src);
    glia_op op = {.kind = GLIA_OP_COPY2D,
                  .t = {glia_view_at(src, (size_t)(src_c0 * inner)), glia_view_at(dst, (size_t)(dst_c0 * inner))}};
    op.p.copy2d.rows = (size_t)src->shape[0];
    op.p.copy2d.cols = (size_t)(count * inner);
    op.p.copy2d.src_ld = (size_t)(src->shape[1] * inner);
    op.p.copy2d.dst_ld = (size_t)(dst->shape[1] * inner);
    op.p.copy2d.beta = beta;
    return glia_run(src->dev, &op);
}

static glia_status concat_backward(glia_node *nd, glia_tensor *g)
{
    glia_status s = GLIA_STATUS_OK;
    int64_t c0 = 0;
    for (int i = 0; i < 4 && nd->in[i] && s == GLIA_STATUS_OK; i++) {
        glia_tensor *x = nd->in[i], *gx;
        if (x->requires_grad && (s = glia_tensor_empty_like(x, &gx)) == GLIA_STATUS_OK) {
            if ((s = copy_channels(g, c0, gx, 0, x->shape[1], 0.0f)) == GLIA_STATUS_OK)
                s = glia_grad_accum(x, gx);
            glia_tensor_free(gx);
        }
        c0 += x->shape[1];
    }
    return s;
}

glia_status glia_concat(glia_tensor *const *xs, int count, glia_tensor **out)
{
    glia_status s;
    if (!out)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_concat: out is NULL");
    *out = NULL;
    if (!xs)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_concat: the tensor list is NULL");
    if (count < 1 || count > 4)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_concat: %d tensors (1 to 4 allowed)", count);
    int64_t channels = 0;
    for (int i = 0; i < count; i++) {
        if ((s = glia_check_tensor(xs[i], "glia_concat: input")) != GLIA_STATUS_OK ||
            (s = glia_check_same_device(xs[0], xs[i], "glia_concat")) != GLIA_STATUS_OK)
            return s;
        int ok = xs[i]->ndim == xs[0]->ndim && xs[i]->ndim >= 2;
        for (int d = 0; ok && d < xs[0]->ndim; d++)
            ok = d == 1 || xs[i]->shape[d] == xs[0]->shape[d];
        if (!ok) {
            char a[64], b[64];
            return glia_seterr(GLIA_STATUS_SHAPE_MISMATCH,
                               "glia_concat: input %d is %s, input 0 is %s (only dimension 1 may differ)", i,
                               glia_shape_str(xs[i], a, sizeof a), glia_shape_str(xs[0], b, sizeof b));
        }
        channels += xs[i]->shape[1];
    }
    int64_t shape[GLIA_MAX_DIMS];
    memcpy(shape, xs[0]->shape, sizeof shape);
    shape[1] = channels;
    if ((s = glia_tensor_empty(xs[0]->dev, xs[0]->ndim, shape, out)) != GLIA_STATUS_OK)
        return s;
    int64_t c0 = 0;
    for (int i = 0; i < count && s == GLIA_STATUS_OK; i++) {
        s = copy_channels(xs[i], 0, *out, c0, xs[i]->shape[1], 0.0f);
        c0 += xs[i]->shape[1];
    }
    glia_node *nd;
    if (s == GLIA_STATUS_OK && glia_grad_needed(xs[0]->dev, xs, count) &&
        (s = glia_tape_record(xs[0]->dev, concat_backward, *out, xs, count, &nd)) == GLIA_STATUS_OK)
        glia_tape_gradonly(nd, 0xFu | GLIA_NODE_OUT);   /* backward slices the gradient by shape */
    return glia_out_fail(s, out);
}

static glia_status slice_backward(glia_node *nd, glia_tensor *g)
{
    glia_tensor *x = nd->in[0], *gx = NULL;
    glia_status s = glia_tensor_zeros(x->dev, x->ndim, x->shape, &gx);
    if (s == GLIA_STATUS_OK && (s = copy_channels(g, 0, gx, nd->p.i[0], g->shape[1], 0.0f)) == GLIA_STATUS_OK)
        s = glia_grad_accum(x, gx);
    glia_tensor_free(gx);
    return s;
}

glia_status glia_slice_channels(glia_tensor *x, int64_t start, int64_t count, glia_tensor **out)
{
    glia_status s;
    if (!out)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_slice_channels: out is NULL");
    *out = NULL;
    if ((s = glia_check_tensor(x, "glia_slice_channels")) != GLIA_STATUS_OK)
        return s;
    if (x->ndim < 2)
        return glia_seterr(GLIA_STATUS_SHAPE_MISMATCH, "glia_slice_channels: input needs at least 2 dimensions (N, C, ...)");
    if (start < 0 || count < 1 || start > x->shape[1] - count)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT,
                           "glia_slice_channels: %lld channel(s) from %lld out of range for %lld channels",
                           (long long)count, (long long)start, (long long)x->shape[1]);
    int64_t shape[GLIA_MAX_DIMS];
    memcpy(shape, x->shape, sizeof shape);
    shape[1] = count;
    if ((s = glia_tensor_empty(x->dev, x->ndim, shape, out)) != GLIA_STATUS_OK)
        return s;
    s = copy_channels(x, start, *out, 0, count, 0.0f);
    if (s == GLIA_STATUS_OK && glia_grad_needed(x->dev, &x, 1)) {
        glia_node *nd;
        if ((s = glia_tape_record(x->dev, slice_backward, *out, &x, 1, &nd)) == GLIA_STATUS_OK)
            nd->p.i[0] = start;
    }
    return glia_out_fail(s, out);
}
