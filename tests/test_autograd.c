/* Autograd on small graphs: reuse, accumulation across backward calls, grad
 * mode, tape clearing, and gradients only where asked. Expected values are
 * derived by hand in the comments. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include "glia/glia.h"
#include "testutil.h"

#define dev gt_dev

static glia_tensor *vec(const float *v, int64_t n, int grad)
{
    glia_tensor *t = NULL;
    assert_int_equal(glia_tensor_from_host(dev, 1, &n, v, &t), GLIA_STATUS_OK);
    if (grad)
        assert_int_equal(glia_tensor_set_requires_grad(t, 1), GLIA_STATUS_OK);
    return t;
}

static void expect(const glia_tensor *t, const float *want, size_t n)
{
    float got[16];
    assert_non_null(t);
    assert_int_equal(glia_tensor_read(t, got, n), GLIA_STATUS_OK);
    for (size_t i = 0; i < n; i++)
        if (fabsf(got[i] - want[i]) > 1e-5f * fmaxf(1.0f, fabsf(want[i])))
            fail_msg("element %zu: got %.7g, want %.7g", i, got[i], want[i]);
}

/* L = sum(x*x + x): x is used three times; dL/dx = 2x + 1. */
static void test_reuse_accumulates(void **state)
{
    (void)state;
    const float xv[3] = {1.0f, -2.0f, 0.5f};
    glia_tensor *x = vec(xv, 3, 1), *sq, *s, *L;
    assert_int_equal(glia_mul(x, x, &sq), GLIA_STATUS_OK);
    assert_int_equal(glia_add(sq, x, &s), GLIA_STATUS_OK);
    assert_int_equal(glia_sum(s, &L), GLIA_STATUS_OK);
    assert_int_equal(glia_backward(L), GLIA_STATUS_OK);
    const float g1[3] = {3.0f, -3.0f, 2.0f};
    expect(glia_tensor_grad(x), g1, 3);
    glia_tensor_free(sq);
    glia_tensor_free(s);
    glia_tensor_free(L);
    /* a second backward adds to the leaf's gradient, as in PyTorch */
    assert_int_equal(glia_mul(x, x, &sq), GLIA_STATUS_OK);
    assert_int_equal(glia_sum(sq, &L), GLIA_STATUS_OK);
    assert_int_equal(glia_backward(L), GLIA_STATUS_OK);
    const float g2[3] = {3.0f + 2.0f, -3.0f - 4.0f, 2.0f + 1.0f};
    expect(glia_tensor_grad(x), g2, 3);
    glia_tensor_zero_grad(x);
    assert_null(glia_tensor_grad(x));
    glia_tensor_free(sq);
    glia_tensor_free(L);
    glia_tensor_free(x);
}

/* L = mean(a*b) + sum(a): only a requires grad; dL/da = b/n + 1; b gets nothing. */
static void test_only_required(void **state)
{
    (void)state;
    const float av[4] = {1, 2, 3, 4}, bv[4] = {4, -1, 0.5f, 2};
    glia_tensor *a = vec(av, 4, 1), *b = vec(bv, 4, 0), *p, *m, *s, *L;
    assert_int_equal(glia_mul(a, b, &p), GLIA_STATUS_OK);
    assert_int_equal(glia_mean(p, &m), GLIA_STATUS_OK);
    assert_int_equal(glia_sum(a, &s), GLIA_STATUS_OK);
    assert_int_equal(glia_add(m, s, &L), GLIA_STATUS_OK);
    assert_int_equal(glia_backward(L), GLIA_STATUS_OK);
    const float ga[4] = {2.0f, 0.75f, 1.125f, 1.5f};
    expect(glia_tensor_grad(a), ga, 4);
    assert_null(glia_tensor_grad(b));
    glia_tensor *all[] = {a, b, p, m, s, L};
    for (int i = 0; i < 6; i++)
        glia_tensor_free(all[i]);
}

/* A diamond: y = relu(x); L = sum(y*y) + sum(y) -> dL/dx = (2y + 1) * (x > 0). */
static void test_diamond(void **state)
{
    (void)state;
    const float xv[4] = {-1.0f, 2.0f, 0.5f, -0.25f};
    glia_tensor *x = vec(xv, 4, 1), *y, *yy, *s1, *s2, *L;
    assert_int_equal(glia_relu(x, &y), GLIA_STATUS_OK);
    assert_int_equal(glia_mul(y, y, &yy), GLIA_STATUS_OK);
    assert_int_equal(glia_sum(yy, &s1), GLIA_STATUS_OK);
    assert_int_equal(glia_sum(y, &s2), GLIA_STATUS_OK);
    assert_int_equal(glia_add(s1, s2, &L), GLIA_STATUS_OK);
    assert_int_equal(glia_backward(L), GLIA_STATUS_OK);
    const float g[4] = {0.0f, 5.0f, 2.0f, 0.0f};
    expect(glia_tensor_grad(x), g, 4);
    glia_tensor *all[] = {x, y, yy, s1, s2, L};
    for (int i = 0; i < 6; i++)
        glia_tensor_free(all[i]);
}

