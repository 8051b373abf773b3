/* Layer norm, instance norm and LeakyReLU of the public API on the "cpu"
 * device, against statistics and formulas evaluated here in double from the
 * definitions (PyTorch's LayerNorm and InstanceNorm: biased variance, eps
 * under the square root). Each expected value is computed by indexing the
 * input as the definition reads it (instance norm by (n, c) plane of the
 * N, C, spatial layout), independently of the library's [rows, C] op.
 * The library computes in float32 with double or compensated row sums: an
 * output errs by ~1e-7 relative to its scale, so 1e-5 (relative to 1 + |y|)
 * separates it from a wrong term (errors of order 1e-2 and more). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include "glia/glia.h"
#include "testutil.h"

#define TOL 1e-5

static float *xalloc(size_t n)
{
    float *p = calloc(n ? n : 1, sizeof *p);
    assert_non_null(p);
    return p;
}

static glia_tensor *upload(int ndim, const int64_t *shape, const float *v)
{
    glia_tensor *t = NULL;
    assert_int_equal(glia_tensor_from_host(gt_dev, ndim, shape, v, &t), GLIA_STATUS_OK);
    return t;
}

static void expect_values(glia_tensor *y, const double *want, size_t n, const char *what)
{
    float *got = xalloc(n);
    assert_int_equal((size_t)glia_tensor_numel(y), n);
    assert_int_equal(glia_tensor_read(y, got, n), GLIA_STATUS_OK);
    for (size_t i = 0; i < n; i++)
        if (!(fabs((double)got[i] - want[i]) <= TOL * (1.0 + fabs(want[i]))))
            fail_msg("%s: element %zu is %.9g, expected %.9g", what, i, (double)got[i], want[i]);
    free(got);
}

/* (v - mean) / sqrt(var + eps) over n values spaced `step` apart, in double. */
static void normalise(const float *v, size_t n, size_t step, double eps, double *out)
{
    double sum = 0, sq = 0;
    for (size_t i = 0; i < n; i++)
        sum += v[i * step];
    double mean = sum / (double)n;
    for (size_t i = 0; i < n; i++)
        sq += ((double)v[i * step] - mean) * ((double)v[i * step] - mean);
    double inv = 1.0 / sqrt(sq / (double)n + eps);
    for (size_t i = 0; i < n; i++)
        out[i * step] = ((double)v[i * step] - mean) * inv;
}

/* x[A, B, C] normalised over C, then scaled and shifted per column. */
static void check_layer_norm(int64_t a, int64_t b, int64_t c, int gamma, int beta, float offset, uint64_t seed)
{
    const float eps = 1e-5f;
    size_t n = (size_t)(a * b * c);
    int64_t shape[3] = {a, b, c};
    float *x = xalloc(n), *g = xalloc((size_t)c), *be = xalloc((size_t)c);
    double *want = calloc(n, sizeof *want);
    assert_non_null(want);
    gt_fill(x, n, seed, offset - 1.5f, offset + 2.0f);
    gt_fill(g, (size_t)c, seed + 1, 0.5f, 1.5f);
    gt_fill(be, (size_t)c, seed + 2, -1.0f, 1.0f);
    for (size_t r = 0; r < n / (size_t)c; r++) {
        normalise(x + r * (size_t)c, (size_t)c, 1, eps, want + r * (size_t)c);
        for (size_t j = 0; j < (size_t)c; j++) {
            double *w = &want[r * (size_t)c + j];
            *w = *w * (gamma ? (double)g[j] : 1.0) + (beta ? (double)be[j] : 0.0);
        }
    }
    glia_tensor *tx = upload(3, shape, x), *tg = gamma ? upload(1, &c, g) : NULL;
    glia_tensor *tb = beta ? upload(1, &c, be) : NULL, *y = NULL;
    assert_int_equal(glia_layer_norm(tx, tg, tb, eps, &y), GLIA_STATUS_OK);
    expect_values(y, want, n, "layer norm");
    glia_tensor_free(tx), glia_tensor_free(tg), glia_tensor_free(tb), glia_tensor_free(y);
    free(x), free(g), free(be), free(want);
}

static void test_layer_norm(void **state)
{
    (void)state;
    check_layer_norm(2, 3, 37, 1, 1, 0.0f, 11);
    check_layer_norm(1, 4, 1000, 0, 0, 10.0f, 12);   /* a mean far from 0 */
    check_layer_norm(3, 1, 96, 1, 0, 0.5f, 13);
    check_layer_norm(2, 2, 7, 0, 1, -3.0f, 14);
    check_layer_norm(5, 1, 1, 1, 1, 0.0f, 15);       /* one column: variance 0, y = beta */
}

/* x[N, C, spatial...] normalised per (n, c) plane. */
static void check_instance_norm(int ndim, const int64_t *shape, uint64_t seed)
{
    size_t n = 1, planes = (size_t)(shape[0] * shape[1]);
    for (int i = 0; i < ndim; i++)
        n *= (size_t)shape[i];
    size_t sp = n / planes;
    float *x = xalloc(n);
    double *want = calloc(n, sizeof *want);
    assert_non_null(want);
    gt_fill(x, n, seed, -2.0f, 3.0f);
    for (size_t p = 0; p < planes; p++)
        normalise(x + p * sp, sp, 1, 1e-5, want + p * sp);
    glia_tensor *tx = upload(ndim, shape, x), *y = NULL;
    assert_int_equal(glia_instance_norm(tx, 1e-5f, &y), GLIA_STATUS_OK);
    assert_int_equal(glia_tensor_ndim(y), ndim);
    for (int i = 0; i < ndim; i++)
        assert_int_equal(glia_tensor_dim(y, i), shape[i]);
    expect_values(y, want, n, "instance norm");
    glia_tensor_free(tx), glia_tensor_free(y);
    free(x), free(want);
}

static void test_instance_norm(void **state)
{
    (void)state;
    const int64_t s3[3] = {2, 3, 50}, s4[4] = {2, 3, 5, 7}, s5[5] = {1, 4, 3, 6, 5};
    check_instance_norm(3, s3, 21);
    check_instance_norm(4, s4, 22);
    check_instance_norm(5, s5, 23);
}

static void test_leaky_relu(void **state)
{
    (void)state;
    enum { N = 301 };
    const float slopes[2] = {0.01f, 0.2f};
    int64_t shape[1] = {N};
    float x[N];
    double want[N];
    gt_fill(x, N, 31, -3.0f, 3.0f);
    x[0] = 0.0f;
    for (int k = 0; k < 2; k++) {
        for (int i = 0; i < N; i++)
            want[i] = x[i] > 0 ? (double)x[i] : (double)slopes[k] * x[i];
        glia_tensor *tx = upload(1, shape, x), *y = NULL;
        assert_int_equal(glia_leaky_relu(tx, slopes[k], &y), GLIA_STATUS_OK);
        expect_values(y, want, N, "leaky relu");
        glia_tensor_free(tx), glia_tensor_free(y);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layer_norm),
        cmocka_unit_test(test_instance_norm),
        cmocka_unit_test(test_leaky_relu),
    };
    return cmocka_run_group_tests(tests, gt_open_cpu, gt_close_cpu);
}
