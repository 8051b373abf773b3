/* Batch norm, pooling, upsampling, softmax and argmax over channels. */
#include <string.h>
#include "core.h"

static int64_t spatial(const glia_tensor *t)
{
    int64_t s = 1;
    for (int i = 2; i < t->ndim; i++)
        s *= t->shape[i];
    return s;
}

static glia_status need_nc(const glia_tensor *x, int min_dim, const char *name)
{
    glia_status s = glia_check_tensor(x, name);
    if (s == GLIA_STATUS_OK && x->ndim < min_dim) {
        char b[64];
        return glia_seterr(GLIA_STATUS_SHAPE_MISMATCH, "%s: input %s needs at least %d dimensions (N, C, ...)",
                           name, glia_shape_str(x, b, sizeof b), min_dim);
    }
    return s;
}

/* ---- batch norm ---------------------------------------------------------- */

/* in: x, gamma, beta; saved: mean, invstd. */
static glia_status bn_train_backward(glia_node *nd, glia_tensor *g)
{
    glia_op op = {.kind = GLIA_OP_BN_BWD};
    glia_bn_dims_(&op, nd->in[0], nd->p.bn.eps, 0.0f);
    return glia_norm_backward(&op, nd, g, 0);
}

/* Eval mode is a per-channel affine map y = x*k + c with k = gamma/sqrt(rv+eps):
 * dx = dy*k is the inference op applied to dy with beta = mean = 0;
 * dgamma = sum(dy * xhat) with xhat the inference op with gamma = 1, beta = 0.
 * in: x, gamma, beta; saved: running_var, zeros[C], ones[C], running_mean. */
static glia_status bn_eval_backward(glia_node *nd, glia_tensor *g)
{
    glia_tensor *x = nd->in[0], *gamma = nd->in[1], *beta = nd->in[2];
    glia_tensor *rv = nd->saved[0], *zeros = nd->saved[1], *ones = nd->saved[2], *rm = nd->saved[3];
    glia_tensor *dx = NULL, *xhat = NULL, *prod = NULL, *dg = NULL, *db = NULL;
    glia_status s;
    glia_op op = {.kind = GLIA_OP_BN_FWD_INFER};
    glia_bn_dims_(&op, x, nd->p.bn.eps, 0.0f);
    glia_op red = {.kind = GLIA_OP_REDUCE};
    red.p.bcast.a = op.p.bn.n;
    red.p.bcast.b = op.p.bn.c;
    red.p.bcast.c = op.p.bn.s;
    red.p.bcast.alpha = 1.0f;
    if ((s = glia_tensor_empty_like(x, &dx)) == GLIA_STATUS_OK) {
        op.t[0] = glia_view(g), op.t[1] = glia_view(gamma), op.t[2] = glia_view(zeros);
        op.t[3] = glia_view(dx), op.t[6] = glia_view(zeros), op.t[7] = glia_view(rv);
        if ((s = glia_run(x->dev, &op)) == GLIA_STATUS_OK)
            s = glia_grad_accum(x, dx);
    }
    if (s == GLIA_STATUS_OK && gamma->requires_grad && (s = glia_tensor_empty_like(x, &xhat)) == GLIA_STATUS_OK) {
        op.t[0] = glia_view(x), op.t[1] = glia_view(ones), op.t[2] = glia_view(zeros);
        op.t[3] = glia_view(xhat), op.t[6] = glia_view(rm), op.t[7] = glia_view(rv);
        if ((s = glia_run(x->dev, &op)) == GLIA_STATUS_OK && (s = glia_mul(xhat, g, &prod)) == GLIA_STATUS_OK &&
            (s = glia_tensor_empty_like(gamma, &dg)) == GLIA_STATUS_OK) {
            red.t[0] = glia_view(prod), red.t[1] = glia_view(dg);
            if ((s = glia_run(x->dev, &red)) == GLIA_STATUS_OK)
                s = glia_grad_accum(gamma, dg);
        }
    }
    if (s == GLIA_STATUS_OK && beta->requires_grad && (s = glia_tensor_empty_like(beta, &db)) == GLIA_STATUS_OK) {
        red.t[0] = glia_view(g), red.t[1] = glia_view(db);
        if ((s = glia_run(x->dev, &red)) == GLIA_STATUS_OK)
            s = glia_grad_accum(beta, db);
    }
    glia_tensor_free(dx);
    glia_tensor_free(xhat);
    glia_tensor_free(prod);
    glia_tensor_free(dg);
    glia_tensor_free(db);
    return s;
}

