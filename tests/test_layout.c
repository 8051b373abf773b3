/* The layout ops' forward results on one backend (argv[1]), in 1-D to 6-D,
 * against index arithmetic on the host: permute, slice, roll, cat, and the
 * compositions SwinUNETR needs (window partition and its inverse, the cyclic
 * shift and its undoing). Copies are exact, so results must match bit for bit;
 * so must broadcasting addition (one rounding, as on the host). Softmax over
 * any axis is compared with a double-precision host softmax.
 * Their gradients are checked in test_gradients. Also: an op on a view of a
 * type its kernels lack is refused by supports() with a message naming the
 * op, its mode and the backend. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "glia/glia.h"
#include "core/core.h"
#include "testutil.h"

#define MAXD 6

static glia_device *dev;
static const char *backend_name;

static int64_t numel(int nd, const int64_t *shape)
{
    int64_t n = 1;
    for (int k = 0; k < nd; k++)
        n *= shape[k];
    return n;
}

static void unravel(int64_t i, int nd, const int64_t *shape, int64_t *idx)
{
    for (int k = nd - 1; k >= 0; k--) {
        idx[k] = i % shape[k];
        i /= shape[k];
    }
}

static int64_t ravel(int nd, const int64_t *shape, const int64_t *idx)
{
    int64_t i = 0;
    for (int k = 0; k < nd; k++)
        i = i * shape[k] + idx[k];
    return i;
}

/* A device tensor of random values and its host copy (caller frees both). */
static glia_tensor *random_tensor(int nd, const int64_t *shape, uint64_t seed, float **host)
{
    size_t n = (size_t)numel(nd, shape);
    *host = malloc(n * sizeof **host);
    assert_non_null(*host);
    gt_fill(*host, n, seed, -1.0f, 1.0f);
    glia_tensor *t = NULL;
    assert_int_equal(glia_tensor_from_host(dev, nd, shape, *host, &t), GLIA_STATUS_OK);
    return t;
}

/* Read t (shape nd/shape) and compare exactly with want. */
static void expect_exact(glia_tensor *t, int nd, const int64_t *shape, const float *want, const char *what)
{
    assert_int_equal(glia_tensor_ndim(t), nd);
    for (int k = 0; k < nd; k++)
        assert_int_equal(glia_tensor_dim(t, k), shape[k]);
    size_t n = (size_t)numel(nd, shape);
    float *got = malloc(n * sizeof *got);
    assert_non_null(got);
    assert_int_equal(glia_tensor_read(t, got, n), GLIA_STATUS_OK);
    for (size_t i = 0; i < n; i++)
        if (got[i] != want[i])
            fail_msg("%s on %s: element %zu is %g, expected %g", what, backend_name, i, got[i], want[i]);
    free(got);
}

static void check_permute(int nd, const int64_t *shape, const int *perm, uint64_t seed)
{
    float *x;
    glia_tensor *tx = random_tensor(nd, shape, seed, &x), *ty = NULL;
    int64_t ys[MAXD], yi[MAXD], xi[MAXD];
    for (int k = 0; k < nd; k++)
        ys[k] = shape[perm[k]];
    int64_t n = numel(nd, shape);
    float *want = malloc((size_t)n * sizeof *want);
    for (int64_t i = 0; i < n; i++) {
        unravel(i, nd, ys, yi);
        for (int k = 0; k < nd; k++)
            xi[perm[k]] = yi[k];
        want[i] = x[ravel(nd, shape, xi)];
    }
    assert_int_equal(glia_permute(tx, perm, &ty), GLIA_STATUS_OK);
    expect_exact(ty, nd, ys, want, "permute");
    glia_tensor_free(tx), glia_tensor_free(ty), free(x), free(want);
}

