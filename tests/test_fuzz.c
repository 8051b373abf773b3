/* Fuzz-style robustness: every reader (NIfTI plain and gzip, PNG, TIFF, .npy,
 * safetensors) is fed truncated and bit-flipped versions of a valid file and
 * must answer with success or a clean error (a known status and a message),
 * never a crash, a hang (the alarm below) or an out-of-memory from a lying header. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "glia/glia.h"
#include "glia/io.h"

static char dir[256];

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
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

static void spit(const char *p, const unsigned char *b, size_t n)
{
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, n, f), n);
    fclose(f);
}

typedef glia_status (*reader)(const char *path);

static glia_status read_volume(const char *path)
{
    glia_volume *v = NULL;
    glia_status s = glia_volume_read(path, &v);
    if (s == GLIA_STATUS_OK) {
        float *f = NULL;
        if (glia_volume_to_float(v, &f) == GLIA_STATUS_OK)
            free(f);
    }
    glia_volume_free(v);
    return s;
}

static glia_status read_npy(const char *path)
{
    int nd;
    int64_t shape[GLIA_NPY_MAX_DIMS];
    float *data = NULL;
    glia_status s = glia_npy_read_f32(path, &nd, shape, &data);
    free(data);
    return s;
}

static glia_status read_st(const char *path)
{
    glia_safetensors *st = NULL;
    glia_status s = glia_safetensors_open(path, &st);
    for (int i = 0; s == GLIA_STATUS_OK && i < glia_safetensors_count(st); i++) {
        const glia_st_entry *e = glia_safetensors_entry(st, i);
        void *buf = malloc(e->bytes + 1);
        s = glia_safetensors_read(st, e, buf, e->bytes);
        free(buf);
    }
    glia_safetensors_close(st);
    return s;
}

static void check(reader rd, const char *p, int names_path, int *errors)
{
    glia_clear_error();
    glia_status s = rd(p);
    if (s == GLIA_STATUS_OK)
        return;
    (*errors)++;
    if (s != GLIA_STATUS_FORMAT_ERROR && s != GLIA_STATUS_UNSUPPORTED && s != GLIA_STATUS_IO_ERROR &&
        s != GLIA_STATUS_SHAPE_MISMATCH)
        fail_msg("%s: unexpected status %s (%s)", p, glia_status_str(s), glia_last_error());
    if (!*glia_last_error() || (names_path && !strstr(glia_last_error(), p)))
        fail_msg("%s: error without a message naming the file: '%s'", p, glia_last_error());
}

/* Truncate at every length up to 600 and then in steps; flip bits and bytes at random. */
static void fuzz(const char *seed_path, reader rd, int names_path, uint64_t seed)
{
    size_t n;
    unsigned char *good = slurp(seed_path, &n), *bad = malloc(n);
    char p[512];
    snprintf(p, sizeof p, "%s/mutant", dir);
    int errors = 0, runs = 0;
    assert_int_equal(rd(seed_path), GLIA_STATUS_OK);
    for (size_t len = 0; len < n; len += len < 600 ? 1 : n / 64 + 1, runs++) {
        spit(p, good, len);
        check(rd, p, names_path, &errors);
    }
    uint64_t r = seed * 0x9e3779b97f4a7c15ull + 1;
    for (int t = 0; t < 300; t++, runs++) {
        memcpy(bad, good, n);
        int flips = 1 + (int)(rnd(&r) % 4);
        for (int f = 0; f < flips; f++) {
            /* headers are where lies hurt: aim half the mutations at the first 600 bytes */
            size_t at = (size_t)(rnd(&r) % (rnd(&r) & 1 ? (n < 600 ? n : 600) : n));
            switch (rnd(&r) % 4) {
            case 0: bad[at] ^= (unsigned char)(1u << (rnd(&r) % 8)); break;
            case 1: bad[at] = 0xff; break;
            case 2: bad[at] = 0; break;
            default: bad[at] = (unsigned char)rnd(&r); break;
            }
        }
        spit(p, bad, n);
        check(rd, p, names_path, &errors);
    }
    assert_true(errors > 0); /* the mutations did reach the checks */
    free(good);
    free(bad);
}