static glia_status check_channel_vec(const glia_tensor *v, const glia_tensor *x, const char *what)
{
    glia_status s = glia_check_tensor(v, what);
    if (s == GLIA_STATUS_OK)
        s = glia_check_same_device(v, x, what);
    if (s == GLIA_STATUS_OK && (v->ndim != 1 || v->shape[0] != x->shape[1]))
        return glia_seterr(GLIA_STATUS_SHAPE_MISMATCH, "%s must have shape [%lld]", what, (long long)x->shape[1]);
    return s;
}

glia_status glia_bn_check_(const glia_tensor *x, const glia_tensor *gamma, const glia_tensor *beta,
                           const glia_tensor *running_mean, const glia_tensor *running_var, int training,
                           float momentum, float eps, const char *name)
{
    glia_status s;
    if ((s = need_nc(x, 2, name)) != GLIA_STATUS_OK ||
        (s = check_channel_vec(gamma, x, "batch norm weight")) != GLIA_STATUS_OK ||
        (s = check_channel_vec(beta, x, "batch norm bias")) != GLIA_STATUS_OK)
        return s;
    if ((running_mean || !training) && (s = check_channel_vec(running_mean, x, "batch norm running_mean")) != GLIA_STATUS_OK)
        return s;
    if ((running_var || !training) && (s = check_channel_vec(running_var, x, "batch norm running_var")) != GLIA_STATUS_OK)
        return s;
    if (!!running_mean != !!running_var)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "%s: give both running statistics or neither", name);
    if (!(eps > 0) || !(momentum >= 0 && momentum <= 1))
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "%s: eps %g must be > 0, momentum %g in [0,1]",
                           name, eps, momentum);
    if (training && x->numel / x->shape[1] < 2)
        return glia_seterr(GLIA_STATUS_SHAPE_MISMATCH,
                           "%s: training needs more than one value per channel (PyTorch rule)", name);
    return GLIA_STATUS_OK;
}

void glia_bn_dims_(glia_op *op, const glia_tensor *x, float eps, float momentum)
{
    op->p.bn.n = (size_t)x->shape[0];
    op->p.bn.c = (size_t)x->shape[1];
    op->p.bn.s = (size_t)spatial(x);
    op->p.bn.eps = eps;
    op->p.bn.momentum = momentum;
}

glia_status glia_batch_norm(glia_tensor *x, glia_tensor *gamma, glia_tensor *beta, glia_tensor *running_mean,
                            glia_tensor *running_var, int training, float momentum, float eps, glia_tensor **out)
{
    glia_status s;
    if (!out)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_batch_norm: out is NULL");
    *out = NULL;
    if ((s = glia_bn_check_(x, gamma, beta, running_mean, running_var, training, momentum, eps, "glia_batch_norm")) !=
        GLIA_STATUS_OK)
        return s;
    glia_device *dev = x->dev;
    glia_tensor *in[3] = {x, gamma, beta}, *saved[4] = {NULL, NULL, NULL, NULL};
    int grad = glia_grad_needed(dev, in, 3);
    if ((s = glia_tensor_empty_like(x, out)) != GLIA_STATUS_OK)
        return s;
    glia_op op = {.kind = training ? GLIA_OP_BN_FWD_TRAIN : GLIA_OP_BN_FWD_INFER,
                  .t = {glia_view(x), glia_view(gamma), glia_view(beta), glia_view(*out)}};
    glia_bn_dims_(&op, x, eps, momentum);
    op.t[6] = glia_view(running_mean);
    op.t[7] = glia_view(running_var);
    if (training) {
        if ((s = glia_tensor_empty_like(gamma, &saved[0])) == GLIA_STATUS_OK &&
            (s = glia_tensor_empty_like(gamma, &saved[1])) == GLIA_STATUS_OK) {
            op.t[4] = glia_view(saved[0]);
            op.t[5] = glia_view(saved[1]);
        }
    } else if (grad) {
        saved[0] = glia_tensor_retain(running_var);
        saved[3] = glia_tensor_retain(running_mean);
        if ((s = glia_tensor_zeros(dev, 1, gamma->shape, &saved[1])) == GLIA_STATUS_OK)
            s = glia_tensor_full(dev, 1, gamma->shape, 1.0f, &saved[2]);
    }
    if (s == GLIA_STATUS_OK)
        s = glia_run(dev, &op);
    glia_node *nd;
    if (s == GLIA_STATUS_OK && grad &&
        (s = glia_tape_record(dev, training ? bn_train_backward : bn_eval_backward, *out, in, 3, &nd)) ==
            GLIA_STATUS_OK) {
        memcpy(nd->saved, saved, sizeof saved);
        memset(saved, 0, sizeof saved);
        nd->p.bn.eps = eps;
        glia_tape_gradonly(nd, GLIA_NODE_OUT);   /* backward reads x and the saved statistics */
    }
    for (int i = 0; i < 4; i++)
        glia_tensor_free(saved[i]);
    return glia_out_fail(s, out);
}

