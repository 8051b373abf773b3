/* Gradient checks of the scalar reference path, in double (glia_ref_run_f64).
 *
 * Every backward op and every loss op is checked against its forward op by
 * central differences: L = sum(w .* forward(x)) with random w, the analytic
 * gradient comes from the backward op with dy = w, the numeric one from
 * (L(x+h) - L(x-h)) / 2h with h = 1e-6 * max(1, |x|). The bound on the
 * normalised error, 1e-6, follows from that h in double: the truncation error
 * is O(h^2) ~ 1e-12 times the third derivative and the rounding error about
 * 1e-16 * |L| / h ~ 1e-10 * |L|, both far below 1e-6 for the O(1) data used
 * here, while a wrong index or a missing term gives errors of order 1.
 * Pooling and ReLU are only piecewise smooth, so their inputs keep every kink
 * much farther than h away (distinct values, no x near 0).
 *
 * Linear maps with no backward op of their own are checked by their adjoint
 * identity; the optimizers and GEMM against independent loops written here
 * from PyTorch's formulas. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "backends/cpu/ref.h"
#include "testutil.h"

#define GRAD_TOL 1e-6
#define EXACT_TOL 1e-12   /* same double formulas evaluated in another order */
#define MAX_SAMPLES 1000

/* ---- helpers ------------------------------------------------------------------ */

static double *vec(size_t n)
{
    double *p = malloc((n ? n : 1) * sizeof *p);
    assert_non_null(p);
    return p;
}

static double *rnd(size_t n, uint64_t seed, double lo, double hi)
{
    double *p = vec(n);
    gt_fill_f64(p, n, seed, lo, hi);
    return p;
}

/* Outputs start as NaN so an op that fails to overwrite one is caught. */
static double *nanvec(size_t n)
{
    double *p = vec(n);
    for (size_t i = 0; i < n; i++)
        p[i] = NAN;
    return p;
}

static double *zeros(size_t n)
{
    double *p = vec(n);
    memset(p, 0, n * sizeof *p);
    return p;
}

