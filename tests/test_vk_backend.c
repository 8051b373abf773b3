/* The Vulkan backend beyond the op table: device listing and bad indices, the
 * shaders' fast division, write() owning its data, long dependent chains of
 * dispatches across many submissions, frees while work is pending, binding
 * windows at offsets past maxStorageBufferRange, the on-disk pipeline cache
 * (including a corrupt file), every vendor's GEMM tiles and split-K plan run
 * on the present device against the scalar reference, and - when the
 * validation layer is enabled - that a validation message becomes an error. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "backends/cpu/ref.h"
#include "backends/vulkan/vk_testing.h"
#include "op_cases.h"
#include "testutil.h"

#define GT_FIXTURE_BACKEND "vulkan"
#include "backend_fixture.h"

static glia_bctx *open0(const char *cache_dir)
{
    glia_device_options o = {.cache_dir = cache_dir};
    glia_bctx *ctx = NULL;
    glia_status s = be->open(0, &o, &ctx);
    if (s != GLIA_STATUS_OK)
        fail_msg("opening vulkan:0: %s: %s", glia_status_str(s), glia_last_error());
    return ctx;
}

static void ok(glia_status s)
{
    if (s != GLIA_STATUS_OK)
        fail_msg("%s: %s", glia_status_str(s), glia_last_error());
}

static glia_op fill_op(glia_bbuf *b, size_t off, size_t n, float v)
{
    glia_op op;
    memset(&op, 0, sizeof op);
    op.kind = GLIA_OP_FILL;
    op.t[0] = (glia_bview){b, off, GLIA_ETYPE_F32};
    op.p.fill.n = n;
    op.p.fill.value = v;
    return op;
}

static void test_enumerate(void **state)
{
    need_device();
    for (int i = 0; i < count && i < 8; i++) {
        printf("vulkan:%d: %s | %s | %s | type %d | %llu MiB%s\n", i, info[i].vendor, info[i].name,
               info[i].driver, (int)info[i].type, (unsigned long long)(info[i].memory_bytes >> 20),
               info[i].emulated ? " | emulated" : "");
        assert_string_equal(info[i].backend, "vulkan");
        assert_int_equal(info[i].index, i);
        assert_true(info[i].name[0] && info[i].vendor[0] && info[i].driver[0]);
        assert_true(info[i].memory_bytes > 0);
        assert_int_equal(info[i].emulated, info[i].type == GLIA_DEVICE_TYPE_CPU);
    }
}

static void test_bad_index(void **state)
{
    glia_bctx *ctx = NULL;
    assert_non_null(be);
    assert_int_equal(be->open(count, NULL, &ctx), GLIA_STATUS_NO_DEVICE);
    assert_null(ctx);
    assert_non_null(strstr(glia_last_error(), "vulkan:"));
    assert_int_equal(be->open(-1, NULL, &ctx), GLIA_STATUS_NO_DEVICE);
}

/* The GLSL fast division, mirrored in C (vk_common.glsl: fastdiv). */
static uint32_t fastdiv(uint32_t n, uint32_t magic, uint32_t shifts)
{
    uint32_t hi = (uint32_t)(((uint64_t)n * magic) >> 32);
    return (hi + ((n - hi) >> (shifts & 0xff))) >> (shifts >> 8);
}

static void test_fastdiv(void **state)
{
    uint64_t s = 88172645463325252ULL;
    uint32_t fixed[] = {1, 2, 3, 5, 7, 9, 27, 64, 100, 641, 4096, 65535, 65536, 1u << 30, 2147483647u};
    for (int t = 0; t < 4000; t++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        uint32_t d = t < (int)(sizeof fixed / sizeof fixed[0]) ? fixed[t] : (uint32_t)(s >> 40) % 100000 + 1;
        if (t % 7 == 0)
            d = (uint32_t)(s >> 33) | 1;
        uint32_t magic, shifts;
        glia_vk_testing_magic(d, &magic, &shifts);
        uint32_t ns[] = {0, 1, d - 1, d, d + 1, 2 * d - 1, 0xffffffffu, 0x7fffffffu, (uint32_t)s,
                         (uint32_t)(s >> 32), (uint32_t)s % (16 * d + 1)};
        for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++)
            if (fastdiv(ns[i], magic, shifts) != ns[i] / d)
                fail_msg("fastdiv(%u, %u) = %u, want %u", ns[i], d, fastdiv(ns[i], magic, shifts), ns[i] / d);
    }
}