/* ---- pooling and upsampling ---------------------------------------------- */
static glia_status pool_desc(const glia_tensor *x, const int *kernel, const int *stride, int upsample,
                             const char *name, glia_pool_desc *d, int64_t *oshape)
{
    int nsp = x->ndim - 2, ax0 = 3 - nsp;
    if (!kernel)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "%s: %s is NULL", name, upsample ? "scale" : "kernel");
    memset(d, 0, sizeof *d);
    d->planes = x->shape[0] * x->shape[1];
    oshape[0] = x->shape[0];
    oshape[1] = x->shape[1];
    for (int a = 0; a < 3; a++)
        d->in[a] = d->out[a] = d->k[a] = d->stride[a] = 1;
    for (int i = 0; i < nsp; i++) {
        int a = ax0 + i, k = kernel[i], st = stride && stride[i] ? stride[i] : k;
        int64_t in = x->shape[2 + i];
        if (k < 1 || k > 64 || st < 1 || st > 64)
            return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "%s: %s %d / stride %d on axis %d (1 to 64 allowed)",
                               name, upsample ? "scale" : "kernel", k, st, i);
        if (!upsample && in < k)
            return glia_seterr(GLIA_STATUS_SHAPE_MISMATCH, "%s: axis %d has size %lld, smaller than kernel %d",
                               name, i, (long long)in, k);
        d->in[a] = in;
        d->out[a] = upsample ? in * k : (in - k) / st + 1;
        d->k[a] = k;
        d->stride[a] = upsample ? 1 : st;
        oshape[2 + i] = d->out[a];
    }
    return GLIA_STATUS_OK;
}

/* in: x; saved: argmax indices. */
static glia_status pool_backward(glia_node *nd, glia_tensor *g)
{
    glia_tensor *gx = NULL;
    glia_status s = glia_tensor_empty_like(nd->in[0], &gx);
    if (s != GLIA_STATUS_OK)
        return s;
    int up = nd->saved[0] == NULL;
    glia_op op = {.kind = up ? GLIA_OP_UPSAMPLE_BWD : GLIA_OP_MAXPOOL_BWD};
    op.p.pool = nd->p.pool;
    op.t[0] = glia_view(g);
    op.t[up ? 1 : 2] = glia_view(gx);
    if (!up)
        op.t[1] = glia_view(nd->saved[0]);
    if ((s = glia_run(g->dev, &op)) == GLIA_STATUS_OK)
        s = glia_grad_accum(nd->in[0], gx);
    glia_tensor_free(gx);
    return s;
}

static glia_status pool_impl(glia_tensor *x, const int *kernel, const int *stride, int upsample, glia_tensor **out)
{
    const char *name = upsample ? "glia_upsample_nearest" : "glia_max_pool";
    glia_status s;
    if (!out)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "%s: out is NULL", name);
    *out = NULL;
    if ((s = need_nc(x, 3, name)) != GLIA_STATUS_OK)
        return s;
    if (x->ndim > 5)
        return glia_seterr(GLIA_STATUS_SHAPE_MISMATCH, "%s: at most 3 spatial axes", name);
    glia_pool_desc d;
    int64_t oshape[GLIA_MAX_DIMS];
    if ((s = pool_desc(x, kernel, stride, upsample, name, &d, oshape)) != GLIA_STATUS_OK)
        return s;
    glia_tensor *idx = NULL;
    if ((s = glia_tensor_empty(x->dev, x->ndim, oshape, out)) != GLIA_STATUS_OK)
        return s;
    if (!upsample)
        s = glia_tensor_empty_typed(x->dev, GLIA_ETYPE_I32, x->ndim, oshape, &idx);
    glia_op op = {.kind = upsample ? GLIA_OP_UPSAMPLE_FWD : GLIA_OP_MAXPOOL_FWD,
                  .t = {glia_view(x), glia_view(*out), glia_view(idx)}};
    op.p.pool = d;
    if (s == GLIA_STATUS_OK)
        s = glia_run(x->dev, &op);
    glia_node *nd;
    if (s == GLIA_STATUS_OK && glia_grad_needed(x->dev, &x, 1) &&
        (s = glia_tape_record(x->dev, pool_backward, *out, &x, 1, &nd)) == GLIA_STATUS_OK) {
        nd->p.pool = d;
        nd->saved[0] = idx;
        idx = NULL;
        glia_tape_gradonly(nd, 1u | GLIA_NODE_OUT);   /* backward needs shapes and indices only */
    }
    glia_tensor_free(idx);
    return glia_out_fail(s, out);
}

