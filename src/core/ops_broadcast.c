/* Broadcasting addition, y = x + b with b's size-1 axes repeated (NumPy and
 * PyTorch rules, b aligned to x's trailing axes): attention's relative
 * position bias and shifted-window mask. The forward is two strided copies
 * (the second reads b with stride 0 along repeated axes and accumulates); b's
 * gradient sums the repeated axes: one permute then one REDUCE. */
#include <string.h>
#include "core.h"

/* in[0] = x, in[1] = b; b's shape is padded to x's rank with leading 1s. */
static glia_status add_broadcast_backward(glia_node *nd, glia_tensor *g)
{
    glia_tensor *x = nd->in[0], *b = nd->in[1];
    glia_status s = glia_grad_accum(x, g);
    if (s != GLIA_STATUS_OK || !b->requires_grad)
        return s;
    int nd_ = g->ndim, lead = g->ndim - b->ndim, order[GLIA_MAX_DIMS], n = 0;
    int64_t kept = 1, summed = 1;
    /* the repeated axes first, then b's own axes in order */
    for (int k = 0; k < nd_; k++)
        if (k < lead || (b->shape[k - lead] == 1 && g->shape[k] != 1))
            order[n++] = k, summed *= g->shape[k];
    for (int k = 0; k < nd_; k++)
        if (!(k < lead || (b->shape[k - lead] == 1 && g->shape[k] != 1)))
            order[n++] = k, kept *= g->shape[k];
    int64_t gs[GLIA_MAX_DIMS], shape[GLIA_MAX_DIMS], src[GLIA_MAX_DIMS], dst[GLIA_MAX_DIMS];
    glia_contiguous_strides(nd_, g->shape, gs);
    for (int i = 0; i < nd_; i++)
        shape[i] = g->shape[order[i]], src[i] = gs[order[i]];
    glia_contiguous_strides(nd_, shape, dst);
    int64_t all = summed * kept;
    glia_tensor *perm = NULL, *db = NULL;
    if ((s = glia_tensor_empty(g->dev, 1, &all, &perm)) == GLIA_STATUS_OK &&
        (s = glia_copy_region(g, 0, src, perm, 0, dst, nd_, shape, 0.0f)) == GLIA_STATUS_OK &&
        (s = glia_tensor_empty_like(b, &db)) == GLIA_STATUS_OK) {
        glia_op op = {.kind = GLIA_OP_REDUCE, .t = {glia_view(perm), glia_view(db)}};
        op.p.bcast.a = (size_t)summed;
        op.p.bcast.b = (size_t)kept;
        op.p.bcast.c = 1;
        op.p.bcast.alpha = 1.0f;
        op.p.bcast.beta = 0.0f;
        if ((s = glia_run(g->dev, &op)) == GLIA_STATUS_OK)
            s = glia_grad_accum(b, db);
    }
    glia_tensor_free(perm);
    glia_tensor_free(db);
    return s;
}

glia_status glia_add_broadcast(glia_tensor *x, glia_tensor *b, glia_tensor **out)
{
    glia_status s;
    if (!out)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_add_broadcast: out is NULL");
    *out = NULL;
    if ((s = glia_check_tensor(x, "glia_add_broadcast: x")) != GLIA_STATUS_OK ||
        (s = glia_check_tensor(b, "glia_add_broadcast: b")) != GLIA_STATUS_OK ||
        (s = glia_check_same_device(x, b, "glia_add_broadcast")) != GLIA_STATUS_OK)
        return s;
    int lead = x->ndim - b->ndim, ok = lead >= 0;
    for (int k = 0; ok && k < b->ndim; k++)
        ok = b->shape[k] == 1 || b->shape[k] == x->shape[lead + k];
    if (!ok) {
        char sx[64], sb[64];
        return glia_seterr(GLIA_STATUS_SHAPE_MISMATCH, "glia_add_broadcast: %s does not broadcast to %s",
                           glia_shape_str(b, sb, sizeof sb), glia_shape_str(x, sx, sizeof sx));
    }
    int64_t xs[GLIA_MAX_DIMS], bs[GLIA_MAX_DIMS], src[GLIA_MAX_DIMS];
    glia_contiguous_strides(x->ndim, x->shape, xs);
    glia_contiguous_strides(b->ndim, b->shape, bs);
    for (int k = 0; k < x->ndim; k++)
        src[k] = k < lead || b->shape[k - lead] == 1 ? 0 : bs[k - lead];
    if ((s = glia_tensor_empty_like(x, out)) != GLIA_STATUS_OK)
        return s;
    if ((s = glia_copy_region(x, 0, xs, *out, 0, xs, x->ndim, x->shape, 0.0f)) != GLIA_STATUS_OK ||
        (s = glia_copy_region(b, 0, src, *out, 0, xs, x->ndim, x->shape, 1.0f)) != GLIA_STATUS_OK)
        return glia_out_fail(s, out);
    glia_tensor *in[2] = {x, b};
    glia_node *nd;
    if (glia_grad_needed(x->dev, in, 2) &&
        (s = glia_tape_record(x->dev, add_broadcast_backward, *out, in, 2, &nd)) == GLIA_STATUS_OK)
        glia_tape_gradonly(nd, 3u | GLIA_NODE_OUT);   /* only shapes are read */
    return glia_out_fail(s, out);
}
