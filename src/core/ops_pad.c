/* Zero padding (F.pad with zeros): windowed attention pads feature maps to
 * window multiples. One strided copy into a zeroed tensor; the backward copies
 * the interior of the gradient back out. */
#include <string.h>
#include "core.h"

/* Copy between x-shaped data and the interior of the padded tensor p
 * (the block at offsets before[k] on each axis). to_p: x -> p, else p -> x. */
static glia_status interior_copy(glia_tensor *x, glia_tensor *p, const int64_t *before, int to_p)
{
    int64_t xs[GLIA_MAX_DIMS], ps[GLIA_MAX_DIMS];
    glia_contiguous_strides(x->ndim, x->shape, xs);
    glia_contiguous_strides(p->ndim, p->shape, ps);
    size_t off = 0;
    for (int k = 0; k < x->ndim; k++)
        off += (size_t)(before[k] * ps[k]);
    if (to_p)
        return glia_copy_region(x, 0, xs, p, off, ps, x->ndim, x->shape, 0.0f);
    return glia_copy_region(p, off, ps, x, 0, xs, x->ndim, x->shape, 0.0f);
}

static glia_status pad_backward(glia_node *nd, glia_tensor *g)
{
    glia_tensor *x = nd->in[0], *gx = NULL;
    glia_status s = glia_tensor_empty_like(x, &gx);
    if (s == GLIA_STATUS_OK && (s = interior_copy(gx, g, nd->p.pad.before, 0)) == GLIA_STATUS_OK)
        s = glia_grad_accum(x, gx);
    glia_tensor_free(gx);
    return s;
}

glia_status glia_pad(glia_tensor *x, const int64_t *before, const int64_t *after, glia_tensor **out)
{
    glia_status s;
    if (!out)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_pad: out is NULL");
    *out = NULL;
    if ((s = glia_check_tensor(x, "glia_pad")) != GLIA_STATUS_OK)
        return s;
    if (!before || !after)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_pad: the padding arrays are NULL");
    int64_t shape[GLIA_MAX_DIMS];
    for (int k = 0; k < x->ndim; k++) {
        if (before[k] < 0 || after[k] < 0 || before[k] > ((int64_t)1 << 32) || after[k] > ((int64_t)1 << 32))
            return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_pad: axis %d: padding %lld before, %lld after "
                               "(0 to 2^32 allowed)", k, (long long)before[k], (long long)after[k]);
        shape[k] = x->shape[k] + before[k] + after[k];
    }
    if ((s = glia_tensor_zeros(x->dev, x->ndim, shape, out)) != GLIA_STATUS_OK)
        return s;
    if ((s = interior_copy(x, *out, before, 1)) != GLIA_STATUS_OK)
        return glia_out_fail(s, out);
    glia_node *nd;
    if (glia_grad_needed(x->dev, &x, 1) &&
        (s = glia_tape_record(x->dev, pad_backward, *out, &x, 1, &nd)) == GLIA_STATUS_OK) {
        memcpy(nd->p.pad.before, before, (size_t)x->ndim * sizeof *before);
        glia_tape_gradonly(nd, 1u | GLIA_NODE_OUT);   /* the backward moves the gradient by shape alone */
    }
    return glia_out_fail(s, out);
}