static double dot(const double *a, const double *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

static uint64_t next_u64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static void run(const glia_op *op, double *const t[8])
{
    glia_status s = glia_ref_run_f64(op, t);
    if (s != GLIA_STATUS_OK)
        fail_msg("op %d: %s: %s", (int)op->kind, glia_status_str(s), glia_last_error());
}

static void expect_close(const double *got, const double *want, size_t n, double tol,
                         const char *what)
{
    double err = gt_nerr_f64(got, want, n);
    if (!(err < tol))
        fail_msg("%s: normalised error %.3g, bound %.3g", what, err, tol);
}

/* ---- finite differences ------------------------------------------------------- */

/* A forward op whose weighted output L = sum(w .* t[out]) is differentiated. */
typedef struct fwd {
    glia_op op;
    double *t[8];
    int out;
    size_t nout;
    const double *w;
} fwd;

static double fwd_loss(fwd *f)
{
    run(&f->op, f->t);
    return dot(f->w, f->t[f->out], f->nout);
}

/* Compares ana, the analytic dL/d(t[in]) over n elements, with central
 * differences on all elements or MAX_SAMPLES random ones. */
static void check_grad(fwd *f, int in, size_t n, const double *ana, const char *what)
{
    size_t m = n < MAX_SAMPLES ? n : MAX_SAMPLES;
    double *num = vec(m), *sel = vec(m), *x = f->t[in];
    uint64_t s = n * 7919u + (uint64_t)in;
    for (size_t j = 0; j < m; j++) {
        size_t i = m == n ? j : (size_t)(next_u64(&s) % n);
        double x0 = x[i], h = 1e-6 * fmax(1.0, fabs(x0));
        x[i] = x0 + h;
        double lp = fwd_loss(f);
        x[i] = x0 - h;
        double lm = fwd_loss(f);
        x[i] = x0;
        num[j] = (lp - lm) / ((x0 + h) - (x0 - h));
        sel[j] = ana[i];
    }
    double err = gt_nerr_f64(num, sel, m);
    print_message("  %-28s %4zu of %5zu elements, normalised error %.2e\n", what, m, n, err);
    free(num);
    free(sel);
    if (!(err < GRAD_TOL))
        fail_msg("%s: normalised error %.3g, bound %.3g", what, err, GRAD_TOL);
}

/* ---- convolution ------------------------------------------------------------------ */

static int64_t vol3(const int64_t d[3]) { return d[0] * d[1] * d[2]; }

typedef struct conv_case {
    int nd;
    int64_t n, cin, cout, in[3];
    int k[3], stride[3], pad[3];
} conv_case;

static void check_conv(const conv_case *cc)
{
    glia_conv_desc d = {.nd = cc->nd, .n = cc->n, .cin = cc->cin, .cout = cc->cout};
    int64_t kd[3];
    for (int a = 0; a < 3; a++) {
        d.in[a] = cc->in[a];
        d.k[a] = cc->k[a];
        d.stride[a] = cc->stride[a];
        d.pad[a] = cc->pad[a];
        d.out[a] = (cc->in[a] + 2 * cc->pad[a] - cc->k[a]) / cc->stride[a] + 1;
        kd[a] = cc->k[a];
    }
    size_t nx = (size_t)(d.n * d.cin * vol3(d.in)), nw = (size_t)(d.cout * d.cin * vol3(kd));
    size_t ny = (size_t)(d.n * d.cout * vol3(d.out));
    double *x = rnd(nx, 1, -1, 1), *w = rnd(nw, 2, -1, 1), *y = nanvec(ny);
    double *wy = rnd(ny, 3, -1, 1), *dx = nanvec(nx), *dw = nanvec(nw);

    glia_op bd = {.kind = GLIA_OP_CONV_BWD_DATA, .p.conv = d};
    run(&bd, (double *[8]){wy, w, dx});
    glia_op bw = {.kind = GLIA_OP_CONV_BWD_WEIGHT, .p.conv = d};
    run(&bw, (double *[8]){x, wy, dw});
    fwd f = {.op = {.kind = GLIA_OP_CONV_FWD, .p.conv = d}, .t = {x, w, y}, .out = 2,
             .nout = ny, .w = wy};
    check_grad(&f, 0, nx, dx, cc->nd == 2 ? "conv2d bwd_data" : "conv3d bwd_data");
    check_grad(&f, 1, nw, dw, cc->nd == 2 ? "conv2d bwd_weight" : "conv3d bwd_weight");
    free(x), free(w), free(y), free(wy), free(dx), free(dw);
}

static void test_conv(void **state)
{
    static const conv_case cases[] = {
        /* nd n cin cout  D  H  W      kernel    stride    pad */
        {2, 2, 3, 4, {1, 7, 9}, {1, 3, 3}, {1, 1, 1}, {0, 1, 1}},
        {2, 2, 2, 3, {1, 8, 7}, {1, 3, 3}, {1, 2, 2}, {0, 1, 1}},
        {2, 3, 2, 2, {1, 7, 5}, {1, 2, 2}, {1, 2, 2}, {0, 0, 0}},   /* last row/col unread */
        {2, 2, 3, 2, {1, 5, 6}, {1, 1, 1}, {1, 1, 1}, {0, 0, 0}},
        {2, 1, 2, 3, {1, 9, 6}, {1, 5, 3}, {1, 2, 1}, {0, 2, 0}},   /* anisotropic */
        {3, 2, 2, 3, {5, 6, 7}, {3, 3, 3}, {2, 2, 2}, {1, 1, 1}},
        {3, 2, 2, 2, {4, 5, 3}, {3, 3, 3}, {1, 1, 1}, {1, 1, 1}},
        {3, 1, 3, 2, {5, 4, 7}, {1, 3, 2}, {2, 1, 2}, {0, 1, 0}},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_conv(&cases[i]);
}

/* ---- batch normalisation ---------------------------------------------------------- */

static void check_bn(size_t N, size_t C, size_t S)
{
    size_t nx = N * C * S;
    double *x = rnd(nx, 11, -2, 3), *g = rnd(C, 12, 0.5, 1.5), *b = rnd(C, 13, -1, 1);
    double *y = nanvec(nx), *sm = nanvec(C), *si = nanvec(C), *wy = rnd(nx, 14, -1, 1);
    double *dx = nanvec(nx), *dg = nanvec(C), *db = nanvec(C);
    glia_op op = {.kind = GLIA_OP_BN_FWD_TRAIN, .p.bn = {N, C, S, 1e-5f, 0.1f}};
    fwd f = {.op = op, .t = {x, g, b, y, sm, si, NULL, NULL}, .out = 3, .nout = nx, .w = wy};
    fwd_loss(&f);
    glia_op bwd = {.kind = GLIA_OP_BN_BWD, .p.bn = op.p.bn};
    run(&bwd, (double *[8]){x, g, wy, sm, si, dx, dg, db});
    check_grad(&f, 0, nx, dx, "batchnorm dx");
    check_grad(&f, 1, C, dg, "batchnorm dgamma");
    check_grad(&f, 2, C, db, "batchnorm dbeta");
    free(x), free(g), free(b), free(y), free(sm), free(si), free(wy), free(dx), free(dg), free(db);
}

static void test_batchnorm(void **state)
{
    (void)state;
    check_bn(3, 4, 5);
    check_bn(6, 3, 1);   /* after global pooling */
    check_bn(1, 2, 9);   /* batch of one */
}

/* ---- layer normalisation ---------------------------------------------------------- */

/* LN_BWD against LN_FWD over x[R,C]; affine 0 leaves gamma, beta and their
 * gradients NULL (the op's no-affine form, as InstanceNorm uses it). */
static void check_ln(size_t R, size_t C, int affine)
{
    size_t nx = R * C;
    double *x = rnd(nx, 15, -2, 3), *g = affine ? rnd(C, 16, 0.5, 1.5) : NULL;
    double *b = affine ? rnd(C, 17, -1, 1) : NULL, *y = nanvec(nx), *sm = nanvec(R);
    double *si = nanvec(R), *wy = rnd(nx, 18, -1, 1), *dx = nanvec(nx);
    double *dg = affine ? nanvec(C) : NULL, *db = affine ? nanvec(C) : NULL;
    glia_op op = {.kind = GLIA_OP_LN_FWD, .p.ln = {R, C, 1e-5f}};
    fwd f = {.op = op, .t = {x, g, b, y, sm, si}, .out = 3, .nout = nx, .w = wy};
    fwd_loss(&f);
    glia_op bwd = {.kind = GLIA_OP_LN_BWD, .p.ln = op.p.ln};
    run(&bwd, (double *[8]){x, g, wy, sm, si, dx, dg, db});
    check_grad(&f, 0, nx, dx, affine ? "layernorm dx" : "layernorm dx (no affine)");
    if (affine) {
        check_grad(&f, 1, C, dg, "layernorm dgamma");
        check_grad(&f, 2, C, db, "layernorm dbeta");
    }
    free(x), free(g), free(b), free(y), free(sm), free(si), free(wy), free(dx), free(dg), free(db);
}

static void test_layernorm(void **state)
{
    (void)state;
    check_ln(4, 7, 1);
    check_ln(6, 3, 1);    /* short rows (two would make xhat +-1, dx ~ eps: noise) */
    check_ln(3, 11, 0);
    check_ln(1, 40, 1);   /* one row: the parameter sums have one term */
}

/* Running statistics and inference against statistics computed here. */
static void test_batchnorm_running(void **state)
{
    enum { N = 3, C = 2, S = 4, NX = N * C * S };
    const float eps = 1e-5f, mom = 0.1f;
    double *x = rnd(NX, 21, -1, 2), *g = rnd(C, 22, 0.5, 1.5), *b = rnd(C, 23, -1, 1);
    double *rm = rnd(C, 24, -0.5, 0.5), *rv = rnd(C, 25, 0.5, 2), *y = nanvec(NX);
    double sm[C], si[C], want_rm[C], want_rv[C], want_y[NX];
    (void)state;
    for (int c = 0; c < C; c++) {
        double s = 0, q = 0;
        for (int i = 0; i < N * S; i++)
            s += x[(i / S * C + c) * S + i % S];
        double mean = s / (N * S);
        for (int i = 0; i < N * S; i++)
            q += pow(x[(i / S * C + c) * S + i % S] - mean, 2);
        want_rm[c] = (1 - (double)mom) * rm[c] + (double)mom * mean;
        want_rv[c] = (1 - (double)mom) * rv[c] + (double)mom * q / (N * S - 1);
    }
    for (int i = 0; i < NX; i++) {
        int c = i / S % C;
        want_y[i] = (x[i] - want_rm[c]) / sqrt(want_rv[c] + (double)eps) * g[c] + b[c];
    }
    glia_op tr = {.kind = GLIA_OP_BN_FWD_TRAIN, .p.bn = {N, C, S, eps, mom}};
    run(&tr, (double *[8]){x, g, b, y, sm, si, rm, rv});
    expect_close(rm, want_rm, C, EXACT_TOL, "running_mean");
    expect_close(rv, want_rv, C, EXACT_TOL, "running_var");
    glia_op inf = {.kind = GLIA_OP_BN_FWD_INFER, .p.bn = tr.p.bn};
    run(&inf, (double *[8]){x, g, b, y, NULL, NULL, rm, rv});
    expect_close(y, want_y, NX, EXACT_TOL, "batchnorm inference");
    free(x), free(g), free(b), free(rm), free(rv), free(y);
}

/* ---- elementwise and channel ops -------------------------------------------------- */

static void check_unary(glia_unary_mode mode, const char *what)
{
    enum { N = 60 };
    double *x = rnd(N, 31, -3, 3), *y = nanvec(N), *wy = rnd(N, 32, -1, 1), *dx = nanvec(N);
    for (int i = 0; i < N; i++)   /* keep ReLU's kink far from the differences */
        if (fabs(x[i]) < 0.05)
            x[i] += x[i] < 0 ? -0.1 : 0.1;
    /* a: LEAKY_RELU's slope (not 0, which would hide a missing factor); the
     * other modes with a backward have no parameter and ignore it */
    fwd f = {.op = {.kind = GLIA_OP_UNARY, .p.unary = {N, mode, 0.2f, 0}}, .t = {x, y}, .out = 1,
             .nout = N, .w = wy};
    fwd_loss(&f);
    glia_op bwd = {.kind = GLIA_OP_UNARY_BWD, .p.unary = f.op.p.unary};
    run(&bwd, (double *[8]){glia_unary_grad(mode) == GLIA_GRAD_X ? x : y, wy, dx});
    check_grad(&f, 0, N, dx, what);
    free(x), free(y), free(wy), free(dx);
}

static void test_unary(void **state)
{
    (void)state;
    /* every mode the op table gives a backward */
    int checked = 0;
    for (int m = 0; m < GLIA_UNARY_COUNT_; m++) {
        glia_grad_reads g = glia_unary_grad((glia_unary_mode)m);
        if (g == GLIA_GRAD_X || g == GLIA_GRAD_Y) {
            glia_op op = {.kind = GLIA_OP_UNARY_BWD, .p.unary.mode = (glia_unary_mode)m};
            check_unary((glia_unary_mode)m, glia_op_mode_name(&op));
            checked++;
        }
    }
    assert_true(checked >= 4);   /* relu, sigmoid, gelu, leaky relu at least */
}

static void test_softmax(void **state)
{
    enum { N = 2, C = 5, S = 7, NX = N * C * S };
    double *x = rnd(NX, 41, -3, 3), *y = nanvec(NX), *wy = rnd(NX, 42, -1, 1), *dx = nanvec(NX);
    (void)state;
    fwd f = {.op = {.kind = GLIA_OP_SOFTMAX_FWD, .p.chan = {N, C, S, 1}}, .t = {x, y}, .out = 1,
             .nout = NX, .w = wy};
    fwd_loss(&f);
    glia_op bwd = {.kind = GLIA_OP_SOFTMAX_BWD, .p.chan = f.op.p.chan};
    run(&bwd, (double *[8]){y, wy, dx});
    check_grad(&f, 0, NX, dx, "softmax bwd");
    free(x), free(y), free(wy), free(dx);
}

/* ---- pooling and upsampling ------------------------------------------------------- */

typedef struct pool_case {
    int64_t planes, in[3];
    int k[3], stride[3];
} pool_case;

static glia_pool_desc pool_desc(const pool_case *pc, int upsample)
{
    glia_pool_desc d = {.planes = pc->planes};
    for (int a = 0; a < 3; a++) {
        d.in[a] = pc->in[a];
        d.k[a] = pc->k[a];
        d.stride[a] = pc->stride[a];
        d.out[a] = upsample ? pc->in[a] * pc->k[a] : (pc->in[a] - pc->k[a]) / pc->stride[a] + 1;
    }
    return d;
}

/* A random permutation of 0..n-1, scaled: no ties, gaps of 1/n >> h. */
static double *distinct(size_t n, uint64_t seed)
{
    double *x = vec(n);
    for (size_t i = 0; i < n; i++)
        x[i] = (double)i / (double)n - 0.5;
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(next_u64(&seed) % i);
        double tmp = x[i - 1];
        x[i - 1] = x[j];
        x[j] = tmp;
    }
    return x;
}

static void test_maxpool(void **state)
{
    static const pool_case cases[] = {
        {3, {1, 9, 11}, {1, 3, 3}, {1, 2, 2}},   /* overlapping windows */
        {2, {1, 8, 6}, {1, 2, 2}, {1, 2, 2}},
        {2, {1, 7, 9}, {1, 2, 3}, {1, 2, 1}},    /* odd sizes, anisotropic */
        {2, {5, 6, 7}, {2, 2, 2}, {2, 2, 2}},    /* 3D, trailing planes unread */
        {1, {7, 5, 6}, {3, 3, 3}, {2, 2, 2}},    /* 3D overlapping */
    };
    (void)state;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        glia_pool_desc d = pool_desc(&cases[c], 0);
        size_t nx = (size_t)(d.planes * vol3(d.in)), ny = (size_t)(d.planes * vol3(d.out));
        double *x = distinct(nx, 51 + c), *y = nanvec(ny), *idx = nanvec(ny);
        double *wy = rnd(ny, 52, -1, 1), *dx = nanvec(nx);
        fwd f = {.op = {.kind = GLIA_OP_MAXPOOL_FWD, .p.pool = d}, .t = {x, y, idx}, .out = 1,
                 .nout = ny, .w = wy};
        fwd_loss(&f);
        glia_op bwd = {.kind = GLIA_OP_MAXPOOL_BWD, .p.pool = d};
        run(&bwd, (double *[8]){wy, idx, dx});
        check_grad(&f, 0, nx, dx, d.in[0] > 1 ? "maxpool3d bwd" : "maxpool2d bwd");
        free(x), free(y), free(idx), free(wy), free(dx);
    }
}

