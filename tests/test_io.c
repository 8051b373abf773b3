/* Files: safetensors (hand-made files read, round trips, every truncation and
 * many corruptions rejected without a crash, mismatches reported by name),
 * .npy (numpy's layouts, dtype rejection), checkpoints (configuration,
 * inference from a metadata-free file, optimizer state through the file). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/stat.h>
#include <cmocka.h>
#include "glia/glia.h"
#include "testutil.h"

static glia_device *dev;
static char dir[256];

static const char *tmp(const char *name)
{
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

static void write_bytes(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
}

static unsigned char *read_bytes(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *d = malloc(*n + 1);
    assert_int_equal(fread(d, 1, *n, f), *n);
    fclose(f);
    return d;
}

/* A safetensors file from a header text and raw data, as the format defines it. */
static size_t make_st(unsigned char *out, const char *header, const void *data, size_t ndata)
{
    size_t h = strlen(header);
    for (int i = 0; i < 8; i++)
        out[i] = (unsigned char)((uint64_t)h >> (8 * i));
    memcpy(out + 8, header, h);
    memcpy(out + 8 + h, data, ndata);
    return 8 + h + ndata;
}

/* No temporary file (".glia-tmp-*", or "*.tmp.*" as earlier versions named them) is left in the test directory. */
static void assert_no_temporaries(void)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    while ((e = readdir(d)))
        if (strncmp(e->d_name, ".glia-tmp-", 10) == 0 || strstr(e->d_name, ".tmp."))
            fail_msg("temporary file %s left behind", e->d_name);
    closedir(d);
}

/* ---- safetensors --------------------------------------------------------------- */
static void test_read_handmade(void **state)
{
    (void)state;
    /* little-endian float32 1, 2, 3, -0.5 and int64 7, written byte by byte */
    static const unsigned char data[] = {0, 0, 0x80, 0x3f, 0, 0, 0, 0x40, 0, 0, 0x40, 0x40, 0, 0, 0, 0xbf,
                                         7, 0, 0,    0,    0, 0, 0, 0};
    const char *header = "{\"b.n\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[16,24]},"
                         "\"__metadata__\":{\"model\":\"x\",\"note\":\"hi\"},"
                         "\"a.w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}";
    unsigned char file[512];
    size_t n = make_st(file, header, data, sizeof data);
    write_bytes(tmp("hand.safetensors"), file, n);
    glia_safetensors *st = NULL;
    assert_int_equal(glia_safetensors_open(tmp("hand.safetensors"), &st), GLIA_STATUS_OK);
    assert_int_equal(glia_safetensors_count(st), 2);
    const glia_st_entry *a = glia_safetensors_find(st, "a.w"), *b = glia_safetensors_find(st, "b.n");
    assert_non_null(a);
    assert_non_null(b);
    assert_string_equal(a->dtype, "F32");
    assert_int_equal(a->ndim, 2);
    assert_int_equal(a->shape[1], 2);
    assert_int_equal(b->ndim, 0);
    assert_int_equal(b->numel, 1);
    assert_string_equal(glia_meta_get(glia_safetensors_meta(st), "note"), "hi");
    assert_null(glia_meta_get(glia_safetensors_meta(st), "absent"));
    float v[4];
    assert_int_equal(glia_safetensors_read(st, a, v, sizeof v), GLIA_STATUS_OK);
    assert_true(v[0] == 1.0f && v[1] == 2.0f && v[2] == 3.0f && v[3] == -0.5f);
    assert_int_equal(glia_safetensors_read(st, a, v, 12), GLIA_STATUS_INVALID_ARGUMENT);

    /* load into a set: tensor and counter */
    glia_params *set = NULL;
    glia_tensor *t = NULL;
    assert_int_equal(glia_params_create(&set), GLIA_STATUS_OK);
    assert_int_equal(glia_tensor_zeros(dev, 2, (int64_t[]){2, 2}, &t), GLIA_STATUS_OK);
    assert_int_equal(glia_params_add(set, "w", GLIA_PARAM_TRAINABLE, t), GLIA_STATUS_OK);
    assert_int_equal(glia_params_add(set, "n", GLIA_PARAM_COUNTER, NULL), GLIA_STATUS_OK);
    glia_tensor_free(t);
    /* names differ by prefix: "w" is "a.w" in the file, "n" is "b.n": two loads */
    glia_params *one = NULL;
    assert_int_equal(glia_params_create(&one), GLIA_STATUS_OK);
    assert_int_equal(glia_params_add(one, "n", GLIA_PARAM_COUNTER, NULL), GLIA_STATUS_OK);
    glia_st_load_options o = {.prefix = "b.", .strict = 1};
    assert_int_equal(glia_safetensors_load(st, one, &o), GLIA_STATUS_OK);
    int64_t c = 0;
    assert_int_equal(glia_params_counter(one, "n", &c), GLIA_STATUS_OK);
    assert_int_equal(c, 7);
    glia_params_free(one);
    o.prefix = "a.";
    assert_int_equal(glia_safetensors_load(st, set, &o), GLIA_STATUS_SHAPE_MISMATCH); /* no "a.n" */
    assert_non_null(strstr(glia_last_error(), "missing 'a.n'"));
    glia_params_free(set);
    glia_safetensors_close(st);
}

static glia_params *small_set(uint64_t seed)
{
    glia_params *p = NULL;
    glia_tensor *a = NULL, *b = NULL;
    glia_rng rng;
    glia_rng_init(&rng, seed);
    assert_int_equal(glia_params_create(&p), GLIA_STATUS_OK);
    assert_int_equal(glia_tensor_zeros(dev, 3, (int64_t[]){2, 3, 4}, &a), GLIA_STATUS_OK);
    assert_int_equal(glia_tensor_zeros(dev, 1, (int64_t[]){5}, &b), GLIA_STATUS_OK);
    assert_int_equal(glia_tensor_uniform(a, &rng, -1, 1), GLIA_STATUS_OK);
    assert_int_equal(glia_tensor_uniform(b, &rng, -1, 1), GLIA_STATUS_OK);
    assert_int_equal(glia_params_add(p, "layer.weight", GLIA_PARAM_TRAINABLE, a), GLIA_STATUS_OK);
    assert_int_equal(glia_params_add(p, "layer.stat", GLIA_PARAM_BUFFER, b), GLIA_STATUS_OK);
    assert_int_equal(glia_params_add(p, "layer.count", GLIA_PARAM_COUNTER, NULL), GLIA_STATUS_OK);
    assert_int_equal(glia_params_set_counter(p, "layer.count", (int64_t)seed * 1000), GLIA_STATUS_OK);
    glia_tensor_free(a);
    glia_tensor_free(b);
    return p;
}