static void check_slice_roll(int nd, const int64_t *shape, int axis, int64_t start, int64_t len, int64_t shift,
                             uint64_t seed)
{
    float *x;
    glia_tensor *tx = random_tensor(nd, shape, seed, &x), *ts = NULL, *tr = NULL;
    int64_t ss[MAXD], idx[MAXD], n = numel(nd, shape);
    memcpy(ss, shape, (size_t)nd * sizeof *ss);
    ss[axis] = len;
    int64_t ns = numel(nd, ss);
    float *ws = malloc((size_t)ns * sizeof *ws), *wr = malloc((size_t)n * sizeof *wr);
    for (int64_t i = 0; i < ns; i++) {
        unravel(i, nd, ss, idx);
        idx[axis] += start;
        ws[i] = x[ravel(nd, shape, idx)];
    }
    for (int64_t i = 0; i < n; i++) {   /* torch.roll: y[i] = x[(i - shift) mod n] */
        unravel(i, nd, shape, idx);
        int64_t m = shape[axis];
        idx[axis] = ((idx[axis] - shift) % m + m) % m;
        wr[i] = x[ravel(nd, shape, idx)];
    }
    assert_int_equal(glia_slice(tx, axis, start, len, &ts), GLIA_STATUS_OK);
    expect_exact(ts, nd, ss, ws, "slice");
    assert_int_equal(glia_roll(tx, axis - nd, shift, &tr), GLIA_STATUS_OK);   /* negative axis */
    expect_exact(tr, nd, shape, wr, "roll");
    glia_tensor_free(tx), glia_tensor_free(ts), glia_tensor_free(tr), free(x), free(ws), free(wr);
}

static void check_cat(int nd, const int64_t *a, int64_t extra, int axis, uint64_t seed)
{
    int64_t b[MAXD], y[MAXD], idx[MAXD];
    memcpy(b, a, (size_t)nd * sizeof *b);
    b[axis] = extra;
    memcpy(y, a, (size_t)nd * sizeof *y);
    y[axis] += extra;
    float *xa, *xb;
    glia_tensor *ta = random_tensor(nd, a, seed, &xa), *tb = random_tensor(nd, b, seed + 1, &xb), *ty = NULL;
    int64_t n = numel(nd, y);
    float *want = malloc((size_t)n * sizeof *want);
    for (int64_t i = 0; i < n; i++) {
        unravel(i, nd, y, idx);
        if (idx[axis] < a[axis]) {
            want[i] = xa[ravel(nd, a, idx)];
        } else {
            idx[axis] -= a[axis];
            want[i] = xb[ravel(nd, b, idx)];
        }
    }
    glia_tensor *in[2] = {ta, tb};
    assert_int_equal(glia_cat(in, 2, axis, &ty), GLIA_STATUS_OK);
    expect_exact(ty, nd, y, want, "cat");
    glia_tensor_free(ta), glia_tensor_free(tb), glia_tensor_free(ty), free(xa), free(xb), free(want);
}

/* x + b with b broadcast (b has x's rank; 1 where it repeats) */
static void check_add_broadcast(int nd, const int64_t *xs, const int64_t *bsh, uint64_t seed)
{
    float *x, *b;
    glia_tensor *tx = random_tensor(nd, xs, seed, &x), *tb = random_tensor(nd, bsh, seed + 1, &b), *ty = NULL;
    int64_t n = numel(nd, xs), idx[MAXD];
    float *want = malloc((size_t)n * sizeof *want);
    for (int64_t i = 0; i < n; i++) {
        unravel(i, nd, xs, idx);
        for (int k = 0; k < nd; k++)
            if (bsh[k] == 1)
                idx[k] = 0;
        want[i] = x[i] + b[ravel(nd, bsh, idx)];
    }
    assert_int_equal(glia_add_broadcast(tx, tb, &ty), GLIA_STATUS_OK);
    expect_exact(ty, nd, xs, want, "add_broadcast");
    glia_tensor_free(tx), glia_tensor_free(tb), glia_tensor_free(ty), free(x), free(b), free(want);
}

