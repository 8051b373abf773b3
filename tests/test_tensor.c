/* Tensor basics, the caching allocator's statistics, the Philox generator and
 * device enumeration, each checked against an independent computation: host
 * arrays, arithmetic done here, the published Random123 known-answer vectors,
 * and the statistics of the uniform and normal distributions. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "glia/glia.h"
#include "testutil.h"

#define OK GLIA_STATUS_OK

typedef struct fx {
    glia_device *dev, *dev2;
} fx;

static int setup(void **state)
{
    static fx f;
    memset(&f, 0, sizeof f);
    if (gt_open_cpu(state))
        return -1;
    f.dev = gt_dev;
    f.dev2 = gt_dev2;
    *state = &f;
    return 0;
}

/* Every test frees what it made: a device that will not close has leaked tensors. */
#define teardown gt_close_cpu

static glia_tensor *from_host(glia_device *dev, int ndim, const int64_t *shape, const float *data)
{
    glia_tensor *t = NULL;
    glia_status s = glia_tensor_from_host(dev, ndim, shape, data, &t);
    if (s != OK)
        print_error("glia_tensor_from_host: %s\n", glia_last_error());
    assert_int_equal(s, OK);
    return t;
}

static float *read_all(const glia_tensor *t)
{
    size_t n = (size_t)glia_tensor_numel(t);
    float *buf = malloc(n * sizeof *buf);
    assert_non_null(buf);
    for (size_t i = 0; i < n; i++)
        buf[i] = NAN; /* so an element the read skipped cannot pass */
    assert_int_equal(glia_tensor_read(t, buf, n), OK);
    return buf;
}

static void expect_all(const glia_tensor *t, float value)
{
    float *v = read_all(t);
    for (int64_t i = 0; i < glia_tensor_numel(t); i++)
        assert_true(v[i] == value);
    free(v);
}

/* ---- creation and transfer ------------------------------------------------ */
static void test_roundtrip(void **state)
{
    fx *f = *state;
    const int64_t shape[3] = {2, 3, 37};
    float host[2 * 3 * 37];
    gt_fill(host, 222, 1, -5.0f, 5.0f);
    host[7] = -0.0f;
    host[8] = 1e-38f; /* subnormal-adjacent values must survive unchanged */
    glia_tensor *t = from_host(f->dev, 3, shape, host);
    host[0] = 99.0f; /* the tensor holds a copy, not the caller's array */
    float *back = read_all(t);
    assert_true(back[0] != 99.0f);
    assert_memory_equal(back + 1, host + 1, (222 - 1) * sizeof(float));
    assert_true(signbit(back[7]));
    free(back);

    /* write replaces the contents; read sees the new data */
    gt_fill(host, 222, 2, 0.0f, 1.0f);
    assert_int_equal(glia_tensor_write(t, host, 222), OK);
    back = read_all(t);
    assert_memory_equal(back, host, sizeof host);
    free(back);
    glia_tensor_free(t);
}

static void test_zeros_full_fill(void **state)
{
    fx *f = *state;
    const int64_t big[4] = {3, 5, 67, 71}; /* odd sizes, enough for several threads */
    const int64_t one[1] = {1};
    glia_tensor *z = NULL, *c = NULL, *s = NULL;
    assert_int_equal(glia_tensor_zeros(f->dev, 4, big, &z), OK);
    assert_int_equal(glia_tensor_full(f->dev, 4, big, 2.5f, &c), OK);
    assert_int_equal(glia_tensor_full(f->dev, 1, one, -7.0f, &s), OK);
    expect_all(z, 0.0f);
    expect_all(c, 2.5f);
    expect_all(s, -7.0f);
    assert_int_equal(glia_tensor_fill(z, -1.25f), OK);
    expect_all(z, -1.25f);
    assert_int_equal(glia_tensor_fill(c, INFINITY), OK);
    expect_all(c, INFINITY);
    /* a fresh tensor of a freed block's size class must not inherit its contents */
    glia_tensor_free(z);
    assert_int_equal(glia_tensor_zeros(f->dev, 4, big, &z), OK);
    expect_all(z, 0.0f);
    glia_tensor_free(z);
    glia_tensor_free(c);
    glia_tensor_free(s);
}

