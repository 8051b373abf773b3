/* Volumes to and from .npy (through glia/io.h) and axial slices. NumPy arrays
 * are C order (last axis fastest) while volumes keep NIfTI order (first axis
 * fastest): the shape stays, the element order is transposed. */
#include <stdlib.h>
#include <string.h>
#include "glia/io.h"
#include "io/image_priv.h"

/* Between NIfTI order and C order of one shape. */
static void reorder(const float *src, float *dst, int nd, const int64_t *dim, int to_c)
{
    int64_t n = 1, idx[GLIA_VOLUME_MAX_DIMS] = {0}, cstride[GLIA_VOLUME_MAX_DIMS];
    for (int a = nd - 1; a >= 0; a--) {
        cstride[a] = n;
        n *= dim[a];
    }
    /* walk in NIfTI order, carrying the C-order offset along */
    int64_t coff = 0;
    for (int64_t f = 0; f < n; f++) {
        if (to_c)
            dst[coff] = src[f];
        else
            dst[f] = src[coff];
        for (int a = 0; a < nd; a++) {
            coff += cstride[a];
            if (++idx[a] < dim[a])
                break;
            coff -= cstride[a] * dim[a];
            idx[a] = 0;
        }
    }
}

glia_status glia_volume_write_npy(const glia_volume *v, const char *path)
{
    if (!v || !path)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_volume_write_npy: NULL volume or path");
    float *f = NULL, *c = NULL;
    glia_status s = glia_volume_to_float(v, &f);
    if (s == GLIA_STATUS_OK && !(c = malloc((size_t)glia_volume_numel(v) * sizeof *c + 1)))
        s = glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "%s: %lld voxels", path, (long long)glia_volume_numel(v));
    if (s == GLIA_STATUS_OK) {
        reorder(f, c, v->ndim, v->dim, 1);
        s = glia_npy_write_f32(path, v->ndim, v->dim, c);
    }
    free(f);
    free(c);
    return s;
}

glia_status glia_volume_read_npy(const char *path, glia_volume **out)
{
    if (!path || !out)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_volume_read_npy: NULL path or output");
    *out = NULL;
    int nd = 0;
    int64_t shape[GLIA_NPY_MAX_DIMS];
    float *data = NULL;
    glia_status s = glia_npy_read_f32(path, &nd, shape, &data);
    if (s != GLIA_STATUS_OK)
        return s;
    if (nd < 1 || nd > GLIA_VOLUME_MAX_DIMS)
        s = glia_seterr(GLIA_STATUS_SHAPE_MISMATCH, "%s: %d dimensions; volumes have 1 to 7", path, nd);
    else if ((s = glia_volume_new(nd, shape, GLIA_DTYPE_FLOAT32, out)) == GLIA_STATUS_OK)
        reorder(data, (*out)->data, nd, shape, 0);
    free(data);
    return s;
}

glia_status glia_volume_slice(const glia_volume *v, int64_t k, glia_volume **out)
{
    if (!v || !out || !v->data)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_volume_slice: NULL volume or output");
    *out = NULL;
    if (v->ndim < 3 || k < 0 || k >= v->dim[2] || glia_volume_numel(v) != v->dim[0] * v->dim[1] * v->dim[2])
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT,
                           "glia_volume_slice: slice %lld of a volume with %d dimensions and %lld slices", (long long)k,
                           v->ndim, (long long)(v->ndim >= 3 ? v->dim[2] : 1));
    glia_status s = glia_volume_new(2, v->dim, v->dtype, out);
    if (s != GLIA_STATUS_OK)
        return s;
    size_t plane = (size_t)(v->dim[0] * v->dim[1]) * glia_dtype_size(v->dtype);
    memcpy((*out)->data, (const char *)v->data + plane * (size_t)k, plane);
    (*out)->scl_slope = v->scl_slope;
    (*out)->scl_inter = v->scl_inter;
    return GLIA_STATUS_OK;
}
