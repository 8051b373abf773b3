/* NIfTI-1 and NIfTI-2 (.nii, .nii.gz) read and write, through zlib's gz
 * interface (which reads plain files transparently).
 *
 * Why not niftilib (Debian's libnifti2): it allocates the voxel buffer the
 * header asks for before reading a byte (a 352-byte hostile file can ask for
 * exabytes), prints its diagnostics on stderr, and keeps its messages to itself.
 * The format is two fixed headers; one table below describes both. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>
#include "io/image_priv.h"

/* Every numeric header field, as doubles (int64 sizes fit exactly up to 2^53). */
typedef struct hdr {
    double datatype, bitpix, dim[8], intent_p[3], pixdim[8], vox_offset, scl_slope, scl_inter;
    double cal_max, cal_min, slice_duration, toffset, slice_start, slice_end;
    double qform_code, sform_code, quatern[3], qoffset[3], srow[3][4];
    double slice_code, xyzt_units, intent_code, dim_info;
} hdr;

enum ftype { U8, I16, I32, I64, F32, F64 };

typedef struct field {
    size_t member;     /* offsetof in hdr */
    int count;
    short off1, t1;    /* NIfTI-1 offset and type */
    short off2, t2;    /* NIfTI-2 offset and type */
} field;

#define F(m, n, o1, t1, o2, t2) {offsetof(hdr, m), n, o1, t1, o2, t2}
static const field fields[] = {
    F(datatype, 1, 70, I16, 12, I16),        F(bitpix, 1, 72, I16, 14, I16),
    F(dim, 8, 40, I16, 16, I64),             F(intent_p, 3, 56, F32, 80, F64),
    F(pixdim, 8, 76, F32, 104, F64),         F(vox_offset, 1, 108, F32, 168, I64),
    F(scl_slope, 1, 112, F32, 176, F64),     F(scl_inter, 1, 116, F32, 184, F64),
    F(cal_max, 1, 124, F32, 192, F64),       F(cal_min, 1, 128, F32, 200, F64),
    F(slice_duration, 1, 132, F32, 208, F64), F(toffset, 1, 136, F32, 216, F64),
    F(slice_start, 1, 74, I16, 224, I64),    F(slice_end, 1, 120, I16, 232, I64),
    F(qform_code, 1, 252, I16, 344, I32),    F(sform_code, 1, 254, I16, 348, I32),
    F(quatern, 3, 256, F32, 352, F64),       F(qoffset, 3, 268, F32, 376, F64),
    F(srow, 12, 280, F32, 400, F64),         F(slice_code, 1, 122, U8, 496, I32),
    F(xyzt_units, 1, 123, U8, 500, I32),     F(intent_code, 1, 68, I16, 504, I32),
    F(dim_info, 1, 39, U8, 524, U8),
};
#undef F

typedef struct strfield {
    size_t member, len;
    short off1, off2;
} strfield;
static const strfield strfields[] = {
    {offsetof(glia_geom, descrip), 80, 148, 240},
    {offsetof(glia_geom, aux_file), 24, 228, 320},
    {offsetof(glia_geom, intent_name), 16, 328, 508},
};

static const size_t tsize[] = {[U8] = 1, [I16] = 2, [I32] = 4, [I64] = 8, [F32] = 4, [F64] = 8};

static void swap_bytes(unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n / 2; i++) {
        unsigned char t = p[i];
        p[i] = p[n - 1 - i];
        p[n - 1 - i] = t;
    }
}

static double get_value(const unsigned char *p, int t, int swap)
{
    unsigned char b[8];
    memcpy(b, p, tsize[t]);
    if (swap)
        swap_bytes(b, tsize[t]);
    union { uint8_t u8; int16_t i16; int32_t i32; int64_t i64; float f32; double f64; } u;
    memcpy(&u, b, tsize[t]);
    switch (t) {
    case U8: return u.u8;
    case I16: return u.i16;
    case I32: return u.i32;
    case I64: return (double)u.i64;
    case F32: return u.f32;
    default: return u.f64;
    }
}

static void put_value(unsigned char *p, int t, double x)
{
    union { uint8_t u8; int16_t i16; int32_t i32; int64_t i64; float f32; double f64; } u;
    switch (t) {
    case U8: u.u8 = (uint8_t)x; break;
    case I16: u.i16 = (int16_t)x; break;
    case I32: u.i32 = (int32_t)x; break;
    case I64: u.i64 = (int64_t)x; break;
    case F32: u.f32 = (float)x; break;
    default: u.f64 = x; break;
    }
    memcpy(p, &u, tsize[t]);
}

