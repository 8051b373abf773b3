/* Image volumes: allocation, datatype conversion, and the format dispatch of
 * glia_volume_read / glia_volume_write. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "io/image_priv.h"
#include "io/io_priv.h"

typedef struct dtype_info {
    glia_dtype t;
    size_t size;
    const char *name;
} dtype_info;

static const dtype_info dtypes[] = {
    {GLIA_DTYPE_UINT8, 1, "uint8"},         {GLIA_DTYPE_INT16, 2, "int16"},
    {GLIA_DTYPE_INT32, 4, "int32"},         {GLIA_DTYPE_FLOAT32, 4, "float32"},
    {GLIA_DTYPE_COMPLEX64, 8, "complex64"}, {GLIA_DTYPE_FLOAT64, 8, "float64"},
    {GLIA_DTYPE_RGB24, 3, "rgb24"},         {GLIA_DTYPE_INT8, 1, "int8"},
    {GLIA_DTYPE_UINT16, 2, "uint16"},       {GLIA_DTYPE_UINT32, 4, "uint32"},
    {GLIA_DTYPE_INT64, 8, "int64"},         {GLIA_DTYPE_UINT64, 8, "uint64"},
    {GLIA_DTYPE_COMPLEX128, 16, "complex128"}, {GLIA_DTYPE_RGBA32, 4, "rgba32"},
};

static const dtype_info *find_dtype(glia_dtype t)
{
    for (size_t i = 0; i < sizeof dtypes / sizeof dtypes[0]; i++)
        if (dtypes[i].t == t)
            return &dtypes[i];
    return NULL;
}

size_t glia_dtype_size(glia_dtype t)
{
    const dtype_info *d = find_dtype(t);
    return d ? d->size : 0;
}

const char *glia_dtype_name(glia_dtype t)
{
    const dtype_info *d = find_dtype(t);
    return d ? d->name : "unknown";
}

void glia_geom_default_(glia_geom *g)
{
    memset(g, 0, sizeof *g);
    g->pixdim[0] = 1;
    for (int i = 1; i < 8; i++)
        g->pixdim[i] = 1;
    for (int r = 0; r < 3; r++)
        g->srow[r][r] = 1;
}

glia_volume *glia_volume_alloc_(void)
{
    glia_volume *v = calloc(1, sizeof *v);
    if (!v)
        return NULL;
    for (int i = 0; i < GLIA_VOLUME_MAX_DIMS; i++)
        v->dim[i] = 1;
    v->scl_slope = 0;
    glia_geom_default_(&v->geom);
    return v;
}

int glia_volume_bytes_(int ndim, const int64_t *dim, size_t elsize, size_t *bytes)
{
    uint64_t n = elsize;
    for (int i = 0; i < ndim; i++) {
        if (dim[i] < 1 || __builtin_mul_overflow(n, (uint64_t)dim[i], &n))
            return 0;
    }
    /* half the address space: nothing larger can be allocated anyway */
    if (n > (uint64_t)PTRDIFF_MAX / 2)
        return 0;
    *bytes = (size_t)n;
    return 1;
}

/* 0: not set, the environment or the default rules */
static _Atomic uint64_t max_volume_bytes;

void glia_set_max_volume_bytes(uint64_t bytes) { atomic_store(&max_volume_bytes, bytes); }

/* GLIA_MAX_VOLUME_BYTES as bytes: "8589934592", "512M", "16G"; 0 if malformed. */
static uint64_t parse_limit(const char *text)
{
    char *end = NULL;
    errno = 0;
    if (!(*text >= '0' && *text <= '9'))
        return 0;
    unsigned long long n = strtoull(text, &end, 10);
    if (errno || end == text)
        return 0;
    int shift = 0;
    if (*end) {
        int c = toupper((unsigned char)*end);
        const char *units = "KMGT", *u = c ? strchr(units, c) : NULL;
        if (!u || end[1])
            return 0;
        shift = 10 * (int)(u - units + 1);
    }
    if (n > (UINT64_MAX >> shift))
        return 0;
    return (uint64_t)n << shift;
}

uint64_t glia_max_volume_bytes(void)
{
    uint64_t set = atomic_load(&max_volume_bytes);
    if (set)
        return set;
    const char *env = getenv("GLIA_MAX_VOLUME_BYTES");
    return env && *env ? parse_limit(env) : GLIA_DEFAULT_MAX_VOLUME_BYTES;
}