static void assert_sets_equal(glia_params *a, glia_params *b)
{
    assert_int_equal(glia_params_count(a), glia_params_count(b));
    for (int i = 0; i < glia_params_count(a); i++) {
        const char *name;
        glia_param_kind kind;
        glia_tensor *ta;
        glia_params_get(a, i, &name, &kind, &ta);
        if (kind == GLIA_PARAM_COUNTER) {
            int64_t x = -1, y = -2;
            glia_params_counter(a, name, &x);
            glia_params_counter(b, name, &y);
            assert_int_equal(x, y);
            continue;
        }
        glia_tensor *tb = glia_params_find(b, name);
        assert_non_null(tb);
        assert_int_equal(glia_tensor_etype(ta), glia_tensor_etype(tb));
        size_t n = (size_t)glia_tensor_numel(ta) * glia_etype_size(glia_tensor_etype(ta));
        void *va = malloc(n), *vb = malloc(n);
        assert_int_equal(glia_tensor_read_raw(ta, va, n), GLIA_STATUS_OK);
        assert_int_equal(glia_tensor_read_raw(tb, vb, n), GLIA_STATUS_OK);
        assert_memory_equal(va, vb, n);
        free(va);
        free(vb);
    }
}

static void test_roundtrip(void **state)
{
    (void)state;
    glia_params *a = small_set(3), *b = small_set(4), *c = small_set(5);
    glia_meta *meta = NULL;
    assert_int_equal(glia_meta_create(&meta), GLIA_STATUS_OK);
    assert_int_equal(glia_meta_set(meta, "k", "v1"), GLIA_STATUS_OK);
    assert_int_equal(glia_meta_set(meta, "k", "v2"), GLIA_STATUS_OK);
    assert_int_equal(glia_meta_set(meta, "quote", "a \"b\" \\ c\n"), GLIA_STATUS_OK);
    glia_st_section sec[2] = {{a, ""}, {b, "extra."}};
    assert_int_equal(glia_safetensors_save(tmp("rt.safetensors"), sec, 2, meta), GLIA_STATUS_OK);
    assert_no_temporaries();
    /* the layout the format defines: 8-byte length, JSON padded to 8, data */
    size_t n;
    unsigned char *raw = read_bytes(tmp("rt.safetensors"), &n);
    uint64_t h = 0;
    for (int i = 7; i >= 0; i--)
        h = h << 8 | raw[i];
    assert_true(h % 8 == 0 && raw[8] == '{');
    assert_int_equal(n, 8 + h + 2 * (24 + 5) * 4 + 2 * 8);
    free(raw);

    glia_safetensors *st = NULL;
    assert_int_equal(glia_safetensors_open(tmp("rt.safetensors"), &st), GLIA_STATUS_OK);
    assert_int_equal(glia_safetensors_count(st), 6);
    assert_string_equal(glia_meta_get(glia_safetensors_meta(st), "k"), "v2");
    assert_string_equal(glia_meta_get(glia_safetensors_meta(st), "quote"), "a \"b\" \\ c\n");
    assert_string_equal(glia_safetensors_find(st, "extra.layer.count")->dtype, "I64");
    glia_st_load_options o = {.strict = 1, .exclude = "extra."};
    assert_int_equal(glia_safetensors_load(st, c, &o), GLIA_STATUS_OK);
    assert_sets_equal(a, c);
    o = (glia_st_load_options){.prefix = "extra.", .strict = 1};
    assert_int_equal(glia_safetensors_load(st, c, &o), GLIA_STATUS_OK);
    assert_sets_equal(b, c);
    /* strict without the exclusion: the other section's entries are unexpected */
    char report[1024];
    o = (glia_st_load_options){.strict = 1, .report = report, .report_len = sizeof report};
    assert_int_equal(glia_safetensors_load(st, c, &o), GLIA_STATUS_SHAPE_MISMATCH);
    assert_non_null(strstr(report, "unexpected 'extra.layer.weight'\n"));
    assert_non_null(strstr(report, "unexpected 'extra.layer.count'\n"));
    glia_safetensors_close(st);

    /* an existing file is replaced whole; a failed save leaves it as it was */
    glia_st_section dup[2] = {{a, ""}, {a, ""}};
    assert_int_equal(glia_safetensors_save(tmp("rt.safetensors"), dup, 2, NULL), GLIA_STATUS_INVALID_ARGUMENT);
    assert_int_equal(glia_safetensors_open(tmp("rt.safetensors"), &st), GLIA_STATUS_OK);
    assert_int_equal(glia_safetensors_count(st), 6);
    glia_safetensors_close(st);
    mkdir(tmp("adir"), 0755);
    assert_int_equal(glia_safetensors_save(tmp("adir"), sec, 1, NULL), GLIA_STATUS_IO_ERROR);
    assert_int_equal(glia_safetensors_save(tmp("no/such/dir.safetensors"), sec, 1, NULL), GLIA_STATUS_IO_ERROR);
    assert_no_temporaries();
    glia_meta_free(meta);
    glia_params_free(a);
    glia_params_free(b);
    glia_params_free(c);
}

/* Buffers of other element types (SwinUNETR's int64 relative_position_index)
 * keep their type through a file: a hand-made I64 file loads into an int64
 * buffer bit for bit, a save writes them back as I64 with the same bytes, and
 * a float entry where the set has an int64 buffer is a named mismatch. */
