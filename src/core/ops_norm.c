/* Layer norm over the last dimension and, through it, instance norm. */
#include <string.h>
#include "core.h"

glia_status glia_norm_backward(glia_op *op, glia_node *nd, glia_tensor *g, int params_optional)
{
    glia_tensor *x = nd->in[0], *gamma = nd->in[1], *beta = nd->in[2];
    glia_tensor *dx = NULL, *dg = NULL, *db = NULL;
    glia_status s = glia_tensor_empty_like(x, &dx);
    /* where the op allows it, parameter gradients only where one is wanted:
     * each is a reduction over all rows */
    if (s == GLIA_STATUS_OK && gamma && (!params_optional || gamma->requires_grad))
        s = glia_tensor_empty_like(gamma, &dg);
    if (s == GLIA_STATUS_OK && beta && (!params_optional || beta->requires_grad))
        s = glia_tensor_empty_like(beta, &db);
    if (s == GLIA_STATUS_OK) {
        glia_bview t[8] = {glia_view(x),    glia_view(gamma), glia_view(g),  glia_view(nd->saved[0]),
                           glia_view(nd->saved[1]), glia_view(dx), glia_view(dg), glia_view(db)};
        memcpy(op->t, t, sizeof t);
        if ((s = glia_run(x->dev, op)) == GLIA_STATUS_OK && (s = glia_grad_accum(x, dx)) == GLIA_STATUS_OK &&
            (!dg || (s = glia_grad_accum(gamma, dg)) == GLIA_STATUS_OK) && db)
            s = glia_grad_accum(beta, db);
    }
    glia_tensor_free(dx);
    glia_tensor_free(dg);
    glia_tensor_free(db);
    return s;
}

/* in: x, gamma, beta (either may be NULL); saved: mean[R], invstd[R]. */
static glia_status ln_backward(glia_node *nd, glia_tensor *g)
{
    glia_tensor *x = nd->in[0];
    int64_t cols = x->shape[x->ndim - 1];
    glia_op op = {.kind = GLIA_OP_LN_BWD};
    op.p.ln.rows = (size_t)(x->numel / cols);
    op.p.ln.cols = (size_t)cols;
    op.p.ln.eps = nd->p.ln.eps;
    return glia_norm_backward(&op, nd, g, 1);
}

static glia_status check_param(const glia_tensor *v, const glia_tensor *x, int64_t cols, const char *what)
{
    if (!v)
        return GLIA_STATUS_OK;   /* no affine part */
    glia_status s = glia_check_same_device(v, x, what);
    if (s == GLIA_STATUS_OK && (v->ndim != 1 || v->shape[0] != cols))
        return glia_seterr(GLIA_STATUS_SHAPE_MISMATCH, "%s must have shape [%lld] (x's last dimension)", what,
                           (long long)cols);
    return s;
}

glia_status glia_layer_norm(glia_tensor *x, glia_tensor *gamma, glia_tensor *beta, float eps, glia_tensor **out)
{
    glia_status s;
    if (!out)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_layer_norm: out is NULL");
    *out = NULL;
    if ((s = glia_check_tensor(x, "glia_layer_norm input")) != GLIA_STATUS_OK)
        return s;
    if (x->ndim < 1 || x->numel == 0) {
        char b[64];
        return glia_seterr(GLIA_STATUS_SHAPE_MISMATCH, "glia_layer_norm: input %s has no elements to normalise",
                           glia_shape_str(x, b, sizeof b));
    }
    int64_t cols = x->shape[x->ndim - 1];
    if ((s = check_param(gamma, x, cols, "layer norm weight")) != GLIA_STATUS_OK ||
        (s = check_param(beta, x, cols, "layer norm bias")) != GLIA_STATUS_OK)
        return s;
    if (!(eps > 0))
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_layer_norm: eps %g must be > 0", eps);
    glia_device *dev = x->dev;
    glia_tensor *in[3] = {x, gamma, beta}, *saved[2] = {NULL, NULL};
    int64_t rows = x->numel / cols;
    if ((s = glia_tensor_empty_like(x, out)) != GLIA_STATUS_OK)
        return s;
    if ((s = glia_tensor_empty(dev, 1, &rows, &saved[0])) == GLIA_STATUS_OK)
        s = glia_tensor_empty(dev, 1, &rows, &saved[1]);
    if (s == GLIA_STATUS_OK) {
        glia_op op = {.kind = GLIA_OP_LN_FWD,
                      .t = {glia_view(x), glia_view(gamma), glia_view(beta), glia_view(*out), glia_view(saved[0]),
                            glia_view(saved[1])}};
        op.p.ln.rows = (size_t)rows;
        op.p.ln.cols = (size_t)cols;
        op.p.ln.eps = eps;
        s = glia_run(dev, &op);
    }
    glia_node *nd;
    if (s == GLIA_STATUS_OK && glia_grad_needed(dev, in, 3) &&
        (s = glia_tape_record(dev, ln_backward, *out, in, 3, &nd)) == GLIA_STATUS_OK) {
        memcpy(nd->saved, saved, sizeof saved);
        memset(saved, 0, sizeof saved);
        nd->p.ln.eps = eps;
        /* backward reads x, gamma and the saved statistics, never y or beta */
        glia_tape_gradonly(nd, GLIA_NODE_OUT | 1u << 2);
    }
    glia_tensor_free(saved[0]);
    glia_tensor_free(saved[1]);
    return glia_out_fail(s, out);
}

/* x[N, C, spatial...] viewed as [N*C, prod(spatial)]: one layer-norm row per
 * plane, then the original shape back. Both reshapes pass gradients. */
glia_status glia_instance_norm(glia_tensor *x, float eps, glia_tensor **out)
{
    glia_status s;
    if (!out)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_instance_norm: out is NULL");
    *out = NULL;
    if ((s = glia_check_tensor(x, "glia_instance_norm input")) != GLIA_STATUS_OK)
        return s;
    if (x->ndim < 3) {
        char b[64];
        return glia_seterr(GLIA_STATUS_SHAPE_MISMATCH,
                           "glia_instance_norm: input %s needs at least 3 dimensions (N, C, spatial...)",
                           glia_shape_str(x, b, sizeof b));
    }
    int64_t planes = x->shape[0] * x->shape[1], flat[2] = {planes, planes ? x->numel / planes : 0};
    glia_tensor *rows = NULL, *normed = NULL;
    if ((s = glia_tensor_reshape(x, 2, flat, &rows)) == GLIA_STATUS_OK &&
        (s = glia_layer_norm(rows, NULL, NULL, eps, &normed)) == GLIA_STATUS_OK)
        s = glia_tensor_reshape(normed, x->ndim, x->shape, out);
    glia_tensor_free(rows);
    glia_tensor_free(normed);
    return s;
}
