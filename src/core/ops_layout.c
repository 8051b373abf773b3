/* Layout ops: reshape (a view), and permute, slice, roll and concatenation,
 * all through the one N-d strided copy (COPY_ND) and differentiable; each
 * backward is again a strided copy. */
#include <stdlib.h>
#include <string.h>
#include "core.h"

/* Enqueue dst[doff + i.dst_stride] = src[soff + i.src_stride] + beta*dst[..]
 * for every index i < shape. Axes of length 1 are dropped and neighbours that
 * are contiguous on both sides merged, so a channel concatenation reaches the
 * backend as a 2-D copy whatever the rank. */
glia_status glia_copy_region(const glia_tensor *src, size_t soff, const int64_t *sst, glia_tensor *dst,
                             size_t doff, const int64_t *dst_st, int ndim, const int64_t *shape, float beta)
{
    glia_op op = {.kind = GLIA_OP_COPY_ND, .t = {glia_view_at(src, soff), glia_view_at(dst, doff)}};
    glia_copy_desc *d = &op.p.copy;
    d->beta = beta;
    for (int k = 0; k < ndim; k++) {
        if (shape[k] == 0)
            return GLIA_STATUS_OK;
        if (shape[k] == 1)
            continue;
        int j = d->ndim - 1;
        if (j >= 0 && d->src_stride[j] == shape[k] * sst[k] && d->dst_stride[j] == shape[k] * dst_st[k]) {
            d->shape[j] *= shape[k];
            d->src_stride[j] = sst[k];
            d->dst_stride[j] = dst_st[k];
            continue;
        }
        d->shape[d->ndim] = shape[k];
        d->src_stride[d->ndim] = sst[k];
        d->dst_stride[d->ndim] = dst_st[k];
        d->ndim++;
    }
    if (d->ndim == 0) {   /* one element */
        d->ndim = 1;
        d->shape[0] = d->src_stride[0] = d->dst_stride[0] = 1;
    }
    return glia_run(src->dev, &op);
}

/* Record fn as x's backward for *out if a gradient is needed; free *out on failure. */
static glia_status record(glia_backward_fn fn, glia_tensor *const *in, int nin, glia_tensor **out, glia_node **nd)
{
    *nd = NULL;
    if (!glia_grad_needed(in[0]->dev, in, nin))
        return GLIA_STATUS_OK;
    glia_status s = glia_tape_record(in[0]->dev, fn, *out, in, nin, nd);
    if (s == GLIA_STATUS_OK)   /* every layout backward moves the gradient by shape alone */
        glia_tape_gradonly(*nd, ((1u << nin) - 1u) | GLIA_NODE_OUT);
    return glia_out_fail(s, out);
}

static glia_status start_op(glia_tensor *x, const char *name, glia_tensor **out)
{
    if (!out)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "%s: out is NULL", name);
    *out = NULL;
    return glia_check_tensor(x, name);
}

/* Axis i of an ndim tensor, negative counting from the end; -1 if out of range. */
static int norm_axis(int axis, int ndim)
{
    if (axis < 0)
        axis += ndim;
    return axis >= 0 && axis < ndim ? axis : -1;
}

static glia_status bad_axis(const char *name, int axis, const glia_tensor *x)
{
    return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "%s: axis %d out of range for a %d-dimensional tensor", name,
                       axis, x->ndim);
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
    v->etype = t->etype;
    memcpy(v->shape, shape, (size_t)ndim * sizeof *shape);
    glia_contiguous_strides(ndim, shape, v->stride);
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
    if ((s = start_op(t, "glia_tensor_reshape", out)) != GLIA_STATUS_OK)
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
    glia_node *nd;
    return record(reshape_backward, &t, 1, out, &nd);
}

/* ---- permute ------------------------------------------------------------- */

/* y = x.permute(perm) into y, or with inverse = 1, x-shaped y from a y-shaped x. */
static glia_status permute_into(const glia_tensor *x, const int *perm, int inverse, glia_tensor *y)
{
    int64_t xs[GLIA_MAX_DIMS], ys[GLIA_MAX_DIMS], src[GLIA_MAX_DIMS], dst[GLIA_MAX_DIMS], shape[GLIA_MAX_DIMS];
    glia_contiguous_strides(x->ndim, x->shape, xs);
    glia_contiguous_strides(y->ndim, y->shape, ys);
    /* iterate over the permuted order's shape: axis i of it is axis perm[i] of the unpermuted tensor */
    for (int i = 0; i < x->ndim; i++) {
        int p = perm[i];
        shape[i] = inverse ? x->shape[i] : x->shape[p];
        src[i] = inverse ? xs[i] : xs[p];
        dst[i] = inverse ? ys[p] : ys[i];
    }
    return glia_copy_region(x, 0, src, y, 0, dst, x->ndim, shape, 0.0f);
}

