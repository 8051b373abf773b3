/* NIfTI / PNG / TIFF: round trips of every datatype (plain and gzip, NIfTI-1
 * and -2, 3-D and 4-D), header geometry, scaling, a big-endian file built
 * here byte by byte, and clean errors for missing, truncated and lying files. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <zlib.h>
#include "glia/glia.h"
#include "testutil.h"

static char dir[256];

static const char *tmp_path(const char *name)
{
    static char p[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
    return p[k];
}

static uint64_t xs(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Random voxel bytes; floating types get finite values so equality is meaningful. */
static void fill_random(glia_volume *v, uint64_t seed)
{
    uint64_t s = seed * 2654435761u + 1;
    size_t n = (size_t)glia_volume_numel(v), es = glia_dtype_size(v->dtype);
    unsigned char *b = v->data;
    for (size_t i = 0; i < n * es; i++)
        b[i] = (unsigned char)xs(&s);
    if (v->dtype == GLIA_DTYPE_FLOAT32 || v->dtype == GLIA_DTYPE_COMPLEX64) {
        float *f = v->data;
        for (size_t i = 0; i < n * es / 4; i++)
            f[i] = (float)((double)(xs(&s) % 2000001) / 1000.0 - 1000.0);
    } else if (v->dtype == GLIA_DTYPE_FLOAT64 || v->dtype == GLIA_DTYPE_COMPLEX128) {
        double *d = v->data;
        for (size_t i = 0; i < n * es / 8; i++)
            d[i] = (double)(int64_t)xs(&s) / 3.0e10;
    }
}

static void set_geometry(glia_volume *v)
{
    /* a rotated, flipped, anisotropic grid with an offset */
    double c = cos(0.3), s = sin(0.3);
    double A[4][4] = {{-0.9 * c, 0, 1.2 * s, 90.5}, {0, 1.1, 0, -126.25}, {0.9 * s, 0, 1.2 * c, -72.0}, {0, 0, 0, 1}};
    glia_geom_set_affine(&v->geom, A, 1);
    v->geom.sform_code = 2;
    v->geom.xyzt_units = 10;
    v->geom.pixdim[4] = 2.5;
    v->geom.intent_code = 1002;
    v->geom.cal_max = 300;
    snprintf(v->geom.descrip, sizeof v->geom.descrip, "glia test volume");
    snprintf(v->geom.intent_name, sizeof v->geom.intent_name, "label");
}

static void expect_geom_equal(const glia_geom *a, const glia_geom *b, int v1)
{
    /* NIfTI-1 stores float32: compare against the float rounding of what was written */
#define CMP(x, y) assert_true(v1 ? (float)(x) == (float)(y) : (x) == (y))
    for (int i = 0; i < 8; i++)
        CMP(a->pixdim[i], b->pixdim[i]);
    for (int r = 0; r < 3; r++)
        for (int k = 0; k < 4; k++)
            CMP(a->srow[r][k], b->srow[r][k]);
    CMP(a->quatern_b, b->quatern_b);
    CMP(a->quatern_c, b->quatern_c);
    CMP(a->quatern_d, b->quatern_d);
    CMP(a->qoffset_x, b->qoffset_x);
    CMP(a->qoffset_y, b->qoffset_y);
    CMP(a->qoffset_z, b->qoffset_z);
    CMP(a->cal_max, b->cal_max);
#undef CMP
    assert_int_equal(a->qform_code, b->qform_code);
    assert_int_equal(a->sform_code, b->sform_code);
    assert_int_equal(a->xyzt_units, b->xyzt_units);
    assert_int_equal(a->intent_code, b->intent_code);
    assert_string_equal(a->descrip, b->descrip);
    assert_string_equal(a->intent_name, b->intent_name);
}

static const glia_dtype all_types[] = {
    GLIA_DTYPE_UINT8,  GLIA_DTYPE_INT8,   GLIA_DTYPE_INT16,     GLIA_DTYPE_UINT16,     GLIA_DTYPE_INT32,
    GLIA_DTYPE_UINT32, GLIA_DTYPE_INT64,  GLIA_DTYPE_UINT64,    GLIA_DTYPE_FLOAT32,    GLIA_DTYPE_FLOAT64,
    GLIA_DTYPE_RGB24,  GLIA_DTYPE_RGBA32, GLIA_DTYPE_COMPLEX64, GLIA_DTYPE_COMPLEX128,
};

