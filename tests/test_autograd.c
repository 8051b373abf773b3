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


int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reuse_accumulates),
        cmocka_unit_test(test_only_required),
        cmocka_unit_test(test_diamond),
        cmocka_unit_test(test_grad_mode_and_tape),
    };
    return cmocka_run_group_tests_name("autograd", tests, gt_open_cpu, gt_close_cpu);
}
