/* Batch norm folded into the convolution before it, for inference: with
 * running statistics, bn(conv(x, w) + b) = conv(x, w') + b' where, per output
 * channel c, s = gamma / sqrt(var + eps), w' = w * s and b' = (b - mean) * s
 * + beta. One pass over the activation less per layer.
 *
 * Both folded tensors come from the batch norm op itself, so they follow its
 * exact arithmetic on every backend: w' is batch norm (inference) of w seen
 * as [1, cout, cin * k...] with zero mean and shift, b' is batch norm of b
 * (or of zeros) seen as [1, cout, 1]. They are recomputed at every forward
 * (the weights are a small fraction of a forward's work), so no cache can go
 * stale when training or loading changes the parameters. */
#include "core/error.h"
#include "model_impl.h"

/* bn(t seen as [1, cout, rest]), reshaped back to t's shape. */
static glia_status bn_as(glia_tensor *t, const glia_mbn *bn, glia_tensor *beta, glia_tensor *mean,
                         glia_tensor **out)
{
    int nd = glia_tensor_ndim(t);
    int64_t shape[8], cout = glia_tensor_dim(t, 0);
    for (int i = 0; i < nd && i < 8; i++)
        shape[i] = glia_tensor_dim(t, i);
    int64_t v[3] = {1, cout, glia_tensor_numel(t) / cout};
    glia_tensor *tv = NULL, *y = NULL;
    glia_status s = glia_tensor_reshape(t, 3, v, &tv);
    if (s == GLIA_STATUS_OK)
        s = glia_batch_norm(tv, bn->gamma, beta, mean, bn->var, 0, GLIA_MBN_MOMENTUM, GLIA_MBN_EPS, &y);
    if (s == GLIA_STATUS_OK)
        s = glia_tensor_reshape(y, nd, shape, out);
    glia_tensor_free(tv);
    glia_tensor_free(y);
    return s;
}

glia_status glia_mbn_fold(const glia_mconv *c, const glia_mbn *bn, glia_tensor **w, glia_tensor **b)
{
    int64_t cout = glia_tensor_dim(c->w, 0);
    glia_tensor *zeros = NULL;
    *w = *b = NULL;
    glia_status s = glia_tensor_zeros(glia_tensor_device(c->w), 1, &cout, &zeros);
    if (s == GLIA_STATUS_OK && glia_tensor_ndim(c->w) > 8)
        s = glia_seterr(GLIA_STATUS_INTERNAL, "batch norm folding: a weight of rank %d", glia_tensor_ndim(c->w));
    if (s == GLIA_STATUS_OK)
        s = bn_as(c->w, bn, zeros, zeros, w);
    if (s == GLIA_STATUS_OK)
        s = bn_as(c->b ? c->b : zeros, bn, bn->beta, bn->mean, b);
    glia_tensor_free(zeros);
    if (s != GLIA_STATUS_OK) {
        glia_tensor_free(*w);
        glia_tensor_free(*b);
        *w = *b = NULL;
    }
    return s;
}