static void test_typed_buffers(void **state)
{
    (void)state;
    const int64_t v[6] = {0, -1, 1LL << 40, 7, -(1LL << 62), 42};
    unsigned char le[48], file[512];
    for (int i = 0; i < 48; i++)
        le[i] = (unsigned char)((uint64_t)v[i / 8] >> (8 * (i % 8)));
    size_t n = make_st(file, "{\"idx\":{\"dtype\":\"I64\",\"shape\":[2,3],\"data_offsets\":[0,48]}}", le, 48);
    write_bytes(tmp("i64.safetensors"), file, n);
    glia_params *set = NULL;
    glia_tensor *t = NULL;
    assert_int_equal(glia_params_create(&set), GLIA_STATUS_OK);
    int64_t zero[6] = {0};
    assert_int_equal(glia_tensor_from_host_typed(dev, GLIA_ETYPE_I64, 2, (int64_t[]){2, 3}, zero, &t), GLIA_STATUS_OK);
    assert_int_equal(glia_params_add(set, "idx", GLIA_PARAM_BUFFER, t), GLIA_STATUS_OK);
    glia_safetensors *st = NULL;
    glia_st_load_options o = {.strict = 1};
    assert_int_equal(glia_safetensors_open(tmp("i64.safetensors"), &st), GLIA_STATUS_OK);
    assert_int_equal(glia_safetensors_load(st, set, &o), GLIA_STATUS_OK);
    glia_safetensors_close(st);
    int64_t got[6];
    assert_int_equal(glia_tensor_read_raw(t, got, sizeof got), GLIA_STATUS_OK);
    assert_memory_equal(got, v, sizeof v);
    float f[6];
    assert_int_equal(glia_tensor_read(t, f, 6), GLIA_STATUS_UNSUPPORTED); /* the float API refuses int64 */
    glia_st_section sec = {set, ""};
    assert_int_equal(glia_safetensors_save(tmp("i64b.safetensors"), &sec, 1, NULL), GLIA_STATUS_OK);
    size_t m;
    unsigned char *raw = read_bytes(tmp("i64b.safetensors"), &m);
    assert_true(m >= 48 && memcmp(raw + m - 48, le, 48) == 0);
    raw[m - 48] = 0; /* the header: NUL-terminated before the data for strstr */
    assert_non_null(strstr((char *)raw + 8, "\"dtype\":\"I64\""));
    free(raw);
    /* the same name as float32: refused, with both types named */
    float fl[6] = {0};
    n = make_st(file, "{\"idx\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}}", fl, 24);
    write_bytes(tmp("f32.safetensors"), file, n);
    assert_int_equal(glia_safetensors_open(tmp("f32.safetensors"), &st), GLIA_STATUS_OK);
    assert_int_equal(glia_safetensors_load(st, set, &o), GLIA_STATUS_SHAPE_MISMATCH);
    assert_non_null(strstr(glia_last_error(), "'idx' is F32 [2, 3] in the file, the model has I64 [2, 3]"));
    glia_safetensors_close(st);
    /* training is float32: an int64 tensor is no trainable parameter */
    assert_int_equal(glia_params_add(set, "w", GLIA_PARAM_TRAINABLE, t), GLIA_STATUS_UNSUPPORTED);
    glia_tensor_free(t);
    glia_params_free(set);
}

static void test_mismatches_reported(void **state)
{
    (void)state;
    glia_params *a = small_set(1), *b = NULL;
    glia_st_section sec = {a, ""};
    assert_int_equal(glia_safetensors_save(tmp("mm.safetensors"), &sec, 1, NULL), GLIA_STATUS_OK);
    glia_tensor *w = NULL, *x = NULL, *s = NULL;
    assert_int_equal(glia_params_create(&b), GLIA_STATUS_OK);
    assert_int_equal(glia_tensor_full(dev, 3, (int64_t[]){2, 4, 3}, 9.0f, &w), GLIA_STATUS_OK); /* wrong shape */
    assert_int_equal(glia_tensor_full(dev, 1, (int64_t[]){2}, 9.0f, &x), GLIA_STATUS_OK);        /* not in file */
    assert_int_equal(glia_tensor_full(dev, 1, (int64_t[]){5}, 9.0f, &s), GLIA_STATUS_OK);        /* fits */
    assert_int_equal(glia_params_add(b, "layer.weight", GLIA_PARAM_TRAINABLE, w), GLIA_STATUS_OK);
    assert_int_equal(glia_params_add(b, "layer.extra", GLIA_PARAM_BUFFER, x), GLIA_STATUS_OK);
    assert_int_equal(glia_params_add(b, "layer.stat", GLIA_PARAM_BUFFER, s), GLIA_STATUS_OK);
    char report[1024];
    glia_st_load_options o = {.strict = 1, .report = report, .report_len = sizeof report};
    assert_int_equal(glia_safetensors_load(NULL, b, &o), GLIA_STATUS_INVALID_ARGUMENT);
    glia_safetensors *st = NULL;
    assert_int_equal(glia_safetensors_open(tmp("mm.safetensors"), &st), GLIA_STATUS_OK);
    assert_int_equal(glia_safetensors_load(st, b, &o), GLIA_STATUS_SHAPE_MISMATCH);
    const char *msg = glia_last_error();
    assert_non_null(strstr(msg, "3 mismatches"));
    assert_non_null(strstr(msg, "'layer.weight' is F32 [2, 3, 4] in the file, the model has F32 [2, 4, 3]"));
    assert_non_null(strstr(report, "missing 'layer.extra'\n"));
    assert_non_null(strstr(report, "unexpected 'layer.count'\n"));
    /* nothing was copied: the fitting entry keeps its value */
    float v[5];
    assert_int_equal(glia_tensor_read(s, v, 5), GLIA_STATUS_OK);
    assert_true(v[0] == 9.0f && v[4] == 9.0f);
    /* a counter must be I64 [], a tensor F32 */
    glia_params *c = NULL;
    assert_int_equal(glia_params_create(&c), GLIA_STATUS_OK);
    assert_int_equal(glia_params_add(c, "layer.stat", GLIA_PARAM_COUNTER, NULL), GLIA_STATUS_OK);
    o = (glia_st_load_options){0};
    assert_int_equal(glia_safetensors_load(st, c, &o), GLIA_STATUS_SHAPE_MISMATCH);
    assert_non_null(strstr(glia_last_error(), "'layer.stat' is F32 [5] in the file, the model has I64 []"));
    glia_params_free(c);
    glia_safetensors_close(st);
    glia_tensor_free(w);
    glia_tensor_free(x);
    glia_tensor_free(s);
    glia_params_free(a);
    glia_params_free(b);
}

static void expect_bad_file(const unsigned char *data, size_t n, const char *needle)
{
    write_bytes(tmp("bad.safetensors"), data, n);
    glia_safetensors *st = (glia_safetensors *)&st;
    glia_status s = glia_safetensors_open(tmp("bad.safetensors"), &st);
    if (s != GLIA_STATUS_FORMAT_ERROR)
        fail_msg("expected a format error (%s), got %s: %s", needle ? needle : "", glia_status_str(s),
                 glia_last_error());
    assert_null(st);
    if (needle && !strstr(glia_last_error(), needle))
        fail_msg("message '%s' lacks '%s'", glia_last_error(), needle);
}

static void bad_header(const char *header, size_t ndata, const char *needle)
{
    unsigned char file[1024], zeros[64] = {0};
    expect_bad_file(file, make_st(file, header, zeros, ndata), needle);
}