glia_status glia_volume_size_check_(const char *path, int ndim, const int64_t *dim, uint64_t bytes)
{
    uint64_t limit = glia_max_volume_bytes();
    if (!limit)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT,
                           "%s: GLIA_MAX_VOLUME_BYTES='%s' is not a byte count (e.g. 4294967296 or 16G)", path,
                           getenv("GLIA_MAX_VOLUME_BYTES"));
    if (bytes <= limit)
        return GLIA_STATUS_OK;
    char dims[160] = "";
    for (int i = 0; i < ndim; i++)
        snprintf(dims + strlen(dims), sizeof dims - strlen(dims), "%s%lld", i ? "x" : "", (long long)dim[i]);
    return glia_seterr(GLIA_STATUS_UNSUPPORTED,
                       "%s: a %s volume decodes to %llu bytes (%.1f GiB), over the limit of %llu bytes (%.1f GiB); "
                       "raise it with the environment variable GLIA_MAX_VOLUME_BYTES "
                       "(e.g. GLIA_MAX_VOLUME_BYTES=%lluG) or glia_set_max_volume_bytes",
                       path, dims, (unsigned long long)bytes, (double)bytes / 1073741824.0,
                       (unsigned long long)limit, (double)limit / 1073741824.0,
                       (unsigned long long)((bytes >> 30) + 1));
}

int64_t glia_volume_numel(const glia_volume *v)
{
    if (!v)
        return 0;
    int64_t n = 1;
    for (int i = 0; i < v->ndim; i++)
        n *= v->dim[i];
    return n;
}

glia_status glia_volume_new(int ndim, const int64_t *dim, glia_dtype dtype, glia_volume **out)
{
    if (!out || !dim || ndim < 1 || ndim > GLIA_VOLUME_MAX_DIMS)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_volume_new: ndim must be 1..7 (got %d)", ndim);
    *out = NULL;
    size_t es = glia_dtype_size(dtype), bytes;
    if (!es)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_volume_new: unknown datatype %d", (int)dtype);
    if (!glia_volume_bytes_(ndim, dim, es, &bytes))
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_volume_new: sizes must be >= 1 and fit in memory");
    glia_volume *v = glia_volume_alloc_();
    if (!v || !(v->data = calloc(1, bytes ? bytes : 1))) {
        free(v);
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "glia_volume_new: %zu bytes", bytes);
    }
    v->ndim = ndim;
    for (int i = 0; i < ndim; i++)
        v->dim[i] = dim[i];
    v->dtype = dtype;
    v->geom.xyzt_units = 2 | 8; /* mm, s */
    *out = v;
    return GLIA_STATUS_OK;
}

void glia_volume_free(glia_volume *v)
{
    if (!v)
        return;
    free(v->data);
    free(v);
}

static int has_scaling(const glia_volume *v)
{
    return isfinite(v->scl_slope) && v->scl_slope != 0 &&
           !(v->scl_slope == 1 && (v->scl_inter == 0 || !isfinite(v->scl_inter)));
}

/* Raw voxel i as double (scalar types only). */
static double raw_at(const void *data, glia_dtype t, size_t i)
{
    switch (t) {
    case GLIA_DTYPE_UINT8: return ((const uint8_t *)data)[i];
    case GLIA_DTYPE_INT8: return ((const int8_t *)data)[i];
    case GLIA_DTYPE_INT16: return ((const int16_t *)data)[i];
    case GLIA_DTYPE_UINT16: return ((const uint16_t *)data)[i];
    case GLIA_DTYPE_INT32: return ((const int32_t *)data)[i];
    case GLIA_DTYPE_UINT32: return ((const uint32_t *)data)[i];
    case GLIA_DTYPE_INT64: return (double)((const int64_t *)data)[i];
    case GLIA_DTYPE_UINT64: return (double)((const uint64_t *)data)[i];
    case GLIA_DTYPE_FLOAT32: return ((const float *)data)[i];
    case GLIA_DTYPE_FLOAT64: return ((const double *)data)[i];
    default: return 0;
    }
}

static int is_scalar(glia_dtype t)
{
    return t != GLIA_DTYPE_COMPLEX64 && t != GLIA_DTYPE_COMPLEX128 && t != GLIA_DTYPE_RGB24 &&
           t != GLIA_DTYPE_RGBA32 && glia_dtype_size(t);
}

static double saturate(double x, double lo, double hi)
{
    if (isnan(x))
        return 0;
    x = nearbyint(x);
    return x < lo ? lo : x > hi ? hi : x;
}