/* write() must not read the caller's memory after it returns. */
static void test_write_copies(void **state)
{
    need_device();
    glia_bctx *ctx = open0(NULL);
    size_t sizes[] = {64, 300001};   /* inline update and staging paths */
    for (size_t k = 0; k < 2; k++) {
        size_t n = sizes[k];
        float *src = malloc(n * sizeof *src), *got = malloc(n * sizeof *got), *want = malloc(n * sizeof *want);
        assert_true(src && got && want);
        gt_fill(src, n, 7 + k, -1.0f, 1.0f);
        memcpy(want, src, n * sizeof *src);
        glia_bbuf *b;
        ok(be->buf_alloc(ctx, n * sizeof(float), &b));
        ok(be->write(ctx, b, 0, src, n * sizeof(float)));
        memset(src, 0xff, n * sizeof *src);   /* NaNs where the data was */
        ok(be->read(ctx, b, 0, got, n * sizeof(float)));
        assert_memory_equal(got, want, n * sizeof(float));
        /* an unaligned byte range through the staging path */
        ok(be->write(ctx, b, 6, (const char *)want + 1, 9));
        ok(be->read(ctx, b, 0, got, 32));
        assert_memory_equal((char *)got + 6, (const char *)want + 1, 9);
        be->buf_free(ctx, b);
        free(src);
        free(got);
        free(want);
    }
    be->close(ctx);
}

/* Thousands of dependent dispatches (x += 1 in place, then y = 2x) spanning
 * many command buffers and the whole batch ring, with reads in between. */
static void test_long_chain(void **state)
{
    need_device();
    glia_bctx *ctx = open0(NULL);
    const size_t n = 4099;
    glia_bbuf *x, *y, *one;
    ok(be->buf_alloc(ctx, n * 4, &x));
    ok(be->buf_alloc(ctx, n * 4, &y));
    ok(be->buf_alloc(ctx, n * 4, &one));
    glia_op f = fill_op(x, 0, n, 0.0f);
    ok(be->run(ctx, &f));
    f = fill_op(one, 0, n, 1.0f);
    ok(be->run(ctx, &f));
    float *got = malloc(n * sizeof *got);
    assert_non_null(got);
    for (int it = 1; it <= 2000; it++) {
        glia_op op;
        memset(&op, 0, sizeof op);
        op.kind = GLIA_OP_AXPBYZ;
        op.t[0] = (glia_bview){x, 0, GLIA_ETYPE_F32};
        op.t[1] = (glia_bview){one, 0, GLIA_ETYPE_F32};
        op.t[2] = (glia_bview){x, 0, GLIA_ETYPE_F32};
        op.p.axpbyz.n = n;
        op.p.axpbyz.a = 1.0f;
        op.p.axpbyz.b = 1.0f;
        ok(be->run(ctx, &op));
        op.t[1] = (glia_bview){NULL, 0, GLIA_ETYPE_F32};
        op.t[2] = (glia_bview){y, 0, GLIA_ETYPE_F32};
        op.p.axpbyz.a = 2.0f;
        op.p.axpbyz.b = 0.0f;
        ok(be->run(ctx, &op));
        if (it % 601 == 0 || it == 2000) {
            ok(be->read(ctx, y, 0, got, n * 4));
            for (size_t i = 0; i < n; i++)
                if (got[i] != 2.0f * (float)it)
                    fail_msg("after %d steps y[%zu] = %g, want %g", it, i, got[i], 2.0 * it);
        }
    }
    free(got);
    be->buf_free(ctx, x);
    be->buf_free(ctx, y);
    be->buf_free(ctx, one);
    be->close(ctx);
}

/* A buffer freed while work on it is pending stays valid until the work ends;
 * the memory it frees is reused by the next allocation. */