static void test_malformed(void **state)
{
    (void)state;
    glia_params *a = small_set(2);
    glia_st_section sec = {a, ""};
    assert_int_equal(glia_safetensors_save(tmp("good.safetensors"), &sec, 1, NULL), GLIA_STATUS_OK);
    size_t n;
    unsigned char *good = read_bytes(tmp("good.safetensors"), &n);
    /* every truncation is a clean error */
    for (size_t k = 0; k < n; k++)
        expect_bad_file(good, k, NULL);
    /* trailing data is not silently accepted */
    unsigned char *longer = malloc(n + 4);
    memcpy(longer, good, n);
    memset(longer + n, 0, 4);
    expect_bad_file(longer, n + 4, "padded");
    free(longer);
    /* corruptions of the header: any status but never a crash or an over-read */
    uint64_t s = 99;
    unsigned char *copy = malloc(n);
    for (int it = 0; it < 2000; it++) {
        memcpy(copy, good, n);
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        size_t pos = (size_t)(s >> 33) % (n < 400 ? n : 400);
        copy[pos] = (unsigned char)(s >> 20);
        write_bytes(tmp("fuzz.safetensors"), copy, n);
        glia_safetensors *st = NULL;
        glia_params *b = small_set(0);
        if (glia_safetensors_open(tmp("fuzz.safetensors"), &st) == GLIA_STATUS_OK) {
            glia_st_load_options o = {.strict = 1};
            glia_safetensors_load(st, b, &o);
            glia_safetensors_close(st);
        }
        glia_params_free(b);
    }
    free(copy);
    free(good);

    unsigned char huge[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, '{', '}'};
    expect_bad_file(huge, 10, "truncated");
    bad_header("[1, 2]", 0, "not a JSON object");
    bad_header("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}", 8, "not a JSON object");
    bad_header("{\"a\": {\"dtype\": \"Q7\", \"shape\": [2], \"data_offsets\": [0, 8]}}", 8, "unknown dtype");
    bad_header("{\"a\": {\"dtype\": \"F32\", \"shape\": [3], \"data_offsets\": [0, 8]}}", 8, "needs 12 bytes");
    bad_header("{\"a\": {\"dtype\": \"F32\", \"shape\": [-2], \"data_offsets\": [0, 8]}}", 8, "non-negative");
    bad_header("{\"a\": {\"dtype\": \"F32\", \"shape\": [2.5], \"data_offsets\": [0, 8]}}", 8, "non-negative");
    bad_header("{\"a\": {\"dtype\": \"F32\", \"shape\": [4294967296, 4294967296, 4294967296], "
               "\"data_offsets\": [0, 8]}}", 8, "overflows");
    bad_header("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [8, 0]}}", 8, "data_offsets");
    bad_header("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}}", 4, "truncated");
    bad_header("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]},"
               " \"b\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [4, 12]}}", 12, "overlap or gap");
    bad_header("{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]},"
               " \"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}", 8, "appears twice");
    bad_header("{\"__metadata__\": {\"k\": 3}}", 0, "not a string");
    bad_header("{\"a\": {\"dtype\": \"F32\", \"shape\": [1,1,1,1,1,1,1,1,1], \"data_offsets\": [0, 4]}}", 4,
               "dimensions");
    bad_header("{\"a\": {\"shape\": [1], \"data_offsets\": [0, 4]}}", 4, "lacks");
    glia_safetensors *st = (glia_safetensors *)&st;
    assert_int_equal(glia_safetensors_open(tmp("does-not-exist"), &st), GLIA_STATUS_IO_ERROR);
    assert_null(st);
    assert_int_equal(glia_safetensors_open(dir, &st), GLIA_STATUS_IO_ERROR); /* a directory */
    glia_params_free(a);
}

/* ---- npy ------------------------------------------------------------------------- */
static size_t make_npy(unsigned char *out, int version, const char *dict, const void *data, size_t ndata)
{
    size_t pre = version == 1 ? 10 : 12, h = strlen(dict);
    memcpy(out, "\x93NUMPY", 6);
    out[6] = (unsigned char)version;
    out[7] = 0;
    for (size_t i = 0; i < pre - 8; i++)
        out[8 + i] = (unsigned char)(h >> (8 * i));
    memcpy(out + pre, dict, h);
    memcpy(out + pre + h, data, ndata);
    return pre + h + ndata;
}

static void test_npy(void **state)
{
    (void)state;
    const float vals[6] = {1, -2, 3.5f, 4, 5, 6};
    unsigned char file[512], be[24];
    size_t n = make_npy(file, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }          \n", vals,
                        sizeof vals);
    write_bytes(tmp("a.npy"), file, n);
    int nd = 0;
    int64_t shape[GLIA_NPY_MAX_DIMS];
    float *d = NULL;
    assert_int_equal(glia_npy_read_f32(tmp("a.npy"), &nd, shape, &d), GLIA_STATUS_OK);
    assert_int_equal(nd, 2);
    assert_true(shape[0] == 2 && shape[1] == 3);
    assert_memory_equal(d, vals, sizeof vals);
    free(d);
    /* version 2 header, double quotes, big-endian data, 1-D shape */
    for (int i = 0; i < 6; i++)
        for (int b = 0; b < 4; b++)
            be[i * 4 + b] = ((const unsigned char *)&vals[i])[3 - b];
    n = make_npy(file, 2, "{\"descr\": \">f4\", \"fortran_order\": False, \"shape\": (6,)}\n", be, sizeof be);
    write_bytes(tmp("b.npy"), file, n);
    assert_int_equal(glia_npy_read_f32(tmp("b.npy"), &nd, shape, &d), GLIA_STATUS_OK);
    assert_int_equal(nd, 1);
    assert_memory_equal(d, vals, sizeof vals);
    free(d);
    /* write: numpy's layout (64-byte aligned header ending in a newline), read back */
    int64_t s3[3] = {1, 2, 3};
    assert_int_equal(glia_npy_write_f32(tmp("c.npy"), 3, s3, vals), GLIA_STATUS_OK);
    unsigned char *raw = read_bytes(tmp("c.npy"), &n);
    size_t hl = raw[8] | (size_t)raw[9] << 8;
    assert_int_equal((10 + hl) % 64, 0);
    assert_int_equal(raw[10 + hl - 1], '\n');
    assert_non_null(strstr((char *)raw + 10, "'shape': (1, 2, 3)"));
    assert_int_equal(n, 10 + hl + sizeof vals);
    free(raw);
    assert_int_equal(glia_npy_read_f32(tmp("c.npy"), &nd, shape, &d), GLIA_STATUS_OK);
    assert_int_equal(nd, 3);
    assert_memory_equal(d, vals, sizeof vals);
    free(d);
    assert_no_temporaries();

    /* rejections: dtype by name, Fortran order, sizes, truncation */
    static const struct {
        const char *dict;
        size_t ndata;
        const char *needle;
    } bad[] = {
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", 24, "float64"},
        {"{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }", 24, "int64"},
        {"{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }", 3, "uint8"},
        {"{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", 24, "Fortran"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 20, "truncated"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 28, "trailing"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, 99999999999, 9999999), }", 0,
         "overflows"},
        {"{'descr': '<f4', 'fortran_order': False}", 0, "lacks"},
        {"{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", 4, "structured"},
        {"{'descr': '<f4', 'shape': (1,), 'fortran_order': False, 'x': 1}", 4, "unknown key"},
    };
    unsigned char zeros[64] = {0};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        n = make_npy(file, 1, bad[i].dict, zeros, bad[i].ndata);
        write_bytes(tmp("bad.npy"), file, n);
        d = (float *)&d;
        assert_int_equal(glia_npy_read_f32(tmp("bad.npy"), &nd, shape, &d), GLIA_STATUS_FORMAT_ERROR);
        assert_null(d);
        if (!strstr(glia_last_error(), bad[i].needle))
            fail_msg("'%s' lacks '%s'", glia_last_error(), bad[i].needle);
    }
    n = make_npy(file, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", vals, sizeof vals);
    for (size_t k = 0; k < n; k++) {
        write_bytes(tmp("cut.npy"), file, k);
        assert_int_equal(glia_npy_read_f32(tmp("cut.npy"), &nd, shape, &d), GLIA_STATUS_FORMAT_ERROR);
    }
    write_bytes(tmp("cut.npy"), "\x93NUMPY\x07\x00\x00\x00", 10);
    assert_int_equal(glia_npy_read_f32(tmp("cut.npy"), &nd, shape, &d), GLIA_STATUS_FORMAT_ERROR);
    assert_int_equal(glia_npy_read_f32(tmp("none.npy"), &nd, shape, &d), GLIA_STATUS_IO_ERROR);
    assert_int_equal(glia_npy_write_f32(tmp("no/dir.npy"), 1, s3, vals), GLIA_STATUS_IO_ERROR);
}

