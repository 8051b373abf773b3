/* Tensor lifetime, host transfers, shape queries and the shared argument checks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core.h"

glia_status glia_run(glia_device *dev, const glia_op *op)
{
    if (!dev->be->supports(dev->ctx, op)) {
        const char *mode = glia_op_mode_name(op);
        return glia_seterr(GLIA_STATUS_UNSUPPORTED, "op %s%s%s is not supported by the %s backend (%s:%d)",
                           glia_op_name(op->kind), mode ? " mode " : "", mode ? mode : "", dev->be->name,
                           dev->info.backend, dev->info.index);
    }
    glia_status s = dev->be->run(dev->ctx, op);
    if (s != GLIA_STATUS_OK) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", glia_last_error());
        return glia_seterr(s, "op %s on %s:%d: %s", glia_op_name(op->kind), dev->info.backend,
                           dev->info.index, msg);
    }
    return GLIA_STATUS_OK;
}

glia_status glia_out_fail(glia_status s, glia_tensor **out)
{
    if (s != GLIA_STATUS_OK && out) {
        glia_tensor_free(*out);
        *out = NULL;
    }
    return s;
}

const char *glia_shape_str(const glia_tensor *t, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; t && i < t->ndim && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, i ? "x%lld" : "%lld", (long long)t->shape[i]);
    return buf;
}

glia_status glia_check_tensor(const glia_tensor *t, const char *what)
{
    if (!t)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "%s is NULL", what);
    return GLIA_STATUS_OK;
}

glia_status glia_check_same_device(const glia_tensor *a, const glia_tensor *b, const char *what)
{
    if (a->dev != b->dev)
        return glia_seterr(GLIA_STATUS_DEVICE_MISMATCH, "%s: tensors are on %s:%d and %s:%d%s", what,
                           a->dev->info.backend, a->dev->info.index, b->dev->info.backend, b->dev->info.index,
                           strcmp(a->dev->info.backend, b->dev->info.backend) == 0 &&
                                   a->dev->info.index == b->dev->info.index
                               ? " (two separately opened devices)"
                               : "");
    return GLIA_STATUS_OK;
}

glia_status glia_check_same_shape(const glia_tensor *a, const glia_tensor *b, const char *what)
{
    glia_status s = glia_check_same_device(a, b, what);
    if (s != GLIA_STATUS_OK)
        return s;
    int same = a->ndim == b->ndim;
    for (int i = 0; same && i < a->ndim; i++)
        same = a->shape[i] == b->shape[i];
    if (!same) {
        char sa[64], sb[64];
        return glia_seterr(GLIA_STATUS_SHAPE_MISMATCH, "%s: shapes %s and %s differ", what,
                           glia_shape_str(a, sa, sizeof sa), glia_shape_str(b, sb, sizeof sb));
    }
    return GLIA_STATUS_OK;
}

static glia_status check_shape(int ndim, const int64_t *shape, int64_t *numel)
{
    if (ndim < 1 || ndim > GLIA_MAX_DIMS)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "tensor: %d dimensions (1 to %d allowed)",
                           ndim, GLIA_MAX_DIMS);
    if (!shape)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "tensor: shape is NULL");
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) {
        /* 2^40 elements bounds every product below and keeps byte counts in size_t */
        if (shape[i] < 1 || shape[i] > ((int64_t)1 << 40) / n)
            return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT,
                               "tensor: dimension %d has size %lld (must be >= 1 and the total < 2^40)",
                               i, (long long)shape[i]);
        n *= shape[i];
    }
    *numel = n;
    return GLIA_STATUS_OK;
}

void glia_contiguous_strides(int ndim, const int64_t *shape, int64_t *stride)
{
    int64_t s = 1;
    for (int k = ndim - 1; k >= 0; k--) {
        stride[k] = s;
        s *= shape[k];
    }
}

glia_status glia_tensor_empty(glia_device *dev, int ndim, const int64_t *shape, glia_tensor **out)
{
    return glia_tensor_empty_typed(dev, GLIA_ETYPE_F32, ndim, shape, out);
}