/* Ties: the first element of each window (in d, h, w order) is the argmax. */
static void test_maxpool_ties(void **state)
{
    pool_case pc = {2, {1, 5, 5}, {1, 3, 3}, {1, 2, 2}};
    glia_pool_desc d = pool_desc(&pc, 0);
    double x[50], y[8], idxbuf[8];
    (void)state;
    for (int i = 0; i < 50; i++)
        x[i] = 1;
    glia_op op = {.kind = GLIA_OP_MAXPOOL_FWD, .p.pool = d};
    run(&op, (double *[8]){x, y, idxbuf});
    const int32_t *idx = (const int32_t *)(const void *)idxbuf;
    for (int p = 0; p < 2; p++)
        for (int oh = 0; oh < 2; oh++)
            for (int ow = 0; ow < 2; ow++)
                assert_int_equal(idx[(p * 2 + oh) * 2 + ow], oh * 2 * 5 + ow * 2);
}

static void test_upsample(void **state)
{
    static const pool_case cases[] = {
        {3, {1, 4, 5}, {1, 2, 2}, {1, 1, 1}},
        {2, {1, 3, 2}, {1, 3, 1}, {1, 1, 1}},
        {2, {3, 2, 3}, {2, 2, 2}, {1, 1, 1}},
        {1, {2, 3, 2}, {1, 2, 3}, {1, 1, 1}},
    };
    (void)state;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        glia_pool_desc d = pool_desc(&cases[c], 1);
        size_t nx = (size_t)(d.planes * vol3(d.in)), ny = (size_t)(d.planes * vol3(d.out));
        double *x = rnd(nx, 61, -1, 1), *y = nanvec(ny), *wy = rnd(ny, 62, -1, 1);
        double *dx = nanvec(nx);
        fwd f = {.op = {.kind = GLIA_OP_UPSAMPLE_FWD, .p.pool = d}, .t = {x, y}, .out = 1,
                 .nout = ny, .w = wy};
        glia_op bwd = {.kind = GLIA_OP_UPSAMPLE_BWD, .p.pool = d};
        run(&bwd, (double *[8]){wy, dx});
        check_grad(&f, 0, nx, dx, d.in[0] > 1 ? "upsample3d bwd" : "upsample2d bwd");
        free(x), free(y), free(wy), free(dx);
    }
}