/* ---- checkpoints --------------------------------------------------------------------- */
/* Does arch list this key itself (not through another architecture)? */
static int has_field(glia_model_arch arch, const char *key)
{
    const glia_model_field *f;
    for (int i = 0; (f = glia_model_field_at(arch, i)); i++)
        if (strcmp(f->key, key) == 0)
            return 1;
    return 0;
}

static void test_config_json(void **state)
{
    (void)state;
    for (int a = 0; a < GLIA_MODEL_ARCH_COUNT_; a++) {
        glia_model_config c, back;
        char json[256];
        assert_int_equal(glia_model_config_default((glia_model_arch)a, &c), GLIA_STATUS_OK);
        c.in_channels = 5;
        if (has_field((glia_model_arch)a, "features")) /* swinunetr has none */
            c.features[0] = 7;
        assert_int_equal(glia_model_config_to_json(&c, json, sizeof json), GLIA_STATUS_OK);
        assert_int_equal(glia_model_config_from_json(glia_model_arch_name(c.arch), json, &back), GLIA_STATUS_OK);
        assert_memory_equal(&c, &back, sizeof c);
        assert_int_equal(glia_model_config_to_json(&c, json, 20), GLIA_STATUS_INVALID_ARGUMENT);
    }
    glia_model_config c;
    assert_int_equal(glia_model_config_from_json("unet2d", "{\"features\": [8, 12]}", &c), GLIA_STATUS_OK);
    assert_true(c.levels == 2 && c.features[1] == 12 && c.in_channels == 3 && c.batchnorm == 1);
    assert_int_equal(glia_model_config_from_json("unet2d", "{\"colour\": 1}", &c), GLIA_STATUS_FORMAT_ERROR);
    assert_non_null(strstr(glia_last_error(), "colour"));
    assert_int_equal(glia_model_config_from_json("unet2d", "{\"features\": []}", &c), GLIA_STATUS_FORMAT_ERROR);
    assert_int_equal(glia_model_config_from_json("unet2d", "{\"in_channels\": 2.5}", &c), GLIA_STATUS_FORMAT_ERROR);
    assert_int_equal(glia_model_config_from_json("unet2d", "{\"t\": 3}", &c), GLIA_STATUS_INVALID_ARGUMENT);
    assert_int_equal(glia_model_config_from_json("unet2d", "not json", &c), GLIA_STATUS_FORMAT_ERROR);
    assert_int_equal(glia_model_config_from_json("vnet", "{}", &c), GLIA_STATUS_INVALID_ARGUMENT);
}

static glia_model *small_model(glia_model_arch arch, uint64_t seed)
{
    glia_model_config c;
    glia_model_config_default(arch, &c);
    glia_model *m = NULL;
    if (arch == GLIA_MODEL_SWINUNETR) { /* no levels: its smallest width instead */
        assert_int_equal(glia_model_field_set(&c, glia_model_field_find(arch, "feature_size"), "12"), GLIA_STATUS_OK);
        assert_int_equal(glia_model_create(dev, &c, seed, &m), GLIA_STATUS_OK);
        return m;
    }
    c.levels = arch == GLIA_MODEL_R2UNET ? 3 : 2;
    c.features[0] = 3;
    c.features[1] = 5;
    c.features[2] = 6;
    for (int i = c.levels; i < GLIA_MODEL_MAX_LEVELS; i++)
        c.features[i] = 0;
    assert_int_equal(glia_model_create(dev, &c, seed, &m), GLIA_STATUS_OK);
    return m;
}

/* glia_model_tensors against the built model's set: entry i has entry i's name, kind, type and shape. */
typedef struct listed {
    glia_params *set;
    int i;
} listed;

static glia_status same_as_built(void *ctx, const glia_model_tensor *t)
{
    listed *l = ctx;
    const char *name = NULL;
    glia_param_kind kind;
    glia_tensor *x = NULL;
    assert_int_equal(glia_params_get(l->set, l->i++, &name, &kind, &x), GLIA_STATUS_OK);
    assert_string_equal(t->name, name);
    assert_int_equal(t->kind, kind);
    assert_int_equal(t->ndim, x ? glia_tensor_ndim(x) : 0);
    assert_int_equal(t->etype, x ? glia_tensor_etype(x) : GLIA_ETYPE_I64);
    for (int d = 0; d < t->ndim; d++)
        assert_int_equal(t->shape[d], glia_tensor_dim(x, d));
    return GLIA_STATUS_OK;
}