static void check_softmax_axis(int nd, const int64_t *shape, int axis, uint64_t seed)
{
    float *x;
    glia_tensor *tx = random_tensor(nd, shape, seed, &x), *ty = NULL;
    int64_t n = numel(nd, shape), idx[MAXD];
    float *want = malloc((size_t)n * sizeof *want), *got = malloc((size_t)n * sizeof *got);
    for (int64_t i = 0; i < n; i++) {
        unravel(i, nd, shape, idx);
        double den = 0;
        int64_t at = idx[axis];
        for (int64_t j = 0; j < shape[axis]; j++) {
            idx[axis] = j;
            den += exp((double)x[ravel(nd, shape, idx)]);
        }
        idx[axis] = at;
        want[i] = (float)(exp((double)x[i]) / den);
    }
    assert_int_equal(glia_softmax_axis(tx, axis, &ty), GLIA_STATUS_OK);
    assert_int_equal(glia_tensor_read(ty, got, (size_t)n), GLIA_STATUS_OK);
    double e = gt_nerr(got, want, (size_t)n);
    if (!(e <= 1e-6))
        fail_msg("softmax over axis %d of a %d-D tensor on %s: normalised error %g", axis, nd, backend_name, e);
    glia_tensor_free(tx), glia_tensor_free(ty), free(x), free(want), free(got);
}

/* x[..., start::step, ...] along axis, length elements */
static void check_slice_step(int nd, const int64_t *shape, int axis, int64_t start, int64_t len, int64_t step,
                             uint64_t seed)
{
    float *x;
    glia_tensor *tx = random_tensor(nd, shape, seed, &x), *ty = NULL;
    int64_t ys[MAXD], idx[MAXD];
    memcpy(ys, shape, (size_t)nd * sizeof *ys);
    ys[axis] = len;
    int64_t n = numel(nd, ys);
    float *want = malloc((size_t)n * sizeof *want);
    for (int64_t i = 0; i < n; i++) {
        unravel(i, nd, ys, idx);
        idx[axis] = start + idx[axis] * step;
        want[i] = x[ravel(nd, shape, idx)];
    }
    assert_int_equal(glia_slice_step(tx, axis, start, len, step, &ty), GLIA_STATUS_OK);
    expect_exact(ty, nd, ys, want, "slice with a step");
    glia_tensor_free(tx), glia_tensor_free(ty), free(x), free(want);
}

/* glia_cat of six inputs (more than an autograd node holds) and glia_linear */
static void check_cat6_linear(void)
{
    float *x[6], *w, *b;
    glia_tensor *t[6], *ty = NULL, *tw, *tb, *tl = NULL;
    for (int i = 0; i < 6; i++)
        t[i] = random_tensor(2, (int64_t[]){3, i + 1}, 40 + (uint64_t)i, &x[i]);
    float want[3 * 21];
    for (int r = 0, at = 0; r < 3; r++)
        for (int i = 0; i < 6; i++)
            for (int c = 0; c <= i; c++)
                want[at++] = x[i][r * (i + 1) + c];
    assert_int_equal(glia_cat(t, 6, -1, &ty), GLIA_STATUS_OK);
    expect_exact(ty, 2, (int64_t[]){3, 21}, want, "cat of 6");
    tw = random_tensor(2, (int64_t[]){4, 21}, 50, &w);
    tb = random_tensor(1, (int64_t[]){4}, 51, &b);
    float got[12], yl[12];
    for (int r = 0; r < 3; r++)
        for (int o = 0; o < 4; o++) {
            double acc = b[o];
            for (int k = 0; k < 21; k++)
                acc += (double)want[r * 21 + k] * w[o * 21 + k];
            yl[r * 4 + o] = (float)acc;
        }
    assert_int_equal(glia_linear(ty, tw, tb, &tl), GLIA_STATUS_OK);
    assert_int_equal(glia_tensor_read(tl, got, 12), GLIA_STATUS_OK);
    double e = gt_nerr(got, yl, 12);
    if (!(e <= 1e-6))
        fail_msg("linear on %s: normalised error %g", backend_name, e);
    for (int i = 0; i < 6; i++)
        glia_tensor_free(t[i]), free(x[i]);
    glia_tensor_free(ty), glia_tensor_free(tw), glia_tensor_free(tb), glia_tensor_free(tl), free(w), free(b);
}

