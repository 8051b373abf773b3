/* The CPU backend's cache of transformed convolution weights
 * (backends/cpu/cpu_wcache.c): the same weights convolved again give bit for
 * bit what a device that never saw them gives (gt_dev2, its own cache), and a
 * change of one weight in place, in the same storage, is seen at once; so is a
 * change the cache's hash could miss only by chance, since hits are compared
 * element for element. Shapes take the Winograd path (3x3, >= 16 channels),
 * F(2x2, 3x3) and F(4x4, 3x3). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include "glia/glia.h"
#include "testutil.h"

typedef struct conv_case {
    int64_t n, c, k, side;
} conv_case;

static float *conv_on(glia_device *dev, const conv_case *cc, const float *x, const float *w)
{
    int64_t xs[4] = {cc->n, cc->c, cc->side, cc->side}, ws[4] = {cc->k, cc->c, 3, 3};
    size_t ny = (size_t)(cc->n * cc->k * cc->side * cc->side);
    glia_tensor *tx = NULL, *tw = NULL, *ty = NULL;
    glia_conv_params p = {.padding = {1, 1, 1}};
    assert_int_equal(glia_tensor_from_host(dev, 4, xs, x, &tx), GLIA_STATUS_OK);
    assert_int_equal(glia_tensor_from_host(dev, 4, ws, w, &tw), GLIA_STATUS_OK);
    assert_int_equal(glia_conv(tx, tw, NULL, &p, &ty), GLIA_STATUS_OK);
    float *y = malloc(ny * sizeof *y);
    assert_non_null(y);
    assert_int_equal(glia_tensor_read(ty, y, ny), GLIA_STATUS_OK);
    glia_tensor_free(tx);
    glia_tensor_free(tw);
    glia_tensor_free(ty);
    return y;
}

/* y of x and w on gt_dev, where repeated weights may come from the cache,
 * must equal y on a device that has not seen them (closed after: no cache). */
static void same_as_fresh(const conv_case *cc, const float *x, const float *w, const float *y, const char *what)
{
    glia_device *fresh = NULL;
    assert_int_equal(glia_device_open("cpu", NULL, &fresh), GLIA_STATUS_OK);
    float *want = conv_on(fresh, cc, x, w);
    size_t ny = (size_t)(cc->n * cc->k * cc->side * cc->side);
    if (memcmp(want, y, ny * sizeof *y) != 0)
        fail_msg("%s (%lld channels, %lld^2): differs from a fresh device's", what, (long long)cc->c,
                 (long long)cc->side);
    free(want);
    glia_device_close(fresh);
}

static void check_case(const conv_case *cc, uint64_t seed)
{
    size_t nx = (size_t)(cc->n * cc->c * cc->side * cc->side), nw = (size_t)(cc->k * cc->c * 9);
    float *x = malloc(nx * sizeof *x), *w = malloc(nw * sizeof *w);
    assert_non_null(x);
    assert_non_null(w);
    gt_fill(x, nx, seed, -1.0f, 1.0f);
    gt_fill(w, nw, seed + 1, -0.5f, 0.5f);
    /* the second call offers the transform to the cache, the third uses it */
    for (int i = 0; i < 3; i++) {
        float *y = conv_on(gt_dev, cc, x, w);
        same_as_fresh(cc, x, w, y, "repeated weights");
        free(y);
    }
    /* one weight changed: the cache must not answer with the old transform */
    w[nw / 2] += 0.25f;
    for (int i = 0; i < 3; i++) {
        float *y = conv_on(gt_dev, cc, x, w);
        same_as_fresh(cc, x, w, y, "one weight changed");
        free(y);
    }
    free(x);
    free(w);
}

static void test_wcache(void **state)
{
    (void)state;
    static const conv_case cases[] = {
        {1, 16, 16, 12},   /* few tiles: F(2x2, 3x3) */
        {1, 16, 17, 70},   /* >= 256 4x4 tiles: F(4x4, 3x3) */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        check_case(&cases[i], 100 + 7 * i);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wcache),
    };
    return cmocka_run_group_tests(tests, gt_open_cpu, gt_close_cpu);
}