static void test_model_checkpoint(void **state)
{
    (void)state;
    for (int a = 0; a < GLIA_MODEL_ARCH_COUNT_; a++) {
        glia_model *m = small_model((glia_model_arch)a, 4), *back = NULL;
        listed l = {glia_model_params(m), 0};
        assert_int_equal(glia_model_tensors(glia_model_get_config(m), same_as_built, &l), GLIA_STATUS_OK);
        assert_int_equal(l.i, glia_params_count(l.set));
        glia_meta *extra = NULL;
        assert_int_equal(glia_meta_create(&extra), GLIA_STATUS_OK);
        assert_int_equal(glia_meta_set(extra, "model", "forged"), GLIA_STATUS_OK); /* the model's own keys win */
        assert_int_equal(glia_meta_set(extra, "epoch", "12"), GLIA_STATUS_OK);
        assert_int_equal(glia_model_save(m, tmp("m.safetensors"), extra), GLIA_STATUS_OK);
        glia_safetensors *st = NULL;
        assert_int_equal(glia_safetensors_open(tmp("m.safetensors"), &st), GLIA_STATUS_OK);
        const glia_meta *meta = glia_safetensors_meta(st);
        assert_string_equal(glia_meta_get(meta, "model"), glia_model_arch_name((glia_model_arch)a));
        assert_string_equal(glia_meta_get(meta, "epoch"), "12");
        assert_string_equal(glia_meta_get(meta, "glia_version"), glia_version());
        assert_int_equal(glia_model_load(st, dev, &back), GLIA_STATUS_OK);
        assert_memory_equal(glia_model_get_config(m), glia_model_get_config(back), sizeof(glia_model_config));
        assert_sets_equal(glia_model_params(m), glia_model_params(back));
        glia_safetensors_close(st);
        glia_model_free(back);
        back = NULL;

        /* without metadata (a PyTorch export) the configuration is inferred */
        glia_st_section sec = {glia_model_params(m), ""};
        assert_int_equal(glia_safetensors_save(tmp("bare.safetensors"), &sec, 1, NULL), GLIA_STATUS_OK);
        assert_int_equal(glia_model_load_file(tmp("bare.safetensors"), dev, &back), GLIA_STATUS_OK);
        assert_memory_equal(glia_model_get_config(m), glia_model_get_config(back), sizeof(glia_model_config));
        assert_sets_equal(glia_model_params(m), glia_model_params(back));
        glia_model_free(back);
        glia_meta_free(extra);
        glia_model_free(m);
    }
    /* a checkpoint of another configuration does not load into a model */
    glia_model *m = small_model(GLIA_MODEL_UNET2D, 1), *back = (glia_model *)&m;
    glia_meta *forged = NULL;
    assert_int_equal(glia_meta_create(&forged), GLIA_STATUS_OK);
    glia_meta_set(forged, "model", "unet2d");
    glia_meta_set(forged, "config", "{\"features\": [3, 6]}");
    glia_st_section sec = {glia_model_params(m), ""};
    assert_int_equal(glia_safetensors_save(tmp("forged.safetensors"), &sec, 1, forged), GLIA_STATUS_OK);
    assert_int_equal(glia_model_load_file(tmp("forged.safetensors"), dev, &back), GLIA_STATUS_FORMAT_ERROR);
    assert_null(back);
    assert_non_null(strstr(glia_last_error(), "'enc.1.conv1.weight' is F32 [5, 3, 3, 3] in the file, its model "
                                              "configuration needs F32 [6, 3, 3, 3]"));
    /* metadata claiming a model of gigabytes fails on the header, before anything is built */
    glia_meta_set(forged, "config", "{\"features\": [4096, 4096, 4096, 4096]}");
    assert_int_equal(glia_safetensors_save(tmp("forged.safetensors"), &sec, 1, forged), GLIA_STATUS_OK);
    assert_int_equal(glia_model_load_file(tmp("forged.safetensors"), dev, &back), GLIA_STATUS_FORMAT_ERROR);
    assert_non_null(strstr(glia_last_error(), "'enc.0.conv1.weight' is F32 [3, 3, 3, 3] in the file, its model "
                                              "configuration needs F32 [4096, 3, 3, 3]"));
    /* an entry the configuration lacks is named too */
    glia_meta_set(forged, "config", "{\"features\": [3, 5], \"batchnorm\": false}");
    assert_int_equal(glia_safetensors_save(tmp("forged.safetensors"), &sec, 1, forged), GLIA_STATUS_OK);
    assert_int_equal(glia_model_load_file(tmp("forged.safetensors"), dev, &back), GLIA_STATUS_FORMAT_ERROR);
    assert_non_null(strstr(glia_last_error(), "tensor 'enc.0.bn1.weight' is not one of its model configuration's"));
    glia_meta_set(forged, "model", "unknown");
    assert_int_equal(glia_safetensors_save(tmp("forged.safetensors"), &sec, 1, forged), GLIA_STATUS_OK);
    assert_int_equal(glia_model_load_file(tmp("forged.safetensors"), dev, &back), GLIA_STATUS_INVALID_ARGUMENT);
    glia_params *empty = NULL;
    glia_params_create(&empty);
    sec.set = empty;
    assert_int_equal(glia_safetensors_save(tmp("empty.safetensors"), &sec, 1, NULL), GLIA_STATUS_OK);
    assert_int_equal(glia_model_load_file(tmp("empty.safetensors"), dev, &back), GLIA_STATUS_FORMAT_ERROR);
    assert_non_null(strstr(glia_last_error(), "match no glia model"));
    glia_params_free(empty);
    glia_meta_free(forged);
    glia_model_free(m);
}

/* Checkpoints as glia wrote them before the model registry's field tables:
 * the metadata spelled out here byte for byte as that code formatted it
 * ("config" listed in_channels, out_channels, features, batchnorm for every
 * model, and t for r2unet), so a change in today's writer cannot hide a
 * reader that no longer takes them. */