/* ---- losses: the backward ops take g * scale as a uniform upstream gradient -------- */

static double *uniform(size_t n, double v)
{
    double *p = vec(n);
    for (size_t i = 0; i < n; i++)
        p[i] = v;
    return p;
}

static void test_bce_logits(void **state)
{
    enum { N = 37 };
    const float scale = 1.0f / N;
    double g[1] = {0.7};
    double *x = rnd(N, 71, -4, 4), *tt = rnd(N, 72, 0, 1), *l = nanvec(N), *dx = nanvec(N);
    double *wl = uniform(N, g[0] * (double)scale);
    (void)state;
    fwd f = {.op = {.kind = GLIA_OP_BCE_LOGITS, .p.loss = {N, scale}}, .t = {x, tt, l}, .out = 2,
             .nout = N, .w = wl};
    glia_op bwd = {.kind = GLIA_OP_BCE_LOGITS_BWD, .p.loss = {N, scale}};
    run(&bwd, (double *[8]){x, tt, g, dx});
    check_grad(&f, 0, N, dx, "bce_logits bwd");
    free(x), free(tt), free(l), free(dx), free(wl);
}

static void test_softmax_ce(void **state)
{
    enum { N = 2, C = 4, S = 9, NX = N * C * S };
    const float scale = 1.0f / (N * S);
    double g[1] = {1.3};
    /* targets not normalised, so the sum_c t factor of the gradient is exercised */
    double *x = rnd(NX, 81, -3, 3), *tt = rnd(NX, 82, 0, 1), *l = nanvec(N * S);
    double *dx = nanvec(NX), *wl = uniform(N * S, g[0] * (double)scale);
    (void)state;
    fwd f = {.op = {.kind = GLIA_OP_SOFTMAX_CE, .p.chan = {N, C, S, scale}}, .t = {x, tt, l},
             .out = 2, .nout = N * S, .w = wl};
    glia_op bwd = {.kind = GLIA_OP_SOFTMAX_CE_BWD, .p.chan = f.op.p.chan};
    run(&bwd, (double *[8]){x, tt, g, dx});
    check_grad(&f, 0, NX, dx, "softmax_ce bwd");
    free(x), free(tt), free(l), free(dx), free(wl);
}