static void test_free_pending(void **state)
{
    need_device();
    glia_bctx *ctx = open0(NULL);
    const size_t n = 1 << 20;
    float *got = malloc(n * sizeof *got);
    assert_non_null(got);
    for (int round = 0; round < 8; round++) {
        glia_bbuf *a, *b;
        ok(be->buf_alloc(ctx, n * 4, &a));
        ok(be->buf_alloc(ctx, n * 4, &b));
        glia_op f = fill_op(a, 0, n, (float)round);
        ok(be->run(ctx, &f));
        glia_op cp;
        memset(&cp, 0, sizeof cp);
        cp.kind = GLIA_OP_COPY_ND;
        cp.t[0] = (glia_bview){a, 0, GLIA_ETYPE_F32};
        cp.t[1] = (glia_bview){b, 0, GLIA_ETYPE_F32};
        cp.p.copy = (glia_copy_desc){.ndim = 2, .shape = {1024, 1024}, .src_stride = {1024, 1}, .dst_stride = {1024, 1}};
        ok(be->run(ctx, &cp));
        be->buf_free(ctx, a);   /* the copy has not run yet */
        glia_bbuf *c;
        ok(be->buf_alloc(ctx, n * 4, &c));
        f = fill_op(c, 0, n, -1.0f);
        ok(be->run(ctx, &f));
        ok(be->read(ctx, b, 0, got, n * 4));
        for (size_t i = 0; i < n; i += 4099)
            assert_true(got[i] == (float)round);
        be->buf_free(ctx, b);
        be->buf_free(ctx, c);
    }
    free(got);
    be->close(ctx);
}

/* Views beyond maxStorageBufferRange are bound from their own offset; an
 * operand that cannot fit one binding fails with DEVICE_OOM, naming the limit. */
static void test_binding_window(void **state)
{
    need_device();
    glia_bctx *ctx = open0(NULL);
    uint64_t range = glia_vk_testing_max_range(ctx);
    if (range > ((uint64_t)512 << 20)) {
        printf("maxStorageBufferRange is %llu bytes: too large to test here\n", (unsigned long long)range);
        be->close(ctx);
        skip();
    }
    size_t elems = (size_t)(range / 4) + 8192;
    glia_bbuf *b;
    ok(be->buf_alloc(ctx, elems * 4, &b));
    size_t off = elems - 5000;   /* past the first binding window, unaligned */
    glia_op f = fill_op(b, off, 4000, 3.5f);
    ok(be->run(ctx, &f));
    float got[4002];
    ok(be->read(ctx, b, (off - 1) * 4, got, sizeof got));
    assert_true(got[1] == 3.5f && got[4000] == 3.5f);
    f = fill_op(b, 0, (size_t)(range / 4) + 1, 1.0f);
    assert_int_equal(be->run(ctx, &f), GLIA_STATUS_DEVICE_OOM);
    assert_non_null(strstr(glia_last_error(), "maxStorageBufferRange"));
    be->buf_free(ctx, b);
    /* an allocation past what the device can allocate fails cleanly too */
    glia_bbuf *huge = NULL;
    assert_int_equal(be->buf_alloc(ctx, (size_t)1 << 62, &huge), GLIA_STATUS_DEVICE_OOM);
    assert_null(huge);
    be->close(ctx);
}

static int find_cache(const char *dir, char *path, size_t len)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int found = 0;
    while (d && (e = readdir(d)))
        if (strncmp(e->d_name, "glia-vk-", 8) == 0 && strstr(e->d_name, ".bin") && !strstr(e->d_name, ".tmp")) {
            snprintf(path, len, "%s/%s", dir, e->d_name);
            found = 1;
        }
    if (d)
        closedir(d);
    return found;
}

static long file_size(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fclose(f);
    return n;
}

static void use_device(glia_bctx *ctx)
{
    glia_bbuf *b;
    float got[3];
    ok(be->buf_alloc(ctx, 1024, &b));
    glia_op f = fill_op(b, 1, 200, 2.0f);
    ok(be->run(ctx, &f));
    ok(be->read(ctx, b, 0, got, sizeof got));
    assert_true(got[1] == 2.0f && got[2] == 2.0f);
    be->buf_free(ctx, b);
}

/* The cache is written, reused, and a corrupt or truncated file is ignored and rewritten. */
static void test_pipeline_cache(void **state)
{
    need_device();
    char dir[] = "/tmp/glia-vk-cache-XXXXXX";
    assert_non_null(mkdtemp(dir));
    glia_bctx *ctx = open0(dir);
    use_device(ctx);
    be->close(ctx);
    char path[512];
    assert_true(find_cache(dir, path, sizeof path));
    long good = file_size(path);
    assert_true(good >= 24 + 32);
    const char *damage[] = {"garbage", "truncate", "flip"};
    for (int k = 0; k < 3; k++) {
        FILE *f = fopen(path, k == 2 ? "r+b" : "wb");
        assert_non_null(f);
        if (k == 0)
            fputs("this is not a pipeline cache", f);
        if (k == 2) {
            fseek(f, good - 3, SEEK_SET);
            fputc(0x5a, f);
        }
        fclose(f);
        ctx = open0(dir);
        use_device(ctx);
        be->close(ctx);
        long now = file_size(path);
        if (now < 24 + 32)
            fail_msg("after a %s cache file the cache was not rewritten (%ld bytes)", damage[k], now);
        FILE *r = fopen(path, "rb");
        char magic[8];
        assert_true(r && fread(magic, 1, 8, r) == 8);
        fclose(r);
        assert_memory_equal(magic, "GLIAVKP1", 8);
        good = now;
    }
    remove(path);
    rmdir(dir);
}