static void test_shape_queries(void **state)
{
    fx *f = *state;
    const int64_t shape[5] = {2, 3, 4, 5, 6};
    glia_tensor *t = NULL;
    assert_int_equal(glia_tensor_zeros(f->dev, 5, shape, &t), OK);
    assert_int_equal(glia_tensor_ndim(t), 5);
    assert_int_equal(glia_tensor_numel(t), 2 * 3 * 4 * 5 * 6);
    assert_ptr_equal(glia_tensor_device(t), f->dev);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(glia_tensor_dim(t, i), shape[i]);
        assert_int_equal(glia_tensor_dim(t, i - 5), shape[i]); /* -1 is the last */
    }
    assert_int_equal(glia_tensor_dim(t, 5), 0);
    assert_int_equal(glia_tensor_dim(t, -6), 0);
    assert_int_equal(glia_tensor_dim(t, 1000), 0);
    assert_int_equal(glia_tensor_dim(t, -1000), 0);
    assert_int_equal(glia_tensor_requires_grad(t), 0);
    assert_null(glia_tensor_grad(t));
    /* retain gives a second reference: one free leaves the tensor usable */
    assert_ptr_equal(glia_tensor_retain(t), t);
    glia_tensor_free(t);
    assert_int_equal(glia_tensor_numel(t), 720);
    glia_tensor_free(t);
}

/* ---- reshape -------------------------------------------------------------- */
static void test_reshape_shares_storage(void **state)
{
    fx *f = *state;
    const int64_t shape[3] = {2, 3, 4}, flat[2] = {6, 4};
    float host[24], other[24];
    gt_fill(host, 24, 3, -1.0f, 1.0f);
    gt_fill(other, 24, 4, 2.0f, 3.0f);
    glia_tensor *x = from_host(f->dev, 3, shape, host), *y = NULL;
    assert_int_equal(glia_tensor_reshape(x, 2, flat, &y), OK);
    assert_int_equal(glia_tensor_ndim(y), 2);
    assert_int_equal(glia_tensor_dim(y, 0), 6);
    assert_int_equal(glia_tensor_dim(y, 1), 4);
    assert_int_equal(glia_tensor_numel(y), 24);
    float *v = read_all(y);
    assert_memory_equal(v, host, sizeof host); /* row-major order is kept */
    free(v);
    /* writes through either handle are seen through the other */
    assert_int_equal(glia_tensor_write(x, other, 24), OK);
    v = read_all(y);
    assert_memory_equal(v, other, sizeof other);
    free(v);
    assert_int_equal(glia_tensor_fill(y, 0.5f), OK);
    expect_all(x, 0.5f);
    /* the view keeps the storage alive after the original is freed */
    glia_tensor_free(x);
    expect_all(y, 0.5f);
    glia_tensor_free(y);
}

static void test_reshape_gradient(void **state)
{
    fx *f = *state;
    const int64_t shape[2] = {2, 3}, tshape[2] = {3, 2};
    float xv[6], cv[6];
    gt_fill(xv, 6, 5, -1.0f, 1.0f);
    gt_fill(cv, 6, 6, -2.0f, 2.0f);
    glia_tensor *x = from_host(f->dev, 2, shape, xv), *c = from_host(f->dev, 2, tshape, cv);
    glia_tensor *y = NULL, *p = NULL, *loss = NULL;
    assert_int_equal(glia_tensor_set_requires_grad(x, 1), OK);
    assert_int_equal(glia_tensor_reshape(x, 2, tshape, &y), OK);
    assert_int_equal(glia_tensor_requires_grad(y), 1);
    assert_int_equal(glia_mul(y, c, &p), OK);
    assert_int_equal(glia_sum(p, &loss), OK);
    assert_int_equal(glia_backward(loss), OK);
    /* d sum(reshape(x) * c) / dx = c laid out in x's shape (same flat order) */
    glia_tensor *g = glia_tensor_grad(x);
    assert_non_null(g);
    assert_int_equal(glia_tensor_ndim(g), 2);
    assert_int_equal(glia_tensor_dim(g, 0), 2);
    assert_int_equal(glia_tensor_dim(g, 1), 3);
    float *gv = read_all(g);
    assert_true(gt_nerr(gv, cv, 6) < 1e-6);
    free(gv);
    glia_tensor *tmp[] = {x, c, y, p, loss};
    for (size_t i = 0; i < sizeof tmp / sizeof *tmp; i++)
        glia_tensor_free(tmp[i]);
}