static void test_legacy_checkpoint(void **state)
{
    (void)state;
    static const struct {
        const char *model, *config;
        glia_model_config want;
    } old[] = {
        {"unet2d", "{\"in_channels\": 2, \"out_channels\": 1, \"features\": [3, 5], \"batchnorm\": false}",
         {.arch = GLIA_MODEL_UNET2D, .in_channels = 2, .out_channels = 1, .levels = 2, .features = {3, 5}}},
        {"r2unet", "{\"in_channels\": 3, \"out_channels\": 2, \"features\": [3, 5, 6], \"batchnorm\": true, \"t\": 3}",
         {.arch = GLIA_MODEL_R2UNET, .in_channels = 3, .out_channels = 2, .levels = 3, .features = {3, 5, 6},
          .batchnorm = 1, .t = 3}},
        {"unet3d", "{\"in_channels\": 4, \"out_channels\": 3, \"features\": [4, 6], \"batchnorm\": true}",
         {.arch = GLIA_MODEL_UNET3D, .in_channels = 4, .out_channels = 3, .levels = 2, .features = {4, 6},
          .batchnorm = 1}},
    };
    for (size_t i = 0; i < sizeof old / sizeof *old; i++) {
        glia_model *m = NULL, *back = NULL;
        assert_int_equal(glia_model_create(dev, &old[i].want, 9, &m), GLIA_STATUS_OK);
        glia_meta *meta = NULL;
        assert_int_equal(glia_meta_create(&meta), GLIA_STATUS_OK);
        assert_int_equal(glia_meta_set(meta, "format", "pt"), GLIA_STATUS_OK);
        assert_int_equal(glia_meta_set(meta, "model", old[i].model), GLIA_STATUS_OK);
        assert_int_equal(glia_meta_set(meta, "config", old[i].config), GLIA_STATUS_OK);
        assert_int_equal(glia_meta_set(meta, "glia_version", "0.1.0"), GLIA_STATUS_OK);
        glia_st_section sec = {glia_model_params(m), ""};
        assert_int_equal(glia_safetensors_save(tmp("legacy.safetensors"), &sec, 1, meta), GLIA_STATUS_OK);
        assert_int_equal(glia_model_load_file(tmp("legacy.safetensors"), dev, &back), GLIA_STATUS_OK);
        assert_memory_equal(glia_model_get_config(back), &old[i].want, sizeof(glia_model_config));
        assert_sets_equal(glia_model_params(m), glia_model_params(back));
        /* and today's writer reads back the same */
        char json[256];
        glia_model_config again;
        assert_int_equal(glia_model_config_to_json(&old[i].want, json, sizeof json), GLIA_STATUS_OK);
        assert_int_equal(glia_model_config_from_json(old[i].model, json, &again), GLIA_STATUS_OK);
        assert_memory_equal(&again, &old[i].want, sizeof again);
        glia_model_free(back);
        glia_model_free(m);
        glia_meta_free(meta);
    }
}

/* The field tables: every architecture lists the channels first, each field
 * reads back what was set through it, and the table rejects what it must. */
static void test_model_fields(void **state)
{
    (void)state;
    for (int a = 0; a < GLIA_MODEL_ARCH_COUNT_; a++) {
        glia_model_config c;
        assert_int_equal(glia_model_config_default((glia_model_arch)a, &c), GLIA_STATUS_OK);
        assert_string_equal(glia_model_field_at((glia_model_arch)a, 0)->key, "in_channels");
        assert_string_equal(glia_model_field_at((glia_model_arch)a, 1)->key, "out_channels");
        const glia_model_field *f;
        char buf[160];
        for (int i = 0; (f = glia_model_field_at((glia_model_arch)a, i)); i++) {
            assert_ptr_equal(glia_model_field_find((glia_model_arch)a, f->key), f);
            assert_int_equal(strncmp(f->flag, "--", 2), 0);
            glia_model_config d = c;
            assert_int_equal(glia_model_field_set(&d, f, glia_model_field_format(&c, f, buf, sizeof buf)),
                             GLIA_STATUS_OK);
            assert_memory_equal(&c, &d, sizeof c);
            assert_int_equal(glia_model_field_set(&d, f, "nonsense"), GLIA_STATUS_INVALID_ARGUMENT);
            assert_non_null(strstr(glia_last_error(), f->key));
        }
        assert_null(glia_model_field_at((glia_model_arch)a, 99));
    }
    glia_model_config c;
    glia_model_config_default(GLIA_MODEL_UNET2D, &c);
    const glia_model_field *f = glia_model_field_find(GLIA_MODEL_UNET2D, "features");
    assert_int_equal(glia_model_field_set(&c, f, "4,8,16"), GLIA_STATUS_OK);
    assert_true(c.levels == 3 && c.features[2] == 16 && c.features[3] == 0);
    assert_int_equal(glia_model_field_set(&c, f, "4,,8"), GLIA_STATUS_INVALID_ARGUMENT);
    assert_int_equal(glia_model_field_set(&c, f, "4,8,16,32,64,128,256,512,1024"), GLIA_STATUS_INVALID_ARGUMENT);
    assert_int_equal(glia_model_field_set(&c, glia_model_field_find(GLIA_MODEL_UNET2D, "in-channels"), "0"),
                     GLIA_STATUS_INVALID_ARGUMENT);
    /* another model's option: kept at this model's default, refused otherwise (by the check) */
    f = glia_model_field_find(GLIA_MODEL_UNET2D, "t");
    assert_non_null(f);
    assert_int_equal(glia_model_field_set(&c, f, "0"), GLIA_STATUS_OK);
    assert_int_equal(glia_model_config_check(&c), GLIA_STATUS_OK);
    assert_int_equal(glia_model_field_set(&c, f, "3"), GLIA_STATUS_OK);
    assert_int_equal(glia_model_config_check(&c), GLIA_STATUS_INVALID_ARGUMENT);
    assert_non_null(strstr(glia_last_error(), "no option 't'"));
    assert_null(glia_model_field_find(GLIA_MODEL_UNET2D, "colour"));
    /* a field with a step: SwinUNETR's feature_size is a multiple of 12, by the setter and by the check */
    glia_model_config_default(GLIA_MODEL_SWINUNETR, &c);
    f = glia_model_field_find(GLIA_MODEL_SWINUNETR, "feature_size");
    assert_int_equal(glia_model_field_set(&c, f, "36"), GLIA_STATUS_OK);
    assert_int_equal(glia_model_field_set(&c, f, "30"), GLIA_STATUS_INVALID_ARGUMENT);
    assert_non_null(strstr(glia_last_error(), "multiple of 12"));
    c.extra[0] = 30;   /* as a hand-edited record could hold it */
    assert_int_equal(glia_model_config_check(&c), GLIA_STATUS_INVALID_ARGUMENT);
    assert_non_null(strstr(glia_last_error(), "multiple of 12"));
    /* the distinct keys over all models */
    int n = 0;
    while (glia_model_field_any(n))
        n++;
    assert_int_equal(n, 7); /* in_channels, out_channels, features, batchnorm, t, feature_size, use_v2 */
}