static void test_dice_sums(void **state)
{
    enum { A = 2, B = 3, C = 10, NX = A * B * C };
    double *p = rnd(NX, 91, 0, 1), *tt = rnd(NX, 92, 0, 1), *out = nanvec(3 * B);
    double *wo = rnd(3 * B, 93, -1, 1), *dp = nanvec(NX);
    (void)state;
    fwd f = {.op = {.kind = GLIA_OP_DICE_SUMS, .p.dice = {A, B, C}}, .t = {p, tt, out}, .out = 2,
             .nout = 3 * B, .w = wo};
    glia_op bwd = {.kind = GLIA_OP_DICE_SUMS_BWD, .p.dice = {A, B, C}};
    run(&bwd, (double *[8]){tt, wo, dp});
    check_grad(&f, 0, NX, dp, "dice_sums bwd");
    free(p), free(tt), free(out), free(wo), free(dp);
}

/* Logits far beyond exp's range (float's and double's): the stable forms stay
 * finite and exact. Values worked out by hand from the definitions. */
static void test_loss_stability(void **state)
{
    float x[3] = {1000, 0, -1000}, tt[3] = {0.5f, 0.25f, 0.25f}, l[3], dx[3], g[1] = {2};
    (void)state;
    glia_op bce = {.kind = GLIA_OP_BCE_LOGITS, .p.loss = {3, 0.5f}};
    assert_int_equal(glia_ref_run_f32(&bce, (float *[8]){x, tt, l}), GLIA_STATUS_OK);
    /* max(x,0) - x*t + log1p(exp(-|x|)) */
    assert_true(l[0] == 500.0f && fabsf(l[1] - logf(2.0f)) < 1e-6f && l[2] == 250.0f);
    glia_op bceb = {.kind = GLIA_OP_BCE_LOGITS_BWD, .p.loss = {3, 0.5f}};
    assert_int_equal(glia_ref_run_f32(&bceb, (float *[8]){x, tt, g, dx}), GLIA_STATUS_OK);
    assert_true(dx[0] == 0.5f && dx[1] == 0.25f && dx[2] == -0.25f);   /* (sigmoid - t) */
    /* one column of 3 channels: logsumexp = 1000, so l = 0.25*1000 + 0.25*2000 */
    glia_op ce = {.kind = GLIA_OP_SOFTMAX_CE, .p.chan = {1, 3, 1, 1}};
    assert_int_equal(glia_ref_run_f32(&ce, (float *[8]){x, tt, l}), GLIA_STATUS_OK);
    assert_true(l[0] == 750.0f);
    glia_op ceb = {.kind = GLIA_OP_SOFTMAX_CE_BWD, .p.chan = {1, 3, 1, 0.5f}};
    assert_int_equal(glia_ref_run_f32(&ceb, (float *[8]){x, tt, g, dx}), GLIA_STATUS_OK);
    assert_true(dx[0] == 0.5f && dx[1] == -0.25f && dx[2] == -0.25f);   /* p*sum(t) - t */
    glia_op sm = {.kind = GLIA_OP_SOFTMAX_FWD, .p.chan = {1, 3, 1, 1}};
    assert_int_equal(glia_ref_run_f32(&sm, (float *[8]){x, l}), GLIA_STATUS_OK);
    assert_true(l[0] == 1.0f && l[1] == 0.0f && l[2] == 0.0f);
    glia_op sg = {.kind = GLIA_OP_UNARY, .p.unary = {3, GLIA_UNARY_SIGMOID, 0, 0}};
    assert_int_equal(glia_ref_run_f32(&sg, (float *[8]){x, l}), GLIA_STATUS_OK);
    assert_true(l[0] == 1.0f && l[1] == 0.5f && l[2] == 0.0f);
}

/* ---- linear maps by their adjoint identity -------------------------------------- */

static void expect_equal_dots(double a, double b, const char *what)
{
    double err = fabs(a - b) / fmax(fabs(b), 1e-30);
    print_message("  %-28s relative error %.2e\n", what, err);
    if (!(err < EXACT_TOL))
        fail_msg("%s: <Ax,y> = %.17g, <x,A'y> = %.17g", what, a, b);
}