static glia_status permute_backward(glia_node *nd, glia_tensor *g)
{
    glia_tensor *x = nd->in[0], *gx = NULL;
    glia_status s = glia_tensor_empty(x->dev, x->ndim, x->shape, &gx);
    if (s == GLIA_STATUS_OK && (s = permute_into(g, nd->p.permute.perm, 1, gx)) == GLIA_STATUS_OK)
        s = glia_grad_accum(x, gx);
    glia_tensor_free(gx);
    return s;
}

glia_status glia_permute(glia_tensor *x, const int *perm, glia_tensor **out)
{
    glia_status s;
    if ((s = start_op(x, "glia_permute", out)) != GLIA_STATUS_OK)
        return s;
    if (!perm)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_permute: perm is NULL");
    int seen[GLIA_MAX_DIMS] = {0};
    int64_t shape[GLIA_MAX_DIMS];
    for (int i = 0; i < x->ndim; i++) {
        if (perm[i] < 0 || perm[i] >= x->ndim || seen[perm[i]]++)
            return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT,
                               "glia_permute: perm[%d] = %d: not a permutation of 0..%d", i, perm[i], x->ndim - 1);
        shape[i] = x->shape[perm[i]];
    }
    if ((s = glia_tensor_empty(x->dev, x->ndim, shape, out)) != GLIA_STATUS_OK)
        return s;
    if ((s = permute_into(x, perm, 0, *out)) != GLIA_STATUS_OK)
        return glia_out_fail(s, out);
    glia_node *nd;
    if ((s = record(permute_backward, &x, 1, out, &nd)) == GLIA_STATUS_OK && nd)
        memcpy(nd->p.permute.perm, perm, (size_t)x->ndim * sizeof *perm);
    return s;
}

/* ---- slice and concatenation ------------------------------------------------ */

#define GLIA_CAT_MAX 64

/* Copy the block of `a` (all of it) to or from positions start, start+step,
 * ... of axis `axis` of the bigger tensor `b`: into b if to_b, else out of b
 * into a. */
static glia_status block_copy_step(glia_tensor *a, glia_tensor *b, int axis, int64_t start, int64_t step, int to_b,
                                   float beta)
{
    int64_t as[GLIA_MAX_DIMS], bs[GLIA_MAX_DIMS];
    glia_contiguous_strides(a->ndim, a->shape, as);
    glia_contiguous_strides(b->ndim, b->shape, bs);
    size_t boff = (size_t)(start * bs[axis]);
    bs[axis] *= step;
    if (to_b)
        return glia_copy_region(a, 0, as, b, boff, bs, a->ndim, a->shape, beta);
    return glia_copy_region(b, boff, bs, a, 0, as, a->ndim, a->shape, beta);
}

static glia_status block_copy(glia_tensor *a, glia_tensor *b, int axis, int64_t start, int to_b, float beta)
{
    return block_copy_step(a, b, axis, start, 1, to_b, beta);
}

static glia_status slice_backward(glia_node *nd, glia_tensor *g)
{
    glia_tensor *x = nd->in[0], *gx = NULL;
    glia_status s = glia_tensor_zeros(x->dev, x->ndim, x->shape, &gx);
    if (s == GLIA_STATUS_OK && (s = block_copy_step(g, gx, nd->p.slice.axis, nd->p.slice.start, nd->p.slice.step, 1,
                                                    0.0f)) == GLIA_STATUS_OK)
        s = glia_grad_accum(x, gx);
    glia_tensor_free(gx);
    return s;
}