static void test_grad_mode_and_tape(void **state)
{
    (void)state;
    const float xv[2] = {1, 2};
    glia_tensor *x = vec(xv, 2, 1), *y, *L;
    int old = glia_grad_mode(dev, 0);
    assert_int_equal(old, 1);
    assert_int_equal(glia_sum(x, &L), GLIA_STATUS_OK);
    assert_false(glia_tensor_requires_grad(L));
    assert_int_equal(glia_backward(L), GLIA_STATUS_INVALID_ARGUMENT);
    glia_tensor_free(L);
    glia_grad_mode(dev, 1);
    /* a recorded graph can be dropped without backward, releasing its tensors */
    glia_memory_stats before, after;
    glia_device_memory_stats(dev, &before);
    assert_int_equal(glia_mul(x, x, &y), GLIA_STATUS_OK);
    assert_int_equal(glia_sum(y, &L), GLIA_STATUS_OK);
    glia_tensor_free(y);
    glia_tensor_free(L);
    glia_tape_clear(dev);
    glia_device_memory_stats(dev, &after);
    assert_int_equal(after.in_use_bytes, before.in_use_bytes);
    assert_null(glia_tensor_grad(x));
    glia_tensor_free(x);
}

/* A graph holds only what its backward reads: attention's chain
 * matmul -> softmax -> matmul keeps the inputs of both products and the
 * softmax output, not the first product (its storage goes back to the cache
 * once the caller drops it), and the gradients still come out right. */
static void test_unread_outputs_released(void **state)
{
    (void)state;
    const int64_t shape[2] = {64, 64};
    glia_tensor *q = NULL, *k = NULL, *sc = NULL, *p = NULL, *o = NULL, *L = NULL;
    glia_rng rng;
    glia_rng_init(&rng, 3);
    assert_int_equal(glia_tensor_zeros(dev, 2, shape, &q), GLIA_STATUS_OK);
    assert_int_equal(glia_tensor_zeros(dev, 2, shape, &k), GLIA_STATUS_OK);
    assert_int_equal(glia_tensor_uniform(q, &rng, -1, 1), GLIA_STATUS_OK);
    assert_int_equal(glia_tensor_uniform(k, &rng, -1, 1), GLIA_STATUS_OK);
    assert_int_equal(glia_tensor_set_requires_grad(q, 1), GLIA_STATUS_OK);
    glia_memory_stats before, after;
    assert_int_equal(glia_matmul(q, k, 0, 1, &sc), GLIA_STATUS_OK);
    assert_int_equal(glia_softmax_axis(sc, -1, &p), GLIA_STATUS_OK);
    glia_device_memory_stats(dev, &before);
    glia_tensor_free(sc);   /* only the graph holds the scores now: nothing reads them again */
    glia_device_memory_stats(dev, &after);
    assert_int_equal(before.in_use_bytes - after.in_use_bytes, 64 * 64 * sizeof(float));
    assert_int_equal(glia_matmul(p, k, 0, 0, &o), GLIA_STATUS_OK);
    assert_int_equal(glia_sum(o, &L), GLIA_STATUS_OK);
    assert_int_equal(glia_backward(L), GLIA_STATUS_OK);
    /* dL/dq by hand: dL/dP = 1 k^T, through the softmax, then (dS) k */
    static float hk[64 * 64], hp[64 * 64], g[64 * 64];
    assert_int_equal(glia_tensor_read(k, hk, 4096), GLIA_STATUS_OK);
    assert_int_equal(glia_tensor_read(p, hp, 4096), GLIA_STATUS_OK);
    assert_int_equal(glia_tensor_read(glia_tensor_grad(q), g, 4096), GLIA_STATUS_OK);
    for (int i = 0; i < 64; i++) {
        double dp[64], dot = 0;
        for (int j = 0; j < 64; j++) {
            dp[j] = 0;
            for (int c = 0; c < 64; c++)
                dp[j] += hk[j * 64 + c];
            dot += dp[j] * hp[i * 64 + j];
        }
        for (int c = 0; c < 64; c++) {
            double acc = 0;
            for (int j = 0; j < 64; j++)
                acc += hp[i * 64 + j] * (dp[j] - dot) * hk[j * 64 + c];
            if (fabs(g[i * 64 + c] - acc) > 1e-4 * fmax(1.0, fabs(acc)))
                fail_msg("dL/dq[%d][%d]: got %.7g, want %.7g", i, c, g[i * 64 + c], acc);
        }
    }
    glia_tensor *all[] = {q, k, p, o, L};
    for (int i = 0; i < 5; i++)
        glia_tensor_free(all[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reuse_accumulates),
        cmocka_unit_test(test_only_required),
        cmocka_unit_test(test_diamond),
        cmocka_unit_test(test_grad_mode_and_tape),
        cmocka_unit_test(test_unread_outputs_released),
    };
    return cmocka_run_group_tests_name("autograd", tests, gt_open_cpu, gt_close_cpu);
}