glia_status glia_tensor_empty_typed(glia_device *dev, glia_etype etype, int ndim, const int64_t *shape,
                                    glia_tensor **out)
{
    int64_t numel = 0;
    glia_status s;
    if (!out)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "tensor: out is NULL");
    *out = NULL;
    if (!dev)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "tensor: device is NULL");
    if ((s = check_shape(ndim, shape, &numel)) != GLIA_STATUS_OK)
        return s;
    size_t esize = glia_etype_size(etype);
    if (!esize)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "tensor: element type %d is not one of GLIA_ETYPES", (int)etype);
    glia_tensor *t = glia_tensor_struct(dev);
    if (!t)
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "tensor: no host memory");
    if ((s = glia_alloc_block(dev, (size_t)numel * esize, &t->storage)) != GLIA_STATUS_OK) {
        glia_tensor_free(t);
        return s;
    }
    t->ndim = ndim;
    t->etype = etype;
    memcpy(t->shape, shape, (size_t)ndim * sizeof *shape);
    glia_contiguous_strides(ndim, shape, t->stride);
    t->numel = numel;
    *out = t;
    return GLIA_STATUS_OK;
}

glia_status glia_tensor_empty_like(const glia_tensor *t, glia_tensor **out)
{
    return glia_tensor_empty_typed(t->dev, t->etype, t->ndim, t->shape, out);
}

glia_status glia_tensor_full(glia_device *dev, int ndim, const int64_t *shape, float value,
                             glia_tensor **out)
{
    glia_status s = glia_tensor_empty(dev, ndim, shape, out);
    if (s == GLIA_STATUS_OK && (s = glia_tensor_fill(*out, value)) != GLIA_STATUS_OK) {
        glia_tensor_free(*out);
        *out = NULL;
    }
    return s;
}

glia_status glia_tensor_zeros(glia_device *dev, int ndim, const int64_t *shape, glia_tensor **out)
{
    return glia_tensor_full(dev, ndim, shape, 0.0f, out);
}

glia_status glia_tensor_from_host_typed(glia_device *dev, glia_etype etype, int ndim, const int64_t *shape,
                                        const void *data, glia_tensor **out)
{
    if (!data) {
        if (out)
            *out = NULL;
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_tensor_from_host: data is NULL");
    }
    glia_status s = glia_tensor_empty_typed(dev, etype, ndim, shape, out);
    if (s == GLIA_STATUS_OK &&
        (s = glia_tensor_write_raw(*out, data, (size_t)(*out)->numel * glia_etype_size(etype))) != GLIA_STATUS_OK) {
        glia_tensor_free(*out);
        *out = NULL;
    }
    return s;
}

glia_status glia_tensor_from_host(glia_device *dev, int ndim, const int64_t *shape, const float *data,
                                  glia_tensor **out)
{
    return glia_tensor_from_host_typed(dev, GLIA_ETYPE_F32, ndim, shape, data, out);
}

glia_tensor *glia_tensor_struct(glia_device *dev)
{
    glia_tensor *t = dev->spare;
    if (t)
        dev->spare = t->grad; /* the spare list is linked through .grad */
    else if (!(t = malloc(sizeof *t)))
        return NULL;
    memset(t, 0, sizeof *t);
    t->refs = 1;
    t->dev = dev;
    t->is_leaf = 1;
    dev->live_tensors++;
    return t;
}

void glia_tensor_spares_free(glia_device *dev)
{
    while (dev->spare) {
        glia_tensor *t = dev->spare;
        dev->spare = t->grad;
        free(t);
    }
}

glia_tensor *glia_tensor_retain(glia_tensor *t)
{
    if (t)
        t->refs++;
    return t;
}

void glia_tensor_drop_unread(glia_tensor *t)
{
    if (t->refs == t->gradonly_refs && !t->is_leaf && t->storage) {
        glia_block_release(t->dev, t->storage);
        t->storage = NULL;
    }
}

void glia_tensor_free(glia_tensor *t)
{
    if (!t)
        return;
    if (--t->refs > 0) {
        glia_tensor_drop_unread(t);
        return;
    }
    glia_tensor_free(t->grad);
    glia_block_release(t->dev, t->storage);
    t->dev->live_tensors--;
    t->grad = t->dev->spare;
    t->dev->spare = t;
}

/* A host transfer of the whole tensor: a pointer, and exactly numel elements
 * (float32 only when f32 is set, for the float API). */
static glia_status check_host(const glia_tensor *t, const void *p, size_t bytes, int f32, const char *what)
{
    glia_status s = glia_check_tensor(t, what);
    if (s != GLIA_STATUS_OK)
        return s;
    if (!p)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "%s: host pointer is NULL", what);
    if (f32 && t->etype != GLIA_ETYPE_F32)
        return glia_seterr(GLIA_STATUS_UNSUPPORTED, "%s: the tensor holds %s, not float32 (use the _raw call)", what,
                           glia_etype_name(t->etype));
    size_t es = glia_etype_size(t->etype);
    if (bytes != (size_t)t->numel * es)
        return glia_seterr(GLIA_STATUS_SHAPE_MISMATCH, "%s: %zu %s given, tensor has %lld", what, bytes / (f32 ? 4 : 1),
                           f32 ? "floats" : "bytes", (long long)t->numel * (f32 ? 1 : (long long)es));
    return GLIA_STATUS_OK;
}