glia_status glia_slice_step(glia_tensor *x, int axis, int64_t start, int64_t length, int64_t step,
                            glia_tensor **out)
{
    glia_status s;
    if ((s = start_op(x, "glia_slice", out)) != GLIA_STATUS_OK)
        return s;
    int a = norm_axis(axis, x->ndim);
    if (a < 0)
        return bad_axis("glia_slice", axis, x);
    if (step < 1 || step > x->shape[a])
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_slice: step %lld (1 to %lld allowed)", (long long)step,
                           (long long)x->shape[a]);
    if (start < 0 || length < 1 || start >= x->shape[a] || length - 1 > (x->shape[a] - 1 - start) / step)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT,
                           "glia_slice: %lld element(s) from %lld by %lld out of range for axis %d%s of length %lld",
                           (long long)length, (long long)start, (long long)step, a, a == 1 ? " (channels)" : "",
                           (long long)x->shape[a]);
    int64_t shape[GLIA_MAX_DIMS];
    memcpy(shape, x->shape, sizeof shape);
    shape[a] = length;
    if ((s = glia_tensor_empty(x->dev, x->ndim, shape, out)) != GLIA_STATUS_OK)
        return s;
    if ((s = block_copy_step(*out, x, a, start, step, 0, 0.0f)) != GLIA_STATUS_OK)
        return glia_out_fail(s, out);
    glia_node *nd;
    if ((s = record(slice_backward, &x, 1, out, &nd)) == GLIA_STATUS_OK && nd) {
        nd->p.slice.axis = a;
        nd->p.slice.start = start;
        nd->p.slice.step = step;
    }
    return s;
}

glia_status glia_slice(glia_tensor *x, int axis, int64_t start, int64_t length, glia_tensor **out)
{
    return glia_slice_step(x, axis, start, length, 1, out);
}

glia_status glia_slice_channels(glia_tensor *x, int64_t start, int64_t count, glia_tensor **out)
{
    if (x && x->ndim < 2) {
        if (out)
            *out = NULL;
        return glia_seterr(GLIA_STATUS_SHAPE_MISMATCH, "glia_slice_channels: input needs at least 2 dimensions (N, C, ...)");
    }
    return glia_slice(x, 1, start, count, out);
}

static glia_status cat_backward(glia_node *nd, glia_tensor *g)
{
    glia_status s = GLIA_STATUS_OK;
    int axis = nd->p.slice.axis;
    int64_t at = 0;
    for (int i = 0; i < 4 && nd->in[i] && s == GLIA_STATUS_OK; i++) {
        glia_tensor *x = nd->in[i], *gx;
        if (x->requires_grad && (s = glia_tensor_empty_like(x, &gx)) == GLIA_STATUS_OK) {
            if ((s = block_copy(gx, g, axis, at, 0, 0.0f)) == GLIA_STATUS_OK)
                s = glia_grad_accum(x, gx);
            glia_tensor_free(gx);
        }
        at += x->shape[axis];
    }
    return s;
}

glia_status glia_cat(glia_tensor *const *xs, int count, int axis, glia_tensor **out)
{
    glia_status s;
    if (!out)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_cat: out is NULL");
    *out = NULL;
    if (!xs)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_cat: the tensor list is NULL");
    if (count < 1 || count > GLIA_CAT_MAX)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_cat: %d tensors (1 to %d allowed)", count, GLIA_CAT_MAX);
    if ((s = glia_check_tensor(xs[0], "glia_cat: input")) != GLIA_STATUS_OK)
        return s;
    int a = norm_axis(axis, xs[0]->ndim);
    if (a < 0)
        return bad_axis("glia_cat", axis, xs[0]);
    int64_t total = 0;
    for (int i = 0; i < count; i++) {
        if ((s = glia_check_tensor(xs[i], "glia_cat: input")) != GLIA_STATUS_OK ||
            (s = glia_check_same_device(xs[0], xs[i], "glia_cat")) != GLIA_STATUS_OK)
            return s;
        int ok = xs[i]->ndim == xs[0]->ndim;
        for (int d = 0; ok && d < xs[0]->ndim; d++)
            ok = d == a || xs[i]->shape[d] == xs[0]->shape[d];
        if (!ok) {
            char sa[64], sb[64];
            return glia_seterr(GLIA_STATUS_SHAPE_MISMATCH,
                               "glia_cat: input %d is %s, input 0 is %s (only dimension %d may differ)", i,
                               glia_shape_str(xs[i], sa, sizeof sa), glia_shape_str(xs[0], sb, sizeof sb), a);
        }
        total += xs[i]->shape[a];
    }
    if (count > 4) {
        /* a node holds 4 inputs: join the halves (patch merging cats 8) */
        glia_tensor *half[2] = {NULL, NULL};
        if ((s = glia_cat(xs, count / 2, a, &half[0])) == GLIA_STATUS_OK &&
            (s = glia_cat(xs + count / 2, count - count / 2, a, &half[1])) == GLIA_STATUS_OK)
            s = glia_cat(half, 2, a, out);
        glia_tensor_free(half[0]);
        glia_tensor_free(half[1]);
        return s;
    }
    int64_t shape[GLIA_MAX_DIMS];
    memcpy(shape, xs[0]->shape, sizeof shape);
    shape[a] = total;
    if ((s = glia_tensor_empty(xs[0]->dev, xs[0]->ndim, shape, out)) != GLIA_STATUS_OK)
        return s;
    int64_t at = 0;
    for (int i = 0; i < count && s == GLIA_STATUS_OK; i++) {
        s = block_copy(xs[i], *out, a, at, 1, 0.0f);
        at += xs[i]->shape[a];
    }
    if (s != GLIA_STATUS_OK)
        return glia_out_fail(s, out);
    glia_node *nd;
    if ((s = record(cat_backward, xs, count, out, &nd)) == GLIA_STATUS_OK && nd)
        nd->p.slice.axis = a;
    return s;
}