/* The gradient reshape hands to x is a view of the incoming gradient's
 * storage. Here that storage is also b's gradient (add passes its gradient to
 * both inputs), and x receives a second contribution later in the backward
 * walk, which must not be written into b's gradient.
 * loss = sum(reshape(x) + b) + sum(3 x): d/db = 1, d/dx = 1 + 3 = 4. */
static void test_reshape_gradient_shared_storage(void **state)
{
    fx *f = *state;
    const int64_t flat[1] = {6}, shape[2] = {2, 3};
    float xv[6], bv[6];
    gt_fill(xv, 6, 7, -1.0f, 1.0f);
    gt_fill(bv, 6, 8, -1.0f, 1.0f);
    glia_tensor *x = from_host(f->dev, 1, flat, xv), *b = from_host(f->dev, 2, shape, bv);
    glia_tensor *t0 = NULL, *a = NULL, *s = NULL, *l1 = NULL, *l2 = NULL, *loss = NULL;
    assert_int_equal(glia_tensor_set_requires_grad(x, 1), OK);
    assert_int_equal(glia_tensor_set_requires_grad(b, 1), OK);
    /* recorded first, so its gradient reaches x after reshape's */
    assert_int_equal(glia_affine(x, 3.0f, 0.0f, &t0), OK);
    assert_int_equal(glia_tensor_reshape(x, 2, shape, &a), OK);
    assert_int_equal(glia_add(a, b, &s), OK);
    assert_int_equal(glia_sum(s, &l1), OK);
    assert_int_equal(glia_sum(t0, &l2), OK);
    assert_int_equal(glia_add(l1, l2, &loss), OK);
    assert_int_equal(glia_backward(loss), OK);
    float ones[6] = {1, 1, 1, 1, 1, 1}, fours[6] = {4, 4, 4, 4, 4, 4};
    float *gb = read_all(glia_tensor_grad(b)), *gx = read_all(glia_tensor_grad(x));
    double eb = gt_nerr(gb, ones, 6), ex = gt_nerr(gx, fours, 6);
    if (eb > 1e-6 || ex > 1e-6)
        print_error("LIBRARY BUG (autograd.c glia_grad_accum): b.grad[0] = %g (want 1), x.grad[0] = %g (want 4): "
                    "x's gradient shares storage with b's and was accumulated in place\n",
                    (double)gb[0], (double)gx[0]);
    free(gb);
    free(gx);
    glia_tensor *tmp[] = {x, b, t0, a, s, l1, l2, loss};
    for (size_t i = 0; i < sizeof tmp / sizeof *tmp; i++)
        glia_tensor_free(tmp[i]);
    assert_true(ex < 1e-6);
    assert_true(eb < 1e-6); /* FAILS while the bug above is present */
}

/* ---- copy ----------------------------------------------------------------- */
static void test_copy(void **state)
{
    fx *f = *state;
    const int64_t shape[4] = {2, 3, 5, 7};
    float host[210];
    gt_fill(host, 210, 9, -3.0f, 3.0f);
    glia_tensor *src = from_host(f->dev, 4, shape, host), *same = NULL, *other = NULL, *back = NULL;
    assert_int_equal(glia_tensor_zeros(f->dev, 4, shape, &same), OK);
    assert_int_equal(glia_tensor_zeros(f->dev2, 4, shape, &other), OK);
    assert_int_equal(glia_tensor_zeros(f->dev, 4, shape, &back), OK);

    assert_int_equal(glia_tensor_copy(same, src), OK);
    assert_int_equal(glia_tensor_copy(other, src), OK); /* device to device */
    assert_int_equal(glia_tensor_copy(back, other), OK);
    float *v1 = read_all(same), *v2 = read_all(other), *v3 = read_all(back), *v0 = read_all(src);
    assert_memory_equal(v1, host, sizeof host);
    assert_memory_equal(v2, host, sizeof host);
    assert_memory_equal(v3, host, sizeof host);
    assert_memory_equal(v0, host, sizeof host); /* the source is untouched */
    free(v0);
    free(v1);
    free(v2);
    free(v3);
    /* a copy is independent of its source afterwards */
    assert_int_equal(glia_tensor_fill(src, 0.0f), OK);
    v1 = read_all(same);
    assert_memory_equal(v1, host, sizeof host);
    free(v1);
    glia_tensor_free(src);
    glia_tensor_free(same);
    glia_tensor_free(other);
    glia_tensor_free(back);
}