static void unpack(const unsigned char *buf, int version, int swap, hdr *h, glia_geom *g)
{
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        const field *f = &fields[i];
        int t = version == 1 ? f->t1 : f->t2;
        const unsigned char *p = buf + (version == 1 ? f->off1 : f->off2);
        double *m = (double *)((char *)h + f->member);
        for (int k = 0; k < f->count; k++)
            m[k] = get_value(p + k * tsize[t], t, swap);
    }
    for (size_t i = 0; i < sizeof strfields / sizeof strfields[0]; i++) {
        const strfield *s = &strfields[i];
        char *dst = (char *)g + s->member;
        memcpy(dst, buf + (version == 1 ? s->off1 : s->off2), s->len);
        dst[s->len] = '\0';
    }
}

static void pack(unsigned char *buf, int version, const hdr *h, const glia_geom *g)
{
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        const field *f = &fields[i];
        int t = version == 1 ? f->t1 : f->t2;
        unsigned char *p = buf + (version == 1 ? f->off1 : f->off2);
        const double *m = (const double *)((const char *)h + f->member);
        for (int k = 0; k < f->count; k++)
            put_value(p + k * tsize[t], t, m[k]);
    }
    for (size_t i = 0; i < sizeof strfields / sizeof strfields[0]; i++) {
        const strfield *s = &strfields[i];
        strncpy((char *)buf + (version == 1 ? s->off1 : s->off2), (const char *)g + s->member, s->len);
    }
}