glia_status glia_concat(glia_tensor *const *xs, int count, glia_tensor **out)
{
    if (xs && count >= 1 && xs[0] && xs[0]->ndim < 2) {
        if (out)
            *out = NULL;
        return glia_seterr(GLIA_STATUS_SHAPE_MISMATCH, "glia_concat: inputs need at least 2 dimensions (N, C, ...)");
    }
    return glia_cat(xs, count, 1, out);
}

/* ---- roll ------------------------------------------------------------------ */

/* y = x rolled by shift along axis (y[i] = x[(i - shift) mod n]): two block copies. */
static glia_status roll_into(const glia_tensor *x, int axis, int64_t shift, glia_tensor *y)
{
    int64_t n = x->shape[axis], st[GLIA_MAX_DIMS], shape[GLIA_MAX_DIMS];
    glia_contiguous_strides(x->ndim, x->shape, st);
    memcpy(shape, x->shape, sizeof shape);
    shift %= n;
    if (shift < 0)
        shift += n;
    glia_status s = GLIA_STATUS_OK;
    /* x[0, n-shift) -> y[shift, n); x[n-shift, n) -> y[0, shift) */
    if (n - shift > 0) {
        shape[axis] = n - shift;
        s = glia_copy_region(x, 0, st, y, (size_t)(shift * st[axis]), st, x->ndim, shape, 0.0f);
    }
    if (s == GLIA_STATUS_OK && shift > 0) {
        shape[axis] = shift;
        s = glia_copy_region(x, (size_t)((n - shift) * st[axis]), st, y, 0, st, x->ndim, shape, 0.0f);
    }
    return s;
}

static glia_status roll_backward(glia_node *nd, glia_tensor *g)
{
    glia_tensor *x = nd->in[0], *gx = NULL;
    glia_status s = glia_tensor_empty(x->dev, x->ndim, x->shape, &gx);
    if (s == GLIA_STATUS_OK && (s = roll_into(g, nd->p.roll.axis, -nd->p.roll.shift, gx)) == GLIA_STATUS_OK)
        s = glia_grad_accum(x, gx);
    glia_tensor_free(gx);
    return s;
}

glia_status glia_roll(glia_tensor *x, int axis, int64_t shift, glia_tensor **out)
{
    glia_status s;
    if ((s = start_op(x, "glia_roll", out)) != GLIA_STATUS_OK)
        return s;
    int a = norm_axis(axis, x->ndim);
    if (a < 0)
        return bad_axis("glia_roll", axis, x);
    if ((s = glia_tensor_empty(x->dev, x->ndim, x->shape, out)) != GLIA_STATUS_OK)
        return s;
    if ((s = roll_into(x, a, shift % x->shape[a], *out)) != GLIA_STATUS_OK)
        return glia_out_fail(s, out);
    glia_node *nd;
    if ((s = record(roll_backward, &x, 1, out, &nd)) == GLIA_STATUS_OK && nd) {
        nd->p.roll.axis = a;
        nd->p.roll.shift = shift % x->shape[a];
    }
    return s;
}
