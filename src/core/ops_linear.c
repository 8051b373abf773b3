/* A fully connected layer over the last axis, y = x W^T + b (PyTorch's
 * nn.Linear, weight [out, in]): the transformer blocks' projections and MLPs.
 * Composed of differentiable ops (reshape, matmul, broadcasting add), so its
 * gradients come from theirs. */
#include "core.h"

glia_status glia_linear(glia_tensor *x, glia_tensor *w, glia_tensor *b, glia_tensor **out)
{
    glia_status s;
    if (!out)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_linear: out is NULL");
    *out = NULL;
    if ((s = glia_check_tensor(x, "glia_linear: x")) != GLIA_STATUS_OK ||
        (s = glia_check_tensor(w, "glia_linear: weight")) != GLIA_STATUS_OK)
        return s;
    int64_t in = x->shape[x->ndim - 1];
    if (w->ndim != 2 || w->shape[1] != in || (b && (b->ndim != 1 || b->shape[0] != w->shape[0]))) {
        char sx[64], sw[64], sb[64] = "none";
        return glia_seterr(GLIA_STATUS_SHAPE_MISMATCH, "glia_linear: input %s, weight %s (want [out, %lld]), bias %s",
                           glia_shape_str(x, sx, sizeof sx), glia_shape_str(w, sw, sizeof sw), (long long)in,
                           b ? glia_shape_str(b, sb, sizeof sb) : sb);
    }
    int64_t flat[2] = {x->numel / in, in}, shape[GLIA_MAX_DIMS];
    for (int i = 0; i < x->ndim; i++)
        shape[i] = x->shape[i];
    shape[x->ndim - 1] = w->shape[0];
    glia_tensor *x2 = NULL, *y2 = NULL, *yb = NULL;
    if ((s = glia_tensor_reshape(x, 2, flat, &x2)) == GLIA_STATUS_OK &&
        (s = glia_matmul(x2, w, 0, 1, &y2)) == GLIA_STATUS_OK && (!b || (s = glia_add_broadcast(y2, b, &yb)) == GLIA_STATUS_OK))
        s = glia_tensor_reshape(yb ? yb : y2, x->ndim, shape, out);
    glia_tensor_free(x2);
    glia_tensor_free(y2);
    glia_tensor_free(yb);
    return s;
}