/* ---- GEMM tiles of every vendor ------------------------------------------- */
#define GEMM_OP(TA, TB, M, N, K, BATCH, ALPHA, BETA)                                          \
    {.kind = GLIA_OP_GEMM, .p.gemm = {.trans_a = TA, .trans_b = TB, .m = M, .n = N, .k = K,   \
     .lda = (TA) ? (M) : (K), .ldb = (TB) ? (K) : (N), .ldc = N, .batch = BATCH,              \
     .stride_a = (int64_t)(M) * (K), .stride_b = (int64_t)(K) * (N), .stride_c = (int64_t)(M) * (N), \
     .alpha = ALPHA, .beta = BETA}}
#define CONV_OP(KIND, ND, N, CI, CO, D, H, W, KD, KH, KW, S, P)                              \
    {.kind = KIND, .p.conv = {.nd = ND, .n = N, .cin = CI, .cout = CO, .in = {D, H, W},       \
     .out = {(D + 2 * ((ND) == 3 ? P : 0) - KD) / ((ND) == 3 ? S : 1) + 1,                    \
             (H + 2 * (P) - KH) / (S) + 1, (W + 2 * (P) - KW) / (S) + 1},                      \
     .k = {KD, KH, KW}, .stride = {(ND) == 3 ? S : 1, S, S}, .pad = {(ND) == 3 ? P : 0, P, P}}}

static const glia_op tile_cases[] = {
    GEMM_OP(0, 0, 130, 257, 67, 1, 1.0f, 0.0f),
    GEMM_OP(0, 1, 129, 65, 33, 2, 0.5f, 0.25f),
    GEMM_OP(1, 0, 67, 131, 40, 1, 1.0f, 1.0f),
    GEMM_OP(1, 1, 33, 47, 129, 3, -1.0f, 0.0f),
    GEMM_OP(0, 0, 40, 24, 3000, 1, 1.0f, 0.5f),       /* split-K on GPU targets */
    GEMM_OP(1, 1, 17, 9, 2049, 2, 2.0f, 0.0f),
    /* 16-byte aligned rows: vec4 loads inside, scalar loads at the edges */
    GEMM_OP(0, 0, 136, 264, 72, 1, 1.0f, 0.0f),
    GEMM_OP(0, 1, 200, 132, 64, 2, 1.0f, 0.5f),
    GEMM_OP(1, 0, 132, 200, 48, 1, -0.5f, 0.0f),
    GEMM_OP(1, 1, 260, 136, 40, 2, 1.0f, 1.0f),
    GEMM_OP(0, 0, 32, 48, 4000, 1, 1.0f, 0.0f),      /* aligned split-K */
    CONV_OP(GLIA_OP_CONV_FWD, 2, 2, 9, 20, 1, 19, 21, 1, 3, 3, 1, 1),
    CONV_OP(GLIA_OP_CONV_BWD_DATA, 2, 2, 20, 9, 1, 19, 21, 1, 3, 3, 1, 1),
    CONV_OP(GLIA_OP_CONV_BWD_WEIGHT, 2, 2, 9, 20, 1, 37, 41, 1, 3, 3, 1, 1),
    CONV_OP(GLIA_OP_CONV_BWD_DATA, 2, 1, 12, 7, 1, 16, 18, 1, 2, 2, 2, 0),   /* transposed conv */
    CONV_OP(GLIA_OP_CONV_FWD, 3, 1, 3, 5, 9, 8, 7, 3, 3, 3, 2, 1),
    CONV_OP(GLIA_OP_CONV_BWD_DATA, 3, 1, 5, 3, 9, 8, 7, 3, 3, 3, 2, 1),
    CONV_OP(GLIA_OP_CONV_BWD_WEIGHT, 3, 2, 3, 5, 10, 9, 8, 3, 3, 3, 1, 1),
};