/* One training step of m with opt on a fixed batch. */
static void train_step(glia_model *m, glia_optimizer *opt)
{
    glia_tensor *x = NULL, *y = NULL, *logits = NULL, *loss = NULL;
    float hx[2 * 3 * 8 * 8], hy[2 * 8 * 8];
    gt_fill(hx, sizeof hx / 4, 1, -1, 1);
    for (size_t i = 0; i < sizeof hy / 4; i++)
        hy[i] = hx[i] > 0;
    assert_int_equal(glia_tensor_from_host(dev, 4, (int64_t[]){2, 3, 8, 8}, hx, &x), GLIA_STATUS_OK);
    assert_int_equal(glia_tensor_from_host(dev, 4, (int64_t[]){2, 1, 8, 8}, hy, &y), GLIA_STATUS_OK);
    glia_params_zero_grad(glia_model_params(m));
    assert_int_equal(glia_model_forward(m, x, 1, &logits), GLIA_STATUS_OK);
    assert_int_equal(glia_loss_dice_bce(logits, y, NULL, 1, 1, &loss), GLIA_STATUS_OK);
    assert_int_equal(glia_backward(loss), GLIA_STATUS_OK);
    assert_int_equal(glia_optim_step(opt), GLIA_STATUS_OK);
    glia_tensor *t[] = {x, y, logits, loss};
    for (int i = 0; i < 4; i++)
        glia_tensor_free(t[i]);
}

static void test_optimizer_through_file(void **state)
{
    (void)state;
    const glia_optim_options kinds[] = {
        {.kind = GLIA_OPTIM_SGD, .lr = 0.05f, .momentum = 0.9f, .nesterov = 1},
        {.kind = GLIA_OPTIM_ADAM, .lr = 1e-3f, .beta1 = 0.8f, .beta2 = 0.99f, .eps = 1e-7f},
        {.kind = GLIA_OPTIM_ADAMW, .lr = 1e-3f, .weight_decay = 0.01f},
    };
    for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
        glia_model *m = small_model(GLIA_MODEL_UNET2D, 8), *m2 = NULL;
        glia_optimizer *opt = NULL, *opt2 = NULL;
        assert_int_equal(glia_optim_create(glia_model_params(m), &kinds[k], &opt), GLIA_STATUS_OK);
        train_step(m, opt);
        train_step(m, opt);
        assert_int_equal(glia_checkpoint_save(tmp("train.safetensors"), m, opt, &kinds[k], NULL), GLIA_STATUS_OK);
        glia_safetensors *st = NULL;
        glia_optim_options oo;
        assert_int_equal(glia_safetensors_open(tmp("train.safetensors"), &st), GLIA_STATUS_OK);
        assert_string_equal(glia_meta_get(glia_safetensors_meta(st), "optimizer_steps"), "2");
        assert_int_equal(glia_checkpoint_optim_options(st, &oo), GLIA_STATUS_OK);
        assert_int_equal(oo.kind, kinds[k].kind);
        assert_true(oo.lr == kinds[k].lr && oo.momentum == kinds[k].momentum && oo.nesterov == kinds[k].nesterov);
        assert_true(oo.beta1 == kinds[k].beta1 && oo.eps == kinds[k].eps && oo.weight_decay == kinds[k].weight_decay);
        assert_int_equal(glia_model_load(st, dev, &m2), GLIA_STATUS_OK);
        assert_int_equal(glia_optim_create(glia_model_params(m2), &oo, &opt2), GLIA_STATUS_OK);
        if (glia_checkpoint_load_optim(st, m2, opt2) != GLIA_STATUS_OK)
            fail_msg("restoring the optimizer: %s", glia_last_error());
        assert_int_equal(glia_optim_steps(opt2), 2);
        glia_safetensors_close(st);
        /* a third step from the restored state equals the third step of the original */
        train_step(m, opt);
        train_step(m2, opt2);
        assert_sets_equal(glia_model_params(m), glia_model_params(m2));
        glia_optim_free(opt);
        glia_optim_free(opt2);
        glia_model_free(m);
        glia_model_free(m2);
    }
    /* a model checkpoint holds no optimizer; state that fits no parameter is refused */
    glia_model *m = small_model(GLIA_MODEL_UNET2D, 8), *other = small_model(GLIA_MODEL_UNET3D, 8);
    glia_optimizer *opt = NULL;
    glia_optim_options oo = {.kind = GLIA_OPTIM_ADAM, .lr = 1e-3f};
    assert_int_equal(glia_optim_create(glia_model_params(m), &oo, &opt), GLIA_STATUS_OK);
    train_step(m, opt);
    glia_safetensors *st = NULL;
    assert_int_equal(glia_model_save(m, tmp("plain.safetensors"), NULL), GLIA_STATUS_OK);
    assert_int_equal(glia_safetensors_open(tmp("plain.safetensors"), &st), GLIA_STATUS_OK);
    assert_int_equal(glia_checkpoint_optim_options(st, &oo), GLIA_STATUS_INVALID_ARGUMENT);
    assert_int_equal(glia_checkpoint_load_optim(st, m, opt), GLIA_STATUS_FORMAT_ERROR);
    glia_safetensors_close(st);
    assert_int_equal(glia_checkpoint_save(tmp("train.safetensors"), m, opt, &oo, NULL), GLIA_STATUS_OK);
    assert_int_equal(glia_safetensors_open(tmp("train.safetensors"), &st), GLIA_STATUS_OK);
    assert_int_equal(glia_checkpoint_load_optim(st, other, opt), GLIA_STATUS_SHAPE_MISMATCH);
    assert_non_null(strstr(glia_last_error(), "optimizer."));
    glia_safetensors_close(st);
    glia_optim_free(opt);
    glia_model_free(m);
    glia_model_free(other);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "%s/glia-test-io-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(dir))
        return -1;
    glia_device_options o = {.threads = 1};
    return glia_device_open("cpu", &o, &dev) == GLIA_STATUS_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[600];
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.') {
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            if (remove(p) != 0)
                rmdir(p);
        }
    if (d)
        closedir(d);
    rmdir(dir);
    return glia_device_close(dev) == GLIA_STATUS_OK ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_handmade),
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_typed_buffers),
        cmocka_unit_test(test_mismatches_reported),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_npy),
        cmocka_unit_test(test_config_json),
        cmocka_unit_test(test_model_checkpoint),
        cmocka_unit_test(test_legacy_checkpoint),
        cmocka_unit_test(test_model_fields),
        cmocka_unit_test(test_optimizer_through_file),
    };
    return cmocka_run_group_tests_name("io", tests, setup, teardown);
}