/* zero padding of a 4-D tensor: before/after per axis */
static void check_pad(void)
{
    int64_t shape[4] = {2, 3, 4, 5}, before[4] = {0, 1, 2, 0}, after[4] = {1, 0, 3, 2}, ps[4], idx[4];
    float *x;
    glia_tensor *tx = random_tensor(4, shape, 60, &x), *ty = NULL;
    for (int k = 0; k < 4; k++)
        ps[k] = shape[k] + before[k] + after[k];
    int64_t n = numel(4, ps);
    float *want = malloc((size_t)n * sizeof *want);
    for (int64_t i = 0; i < n; i++) {
        unravel(i, 4, ps, idx);
        int inside = 1;
        for (int k = 0; k < 4; k++) {
            idx[k] -= before[k];
            inside &= idx[k] >= 0 && idx[k] < shape[k];
        }
        want[i] = inside ? x[ravel(4, shape, idx)] : 0.0f;
    }
    assert_int_equal(glia_pad(tx, before, after, &ty), GLIA_STATUS_OK);
    expect_exact(ty, 4, ps, want, "pad");
    glia_tensor *bad = (glia_tensor *)1;
    assert_int_equal(glia_pad(tx, (int64_t[]){0, -1, 0, 0}, after, &bad), GLIA_STATUS_INVALID_ARGUMENT);
    assert_null(bad);
    glia_tensor_free(tx), glia_tensor_free(ty), free(x), free(want);
}

static void check_gather(int64_t rows, int64_t w, int64_t n, uint64_t seed)
{
    float *t;
    glia_tensor *tt = random_tensor(2, (int64_t[]){rows, w}, seed, &t), *ty = NULL;
    int32_t *idx = malloc((size_t)n * sizeof *idx);
    float *want = malloc((size_t)(n * w) * sizeof *want);
    for (int64_t i = 0; i < n; i++) {
        idx[i] = (int32_t)((i * 2654435761u) % (uint64_t)rows);
        for (int64_t c = 0; c < w; c++)
            want[i * w + c] = t[idx[i] * w + c];
    }
    assert_int_equal(glia_gather_rows(tt, idx, n, &ty), GLIA_STATUS_OK);
    expect_exact(ty, 2, (int64_t[]){n, w}, want, "gather_rows");
    idx[n / 2] = (int32_t)rows;   /* out of the table */
    glia_tensor *bad = (glia_tensor *)1;
    assert_int_equal(glia_gather_rows(tt, idx, n, &bad), GLIA_STATUS_INVALID_ARGUMENT);
    assert_null(bad);
    glia_tensor_free(tt), glia_tensor_free(ty), free(t), free(idx), free(want);
}