/* Run op on ctx and on the reference; returns the largest normalised error of its outputs. */
static double run_vs_ref(glia_bctx *ctx, const glia_op *c, uint64_t seed)
{
    glia_op_slot s[8];
    gt_op_slots(c, 0, s);
    float *init[8] = {0}, *ref[8] = {0};
    glia_bbuf *buf[8] = {0};
    glia_op op = *c;
    for (int i = 0; i < 8; i++) {
        if (s[i].role == GLIA_SLOT_UNUSED)
            continue;
        init[i] = malloc(s[i].n * sizeof(float));
        ref[i] = malloc(s[i].n * sizeof(float));
        assert_true(init[i] && ref[i]);
        gt_fill(init[i], s[i].n, seed * 8 + (uint64_t)i, s[i].lo, s[i].hi);
        if (s[i].type == GLIA_ETYPE_I32 && s[i].role == GLIA_SLOT_IN)
            gt_gen_index(c, i, (int32_t *)init[i], seed);
        memcpy(ref[i], init[i], s[i].n * sizeof(float));
        ok(be->buf_alloc(ctx, s[i].n * sizeof(float), &buf[i]));
        ok(be->write(ctx, buf[i], 0, init[i], s[i].n * sizeof(float)));
        op.t[i] = (glia_bview){buf[i], 0, s[i].type};
    }
    ok(glia_ref_run_f32(c, ref));
    ok(be->run(ctx, &op));
    double worst = 0;
    for (int i = 0; i < 8; i++) {
        if (s[i].role == GLIA_SLOT_OUT) {
            ok(be->read(ctx, buf[i], 0, init[i], s[i].n * sizeof(float)));
            double e = gt_nerr(init[i], ref[i], s[i].n);
            if (!(e <= worst))
                worst = e;
        }
        if (buf[i])
            be->buf_free(ctx, buf[i]);
        free(init[i]);
        free(ref[i]);
    }
    return worst;
}

static void test_vendor_tiles(void **state)
{
    need_device();
    int fails = 0;
    for (int t = 0; t < glia_vk_testing_tunings(); t++) {
        glia_bctx *ctx = open0(gt_cache_dir());
        if (!glia_vk_testing_use_tuning(ctx, t)) {
            printf("tuning %s: no tile fits this device\n", glia_vk_testing_tuning_name(t));
            be->close(ctx);
            continue;
        }
        for (size_t i = 0; i < sizeof tile_cases / sizeof tile_cases[0]; i++) {
            double e = run_vs_ref(ctx, &tile_cases[i], i + 1);
            if (!(e <= GT_TOL_MM)) {
                printf("tuning %s: case %zu (%s): normalised error %.3g\n", glia_vk_testing_tuning_name(t), i,
                       glia_op_name(tile_cases[i].kind), e);
                fails++;
            }
        }
        be->close(ctx);
    }
    assert_int_equal(fails, 0);
}

/* Per-invocation loops the shaders cannot split (softmax over the channels):
 * right, or - on drivers that cap loop iterations - refused, never cut short. */
static void test_long_channel_loop(void **state)
{
    need_device();
    glia_op op;
    memset(&op, 0, sizeof op);
    op.kind = GLIA_OP_SOFTMAX_FWD;
    op.p.chan.n = 1;
    op.p.chan.c = 20000;
    op.p.chan.s = 3;
    glia_op_slot sl[8];
    gt_op_slots(&op, 0, sl);
    size_t n = sl[0].n;
    float *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y), *ref = malloc(n * sizeof *ref);
    assert_true(x && y && ref);
    gt_fill(x, n, 5, -3.0f, 3.0f);
    float *t[8] = {x, ref};
    ok(glia_ref_run_f32(&op, t));
    glia_bctx *ctx = open0(NULL);
    glia_bbuf *bx, *by;
    ok(be->buf_alloc(ctx, n * 4, &bx));
    ok(be->buf_alloc(ctx, n * 4, &by));
    ok(be->write(ctx, bx, 0, x, n * 4));
    op.t[0] = (glia_bview){bx, 0, GLIA_ETYPE_F32};
    op.t[1] = (glia_bview){by, 0, GLIA_ETYPE_F32};
    glia_status s = be->run(ctx, &op);
    if (s == GLIA_STATUS_UNSUPPORTED) {
        printf("refused: %s\n", glia_last_error());
        assert_non_null(strstr(glia_last_error(), "loop"));
    } else {
        ok(s);
        ok(be->read(ctx, by, 0, y, n * 4));
        /* each output divides by a sum over 20000 channels: the reduction class of
         * tolerance (op_cases.h), as drivers sum in different orders */
        double err = gt_nerr(y, ref, n);
        printf("softmax over %zu channels: normalised error %.3g\n", op.p.chan.c, err);
        assert_true(err <= GT_TOL_RED);
    }
    be->buf_free(ctx, bx);
    be->buf_free(ctx, by);
    be->close(ctx);
    free(x);
    free(y);
    free(ref);
}