/* <REDUCE(x), y> = <x, BROADCAST(y)>; beta = 0 must ignore the NaN outputs. */
static void test_reduce_broadcast(void **state)
{
    enum { A = 3, B = 4, C = 5, NX = A * B * C };
    const float alpha = 0.75f;
    double *x = rnd(NX, 101, -1, 1), *y = rnd(B, 102, -1, 1), *rx = nanvec(B), *by = nanvec(NX);
    (void)state;
    glia_op red = {.kind = GLIA_OP_REDUCE, .p.bcast = {A, B, C, alpha, 0}};
    run(&red, (double *[8]){x, rx});
    glia_op bc = {.kind = GLIA_OP_BROADCAST, .p.bcast = {A, B, C, alpha, 0}};
    run(&bc, (double *[8]){y, by});
    expect_equal_dots(dot(rx, y, B), dot(x, by, NX), "reduce/broadcast adjoint");
    free(x), free(y), free(rx), free(by);
}

/* A strided copy is adjoint to the copy with src and dst strides swapped: a
 * 4-D permutation of a slice into a padded buffer, both ways. */
static void test_copy_nd(void **state)
{
    glia_copy_desc d = {.ndim = 4, .shape = {2, 3, 4, 5}, .src_stride = {100, 1, 20, 4}, .dst_stride = {70, 22, 5, 1}};
    size_t ns = glia_copy_extent(&d, d.src_stride), nd = glia_copy_extent(&d, d.dst_stride);
    double *x = rnd(ns, 111, -1, 1), *y = rnd(nd, 112, -1, 1), *cx = zeros(nd), *cty = zeros(ns);
    (void)state;
    glia_op fw = {.kind = GLIA_OP_COPY_ND, .p.copy = d};
    run(&fw, (double *[8]){x, cx});
    glia_op adj = {.kind = GLIA_OP_COPY_ND, .p.copy = d};
    memcpy(adj.p.copy.src_stride, d.dst_stride, sizeof d.dst_stride);
    memcpy(adj.p.copy.dst_stride, d.src_stride, sizeof d.src_stride);
    run(&adj, (double *[8]){y, cty});
    expect_equal_dots(dot(cx, y, nd), dot(x, cty, ns), "copy_nd adjoint");
    free(x), free(y), free(cx), free(cty);
}

/* GATHER_ROWS_BWD is GATHER_ROWS's adjoint: <gather(T), dy> = <T, bwd(dy)>,
 * with the inverse index built here independently (row by row). */
static void test_gather_adjoint(void **state)
{
    enum { N = 23, W = 3, R = 6 };
    int32_t idx[N], order[N], start[R + 1], k = 0;
    for (int i = 0; i < N; i++)
        idx[i] = (int32_t)((i * 7 + 3) % (R - 1));   /* row R-1 never used */
    for (int r = 0; r < R; r++) {
        start[r] = k;
        for (int i = 0; i < N; i++)
            if (idx[i] == r)
                order[k++] = i;
    }
    start[R] = k;
    double *t = rnd(R * W, 121, -1, 1), *dy = rnd(N * W, 122, -1, 1), *y = zeros(N * W), *dt = nanvec(R * W);
    (void)state;
    glia_op fw = {.kind = GLIA_OP_GATHER_ROWS, .p.gather = {N, W, R, 0}};
    run(&fw, (double *[8]){t, (double *)(void *)idx, y});
    glia_op bw = {.kind = GLIA_OP_GATHER_ROWS_BWD, .p.gather = {N, W, R, N}};
    run(&bw, (double *[8]){dy, (double *)(void *)order, (double *)(void *)start, dt});
    expect_equal_dots(dot(y, dy, N * W), dot(t, dt, R * W), "gather adjoint");
    for (int c = 0; c < W; c++)
        assert_true(dt[(R - 1) * W + c] == 0.0);   /* an unused row gets zero, not stale data */
    free(t), free(dy), free(y), free(dt);
}

/* ---- optimizers against PyTorch's formulas, three steps -------------------------- */

enum { OPT_N = 13, OPT_STEPS = 3 };

typedef struct sgd_case {
    float lr, momentum, dampening, weight_decay;
    int nesterov;
} sgd_case;

/* torch.optim.SGD, single-tensor path, one step, as whole-array passes. */
static void torch_sgd_step(const sgd_case *c, double *p, double *buf, const double *grad, int step)
{
    double d[OPT_N];
    for (int i = 0; i < OPT_N; i++)
        d[i] = c->weight_decay != 0 ? grad[i] + (double)c->weight_decay * p[i] : grad[i];
    if (c->momentum != 0) {
        for (int i = 0; i < OPT_N; i++)
            buf[i] = step == 0 ? d[i]
                               : buf[i] * (double)c->momentum + d[i] * (1 - (double)c->dampening);
        for (int i = 0; i < OPT_N; i++)
            d[i] = c->nesterov ? d[i] + (double)c->momentum * buf[i] : buf[i];
    }
    for (int i = 0; i < OPT_N; i++)
        p[i] += -(double)c->lr * d[i];
}