static int finite_all(const double *x, int n)
{
    for (int i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return 0;
    return 1;
}

/* A NIfTI-2 int64 field that went through a double: INT64_MAX rounds up to
 * 2^63, which converting back to int64_t would not survive (undefined). */
static int64_t to_int64(double x) { return x >= 9223372036854775807.0 ? INT64_MAX : (int64_t)x; }

/* Checks a header and fills v (no data); one clear message per problem. */
static glia_status validate(const char *path, int version, const hdr *h, glia_volume *v, size_t *bytes)
{
    /* range first, cast after: NIfTI-2's dim[0] is an int64, and (int) of 2^40 is undefined */
    if (!(h->dim[0] >= 1 && h->dim[0] <= 7))
        return glia_seterr(GLIA_STATUS_FORMAT_ERROR, "%s: NIfTI dim[0] = %.0f, must be 1..7", path, h->dim[0]);
    int nd = (int)h->dim[0];
    for (int i = 1; i <= nd; i++)
        if (!(h->dim[i] >= 1) || h->dim[i] > 9007199254740992.0)
            return glia_seterr(GLIA_STATUS_FORMAT_ERROR, "%s: NIfTI dim[%d] = %.0f, must be 1 to 2^53", path, i,
                               h->dim[i]);
    glia_dtype t = (glia_dtype)(int)h->datatype;
    size_t es = glia_dtype_size(t);
    if (!es) {
        int code = (int)h->datatype;
        return glia_seterr(code == 1536 || code == 2048 ? GLIA_STATUS_UNSUPPORTED : GLIA_STATUS_FORMAT_ERROR,
                           "%s: NIfTI datatype %d is %s", path, code,
                           code == 1536 || code == 2048 ? "128-bit floating point, not supported" : "not a known type");
    }
    if (h->bitpix != 8.0 * (double)es)
        return glia_seterr(GLIA_STATUS_FORMAT_ERROR, "%s: NIfTI bitpix %g does not match datatype %s (%zu bits)",
                           path, h->bitpix, glia_dtype_name(t), 8 * es);
    if (!finite_all(h->pixdim, 8) || !finite_all(h->quatern, 3) || !finite_all(h->qoffset, 3) ||
        !finite_all(&h->srow[0][0], 12))
        return glia_seterr(GLIA_STATUS_FORMAT_ERROR, "%s: NIfTI geometry holds a NaN or infinity", path);
    v->ndim = nd;
    for (int i = 0; i < nd; i++)
        v->dim[i] = (int64_t)h->dim[i + 1];
    if (!glia_volume_bytes_(nd, v->dim, es, bytes))
        return glia_seterr(GLIA_STATUS_FORMAT_ERROR, "%s: NIfTI sizes %g x %g x %g x ... overflow the address space",
                           path, h->dim[1], h->dim[2], h->dim[3]);
    double minoff = version == 1 ? 352 : 544;
    if (!(h->vox_offset >= minoff) || h->vox_offset > 1073741824.0 || h->vox_offset != floor(h->vox_offset))
        return glia_seterr(GLIA_STATUS_FORMAT_ERROR, "%s: NIfTI vox_offset %g must be a whole number from %g to 2^30",
                           path, h->vox_offset, minoff);
    v->dtype = t;
    v->scl_slope = h->scl_slope;
    v->scl_inter = h->scl_inter;
    v->nifti_version = version;
    glia_geom *g = &v->geom;
    memcpy(g->pixdim, h->pixdim, sizeof g->pixdim);
    g->qform_code = (int)h->qform_code;
    g->sform_code = (int)h->sform_code;
    g->quatern_b = h->quatern[0];
    g->quatern_c = h->quatern[1];
    g->quatern_d = h->quatern[2];
    g->qoffset_x = h->qoffset[0];
    g->qoffset_y = h->qoffset[1];
    g->qoffset_z = h->qoffset[2];
    memcpy(g->srow, h->srow, sizeof g->srow);
    g->xyzt_units = (int)h->xyzt_units;
    g->dim_info = (int)h->dim_info;
    g->slice_code = (int)h->slice_code;
    g->slice_start = to_int64(h->slice_start);
    g->slice_end = to_int64(h->slice_end);
    g->slice_duration = h->slice_duration;
    g->toffset = h->toffset;
    g->intent_code = (int)h->intent_code;
    memcpy(g->intent_p, h->intent_p, sizeof g->intent_p);
    g->cal_min = h->cal_min;
    g->cal_max = h->cal_max;
    return GLIA_STATUS_OK;
}

/* gzread of exactly n bytes; *got says how many came. */
static int read_exact(gzFile gz, void *dst, size_t n, size_t *got)
{
    size_t done = 0;
    while (done < n) {
        unsigned chunk = n - done > (1u << 30) ? (1u << 30) : (unsigned)(n - done);
        int r = gzread(gz, (char *)dst + done, chunk);
        if (r < 0) {
            *got = done;
            return -1;
        }
        if (r == 0)
            break;
        done += (size_t)r;
    }
    *got = done;
    return done == n ? 0 : 1;
}

static glia_status read_error(const char *path, gzFile gz, const char *what, size_t want, size_t got)
{
    int zerr = 0;
    const char *msg = gzerror(gz, &zerr);
    if (zerr != Z_OK && zerr != Z_BUF_ERROR)
        return glia_seterr(GLIA_STATUS_FORMAT_ERROR, "%s: corrupt compressed data reading the %s: %s", path, what,
                           msg ? msg : "zlib error");
    return glia_seterr(GLIA_STATUS_FORMAT_ERROR, "%s: truncated: the %s needs %zu bytes, the file has %zu", path,
                       what, want, got);
}

/* The voxel data of a compressed file: its real length is unknown, so grow the
 * buffer as data arrives rather than trusting the header with one allocation. */
static glia_status read_growing(const char *path, gzFile gz, size_t bytes, void **out)
{
    size_t cap = bytes < ((size_t)64 << 20) ? bytes : ((size_t)64 << 20), done = 0;
    unsigned char *buf = malloc(cap ? cap : 1);
    if (!buf)
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "%s: %zu bytes for voxel data", path, cap);
    for (;;) {
        size_t got;
        int r = read_exact(gz, buf + done, cap - done, &got);
        done += got;
        if (r != 0) {
            free(buf);
            return read_error(path, gz, "voxel data", bytes, done);
        }
        if (done == bytes)
            break;
        size_t ncap = cap * 2 < bytes ? cap * 2 : bytes;
        unsigned char *nb = realloc(buf, ncap);
        if (!nb) {
            free(buf);
            return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "%s: %zu bytes for voxel data", path, ncap);
        }
        buf = nb;
        cap = ncap;
    }
    *out = buf;
    return GLIA_STATUS_OK;
}

static void swap_data(void *data, glia_dtype t, size_t bytes)
{
    /* complex numbers swap per component; RGB bytes never swap */
    size_t unit = t == GLIA_DTYPE_COMPLEX64 ? 4 : t == GLIA_DTYPE_COMPLEX128 ? 8 : glia_dtype_size(t);
    if (t == GLIA_DTYPE_RGB24 || t == GLIA_DTYPE_RGBA32 || unit < 2)
        return;
    for (size_t i = 0; i + unit <= bytes; i += unit)
        swap_bytes((unsigned char *)data + i, unit);
}