static const char *seed_file(const char *name)
{
    static char p[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
    return p[k];
}

static glia_volume *pattern(int ndim, int64_t w, int64_t h, int64_t d, glia_dtype t)
{
    int64_t dim[3] = {w, h, d};
    glia_volume *v = NULL;
    assert_int_equal(glia_volume_new(ndim, dim, t, &v), GLIA_STATUS_OK);
    size_t bytes = (size_t)glia_volume_numel(v) * glia_dtype_size(t);
    for (size_t i = 0; i < bytes; i++)
        ((unsigned char *)v->data)[i] = (unsigned char)(i * 7 + i / 13);
    return v;
}

static void test_nifti(void **state)
{
    (void)state;
    glia_volume *v = pattern(3, 12, 10, 6, GLIA_DTYPE_INT16);
    v->scl_slope = 2;
    for (int ver = 1; ver <= 2; ver++) {
        glia_image_write_options o = {.nifti_version = ver};
        assert_int_equal(glia_volume_write(v, seed_file("seed.nii"), &o), GLIA_STATUS_OK);
        assert_int_equal(glia_volume_write(v, seed_file("seed.nii.gz"), &o), GLIA_STATUS_OK);
        fuzz(seed_file("seed.nii"), read_volume, 1, 1 + (uint64_t)ver);
        fuzz(seed_file("seed.nii.gz"), read_volume, 1, 3 + (uint64_t)ver);
    }
    glia_volume_free(v);
}

static void test_png_tiff(void **state)
{
    (void)state;
    glia_volume *rgb = pattern(3, 20, 14, 3, GLIA_DTYPE_UINT8), *grey = pattern(2, 17, 9, 1, GLIA_DTYPE_UINT16);
    assert_int_equal(glia_volume_write(rgb, seed_file("seed.png"), NULL), GLIA_STATUS_OK);
    fuzz(seed_file("seed.png"), read_volume, 1, 7);
    assert_int_equal(glia_volume_write(grey, seed_file("seed16.png"), NULL), GLIA_STATUS_OK);
    fuzz(seed_file("seed16.png"), read_volume, 1, 8);
    assert_int_equal(glia_volume_write(rgb, seed_file("seed.tif"), NULL), GLIA_STATUS_OK);
    fuzz(seed_file("seed.tif"), read_volume, 1, 9);
    assert_int_equal(glia_volume_write(grey, seed_file("seed16.tif"), NULL), GLIA_STATUS_OK);
    fuzz(seed_file("seed16.tif"), read_volume, 1, 10);
    glia_volume_free(rgb);
    glia_volume_free(grey);
}

static void test_npy_safetensors(void **state)
{
    (void)state;
    glia_volume *v = pattern(3, 5, 4, 3, GLIA_DTYPE_FLOAT32);
    for (int i = 0; i < 60; i++)
        ((float *)v->data)[i] = (float)i * 0.5f;
    assert_int_equal(glia_volume_write_npy(v, seed_file("seed.npy")), GLIA_STATUS_OK);
    fuzz(seed_file("seed.npy"), read_npy, 0, 11);
    glia_volume_free(v);
    /* a safetensors file built by hand: 8-byte header length, JSON, data */
    const char *json = "{\"__metadata__\":{\"model\":\"unet2d\"},"
                       "\"a.weight\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
                       "\"b\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[24,40]}}";
    size_t jl = strlen(json), pad = (8 - jl % 8) % 8, hl = jl + pad;
    unsigned char buf[512] = {0};
    for (int i = 0; i < 8; i++)
        buf[i] = (unsigned char)(hl >> (8 * i));
    memcpy(buf + 8, json, jl);
    memset(buf + 8 + jl, ' ', pad);
    for (int i = 0; i < 40; i++)
        buf[8 + hl + i] = (unsigned char)(i * 3);
    spit(seed_file("seed.safetensors"), buf, 8 + hl + 40);
    fuzz(seed_file("seed.safetensors"), read_st, 0, 12);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "%s/glia_fuzz_XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    alarm(120); /* a reader that hangs fails the test instead of stalling the suite */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nifti),
        cmocka_unit_test(test_png_tiff),
        cmocka_unit_test(test_npy_safetensors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