/* ---- memory statistics ---------------------------------------------------- */
static glia_memory_stats stats(const glia_device *dev)
{
    glia_memory_stats m;
    memset(&m, 0xff, sizeof m);
    glia_device_memory_stats(dev, &m);
    return m;
}

static void test_memory_stats(void **state)
{
    (void)state;
    glia_device *dev = NULL;
    assert_int_equal(glia_device_open("cpu", NULL, &dev), OK);
    const int64_t small[1] = {1000}, large[2] = {30, 100};
    glia_tensor *t1 = NULL, *t2 = NULL, *t3 = NULL, *view = NULL;

    glia_memory_stats s0 = stats(dev);
    assert_int_equal(s0.in_use_bytes, 0);
    assert_int_equal(s0.peak_bytes, 0);
    assert_int_equal(s0.cached_bytes, 0);

    assert_int_equal(glia_tensor_zeros(dev, 1, small, &t1), OK);
    glia_memory_stats s1 = stats(dev);
    assert_true(s1.in_use_bytes >= 1000 * sizeof(float));
    assert_true(s1.peak_bytes == s1.in_use_bytes);
    assert_int_equal(s1.cached_bytes, 0);

    assert_int_equal(glia_tensor_zeros(dev, 2, large, &t2), OK);
    glia_memory_stats s2 = stats(dev);
    uint64_t t2_bytes = s2.in_use_bytes - s1.in_use_bytes;
    assert_true(s2.in_use_bytes > s1.in_use_bytes);
    assert_true(t2_bytes >= 3000 * sizeof(float));
    assert_true(s2.peak_bytes == s2.in_use_bytes);

    /* freeing returns the bytes to the cache, not to the driver; peak stays */
    glia_tensor_free(t2);
    glia_memory_stats s3 = stats(dev);
    assert_int_equal(s3.in_use_bytes, s1.in_use_bytes);
    assert_int_equal(s3.cached_bytes, t2_bytes);
    assert_int_equal(s3.peak_bytes, s2.peak_bytes);

    /* the same request again is served from the cache: nothing new is held */
    assert_int_equal(glia_tensor_zeros(dev, 2, large, &t3), OK);
    glia_memory_stats s4 = stats(dev);
    assert_int_equal(s4.in_use_bytes, s2.in_use_bytes);
    assert_int_equal(s4.cached_bytes, 0);
    assert_int_equal(s4.peak_bytes, s2.peak_bytes);

    /* a reshape shares storage: no bytes change hands */
    const int64_t flat[1] = {3000};
    assert_int_equal(glia_tensor_reshape(t3, 1, flat, &view), OK);
    glia_memory_stats s5 = stats(dev);
    assert_int_equal(s5.in_use_bytes, s4.in_use_bytes);
    glia_tensor_free(t3);
    assert_int_equal(stats(dev).in_use_bytes, s4.in_use_bytes); /* the view still holds it */
    glia_tensor_free(view);
    glia_tensor_free(t1);

    glia_memory_stats s6 = stats(dev);
    assert_int_equal(s6.in_use_bytes, 0);
    assert_int_equal(s6.cached_bytes, s2.in_use_bytes);
    assert_int_equal(s6.peak_bytes, s2.peak_bytes);

    glia_device_empty_cache(dev);
    glia_memory_stats s7 = stats(dev);
    assert_int_equal(s7.in_use_bytes, 0);
    assert_int_equal(s7.cached_bytes, 0);
    assert_int_equal(s7.peak_bytes, s2.peak_bytes); /* "the most ever held" */
    assert_int_equal(glia_device_close(dev), OK);
}

/* ---- Philox-4x32-10 ------------------------------------------------------- */
/* Written from the paper (Salmon et al., SC'11, section 3.2): ten rounds of two
 * 32x32->64 multiplies, the Feistel-like swap, and the Weyl key schedule. */