static glia_status read_file(const char *path, gzFile gz, int header_only, glia_volume *v, int plain_size_known,
                             size_t file_size)
{
    unsigned char buf[544] = {0};
    size_t got;
    if (read_exact(gz, buf, 4, &got))
        return read_error(path, gz, "NIfTI header", 348, got);
    int32_t sz;
    memcpy(&sz, buf, 4);
    int swap = 0, version = 0;
    for (int pass = 0; pass < 2 && !version; pass++) {
        if (sz == 348)
            version = 1;
        else if (sz == 540)
            version = 2;
        else {
            swap_bytes((unsigned char *)&sz, 4);
            swap = 1;
        }
    }
    if (!version)
        return glia_seterr(GLIA_STATUS_FORMAT_ERROR,
                           "%s: not a NIfTI, PNG or TIFF file (the first 4 bytes are no NIfTI header size)", path);
    size_t hsize = version == 1 ? 348 : 540;
    if (read_exact(gz, buf + 4, hsize - 4, &got))
        return read_error(path, gz, "NIfTI header", hsize, got + 4);
    if (version == 1 ? memcmp(buf + 344, "ni1\0", 4) == 0 : memcmp(buf + 4, "ni2\0", 4) == 0)
        return glia_seterr(GLIA_STATUS_UNSUPPORTED, "%s: two-file NIfTI (.hdr/.img) is not supported; use .nii", path);
    if (version == 1 ? memcmp(buf + 344, "n+1\0", 4) != 0 : memcmp(buf + 4, "n+2\0\r\n\032\n", 8) != 0)
        return glia_seterr(GLIA_STATUS_FORMAT_ERROR, "%s: bad NIfTI-%d magic (file damaged or not NIfTI)", path,
                           version);
    hdr h;
    unpack(buf, version, swap, &h, &v->geom);
    size_t bytes;
    glia_status s = validate(path, version, &h, v, &bytes);
    if (s != GLIA_STATUS_OK || header_only)
        return s;
    size_t off = (size_t)h.vox_offset;
    if (plain_size_known && (off > file_size || bytes > file_size - off))
        return glia_seterr(GLIA_STATUS_FORMAT_ERROR,
                           "%s: truncated: the header asks for %zu bytes of voxel data at offset %zu, the file has %zu "
                           "bytes",
                           path, bytes, off, file_size);
    /* before decompressing: a few megabytes of gzip can hold gigabytes of voxels */
    if ((s = glia_volume_size_check_(path, v->ndim, v->dim, bytes)) != GLIA_STATUS_OK)
        return s;
    /* skip the extensions by reading: gzseek past the end would not report it */
    size_t skip = off - hsize;
    while (skip > 0) {
        size_t n = skip < sizeof buf ? skip : sizeof buf;
        if (read_exact(gz, buf, n, &got))
            return read_error(path, gz, "NIfTI extensions", off, off - skip + got);
        skip -= n;
    }
    s = read_growing(path, gz, bytes, &v->data);
    if (s == GLIA_STATUS_OK && swap)
        swap_data(v->data, v->dtype, bytes);
    return s;
}

glia_status glia_nifti_read_(const char *path, int header_only, glia_volume **out)
{
    glia_volume *v = glia_volume_alloc_();
    if (!v)
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "%s: volume header", path);
    gzFile gz = gzopen(path, "rb");
    if (!gz) {
        free(v);
        return glia_seterr(GLIA_STATUS_IO_ERROR, "%s: cannot open: %s", path, errno ? strerror(errno) : "zlib");
    }
    gzbuffer(gz, 1 << 17);
    struct stat st;
    int known = stat(path, &st) == 0;
    /* gzdirect right after gzopen looks at the file: 1 for plain data, whose length bounds the voxel data */
    int direct = gzdirect(gz);
    glia_status s = read_file(path, gz, header_only, v, known && direct, known ? (size_t)st.st_size : 0);
    gzclose(gz);
    if (s != GLIA_STATUS_OK) {
        glia_volume_free(v);
        return s;
    }
    *out = v;
    return GLIA_STATUS_OK;
}

static glia_status write_error(const char *path, gzFile gz)
{
    int zerr = 0;
    const char *msg = gzerror(gz, &zerr);
    return glia_seterr(GLIA_STATUS_IO_ERROR, "%s: write failed: %s", path,
                       zerr == Z_ERRNO ? strerror(errno) : msg ? msg : "zlib error");
}