/* One checked host transfer: into dst (a read) or from src (a write). */
static glia_status transfer(const glia_tensor *t, void *dst, const void *src, size_t bytes, int f32, const char *what)
{
    glia_status s = check_host(t, dst ? dst : src, bytes, f32, what);
    if (s != GLIA_STATUS_OK)
        return s;
    size_t at = t->off * glia_etype_size(t->etype);
    return dst ? t->dev->be->read(t->dev->ctx, t->storage->buf, at, dst, bytes)
               : t->dev->be->write(t->dev->ctx, t->storage->buf, at, src, bytes);
}

glia_status glia_tensor_read_raw(const glia_tensor *t, void *dst, size_t bytes)
{
    return transfer(t, dst, NULL, bytes, 0, "glia_tensor_read_raw");
}

glia_status glia_tensor_write_raw(glia_tensor *t, const void *src, size_t bytes)
{
    return transfer(t, NULL, src, bytes, 0, "glia_tensor_write_raw");
}

glia_status glia_tensor_read(const glia_tensor *t, float *dst, size_t count)
{
    return transfer(t, dst, NULL, count * sizeof *dst, 1, "glia_tensor_read");
}

glia_status glia_tensor_write(glia_tensor *t, const float *src, size_t count)
{
    return transfer(t, NULL, src, count * sizeof *src, 1, "glia_tensor_write");
}

glia_status glia_tensor_copy(glia_tensor *dst, const glia_tensor *src)
{
    glia_status s;
    if ((s = glia_check_tensor(dst, "glia_tensor_copy: dst")) != GLIA_STATUS_OK ||
        (s = glia_check_tensor(src, "glia_tensor_copy: src")) != GLIA_STATUS_OK)
        return s;
    int same = dst->ndim == src->ndim;
    for (int i = 0; same && i < dst->ndim; i++)
        same = dst->shape[i] == src->shape[i];
    if (!same) {
        char a[64], b[64];
        return glia_seterr(GLIA_STATUS_SHAPE_MISMATCH, "glia_tensor_copy: source %s into destination %s",
                           glia_shape_str(src, a, sizeof a), glia_shape_str(dst, b, sizeof b));
    }
    if (dst->etype != src->etype)
        return glia_seterr(GLIA_STATUS_UNSUPPORTED, "glia_tensor_copy: %s into %s (no conversion)",
                           glia_etype_name(src->etype), glia_etype_name(dst->etype));
    if (dst->dev == src->dev && dst->etype == GLIA_ETYPE_F32)
        return glia_axpbyz(dst->dev, (size_t)dst->numel, 1.0f, glia_view(src), 0.0f,
                           (glia_bview){0}, glia_view(dst));
    size_t bytes = (size_t)src->numel * glia_etype_size(src->etype);
    void *tmp = malloc(bytes);
    if (!tmp)
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "glia_tensor_copy: no host memory for %zu bytes", bytes);
    s = glia_tensor_read_raw(src, tmp, bytes);
    if (s == GLIA_STATUS_OK)
        s = glia_tensor_write_raw(dst, tmp, bytes);
    free(tmp);
    return s;
}

glia_status glia_tensor_fill(glia_tensor *t, float value)
{
    glia_status s = glia_check_tensor(t, "glia_tensor_fill");
    if (s != GLIA_STATUS_OK)
        return s;
    glia_op op = {.kind = GLIA_OP_FILL, .t = {glia_view(t)}};
    op.p.fill.n = (size_t)t->numel;
    op.p.fill.value = value;
    return glia_run(t->dev, &op);
}

int glia_tensor_ndim(const glia_tensor *t) { return t ? t->ndim : 0; }

int64_t glia_tensor_dim(const glia_tensor *t, int i)
{
    if (!t)
        return 0;
    if (i < 0)
        i += t->ndim;
    return i >= 0 && i < t->ndim ? t->shape[i] : 0;
}

int64_t glia_tensor_numel(const glia_tensor *t) { return t ? t->numel : 0; }

glia_device *glia_tensor_device(const glia_tensor *t) { return t ? t->dev : NULL; }