static void philox_ref(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4])
{
    uint32_t x0 = ctr[0], x1 = ctr[1], x2 = ctr[2], x3 = ctr[3], k0 = key[0], k1 = key[1];
    for (int round = 0; round < 10; round++) {
        if (round > 0) {
            k0 += 0x9E3779B9u;
            k1 += 0xBB67AE85u;
        }
        uint64_t m0 = (uint64_t)x0 * 0xD2511F53u, m1 = (uint64_t)x2 * 0xCD9E8D57u;
        uint32_t y0 = (uint32_t)(m1 >> 32) ^ x1 ^ k0, y1 = (uint32_t)m1;
        uint32_t y2 = (uint32_t)(m0 >> 32) ^ x3 ^ k1, y3 = (uint32_t)m0;
        x0 = y0, x1 = y1, x2 = y2, x3 = y3;
    }
    out[0] = x0, out[1] = x1, out[2] = x2, out[3] = x3;
}

/* Random123's kat_vectors for philox4x32 10: counter, key, expected block. */
static const uint32_t kat[3][10] = {
    {0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000,
     0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
    {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff,
     0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
    {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0,
     0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1},
};

static void test_philox_known_answers(void **state)
{
    (void)state;
    for (int v = 0; v < 3; v++) {
        uint32_t out[4];
        philox_ref(kat[v], kat[v] + 4, out);
        for (int i = 0; i < 4; i++)
            assert_int_equal(out[i], kat[v][6 + i]);
    }
    /* seed 0, first four numbers: key {0,0}, counter {0,0,0,0} */
    glia_rng rng;
    glia_rng_init(&rng, 0);
    for (int i = 0; i < 4; i++)
        assert_int_equal(glia_rng_u32(&rng), kat[0][6 + i]);
    assert_int_equal(rng.counter, 4);
}

/* Pins the stream layout (number i of a seed is word i%4 of the block with
 * key = the seed's low and high words and counter = {i/4 low, i/4 high, 0, 0})
 * so a seed names the same numbers in every version of glia. */
static void test_philox_stream_layout(void **state)
{
    (void)state;
    const uint64_t seeds[4] = {0, 1, 0xdeadbeefcafebabeull, UINT64_MAX};
    const uint64_t starts[3] = {0, 4 * ((1ull << 32) + 1) + 2, UINT64_MAX - 10};
    for (int si = 0; si < 4; si++) {
        for (int st = 0; st < 3; st++) {
            glia_rng rng;
            glia_rng_init(&rng, seeds[si]);
            assert_int_equal(rng.seed, seeds[si]);
            assert_int_equal(rng.counter, 0);
            rng.counter = starts[st];
            for (uint64_t i = starts[st]; i < starts[st] + 9; i++) {
                uint64_t blk = i / 4;
                uint32_t ctr[4] = {(uint32_t)blk, (uint32_t)(blk >> 32), 0, 0};
                uint32_t key[2] = {(uint32_t)seeds[si], (uint32_t)(seeds[si] >> 32)}, want[4];
                philox_ref(ctr, key, want);
                assert_int_equal(glia_rng_u32(&rng), want[i % 4]);
            }
        }
    }
}

static void test_rng_determinism(void **state)
{
    (void)state;
    glia_rng a, b, c;
    glia_rng_init(&a, 12345);
    glia_rng_init(&b, 12345);
    glia_rng_init(&c, 12346);
    int differ = 0;
    for (int i = 0; i < 1000; i++) {
        uint32_t va = glia_rng_u32(&a);
        assert_int_equal(va, glia_rng_u32(&b));
        differ += va != glia_rng_u32(&c);
    }
    assert_true(differ > 990);
    /* the struct is the whole state: a copy replays the stream */
    glia_rng saved = a;
    float u1 = glia_rng_uniform(&a), n1 = glia_rng_normal(&a);
    assert_true(glia_rng_uniform(&saved) == u1);
    assert_true(glia_rng_normal(&saved) == n1);
    assert_int_equal(saved.counter, a.counter);
}

static void test_rng_uniform(void **state)
{
    (void)state;
    const int n = 100000;
    glia_rng rng;
    glia_rng_init(&rng, 2024);
    double sum = 0, sq = 0, lo = 1, hi = 0;
    for (int i = 0; i < n; i++) {
        float u = glia_rng_uniform(&rng);
        assert_true(u >= 0.0f && u < 1.0f);
        double scaled = (double)u * 16777216.0; /* 24 bits: a whole multiple of 2^-24 */
        assert_true(scaled == floor(scaled));
        sum += u;
        sq += (double)u * u;
        lo = fmin(lo, u);
        hi = fmax(hi, u);
    }
    double mean = sum / n, var = sq / n - mean * mean;
    /* 5 standard errors: sd(mean) = sqrt(1/12 / n); sd(var) = sqrt((1/80 - 1/144) / n) */
    assert_true(fabs(mean - 0.5) < 5 * sqrt(1.0 / 12 / n));
    assert_true(fabs(var - 1.0 / 12) < 5 * sqrt((1.0 / 80 - 1.0 / 144) / n));
    assert_true(lo < 1e-3 && hi > 1 - 1e-3);
}

static void test_rng_normal(void **state)
{
    (void)state;
    const int n = 100000;
    glia_rng rng;
    glia_rng_init(&rng, 77);
    double m1 = 0, m2 = 0, m4 = 0;
    int within1 = 0;
    for (int i = 0; i < n; i++) {
        double z = glia_rng_normal(&rng);
        assert_true(isfinite(z));
        m1 += z;
        m2 += z * z;
        m4 += z * z * z * z;
        within1 += fabs(z) < 1.0;
    }
    m1 /= n, m2 /= n, m4 /= n;
    /* N(0,1): E z = 0 (sd 1/sqrt n), E z^2 = 1 (sd sqrt(2/n)), E z^4 = 3 (sd sqrt(96/n)),
     * P(|z| < 1) = erf(1/sqrt 2); bounds at 5 standard errors */
    double p1 = erf(1.0 / sqrt(2.0));
    assert_true(fabs(m1) < 5 / sqrt(n));
    assert_true(fabs(m2 - 1) < 5 * sqrt(2.0 / n));
    assert_true(fabs(m4 - 3) < 5 * sqrt(96.0 / n));
    assert_true(fabs((double)within1 / n - p1) < 5 * sqrt(p1 * (1 - p1) / n));
}

static void tensor_moments(const glia_tensor *t, double *mean, double *var, double *lo, double *hi)
{
    float *v = read_all(t);
    int64_t n = glia_tensor_numel(t);
    double s = 0, sq = 0;
    *lo = INFINITY, *hi = -INFINITY;
    for (int64_t i = 0; i < n; i++) {
        s += v[i];
        sq += (double)v[i] * v[i];
        *lo = fmin(*lo, v[i]);
        *hi = fmax(*hi, v[i]);
    }
    *mean = s / (double)n;
    *var = sq / (double)n - *mean * *mean;
    free(v);
}

static void test_tensor_random_fill(void **state)
{
    fx *f = *state;
    const int64_t shape[4] = {1, 1, 100, 100};
    const double n = 10000;
    glia_tensor *u = NULL, *u2 = NULL, *g = NULL;
    assert_int_equal(glia_tensor_zeros(f->dev, 4, shape, &u), OK);
    assert_int_equal(glia_tensor_zeros(f->dev, 4, shape, &u2), OK);
    assert_int_equal(glia_tensor_zeros(f->dev, 4, shape, &g), OK);
    double mean, var, lo, hi;

    glia_rng rng, again;
    glia_rng_init(&rng, 5);
    glia_rng_init(&again, 5);
    assert_int_equal(glia_tensor_uniform(u, &rng, -2.0f, 3.0f), OK);
    assert_true(rng.counter > 0); /* the generator advanced */
    tensor_moments(u, &mean, &var, &lo, &hi);
    assert_true(lo >= -2.0 && hi < 3.0);
    /* U(-2, 3): mean 0.5, variance 25/12 */
    assert_true(fabs(mean - 0.5) < 5 * sqrt(25.0 / 12 / n));
    assert_true(fabs(var - 25.0 / 12) < 5 * 25 * sqrt((1.0 / 80 - 1.0 / 144) / n));

    /* same seed, same tensor; the advanced generator gives a different one */
    assert_int_equal(glia_tensor_uniform(u2, &again, -2.0f, 3.0f), OK);
    float *a = read_all(u), *b = read_all(u2);
    assert_memory_equal(a, b, (size_t)n * sizeof(float));
    assert_int_equal(glia_tensor_uniform(u2, &again, -2.0f, 3.0f), OK);
    free(b);
    b = read_all(u2);
    assert_memory_not_equal(a, b, (size_t)n * sizeof(float));
    free(a);
    free(b);

    assert_int_equal(glia_tensor_normal(g, &rng, 1.5f, 0.5f), OK);
    tensor_moments(g, &mean, &var, &lo, &hi);
    assert_true(fabs(mean - 1.5) < 5 * 0.5 / sqrt(n));
    assert_true(fabs(var - 0.25) < 5 * 0.25 * sqrt(2.0 / n));
    assert_true(isfinite(lo) && isfinite(hi));

    /* degenerate ranges are allowed: U(c, c) and N(m, 0) are the constant */
    assert_int_equal(glia_tensor_uniform(u, &rng, 4.0f, 4.0f), OK);
    expect_all(u, 4.0f);
    assert_int_equal(glia_tensor_normal(g, &rng, -1.0f, 0.0f), OK);
    expect_all(g, -1.0f);
    glia_tensor_free(u);
    glia_tensor_free(u2);
    glia_tensor_free(g);
}

/* ---- devices -------------------------------------------------------------- */
static int is_terminated(const char *s, size_t cap) { return memchr(s, '\0', cap) != NULL; }

static void test_devices(void **state)
{
    fx *f = *state;
    int count = -1;
    assert_int_equal(glia_devices_list(NULL, 0, &count), OK);
    assert_true(count >= 1);
    glia_device_info *list = calloc((size_t)count, sizeof *list);
    assert_non_null(list);
    int again = -1, cpu = -1, gpu = 0;
    assert_int_equal(glia_devices_list(list, count, &again), OK);
    assert_int_equal(again, count);
    for (int i = 0; i < count; i++) {
        assert_true(is_terminated(list[i].backend, sizeof list[i].backend));
        assert_true(is_terminated(list[i].name, sizeof list[i].name));
        assert_true(is_terminated(list[i].vendor, sizeof list[i].vendor));
        assert_true(is_terminated(list[i].driver, sizeof list[i].driver));
        assert_true(list[i].index >= 0);
        if (strcmp(list[i].backend, "cpu") == 0 && list[i].index == 0)
            cpu = i;
        if (!list[i].emulated &&
            (list[i].type == GLIA_DEVICE_TYPE_DISCRETE || list[i].type == GLIA_DEVICE_TYPE_INTEGRATED))
            gpu = 1;
    }
    assert_true(cpu >= 0);
    assert_int_equal(list[cpu].emulated, 0);
    assert_int_equal(list[cpu].type, GLIA_DEVICE_TYPE_CPU);
    assert_true(list[cpu].name[0] != '\0');

    /* a short buffer still reports the full count */
    glia_device_info one;
    int short_count = -1;
    assert_int_equal(glia_devices_list(&one, 1, &short_count), OK);
    assert_int_equal(short_count, count);

    /* the open device describes itself like its list entry */
    const glia_device_info *info = glia_device_get_info(f->dev);
    assert_non_null(info);
    assert_string_equal(info->backend, "cpu");
    assert_int_equal(info->index, 0);
    assert_string_equal(info->name, list[cpu].name);

    /* auto: never an emulated driver; a real GPU when there is one, else the cpu */
    glia_device_info pick;
    assert_int_equal(glia_devices_auto(&pick), OK);
    assert_int_equal(pick.emulated, 0);
    if (gpu)
        assert_true(pick.type == GLIA_DEVICE_TYPE_DISCRETE || pick.type == GLIA_DEVICE_TYPE_INTEGRATED);
    else
        assert_string_equal(pick.backend, "cpu");
    glia_device *autodev = NULL;
    assert_int_equal(glia_device_open("auto", NULL, &autodev), OK);
    assert_string_equal(glia_device_get_info(autodev)->backend, pick.backend);
    assert_int_equal(glia_device_get_info(autodev)->index, pick.index);
    assert_int_equal(glia_device_close(autodev), OK);
    free(list);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zeros_full_fill, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shape_queries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reshape_shares_storage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reshape_gradient, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reshape_gradient_shared_storage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copy, setup, teardown),
        cmocka_unit_test(test_memory_stats),
        cmocka_unit_test(test_philox_known_answers),
        cmocka_unit_test(test_philox_stream_layout),
        cmocka_unit_test(test_rng_determinism),
        cmocka_unit_test(test_rng_uniform),
        cmocka_unit_test(test_rng_normal),
        cmocka_unit_test_setup_teardown(test_tensor_random_fill, setup, teardown),
        cmocka_unit_test_setup_teardown(test_devices, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