static void test_round_trip_all_types(void **state)
{
    (void)state;
    const char *names[] = {"rt.nii", "rt.nii.gz"};
    for (size_t t = 0; t < sizeof all_types / sizeof all_types[0]; t++) {
        for (int nd = 3; nd <= 4; nd++) {
            for (int ver = 1; ver <= 2; ver++) {
                for (int gz = 0; gz < 2; gz++) {
                    int64_t dim[4] = {7, 5, 3, 2};
                    glia_volume *v = NULL, *r = NULL;
                    assert_int_equal(glia_volume_new(nd, dim, all_types[t], &v), GLIA_STATUS_OK);
                    fill_random(v, t * 16 + (uint64_t)nd);
                    set_geometry(v);
                    glia_image_write_options o = {.nifti_version = ver};
                    const char *p = tmp_path(names[gz]);
                    assert_int_equal(glia_volume_write(v, p, &o), GLIA_STATUS_OK);
                    assert_int_equal(glia_volume_read(p, &r), GLIA_STATUS_OK);
                    assert_int_equal(r->nifti_version, ver);
                    assert_int_equal(r->dtype, all_types[t]);
                    assert_int_equal(r->ndim, nd);
                    for (int i = 0; i < nd; i++)
                        assert_int_equal(r->dim[i], dim[i]);
                    assert_memory_equal(r->data, v->data, (size_t)glia_volume_numel(v) * glia_dtype_size(v->dtype));
                    expect_geom_equal(&r->geom, &v->geom, ver == 1);
                    glia_volume_free(v);
                    glia_volume_free(r);
                }
            }
        }
    }
}

static void test_affine_from_quaternion(void **state)
{
    (void)state;
    int64_t dim[3] = {4, 4, 4};
    glia_volume *v = NULL;
    assert_int_equal(glia_volume_new(3, dim, GLIA_DTYPE_UINT8, &v), GLIA_STATUS_OK);
    /* rotations about each axis, with and without a flip, through every quaternion branch */
    const double angles[] = {0.0, 0.4, 1.5, 3.1, -2.0};
    for (int axis = 0; axis < 3; axis++) {
        for (size_t ai = 0; ai < sizeof angles / sizeof angles[0]; ai++) {
            for (int flip = 0; flip < 2; flip++) {
                double c = cos(angles[ai]), s = sin(angles[ai]), R[3][3] = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
                int a = (axis + 1) % 3, b = (axis + 2) % 3;
                R[a][a] = c;
                R[a][b] = -s;
                R[b][a] = s;
                R[b][b] = c;
                double sp[3] = {0.8, 1.25, flip ? -2.0 : 2.0}, A[4][4] = {{0}};
                for (int r = 0; r < 3; r++) {
                    for (int k = 0; k < 3; k++)
                        A[r][k] = R[r][k] * sp[k];
                    A[r][3] = 10.0 * (r + 1);
                }
                A[3][3] = 1;
                glia_geom_set_affine(&v->geom, A, 1);
                v->geom.sform_code = 0; /* make glia_geom_affine use the quaternion */
                double B[4][4];
                glia_geom_affine(&v->geom, B);
                for (int r = 0; r < 4; r++)
                    for (int k = 0; k < 4; k++)
                        assert_true(fabs(A[r][k] - B[r][k]) < 1e-9);
            }
        }
    }
    glia_volume_free(v);
}