static void test_ops_1d_to_6d(void **state)
{
    (void)state;
    check_permute(1, (int64_t[]){7}, (int[]){0}, 1);
    check_permute(2, (int64_t[]){5, 3}, (int[]){1, 0}, 2);
    check_permute(3, (int64_t[]){3, 4, 5}, (int[]){2, 0, 1}, 3);
    check_permute(4, (int64_t[]){2, 3, 4, 5}, (int[]){0, 2, 3, 1}, 4);
    check_permute(5, (int64_t[]){2, 3, 1, 4, 2}, (int[]){4, 3, 2, 1, 0}, 5);
    check_permute(6, (int64_t[]){2, 3, 4, 3, 2, 10}, (int[]){0, 2, 4, 1, 3, 5}, 6);
    check_slice_roll(1, (int64_t[]){11}, 0, 3, 5, 4, 7);
    check_slice_roll(2, (int64_t[]){4, 9}, 1, 2, 6, -3, 8);
    check_slice_roll(3, (int64_t[]){5, 4, 3}, 0, 1, 3, 7, 9);
    check_slice_roll(4, (int64_t[]){2, 5, 3, 4}, 2, 1, 1, 1, 10);
    check_slice_roll(5, (int64_t[]){2, 3, 6, 2, 3}, 2, 2, 3, -2, 11);
    check_slice_roll(6, (int64_t[]){2, 3, 4, 3, 2, 5}, 5, 1, 4, 2, 12);
    check_cat(1, (int64_t[]){5}, 3, 0, 13);
    check_cat(3, (int64_t[]){2, 3, 4}, 2, 2, 14);
    check_cat(6, (int64_t[]){2, 2, 3, 2, 2, 3}, 1, 3, 15);
    check_add_broadcast(4, (int64_t[]){6, 3, 7, 7}, (int64_t[]){1, 3, 7, 7}, 16);
    check_add_broadcast(5, (int64_t[]){2, 3, 2, 5, 5}, (int64_t[]){1, 3, 1, 5, 5}, 17);
    check_add_broadcast(2, (int64_t[]){4, 9}, (int64_t[]){4, 1}, 18);
    check_softmax_axis(4, (int64_t[]){2, 3, 5, 49}, 3, 19);
    check_softmax_axis(3, (int64_t[]){3, 7, 4}, 1, 20);
    check_softmax_axis(2, (int64_t[]){11, 5}, 0, 21);
    check_slice_step(5, (int64_t[]){2, 4, 6, 4, 3}, 2, 1, 3, 2, 24);   /* patch merging: odd rows */
    check_slice_step(3, (int64_t[]){3, 10, 2}, 1, 0, 4, 3, 25);
    check_gather(169, 3, 2401, 22);   /* 2-D windows of 7^2 */
    check_gather(5, 4, 3, 23);
    check_cat6_linear();
    check_pad();
}

/* MONAI's 3-D window partition of x (B, D, H, W, C) with window ws is
 * x.view(B, D/ws, ws, H/ws, ws, W/ws, ws, C).permute(0,1,3,5,2,4,6,7); merging
 * neighbours that stay together makes it a 6-D permute. Its inverse and the
 * cyclic shift (roll by -s on D, H, W, then +s) must give x back exactly. */
static void test_swin_compositions(void **state)
{
    (void)state;
    enum { B = 2, D = 4, Hh = 6, W = 4, C = 3, WS = 2 };
    int64_t shape[5] = {B, D, Hh, W, C};
    float *x;
    glia_tensor *tx = random_tensor(5, shape, 21, &x), *v = NULL, *p = NULL, *back = NULL, *orig = NULL;
    int64_t six[6] = {B * D / WS, WS, Hh / WS, WS, W / WS, WS * C};
    int perm[6] = {0, 2, 4, 1, 3, 5}, inv[6] = {0, 3, 1, 4, 2, 5};
    assert_int_equal(glia_tensor_reshape(tx, 6, six, &v), GLIA_STATUS_OK);
    assert_int_equal(glia_permute(v, perm, &p), GLIA_STATUS_OK);
    /* window w = (b, d', h', w') holds x[b, d'*ws + i, h'*ws + j, w'*ws + k, c] at (i, j, k, c) */
    int64_t n = B * D * Hh * W * C;
    float *got = malloc((size_t)n * sizeof *got);
    assert_int_equal(glia_tensor_read(p, got, (size_t)n), GLIA_STATUS_OK);
    int64_t wshape[8] = {B, D / WS, Hh / WS, W / WS, WS, WS, WS, C}, wi[8];
    for (int64_t e = 0; e < n; e++) {
        unravel(e, 8, wshape, wi);
        int64_t xi[5] = {wi[0], wi[1] * WS + wi[4], wi[2] * WS + wi[5], wi[3] * WS + wi[6], wi[7]};
        if (got[e] != x[ravel(5, shape, xi)])
            fail_msg("window partition on %s: element %lld", backend_name, (long long)e);
    }
    assert_int_equal(glia_permute(p, inv, &back), GLIA_STATUS_OK);
    assert_int_equal(glia_tensor_reshape(back, 5, shape, &orig), GLIA_STATUS_OK);
    expect_exact(orig, 5, shape, x, "window reverse");
    glia_tensor *cur = glia_tensor_retain(tx);
    for (int pass = 0; pass < 2; pass++)
        for (int axis = 1; axis <= 3; axis++) {
            glia_tensor *next = NULL;
            assert_int_equal(glia_roll(cur, axis, pass == 0 ? -WS / 2 - 1 : WS / 2 + 1, &next), GLIA_STATUS_OK);
            glia_tensor_free(cur);
            cur = next;
        }
    expect_exact(cur, 5, shape, x, "shift and unshift");
    glia_tensor_free(cur);
    glia_tensor_free(tx), glia_tensor_free(v), glia_tensor_free(p), glia_tensor_free(back), glia_tensor_free(orig);
    free(x), free(got);
}