glia_status glia_nifti_write_(const glia_volume *v, const char *path, const char *tmp, int version, int gzip_level)
{
    int big = 0;
    for (int i = 0; i < v->ndim; i++)
        big |= v->dim[i] > 32767;
    big |= v->geom.slice_start > 32767 || v->geom.slice_end > 32767;
    if (version == 0)
        version = big ? 2 : 1;
    if (version != 1 && version != 2)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "%s: NIfTI version must be 1 or 2, not %d", path, version);
    if (version == 1 && big)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "%s: a size exceeds NIfTI-1's 32767; write NIfTI-2", path);
    hdr h;
    memset(&h, 0, sizeof h);
    const glia_geom *g = &v->geom;
    size_t es = glia_dtype_size(v->dtype);
    h.datatype = v->dtype;
    h.bitpix = 8.0 * (double)es;
    h.dim[0] = v->ndim;
    for (int i = 1; i < 8; i++)
        h.dim[i] = i <= v->ndim ? (double)v->dim[i - 1] : 1;
    memcpy(h.intent_p, g->intent_p, sizeof h.intent_p);
    memcpy(h.pixdim, g->pixdim, sizeof h.pixdim);
    h.pixdim[0] = g->pixdim[0] < 0 ? -1 : 1;
    h.vox_offset = version == 1 ? 352 : 544;
    h.scl_slope = isfinite(v->scl_slope) ? v->scl_slope : 0;
    h.scl_inter = isfinite(v->scl_inter) ? v->scl_inter : 0;
    h.cal_max = g->cal_max;
    h.cal_min = g->cal_min;
    h.slice_duration = g->slice_duration;
    h.toffset = g->toffset;
    h.slice_start = (double)g->slice_start;
    h.slice_end = (double)g->slice_end;
    h.qform_code = g->qform_code;
    h.sform_code = g->sform_code;
    h.quatern[0] = g->quatern_b;
    h.quatern[1] = g->quatern_c;
    h.quatern[2] = g->quatern_d;
    h.qoffset[0] = g->qoffset_x;
    h.qoffset[1] = g->qoffset_y;
    h.qoffset[2] = g->qoffset_z;
    memcpy(h.srow, g->srow, sizeof h.srow);
    h.slice_code = g->slice_code;
    h.xyzt_units = g->xyzt_units;
    h.intent_code = g->intent_code;
    h.dim_info = g->dim_info;

    /* header in host byte order: readers detect the order from sizeof_hdr */
    unsigned char buf[544] = {0};
    int32_t sz = version == 1 ? 348 : 540;
    memcpy(buf, &sz, 4);
    pack(buf, version, &h, g);
    if (version == 1) {
        buf[38] = 'r';
        memcpy(buf + 344, "n+1\0", 4);
    } else {
        memcpy(buf + 4, "n+2\0\r\n\032\n", 8);
    }
    size_t hbytes = version == 1 ? 352 : 544, bytes;
    glia_volume_bytes_(v->ndim, v->dim, es, &bytes);

    char mode[8];
    if (gzip_level > 0)
        snprintf(mode, sizeof mode, "wb%d", gzip_level > 9 ? 9 : gzip_level);
    else
        snprintf(mode, sizeof mode, "wbT");
    gzFile gz = gzopen(tmp, mode);
    if (!gz)
        return glia_seterr(GLIA_STATUS_IO_ERROR, "%s: cannot create: %s", path, errno ? strerror(errno) : "zlib");
    gzbuffer(gz, 1 << 17);
    glia_status s = GLIA_STATUS_OK;
    if (gzwrite(gz, buf, (unsigned)hbytes) != (int)hbytes)
        s = write_error(path, gz);
    for (size_t done = 0; s == GLIA_STATUS_OK && done < bytes;) {
        unsigned chunk = bytes - done > (1u << 30) ? (1u << 30) : (unsigned)(bytes - done);
        if (gzwrite(gz, (const char *)v->data + done, chunk) != (int)chunk)
            s = write_error(path, gz);
        done += chunk;
    }
    int rc = gzclose(gz);
    if (s == GLIA_STATUS_OK && rc != Z_OK)
        s = glia_seterr(GLIA_STATUS_IO_ERROR, "%s: closing failed (zlib %d): %s", path, rc, strerror(errno));
    return s;
}