static void test_scaling(void **state)
{
    (void)state;
    int64_t dim[3] = {6, 5, 4};
    glia_volume *v = NULL, *r = NULL;
    assert_int_equal(glia_volume_new(3, dim, GLIA_DTYPE_INT16, &v), GLIA_STATUS_OK);
    int16_t *d = v->data;
    for (int i = 0; i < 120; i++)
        d[i] = (int16_t)(i * 37 - 2000);
    v->scl_slope = 2.5;
    v->scl_inter = -3;
    const char *p = tmp_path("scaled.nii.gz");
    assert_int_equal(glia_volume_write(v, p, NULL), GLIA_STATUS_OK);
    assert_int_equal(glia_volume_read(p, &r), GLIA_STATUS_OK);
    float *f = NULL;
    assert_int_equal(glia_volume_to_float(r, &f), GLIA_STATUS_OK);
    for (int i = 0; i < 120; i++)
        assert_true(f[i] == (float)((i * 37 - 2000) * 2.5 - 3));
    free(f);
    /* convert bakes in the scaling and saturates */
    assert_int_equal(glia_volume_convert(r, GLIA_DTYPE_UINT8), GLIA_STATUS_OK);
    const uint8_t *u = r->data;
    for (int i = 0; i < 120; i++) {
        double x = (i * 37 - 2000) * 2.5 - 3;
        assert_int_equal(u[i], x < 0 ? 0 : x > 255 ? 255 : (int)nearbyint(x));
    }
    assert_true(r->scl_slope == 0);
    glia_volume_free(v);
    glia_volume_free(r);
    /* complex data has no scalar value */
    assert_int_equal(glia_volume_new(3, dim, GLIA_DTYPE_COMPLEX64, &v), GLIA_STATUS_OK);
    assert_int_equal(glia_volume_to_float(v, &f), GLIA_STATUS_UNSUPPORTED);
    glia_volume_free(v);
}

static void put16(unsigned char *b, int off, int v) { b[off] = (unsigned char)(v >> 8), b[off + 1] = (unsigned char)v; }
static void put32(unsigned char *b, int off, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        b[off + i] = (unsigned char)(v >> (24 - 8 * i));
}
static void putf(unsigned char *b, int off, float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    put32(b, off, u);
}

/* A big-endian NIfTI-1 file written from the standard's offsets, not glia's table. */
static void test_big_endian_file(void **state)
{
    (void)state;
    unsigned char h[352] = {0};
    put32(h, 0, 348);
    put16(h, 40, 3), put16(h, 42, 3), put16(h, 44, 2), put16(h, 46, 2);
    put16(h, 70, 4), put16(h, 72, 16); /* int16 */
    putf(h, 76, 1), putf(h, 80, 2), putf(h, 84, 3), putf(h, 88, 4);
    putf(h, 108, 352);
    putf(h, 112, 0.5f), putf(h, 116, 10);
    put16(h, 254, 1);
    putf(h, 280, 2), putf(h, 292, -5), putf(h, 300, 3), putf(h, 320, 4), putf(h, 324, 7);
    memcpy(h + 344, "n+1", 4);
    const char *p = tmp_path("be.nii");
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    fwrite(h, 1, 352, f);
    for (int i = 0; i < 12; i++) {
        unsigned char b[2] = {(unsigned char)((i * 300 - 1000) >> 8), (unsigned char)(i * 300 - 1000)};
        fwrite(b, 1, 2, f);
    }
    fclose(f);
    glia_volume *v = NULL;
    assert_int_equal(glia_volume_read(p, &v), GLIA_STATUS_OK);
    assert_int_equal(v->ndim, 3);
    assert_int_equal(v->dim[0], 3);
    assert_int_equal(v->dim[2], 2);
    float *x = NULL;
    assert_int_equal(glia_volume_to_float(v, &x), GLIA_STATUS_OK);
    for (int i = 0; i < 12; i++)
        assert_true(x[i] == (float)((i * 300 - 1000) * 0.5 + 10));
    double A[4][4];
    glia_geom_affine(&v->geom, A);
    assert_true(A[0][0] == 2 && A[0][3] == -5 && A[1][1] == 3 && A[2][2] == 4 && A[2][3] == 7);
    free(x);
    glia_volume_free(v);
}

static void write_bytes(const char *p, const void *b, size_t n)
{
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, n, f), n);
    fclose(f);
}