static void store_at(void *data, glia_dtype t, size_t i, double x)
{
    switch (t) {
    case GLIA_DTYPE_UINT8: ((uint8_t *)data)[i] = (uint8_t)saturate(x, 0, 255); break;
    case GLIA_DTYPE_INT8: ((int8_t *)data)[i] = (int8_t)saturate(x, -128, 127); break;
    case GLIA_DTYPE_INT16: ((int16_t *)data)[i] = (int16_t)saturate(x, -32768, 32767); break;
    case GLIA_DTYPE_UINT16: ((uint16_t *)data)[i] = (uint16_t)saturate(x, 0, 65535); break;
    case GLIA_DTYPE_INT32: ((int32_t *)data)[i] = (int32_t)saturate(x, -2147483648.0, 2147483647.0); break;
    case GLIA_DTYPE_UINT32: ((uint32_t *)data)[i] = (uint32_t)saturate(x, 0, 4294967295.0); break;
    /* the largest doubles below 2^63 and 2^64, so the casts stay defined */
    case GLIA_DTYPE_INT64: ((int64_t *)data)[i] = (int64_t)saturate(x, -9223372036854775808.0, 9223372036854774784.0); break;
    case GLIA_DTYPE_UINT64: ((uint64_t *)data)[i] = (uint64_t)saturate(x, 0, 18446744073709549568.0); break;
    case GLIA_DTYPE_FLOAT32: ((float *)data)[i] = (float)x; break;
    case GLIA_DTYPE_FLOAT64: ((double *)data)[i] = x; break;
    default: break;
    }
}

glia_status glia_volume_to_float(const glia_volume *v, float **out)
{
    if (!v || !out || !v->data)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_volume_to_float: NULL volume, data or output");
    *out = NULL;
    if (!is_scalar(v->dtype))
        return glia_seterr(GLIA_STATUS_UNSUPPORTED, "glia_volume_to_float: %s voxels have no scalar value",
                           glia_dtype_name(v->dtype));
    size_t n = (size_t)glia_volume_numel(v);
    float *f = malloc(n * sizeof *f + 1);
    if (!f)
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "glia_volume_to_float: %zu floats", n);
    int sc = has_scaling(v);
    double slope = v->scl_slope, inter = isfinite(v->scl_inter) ? v->scl_inter : 0;
    if (v->dtype == GLIA_DTYPE_FLOAT32 && !sc) {
        memcpy(f, v->data, n * sizeof *f);
    } else {
        for (size_t i = 0; i < n; i++) {
            double x = raw_at(v->data, v->dtype, i);
            f[i] = (float)(sc ? x * slope + inter : x);
        }
    }
    *out = f;
    return GLIA_STATUS_OK;
}

glia_status glia_volume_convert(glia_volume *v, glia_dtype dtype)
{
    if (!v || !v->data)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_volume_convert: NULL volume or data");
    if (!is_scalar(v->dtype) || !is_scalar(dtype))
        return glia_seterr(GLIA_STATUS_UNSUPPORTED, "glia_volume_convert: cannot convert %s to %s",
                           glia_dtype_name(v->dtype), glia_dtype_name(dtype));
    size_t n = (size_t)glia_volume_numel(v);
    void *d = malloc(n * glia_dtype_size(dtype) + 1);
    if (!d)
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "glia_volume_convert: %zu voxels", n);
    int sc = has_scaling(v);
    double inter = isfinite(v->scl_inter) ? v->scl_inter : 0;
    for (size_t i = 0; i < n; i++) {
        double x = raw_at(v->data, v->dtype, i);
        store_at(d, dtype, i, sc ? x * v->scl_slope + inter : x);
    }
    free(v->data);
    v->data = d;
    v->dtype = dtype;
    v->scl_slope = 0;
    v->scl_inter = 0;
    return GLIA_STATUS_OK;
}

glia_status glia_volume_copy_geometry(glia_volume *v, const glia_volume *ref)
{
    if (!v || !ref)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_volume_copy_geometry: NULL volume");
    for (int i = 0; i < 3; i++)
        if (v->dim[i] != ref->dim[i])
            return glia_seterr(GLIA_STATUS_SHAPE_MISMATCH,
                               "glia_volume_copy_geometry: grid %lldx%lldx%lld differs from the reference's "
                               "%lldx%lldx%lld",
                               (long long)v->dim[0], (long long)v->dim[1], (long long)v->dim[2],
                               (long long)ref->dim[0], (long long)ref->dim[1], (long long)ref->dim[2]);
    v->geom = ref->geom;
    v->nifti_version = ref->nifti_version;
    return GLIA_STATUS_OK;
}

glia_status glia_image2d_shape_(const glia_volume *v, const char *path, int maxc, int *w, int *h, int *c)
{
    int64_t ch = v->ndim >= 3 ? v->dim[2] : 1;
    for (int i = 3; i < v->ndim; i++)
        if (v->dim[i] != 1)
            ch = 0;
    if (v->ndim < 2 || ch < 1 || ch > maxc || v->dim[0] > 0x7fffffff || v->dim[1] > 0x7fffffff)
        return glia_seterr(GLIA_STATUS_SHAPE_MISMATCH,
                           "%s: an image needs shape (width, height) or (width, height, 1..%d channels); "
                           "got %d dimensions with %lld in the third",
                           path, maxc, v->ndim, (long long)(v->ndim >= 3 ? v->dim[2] : 1));
    if (v->dtype != GLIA_DTYPE_UINT8 && v->dtype != GLIA_DTYPE_UINT16)
        return glia_seterr(GLIA_STATUS_UNSUPPORTED, "%s: images hold uint8 or uint16 voxels, not %s", path,
                           glia_dtype_name(v->dtype));
    *w = (int)v->dim[0];
    *h = (int)v->dim[1];
    *c = (int)ch;
    return GLIA_STATUS_OK;
}