static void test_sgd(void **state)
{
    static const sgd_case cases[] = {
        {0.1f, 0, 0, 0, 0},         {0.1f, 0, 0, 0.01f, 0},      {0.05f, 0.9f, 0, 0, 0},
        {0.05f, 0.9f, 0.3f, 0, 0},  {0.05f, 0.9f, 0, 0, 1},      {0.02f, 0.8f, 0, 0.1f, 1},
        {0.05f, 0.9f, 0.5f, 0.05f, 0},
    };
    (void)state;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const sgd_case *sc = &cases[c];
        double *p = rnd(OPT_N, 121, -1, 1), *want = vec(OPT_N), *buf = nanvec(OPT_N);
        double *want_buf = nanvec(OPT_N);
        memcpy(want, p, OPT_N * sizeof *p);
        for (int s = 0; s < OPT_STEPS; s++) {
            double *g = rnd(OPT_N, 130 + (uint64_t)s, -1, 1);
            glia_op op = {.kind = GLIA_OP_SGD,
                          .p.sgd = {OPT_N, sc->lr, sc->momentum, sc->dampening, sc->weight_decay,
                                    sc->nesterov, s == 0}};
            run(&op, (double *[8]){p, g, sc->momentum != 0 ? buf : NULL});
            torch_sgd_step(sc, want, want_buf, g, s);
            free(g);
        }
        expect_close(p, want, OPT_N, EXACT_TOL, "sgd param");
        if (sc->momentum != 0)
            expect_close(buf, want_buf, OPT_N, EXACT_TOL, "sgd momentum buffer");
        free(p), free(want), free(buf), free(want_buf);
    }
}

typedef struct adam_case {
    float lr, beta1, beta2, eps, weight_decay;
    int decoupled;
} adam_case;

/* torch.optim.Adam / AdamW, single-tensor path; bc1, bc2 are the bias
 * corrections as the op receives them (float), as the caller passes them. */
static void torch_adam_step(const adam_case *c, double *p, double *m, double *v,
                            const double *grad, double bc1, double bc2)
{
    double lr = c->lr, wd = c->weight_decay;
    for (int i = 0; i < OPT_N; i++) {
        double g = grad[i];
        if (c->decoupled)
            p[i] *= 1 - lr * wd;
        else if (wd != 0)
            g += wd * p[i];
        m[i] += (g - m[i]) * (1 - (double)c->beta1);   /* exp_avg.lerp_(grad, 1 - beta1) */
        v[i] = v[i] * (double)c->beta2 + (1 - (double)c->beta2) * g * g;
        double denom = sqrt(v[i]) / sqrt(bc2) + (double)c->eps;
        p[i] += -(lr / bc1) * m[i] / denom;
    }
}

static void test_adam(void **state)
{
    static const adam_case cases[] = {
        {1e-3f, 0.9f, 0.999f, 1e-8f, 0, 0},
        {1e-2f, 0.9f, 0.999f, 1e-8f, 0.1f, 0},     /* Adam, L2 in the gradient */
        {1e-2f, 0.9f, 0.999f, 1e-8f, 0.1f, 1},     /* AdamW, decoupled */
        {5e-2f, 0.5f, 0.75f, 1e-3f, 0.01f, 1},
    };
    (void)state;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const adam_case *ac = &cases[c];
        double *p = rnd(OPT_N, 141, -1, 1), *m = zeros(OPT_N), *v = zeros(OPT_N);
        double *wp = vec(OPT_N), *wm = zeros(OPT_N), *wv = zeros(OPT_N);
        memcpy(wp, p, OPT_N * sizeof *p);
        for (int s = 1; s <= OPT_STEPS; s++) {
            double *g = rnd(OPT_N, 150 + (uint64_t)s, -1, 1);
            float bc1 = (float)(1 - pow(ac->beta1, s)), bc2 = (float)(1 - pow(ac->beta2, s));
            glia_op op = {.kind = GLIA_OP_ADAM,
                          .p.adam = {OPT_N, ac->lr, ac->beta1, ac->beta2, ac->eps,
                                     ac->weight_decay, bc1, bc2, ac->decoupled}};
            run(&op, (double *[8]){p, g, m, v});
            torch_adam_step(ac, wp, wm, wv, g, bc1, bc2);
            free(g);
        }
        expect_close(p, wp, OPT_N, EXACT_TOL, "adam param");
        expect_close(m, wm, OPT_N, EXACT_TOL, "adam exp_avg");
        expect_close(v, wv, OPT_N, EXACT_TOL, "adam exp_avg_sq");
        free(p), free(m), free(v), free(wp), free(wm), free(wv);
    }
}

/* ---- GEMM against a triple loop ---------------------------------------------------- */

static void check_gemm(int ta, int tb, double beta)
{
    enum { M = 5, N = 7, K = 6, BATCH = 2 };
    glia_gemm_desc g = {.trans_a = ta, .trans_b = tb, .m = M, .n = N, .k = K, .batch = BATCH,
                        .alpha = 0.75f, .beta = (float)beta};
    int64_t ra = ta ? K : M, rb = tb ? N : K;   /* stored rows */
    g.lda = (ta ? M : K) + 3;
    g.ldb = (tb ? K : N) + 2;
    g.ldc = N + 1;
    g.stride_a = ra * g.lda + 4;
    g.stride_b = rb * g.ldb + 1;
    g.stride_c = M * g.ldc + 2;
    size_t nc = (size_t)(BATCH * g.stride_c);
    double *a = rnd((size_t)(BATCH * g.stride_a), 161, -1, 1);
    double *b = rnd((size_t)(BATCH * g.stride_b), 162, -1, 1);
    double *c = beta == 0 ? nanvec(nc) : rnd(nc, 163, -1, 1), *want = vec(nc);
    memcpy(want, c, nc * sizeof *c);
    for (int64_t bi = 0; bi < BATCH; bi++)
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++) {
                double s = 0;
                for (int64_t p = 0; p < K; p++) {
                    int64_t ia = bi * g.stride_a + (ta ? p * g.lda + i : i * g.lda + p);
                    int64_t ib = bi * g.stride_b + (tb ? j * g.ldb + p : p * g.ldb + j);
                    s += a[ia] * b[ib];
                }
                double *w = &want[bi * g.stride_c + i * g.ldc + j];
                *w = 0.75 * s + (beta == 0 ? 0 : beta * *w);
            }
    glia_op op = {.kind = GLIA_OP_GEMM, .p.gemm = g};
    run(&op, (double *[8]){a, b, c});
    /* Padding between rows and batch items must be left alone (NaN stays NaN). */
    for (size_t i = 0; i < nc; i++) {
        if (isnan(want[i]) != isnan(c[i]))
            fail_msg("gemm ta=%d tb=%d beta=%g: element %zu written wrongly", ta, tb, beta, i);
        if (isnan(want[i]))
            want[i] = c[i] = 0;
    }
    expect_close(c, want, nc, EXACT_TOL, "gemm");
    free(a), free(b), free(c), free(want);
}