/* Drivers without VK_KHR_push_descriptor get descriptor sets from per-batch
 * pools: one case of every op kind through that path. */
static void test_descriptor_sets(void **state)
{
    need_device();
    glia_bctx *ctx = open0(gt_cache_dir());
    ok(glia_vk_testing_use_descriptor_sets(ctx));
    int seen[GLIA_OP_COUNT_] = {0}, fails = 0;
    for (size_t i = 0; i < gt_op_case_count; i++) {
        const gt_op_case *c = &gt_op_cases[i];
        if (seen[c->op.kind] || c->big || c->alias_out || c->omit)
            continue;
        seen[c->op.kind] = 1;
        double e = run_vs_ref(ctx, &c->op, 200 + i);
        if (!(e <= c->tol)) {
            printf("%s/%s with descriptor sets: normalised error %.3g\n", glia_op_name(c->op.kind), c->name, e);
            fails++;
        }
    }
    be->close(ctx);
    assert_int_equal(fails, 0);
}

/* Long K on the device's own tuning: drivers that cap loop iterations
 * (lavapipe stops a loop nest after 65535) need the K loop cut into passes. */
static void test_long_k(void **state)
{
    need_device();
    static const glia_op cases[] = {
        GEMM_OP(0, 0, 12, 20, 150001, 1, 1.0f, 0.5f),
        GEMM_OP(1, 0, 70, 3, 90000, 1, 1.0f, 0.0f),
        CONV_OP(GLIA_OP_CONV_BWD_WEIGHT, 3, 2, 2, 3, 40, 41, 42, 3, 3, 3, 1, 1),
        CONV_OP(GLIA_OP_CONV_FWD, 3, 1, 2400, 8, 4, 4, 4, 3, 3, 3, 1, 1),   /* K = 64800, no split */
        CONV_OP(GLIA_OP_CONV_BWD_DATA, 3, 1, 8, 2400, 4, 4, 4, 3, 3, 3, 1, 1),
    };
    glia_bctx *ctx = open0(gt_cache_dir());
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double e = run_vs_ref(ctx, &cases[i], 100 + i);
        if (!(e <= GT_TOL_MM))
            fail_msg("long-K case %zu (%s): normalised error %.3g", i, glia_op_name(cases[i].kind), e);
    }
    be->close(ctx);
}

/* Under the validation layer: clean work reports nothing, a deliberate
 * invalid call is reported as an error by the next backend call. */
static void test_validation(void **state)
{
    const char *layers = getenv("VK_INSTANCE_LAYERS");
    if (!layers || !strstr(layers, "VK_LAYER_KHRONOS_validation")) {
        printf("validation layer not enabled (VK_INSTANCE_LAYERS): skipped\n");
        skip();
    }
    need_device();
    if (!glia_vk_testing_layer_available("VK_LAYER_KHRONOS_validation"))
        fail_msg("VK_INSTANCE_LAYERS asks for VK_LAYER_KHRONOS_validation but it is not installed");
    glia_bctx *ctx = open0(NULL);
    use_device(ctx);
    ok(be->sync(ctx));
    glia_vk_testing_invalid_call(ctx);
    glia_status s = be->sync(ctx);
    if (s != GLIA_STATUS_BACKEND_ERROR || !strstr(glia_last_error(), "validation"))
        fail_msg("an invalid call was not reported: %s: %s", glia_status_str(s), glia_last_error());
    ok(be->sync(ctx));   /* reported once */
    be->close(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_enumerate),
        cmocka_unit_test(test_bad_index),
        cmocka_unit_test(test_fastdiv),
        cmocka_unit_test(test_write_copies),
        cmocka_unit_test(test_long_chain),
        cmocka_unit_test(test_free_pending),
        cmocka_unit_test(test_binding_window),
        cmocka_unit_test(test_pipeline_cache),
        cmocka_unit_test(test_vendor_tiles),
        cmocka_unit_test(test_long_k),
        cmocka_unit_test(test_descriptor_sets),
        cmocka_unit_test(test_long_channel_loop),
        cmocka_unit_test(test_validation),
    };
    return cmocka_run_group_tests_name("vulkan", tests, setup, NULL);
}