glia_status glia_max_pool(glia_tensor *x, const int *kernel, const int *stride, glia_tensor **out)
{
    return pool_impl(x, kernel, stride, 0, out);
}

glia_status glia_upsample_nearest(glia_tensor *x, const int *scale, glia_tensor **out)
{
    return pool_impl(x, scale, NULL, 1, out);
}

/* ---- softmax and argmax over channels ------------------------------------- */

/* x as [before, shape[axis], after]: the channel ops' [N, C, S] over any axis
 * (the last axis is S = 1, attention's softmax). */
static void axis_dims(glia_op *op, const glia_tensor *x, int axis)
{
    size_t before = 1, after = 1;
    for (int i = 0; i < axis; i++)
        before *= (size_t)x->shape[i];
    for (int i = axis + 1; i < x->ndim; i++)
        after *= (size_t)x->shape[i];
    op->p.chan.n = before;
    op->p.chan.c = (size_t)x->shape[axis];
    op->p.chan.s = after;
    op->p.chan.scale = 1.0f;
}

static void chan_dims(glia_op *op, const glia_tensor *x) { axis_dims(op, x, 1); }

static glia_status softmax_backward(glia_node *nd, glia_tensor *g)
{
    glia_tensor *gx = NULL;
    glia_status s = glia_tensor_empty_like(g, &gx);
    if (s != GLIA_STATUS_OK)
        return s;
    glia_op op = {.kind = GLIA_OP_SOFTMAX_BWD, .t = {glia_view(nd->out), glia_view(g), glia_view(gx)}};
    axis_dims(&op, g, nd->p.softmax.axis);
    if ((s = glia_run(g->dev, &op)) == GLIA_STATUS_OK)
        s = glia_grad_accum(nd->in[0], gx);
    glia_tensor_free(gx);
    return s;
}

glia_status glia_softmax_axis(glia_tensor *x, int axis, glia_tensor **out)
{
    glia_status s;
    if (!out)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_softmax_axis: out is NULL");
    *out = NULL;
    if ((s = glia_check_tensor(x, "glia_softmax_axis")) != GLIA_STATUS_OK)
        return s;
    int a = axis < 0 ? axis + x->ndim : axis;
    if (a < 0 || a >= x->ndim)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_softmax_axis: axis %d out of range for a %d-dimensional tensor",
                           axis, x->ndim);
    if ((s = glia_tensor_empty_like(x, out)) != GLIA_STATUS_OK)
        return s;
    glia_op op = {.kind = GLIA_OP_SOFTMAX_FWD, .t = {glia_view(x), glia_view(*out)}};
    axis_dims(&op, x, a);
    s = glia_run(x->dev, &op);
    glia_node *nd;
    if (s == GLIA_STATUS_OK && glia_grad_needed(x->dev, &x, 1) &&
        (s = glia_tape_record(x->dev, softmax_backward, *out, &x, 1, &nd)) == GLIA_STATUS_OK) {
        nd->p.softmax.axis = a;
        glia_tape_gradonly(nd, 1u);   /* the backward reads the output, not the input */
    }
    return glia_out_fail(s, out);
}

glia_status glia_softmax(glia_tensor *x, glia_tensor **out)
{
    glia_status s = need_nc(x, 2, "glia_softmax");
    if (s != GLIA_STATUS_OK) {
        if (out)
            *out = NULL;
        return s;
    }
    return glia_softmax_axis(x, 1, out);
}

glia_status glia_argmax_channels(glia_tensor *x, glia_tensor **out)
{
    glia_status s;
    if (!out)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_argmax_channels: out is NULL");
    *out = NULL;
    if ((s = need_nc(x, 2, "glia_argmax_channels")) != GLIA_STATUS_OK)
        return s;
    int64_t shape[GLIA_MAX_DIMS];
    memcpy(shape, x->shape, sizeof shape);
    shape[1] = 1;
    if ((s = glia_tensor_empty(x->dev, x->ndim, shape, out)) != GLIA_STATUS_OK)
        return s;
    glia_op op = {.kind = GLIA_OP_ARGMAX, .t = {glia_view(x), glia_view(*out)}};
    chan_dims(&op, x);
    return glia_out_fail(glia_run(x->dev, &op), out);
}