static void test_gemm(void **state)
{
    (void)state;
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            check_gemm(ta, tb, 0.5);
            check_gemm(ta, tb, 0);
        }
}

/* ---- dispatch and the float instantiation -------------------------------------- */

static void test_unsupported(void **state)
{
    double x[4] = {0};
    (void)state;
    glia_op bad = {.kind = GLIA_OP_COUNT_};
    glia_clear_error();
    assert_int_equal(glia_ref_run_f64(&bad, (double *[8]){x}), GLIA_STATUS_UNSUPPORTED);
    assert_true(glia_last_error()[0] != '\0');
    assert_int_equal(glia_ref_run_f32(&bad, (float *[8]){NULL}), GLIA_STATUS_UNSUPPORTED);
    glia_op aff = {.kind = GLIA_OP_UNARY_BWD, .p.unary = {4, GLIA_UNARY_AFFINE, 1, 0}};
    assert_int_equal(glia_ref_run_f64(&aff, (double *[8]){x, x, x}), GLIA_STATUS_UNSUPPORTED);
}

/* The float path is the same template: a conv and a pooling (int32 indices)
 * agree with the double path to float precision. */
static void test_float_matches_double(void **state)
{
    conv_case cc = {3, 2, 2, 3, {4, 5, 6}, {3, 3, 3}, {2, 1, 2}, {1, 1, 0}};
    glia_conv_desc d = {.nd = 3, .n = 2, .cin = 2, .cout = 3};
    for (int a = 0; a < 3; a++) {
        d.in[a] = cc.in[a], d.k[a] = cc.k[a], d.stride[a] = cc.stride[a], d.pad[a] = cc.pad[a];
        d.out[a] = (cc.in[a] + 2 * cc.pad[a] - cc.k[a]) / cc.stride[a] + 1;
    }
    enum { NX = 2 * 2 * 120, NW = 3 * 2 * 27 };
    size_t ny = (size_t)(2 * 3 * vol3(d.out));
    float xf[NX], wf[NW], yf[200], idxf[200];
    double xd[NX], wd[NW], yd[200], yd_as_f[200];
    (void)state;
    gt_fill(xf, NX, 171, -1, 1);
    gt_fill(wf, NW, 172, -1, 1);
    for (int i = 0; i < NX; i++)
        xd[i] = xf[i];
    for (int i = 0; i < NW; i++)
        wd[i] = wf[i];
    glia_op op = {.kind = GLIA_OP_CONV_FWD, .p.conv = d};
    assert_true(ny <= 200);
    assert_int_equal(glia_ref_run_f32(&op, (float *[8]){xf, wf, yf}), GLIA_STATUS_OK);
    run(&op, (double *[8]){xd, wd, yd});
    for (size_t i = 0; i < ny; i++)
        yd_as_f[i] = yf[i];
    expect_close(yd_as_f, yd, ny, 1e-6, "float conv vs double");

    pool_case pc = {4, {2, 6, 6}, {2, 2, 2}, {2, 2, 2}};
    glia_pool_desc pd = pool_desc(&pc, 0);
    glia_op mp = {.kind = GLIA_OP_MAXPOOL_FWD, .p.pool = pd};
    double idxd[36];
    assert_int_equal(glia_ref_run_f32(&mp, (float *[8]){xf, yf, idxf}), GLIA_STATUS_OK);
    run(&mp, (double *[8]){xd, yd, idxd});
    for (int i = 0; i < 36; i++) {
        assert_int_equal(((int32_t *)(void *)idxf)[i], ((int32_t *)(void *)idxd)[i]);
        assert_true(yd[i] == (double)yf[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv),
        cmocka_unit_test(test_batchnorm),
        cmocka_unit_test(test_batchnorm_running),
        cmocka_unit_test(test_layernorm),
        cmocka_unit_test(test_unary),
        cmocka_unit_test(test_softmax),
        cmocka_unit_test(test_maxpool),
        cmocka_unit_test(test_maxpool_ties),
        cmocka_unit_test(test_upsample),
        cmocka_unit_test(test_bce_logits),
        cmocka_unit_test(test_softmax_ce),
        cmocka_unit_test(test_dice_sums),
        cmocka_unit_test(test_loss_stability),
        cmocka_unit_test(test_reduce_broadcast),
        cmocka_unit_test(test_copy_nd),
        cmocka_unit_test(test_gather_adjoint),
        cmocka_unit_test(test_sgd),
        cmocka_unit_test(test_adam),
        cmocka_unit_test(test_gemm),
        cmocka_unit_test(test_unsupported),
        cmocka_unit_test(test_float_matches_double),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