static void test_rejections(void **state)
{
    (void)state;
    float *x;
    glia_tensor *t = random_tensor(3, (int64_t[]){2, 3, 4}, 31, &x), *y = (glia_tensor *)1;
    free(x);
    assert_int_equal(glia_permute(t, (int[]){0, 0, 1}, &y), GLIA_STATUS_INVALID_ARGUMENT);
    assert_null(y);
    assert_int_equal(glia_slice(t, 3, 0, 1, &y), GLIA_STATUS_INVALID_ARGUMENT);
    assert_int_equal(glia_slice(t, 2, 3, 2, &y), GLIA_STATUS_INVALID_ARGUMENT);
    assert_int_equal(glia_roll(t, -4, 1, &y), GLIA_STATUS_INVALID_ARGUMENT);
    glia_tensor *u = random_tensor(3, (int64_t[]){2, 4, 4}, 32, &x), *in[2] = {t, u};
    free(x);
    assert_int_equal(glia_cat(in, 2, 2, &y), GLIA_STATUS_SHAPE_MISMATCH);
    assert_true(strstr(glia_last_error(), "dimension 2") != NULL);
    assert_int_equal(glia_add_broadcast(t, u, &y), GLIA_STATUS_SHAPE_MISMATCH);   /* 4 onto 3 */
    assert_true(strstr(glia_last_error(), "broadcast") != NULL);
    assert_int_equal(glia_add_broadcast(t, NULL, &y), GLIA_STATUS_INVALID_ARGUMENT);
    assert_int_equal(glia_softmax_axis(t, 3, &y), GLIA_STATUS_INVALID_ARGUMENT);
    assert_int_equal(glia_slice_step(t, 2, 1, 2, 3, &y), GLIA_STATUS_INVALID_ARGUMENT);   /* 1, 4: past 4 */
    assert_int_equal(glia_slice_step(t, 2, 0, 1, 0, &y), GLIA_STATUS_INVALID_ARGUMENT);
    assert_null(y);
    glia_tensor_free(t), glia_tensor_free(u);
    /* no backend has int32 ReLU: UNSUPPORTED, never a wrong result */
    glia_tensor *ti = NULL;
    assert_int_equal(glia_tensor_empty_typed(dev, GLIA_ETYPE_I32, 1, (int64_t[]){8}, &ti), GLIA_STATUS_OK);
    assert_int_equal(glia_relu(ti, &y), GLIA_STATUS_UNSUPPORTED);
    assert_null(y);
    const char *msg = glia_last_error();
    if (!strstr(msg, "UNARY") || !strstr(msg, "RELU") || !strstr(msg, backend_name))
        fail_msg("message \"%s\" should name the op, its mode and the backend", msg);
    glia_tensor_free(ti);
}

static void run_ops(void **state) { dev = gt_backend_device(state), test_ops_1d_to_6d(state); }
static void run_swin(void **state) { dev = gt_backend_device(state), test_swin_compositions(state); }
static void run_rejections(void **state) { dev = gt_backend_device(state), test_rejections(state); }

int main(int argc, char **argv)
{
    backend_name = gt_backend_name = argc > 1 ? argv[1] : "cpu";
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(run_ops),
        cmocka_unit_test(run_swin),
        cmocka_unit_test(run_rejections),
    };
    return cmocka_run_group_tests_name(backend_name, tests, gt_backend_open, gt_backend_close);
}