void glia_row_to_planar_(void *data, size_t es, int w, int h, int c, int y, const void *row)
{
    for (int ch = 0; ch < c; ch++)
        for (int x = 0; x < w; x++)
            memcpy((char *)data + (((size_t)ch * h + y) * w + x) * es, (const char *)row + ((size_t)x * c + ch) * es, es);
}

void glia_planar_to_row_(const void *data, size_t es, int w, int h, int c, int y, void *row)
{
    for (int ch = 0; ch < c; ch++)
        for (int x = 0; x < w; x++)
            memcpy((char *)row + ((size_t)x * c + ch) * es, (const char *)data + (((size_t)ch * h + y) * w + x) * es, es);
}

glia_status glia_image2d_new_(const char *path, int w, int h, int c, int bits, glia_volume **out)
{
    int64_t dim[3] = {w, h, c};
    uint64_t bytes = (uint64_t)w * (uint64_t)h * (uint64_t)c * (bits > 8 ? 2u : 1u);
    glia_status s = glia_volume_size_check_(path, c > 1 ? 3 : 2, dim, bytes);
    if (s != GLIA_STATUS_OK)
        return s;
    s = glia_volume_new(c > 1 ? 3 : 2, dim, bits > 8 ? GLIA_DTYPE_UINT16 : GLIA_DTYPE_UINT8, out);
    if (s != GLIA_STATUS_OK)
        return glia_seterr(s, "%s: %dx%dx%d image: %s", path, w, h, c, glia_last_error());
    return s;
}

static glia_status read_any(const char *path, int header_only, glia_volume **out)
{
    if (!path || !out)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_volume_read: NULL path or output");
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return glia_seterr(GLIA_STATUS_IO_ERROR, "%s: cannot open: %s", path, strerror(errno));
    unsigned char m[8] = {0};
    size_t got = fread(m, 1, sizeof m, f);
    fclose(f);
    if (got >= 8 && memcmp(m, "\x89PNG\r\n\x1a\n", 8) == 0)
        return header_only ? glia_seterr(GLIA_STATUS_UNSUPPORTED, "%s: header-only read is for NIfTI", path)
                           : glia_png_read_(path, out);
    if (got >= 4 && (memcmp(m, "II*\0", 4) == 0 || memcmp(m, "MM\0*", 4) == 0))
        return header_only ? glia_seterr(GLIA_STATUS_UNSUPPORTED, "%s: header-only read is for NIfTI", path)
                           : glia_tiff_read_(path, out);
    return glia_nifti_read_(path, header_only, out);
}

glia_status glia_volume_read(const char *path, glia_volume **out) { return read_any(path, 0, out); }

glia_status glia_volume_read_header(const char *path, glia_volume **out) { return read_any(path, 1, out); }

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

glia_status glia_volume_write(const glia_volume *v, const char *path, const glia_image_write_options *opts)
{
    if (!v || !path || !v->data || v->ndim < 1 || v->ndim > GLIA_VOLUME_MAX_DIMS)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_volume_write: NULL or empty volume or path");
    size_t bytes;
    if (!glia_dtype_size(v->dtype) || !glia_volume_bytes_(v->ndim, v->dim, glia_dtype_size(v->dtype), &bytes))
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "%s: volume has a bad datatype or size", path);
    char *tmp = glia_tmp_name_(path);
    if (!tmp)
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "glia_volume_write: path");
    glia_status s;
    if (ends_with(path, ".nii") || ends_with(path, ".nii.gz")) {
        int ver = opts && opts->nifti_version ? opts->nifti_version : v->nifti_version;
        int gz = ends_with(path, ".gz") ? (opts && opts->gzip_level ? opts->gzip_level : 6) : 0;
        s = glia_nifti_write_(v, path, tmp, ver, gz);
    } else if (ends_with(path, ".png")) {
        s = glia_png_write_(v, path, tmp);
    } else if (ends_with(path, ".tif") || ends_with(path, ".tiff")) {
        s = glia_tiff_write_(v, path, tmp);
    } else {
        s = glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "%s: unknown image extension (use .nii, .nii.gz, .png, .tif)",
                        path);
    }
    if (s == GLIA_STATUS_OK && rename(tmp, path) != 0)
        s = glia_seterr(GLIA_STATUS_IO_ERROR, "%s: rename from temporary file failed: %s", path, strerror(errno));
    if (s != GLIA_STATUS_OK)
        unlink(tmp);
    free(tmp);
    return s;
}