static unsigned char *slurp(const char *p, size_t *n)
{
    FILE *f = fopen(p, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(*n);
    assert_int_equal(fread(b, 1, *n, f), *n);
    fclose(f);
    return b;
}

static void expect_error(const char *p, glia_status want, const char *words)
{
    glia_volume *v = NULL;
    glia_status s = glia_volume_read(p, &v);
    if (s != want)
        fail_msg("%s: got %s (%s), want %s", p, glia_status_str(s), glia_last_error(), glia_status_str(want));
    assert_null(v);
    assert_non_null(strstr(glia_last_error(), p));
    if (words && !strstr(glia_last_error(), words))
        fail_msg("message '%s' lacks '%s'", glia_last_error(), words);
}

static void test_bad_files(void **state)
{
    (void)state;
    expect_error(tmp_path("missing.nii.gz"), GLIA_STATUS_IO_ERROR, "cannot open");
    int64_t dim[3] = {16, 16, 8};
    glia_volume *v = NULL;
    assert_int_equal(glia_volume_new(3, dim, GLIA_DTYPE_FLOAT32, &v), GLIA_STATUS_OK);
    fill_random(v, 3);
    const char *good = tmp_path("good.nii"), *goodgz = tmp_path("good.nii.gz");
    assert_int_equal(glia_volume_write(v, good, NULL), GLIA_STATUS_OK);
    assert_int_equal(glia_volume_write(v, goodgz, NULL), GLIA_STATUS_OK);
    glia_volume_free(v);
    size_t n, ngz;
    unsigned char *b = slurp(good, &n), *bgz = slurp(goodgz, &ngz);
    const char *bad = tmp_path("bad.nii"), *badgz = tmp_path("bad.nii.gz");
    write_bytes(bad, b, n - 100);
    expect_error(bad, GLIA_STATUS_FORMAT_ERROR, "truncated");
    write_bytes(bad, b, 200);
    expect_error(bad, GLIA_STATUS_FORMAT_ERROR, "truncated");
    write_bytes(badgz, bgz, ngz / 2);
    expect_error(badgz, GLIA_STATUS_FORMAT_ERROR, NULL);
    /* a header asking for 32767^3 float32 voxels in a 352-byte file: refused, not allocated */
    unsigned char h[352];
    memcpy(h, b, 352);
    int16_t big = 32767;
    memcpy(h + 42, &big, 2), memcpy(h + 44, &big, 2), memcpy(h + 46, &big, 2);
    write_bytes(bad, h, 352);
    expect_error(bad, GLIA_STATUS_FORMAT_ERROR, "truncated");
    /* the same lie compressed, with the size limit lifted: the reader grows its
     * buffer only as data arrives */
    gzFile gz = gzopen(badgz, "wb");
    assert_non_null(gz);
    assert_int_equal(gzwrite(gz, h, 352), 352);
    assert_int_equal(gzwrite(gz, b + 352, 1000), 1000);
    gzclose(gz);
    glia_set_max_volume_bytes(UINT64_MAX);
    expect_error(badgz, GLIA_STATUS_FORMAT_ERROR, "truncated");
    glia_set_max_volume_bytes(0);
    memcpy(h, b, 352);
    int16_t d0 = 9;
    memcpy(h + 40, &d0, 2);
    write_bytes(bad, h, 352);
    expect_error(bad, GLIA_STATUS_FORMAT_ERROR, "dim[0]");
    memcpy(h, b, 352);
    int16_t dt = 99;
    memcpy(h + 70, &dt, 2);
    write_bytes(bad, h, 352);
    expect_error(bad, GLIA_STATUS_FORMAT_ERROR, "datatype");
    memcpy(h, b, 352);
    h[345] = 'x';
    write_bytes(bad, h, 352);
    expect_error(bad, GLIA_STATUS_FORMAT_ERROR, "magic");
    write_bytes(bad, "hello world, not an image", 25);
    expect_error(bad, GLIA_STATUS_FORMAT_ERROR, "not a NIfTI");
    free(b);
    free(bgz);
}

/* NIfTI-2 sizes are int64: out-of-range ones are refused before any narrowing
 * cast (a fuzzer found (int) of dim[0] = 2^40 undefined), extreme slice
 * indices read without overflow. */
static void test_nifti2_int64_fields(void **state)
{
    (void)state;
    int64_t dim[3] = {4, 3, 2};
    glia_volume *v = NULL;
    assert_int_equal(glia_volume_new(3, dim, GLIA_DTYPE_UINT8, &v), GLIA_STATUS_OK);
    const char *good = tmp_path("n2.nii"), *bad = tmp_path("n2bad.nii");
    glia_image_write_options o = {.nifti_version = 2};
    assert_int_equal(glia_volume_write(v, good, &o), GLIA_STATUS_OK);
    glia_volume_free(v);
    size_t n;
    unsigned char *b = slurp(good, &n);
    struct { size_t off; int64_t value; const char *words; } cases[] = {
        {16, (int64_t)1 << 40, "dim[0] = 1099511627776"}, {16, -1, "dim[0] = -1"}, {16, 0, "dim[0]"},
        {16, INT64_MIN, "dim[0]"}, {24, INT64_MAX, "dim[1]"}, {32, -5, "dim[2]"},
        {16 + 8 * 3, (int64_t)1 << 40, "overflow"}, /* dim[1..3] = 2^40 each: in range, the product is not */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        unsigned char *c = malloc(n);
        memcpy(c, b, n);
        memcpy(c + cases[i].off, &cases[i].value, 8);
        if (cases[i].off == 16 + 8 * 3) {
            int64_t big = (int64_t)1 << 40;
            memcpy(c + 24, &big, 8), memcpy(c + 32, &big, 8);
        }
        write_bytes(bad, c, n);
        expect_error(bad, GLIA_STATUS_FORMAT_ERROR, cases[i].words);
        free(c);
    }
    /* INT64_MAX slice indices become 2^63 as doubles: clamped, not converted out of range */
    int64_t big = INT64_MAX;
    memcpy(b + 224, &big, 8), memcpy(b + 232, &big, 8);
    write_bytes(bad, b, n);
    assert_int_equal(glia_volume_read(bad, &v), GLIA_STATUS_OK);
    assert_true(v->geom.slice_start == INT64_MAX && v->geom.slice_end == INT64_MAX);
    glia_volume_free(v);
    free(b);
}

static void expect_limit(const char *p, const char *dims)
{
    expect_error(p, GLIA_STATUS_UNSUPPORTED, "GLIA_MAX_VOLUME_BYTES");
    if (!strstr(glia_last_error(), dims))
        fail_msg("message '%s' lacks the dims %s", glia_last_error(), dims);
}

/* A decoded-size limit refuses a volume from its header, before decompressing:
 * a small .nii.gz claiming 2048^3 float32 (32 GiB) under the 4 GiB default; the
 * environment variable and the setter move the limit around a normal file. */
static void test_size_limit(void **state)
{
    (void)state;
    assert_int_equal(unsetenv("GLIA_MAX_VOLUME_BYTES"), 0);
    assert_true(glia_max_volume_bytes() == GLIA_DEFAULT_MAX_VOLUME_BYTES);
    int64_t dim[3] = {16, 16, 8};
    glia_volume *v = NULL;
    assert_int_equal(glia_volume_new(3, dim, GLIA_DTYPE_FLOAT32, &v), GLIA_STATUS_OK);
    fill_random(v, 5);
    char gz[512], plain[512], png[512], npy[512], huge[512]; /* more than tmp_path's rotation holds */
    snprintf(gz, sizeof gz, "%s", tmp_path("lim.nii.gz"));
    snprintf(plain, sizeof plain, "%s", tmp_path("lim.nii"));
    snprintf(png, sizeof png, "%s", tmp_path("lim.png"));
    snprintf(npy, sizeof npy, "%s", tmp_path("lim.npy"));
    snprintf(huge, sizeof huge, "%s", tmp_path("huge.nii.gz"));
    assert_int_equal(glia_volume_write(v, gz, NULL), GLIA_STATUS_OK);
    assert_int_equal(glia_volume_write(v, plain, NULL), GLIA_STATUS_OK);
    assert_int_equal(glia_volume_write_npy(v, npy), GLIA_STATUS_OK);
    glia_volume_free(v);
    assert_int_equal(glia_volume_new(2, dim, GLIA_DTYPE_UINT8, &v), GLIA_STATUS_OK);
    assert_int_equal(glia_volume_write(v, png, NULL), GLIA_STATUS_OK);
    glia_volume_free(v);

    /* the header of lim.nii.gz with 2048^3 voxels, then 1 MiB of zeros: refused by the limit */
    size_t n;
    unsigned char *b = slurp(plain, &n);
    int16_t d = 2048;
    memcpy(b + 42, &d, 2), memcpy(b + 44, &d, 2), memcpy(b + 46, &d, 2);
    gzFile g = gzopen(huge, "wb");
    assert_non_null(g);
    assert_int_equal(gzwrite(g, b, 352), 352);
    unsigned char *zeros = calloc(1, 1 << 20);
    assert_int_equal(gzwrite(g, zeros, 1 << 20), 1 << 20);
    gzclose(g);
    free(zeros);
    free(b);
    expect_limit(huge, "2048x2048x2048");
    assert_non_null(strstr(glia_last_error(), "34359738368 bytes"));
    assert_non_null(strstr(glia_last_error(), "4294967296 bytes"));

    /* 16x16x8 float32 is 8192 bytes: the limit at 8191 refuses it, at 8K it loads */
    const char *small[] = {gz, plain, npy};
    assert_int_equal(setenv("GLIA_MAX_VOLUME_BYTES", "8191", 1), 0);
    for (int i = 0; i < 3; i++) {
        glia_status s = i == 2 ? glia_volume_read_npy(small[i], &v) : glia_volume_read(small[i], &v);
        assert_int_equal(s, GLIA_STATUS_UNSUPPORTED);
        assert_non_null(strstr(glia_last_error(), "16x16x8"));
        assert_non_null(strstr(glia_last_error(), "8192 bytes"));
    }
    assert_int_equal(setenv("GLIA_MAX_VOLUME_BYTES", "255", 1), 0); /* the uint8 PNG holds 256 bytes */
    expect_limit(png, "16x16");
    assert_int_equal(setenv("GLIA_MAX_VOLUME_BYTES", "8k", 1), 0);
    for (int i = 0; i < 3; i++) {
        glia_status s = i == 2 ? glia_volume_read_npy(small[i], &v) : glia_volume_read(small[i], &v);
        if (s != GLIA_STATUS_OK)
            fail_msg("%s: %s", small[i], glia_last_error());
        glia_volume_free(v);
    }
    /* the setter wins over the environment until it is reset */
    glia_set_max_volume_bytes(100);
    expect_limit(gz, "16x16x8");
    glia_set_max_volume_bytes(0);
    assert_int_equal(glia_volume_read(gz, &v), GLIA_STATUS_OK);
    glia_volume_free(v);
    /* a raised limit lets the huge header through to the truncation it really has */
    assert_int_equal(setenv("GLIA_MAX_VOLUME_BYTES", "64G", 1), 0);
    expect_error(huge, GLIA_STATUS_FORMAT_ERROR, "truncated");
    /* a malformed value is an error, not silently the default */
    assert_int_equal(setenv("GLIA_MAX_VOLUME_BYTES", "lots", 1), 0);
    expect_error(gz, GLIA_STATUS_INVALID_ARGUMENT, "'lots'");
    assert_int_equal(unsetenv("GLIA_MAX_VOLUME_BYTES"), 0);
}

static void test_png_tiff_round_trip(void **state)
{
    (void)state;
    const char *names[] = {"img.png", "img.tif"};
    for (int fmt = 0; fmt < 2; fmt++) {
        for (int bits = 8; bits <= 16; bits += 8) {
            for (int c = 1; c <= 4; c++) {
                if (fmt == 1 && c == 2 && bits == 16)
                    continue;
                int64_t dim[3] = {13, 9, c};
                glia_volume *v = NULL, *r = NULL;
                assert_int_equal(glia_volume_new(c > 1 ? 3 : 2, dim, bits == 8 ? GLIA_DTYPE_UINT8 : GLIA_DTYPE_UINT16,
                                                 &v),
                                 GLIA_STATUS_OK);
                fill_random(v, (uint64_t)(bits * 10 + c));
                const char *p = tmp_path(names[fmt]);
                assert_int_equal(glia_volume_write(v, p, NULL), GLIA_STATUS_OK);
                glia_status s = glia_volume_read(p, &r);
                if (s != GLIA_STATUS_OK)
                    fail_msg("%s %d-bit %dch: %s", p, bits, c, glia_last_error());
                assert_int_equal(r->ndim, v->ndim);
                assert_int_equal(r->dim[0], 13);
                assert_int_equal(r->dim[1], 9);
                assert_int_equal(r->dtype, v->dtype);
                assert_memory_equal(r->data, v->data, (size_t)glia_volume_numel(v) * glia_dtype_size(v->dtype));
                glia_volume_free(v);
                glia_volume_free(r);
            }
        }
    }
    /* a float volume is no image */
    int64_t dim[2] = {4, 4};
    glia_volume *v = NULL;
    assert_int_equal(glia_volume_new(2, dim, GLIA_DTYPE_FLOAT32, &v), GLIA_STATUS_OK);
    assert_int_equal(glia_volume_write(v, tmp_path("f.png"), NULL), GLIA_STATUS_UNSUPPORTED);
    assert_int_equal(access(tmp_path("f.png"), F_OK), -1); /* no partial file left */
    glia_volume_free(v);
}

static void test_arguments(void **state)
{
    (void)state;
    glia_volume *v = NULL;
    int64_t dim[3] = {2, 0, 2};
    assert_int_equal(glia_volume_new(3, dim, GLIA_DTYPE_UINT8, &v), GLIA_STATUS_INVALID_ARGUMENT);
    assert_int_equal(glia_volume_new(8, dim, GLIA_DTYPE_UINT8, &v), GLIA_STATUS_INVALID_ARGUMENT);
    dim[1] = 2;
    assert_int_equal(glia_volume_new(3, dim, (glia_dtype)3, &v), GLIA_STATUS_INVALID_ARGUMENT);
    assert_int_equal(glia_volume_read(NULL, &v), GLIA_STATUS_INVALID_ARGUMENT);
    assert_int_equal(glia_volume_new(3, dim, GLIA_DTYPE_UINT8, &v), GLIA_STATUS_OK);
    assert_int_equal(glia_volume_write(v, tmp_path("x.bmp"), NULL), GLIA_STATUS_INVALID_ARGUMENT);
    v->dim[0] = 40000;
    glia_image_write_options o = {.nifti_version = 1};
    glia_volume_free(v);
    assert_int_equal(glia_volume_new(3, (int64_t[]){40000, 1, 1}, GLIA_DTYPE_UINT8, &v), GLIA_STATUS_OK);
    assert_int_equal(glia_volume_write(v, tmp_path("big.nii"), &o), GLIA_STATUS_INVALID_ARGUMENT);
    /* version 0 picks NIfTI-2 for sizes NIfTI-1 cannot hold */
    glia_volume *r = NULL;
    assert_int_equal(glia_volume_write(v, tmp_path("big.nii"), NULL), GLIA_STATUS_OK);
    assert_int_equal(glia_volume_read_header(tmp_path("big.nii"), &r), GLIA_STATUS_OK);
    assert_int_equal(r->nifti_version, 2);
    assert_int_equal(r->dim[0], 40000);
    assert_null(r->data);
    glia_volume_free(r);
    glia_volume_free(v);
}

static int setup(void **state) { return gt_tmpdir_make(dir, sizeof dir, "glia_nifti"); }

static int teardown(void **state) { return gt_tmpdir_remove(dir); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_all_types), cmocka_unit_test(test_affine_from_quaternion),
        cmocka_unit_test(test_scaling),              cmocka_unit_test(test_big_endian_file),
        cmocka_unit_test(test_bad_files),            cmocka_unit_test(test_png_tiff_round_trip),
        cmocka_unit_test(test_arguments),            cmocka_unit_test(test_nifti2_int64_fields),
        cmocka_unit_test(test_size_limit),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
