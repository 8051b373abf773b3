/* Losses and segmentation metrics of the public API on the "cpu" device,
 * against formulas evaluated here in double (PyTorch semantics).
 *
 * Every loss value and the gradient glia_backward leaves in the logits are
 * compared with the closed form and its hand-derived gradient:
 *   BCE-with-logits  l = max(x,0) - x t + log(1 + e^-|x|),   dl/dx = sigmoid(x) - t
 *   cross-entropy    l = -sum_c t_c log_softmax(x)_c,         dl/dx_c = softmax_c sum(t) - t_c
 *   MSE              l = (x - t)^2,                           dl/dx = 2 (x - t)
 *   soft Dice        L = 1 - mean_g r_g, r = (2pI + s)/(T + pP + s),
 *                    dL/dp_i = -(2 p t_i den - num p) / (G den^2), then through
 *                    the activation (sigmoid: p(1-p); softmax: p_c (d_c - sum_k p_k d_k)).
 * The library computes in float32 over at most a few hundred elements: the
 * rounding error of a value or gradient is ~1e-7 relative, so 1e-5 separates
 * it from a wrong term or index (errors of order 1e-2 and more). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "glia/glia.h"
#include "testutil.h"

#define TOL 1e-5

typedef struct shp {
    int ndim;
    int64_t d[GLIA_MAX_DIMS];
} shp;

/* 2D multi-channel, 3D single-channel, 3D multi-channel. */
static const shp SHAPES[] = {
    {4, {2, 3, 5, 7}},
    {5, {2, 1, 4, 4, 3}},
    {5, {1, 4, 3, 2, 5}},
};
#define NSHAPES (sizeof SHAPES / sizeof SHAPES[0])

static size_t numel(const shp *s)
{
    size_t n = 1;
    for (int i = 0; i < s->ndim; i++)
        n *= (size_t)s->d[i];
    return n;
}

static size_t spatial(const shp *s) { return numel(s) / (size_t)(s->d[0] * s->d[1]); }

#define g_dev gt_dev


static void *xalloc(size_t bytes)
{
    void *p = calloc(1, bytes ? bytes : 1);
    assert_non_null(p);
    return p;
}

static glia_tensor *mk(const shp *s, const float *data, int requires_grad)
{
    glia_tensor *t = NULL;
    assert_int_equal(glia_tensor_from_host(g_dev, s->ndim, s->d, data, &t), GLIA_STATUS_OK);
    if (requires_grad)
        assert_int_equal(glia_tensor_set_requires_grad(t, 1), GLIA_STATUS_OK);
    return t;
}

/* ---- test data ---------------------------------------------------------------- */
typedef enum tkind { T_SOFT, T_MASK, T_ONEHOT, T_PROB } tkind;

/* Targets in N, C, S layout. Masks leave channel 0 of the last sample empty
 * so the smoothing term of Dice decides at least one ratio. */
static void make_target(float *t, const shp *s, tkind kind, uint64_t seed)
{
    size_t n = numel(s), N = (size_t)s->d[0], C = (size_t)s->d[1], S = spatial(s);
    float *u = xalloc(n * sizeof *u);
    gt_fill(u, n, seed, 0.0f, 1.0f);
    for (size_t b = 0; b < N; b++)
        for (size_t i = 0; i < S; i++) {
            double sum = 0;
            for (size_t c = 0; c < C; c++) {
                size_t k = (b * C + c) * S + i;
                switch (kind) {
                case T_SOFT: t[k] = u[k]; break;
                case T_MASK: t[k] = (u[k] > 0.5f && !(b == N - 1 && c == 0)) ? 1.0f : 0.0f; break;
                case T_ONEHOT: t[k] = c == (size_t)(u[b * C * S + i] * (float)C) ? 1.0f : 0.0f; break;
                case T_PROB: t[k] = 0.05f + u[k]; sum += t[k]; break;
                }
            }
            if (kind == T_PROB)
                for (size_t c = 0; c < C; c++)
                    t[(b * C + c) * S + i] = (float)(t[(b * C + c) * S + i] / sum);
        }
    free(u);
}

/* ---- references in double: each returns the loss and adds w * dL/dx to g ------ */
static double sigm(double x) { return 1.0 / (1.0 + exp(-x)); }

static double ref_bce(const float *x, const float *t, size_t n, double w, double *g)
{
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        double xi = x[i], ti = t[i];
        sum += fmax(xi, 0.0) - xi * ti + log1p(exp(-fabs(xi)));
        g[i] += w * (sigm(xi) - ti) / (double)n;
    }
    return sum / (double)n;
}

static double ref_ce(const float *x, const float *t, size_t N, size_t C, size_t S, double w, double *g)
{
    double sum = 0, cnt = (double)(N * S);
    for (size_t b = 0; b < N; b++)
        for (size_t i = 0; i < S; i++) {
            const size_t base = b * C * S + i;
            double m = -INFINITY, z = 0, tsum = 0;
            for (size_t c = 0; c < C; c++)
                m = fmax(m, x[base + c * S]);
            for (size_t c = 0; c < C; c++)
                z += exp(x[base + c * S] - m);
            double lse = m + log(z);
            for (size_t c = 0; c < C; c++) {
                sum -= t[base + c * S] * (x[base + c * S] - lse);
                tsum += t[base + c * S];
            }
            for (size_t c = 0; c < C; c++) {
                size_t k = base + c * S;
                g[k] += w * (exp(x[k] - lse) * tsum - t[k]) / cnt;
            }
        }
    return sum / cnt;
}

static double ref_mse(const float *x, const float *t, size_t n, double *g)
{
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)x[i] - t[i];
        sum += d * d;
        g[i] += 2.0 * d / (double)n;
    }
    return sum / (double)n;
}

typedef struct dice_ref {
    glia_dice_activation act;
    double smooth, pen;
    int batch;
} dice_ref;

static double ref_dice(const float *x, const float *t, const shp *s, const dice_ref *o, double w, double *g)
{
    size_t n = numel(s), N = (size_t)s->d[0], C = (size_t)s->d[1], S = spatial(s);
    size_t G = o->batch ? C : N * C;
    double *p = xalloc(n * sizeof *p), *dp = xalloc(n * sizeof *dp);
    double *I = xalloc(G * sizeof *I), *P = xalloc(G * sizeof *P), *T = xalloc(G * sizeof *T);
    for (size_t b = 0; b < N; b++)
        for (size_t i = 0; i < S; i++) {
            double m = -INFINITY, z = 0;
            for (size_t c = 0; c < C; c++)
                m = fmax(m, x[(b * C + c) * S + i]);
            for (size_t c = 0; c < C; c++)
                z += exp(x[(b * C + c) * S + i] - m);
            for (size_t c = 0; c < C; c++) {
                size_t k = (b * C + c) * S + i;
                p[k] = o->act == GLIA_DICE_SIGMOID ? sigm(x[k]) : o->act == GLIA_DICE_SOFTMAX ? exp(x[k] - m) / z : x[k];
            }
        }
    for (size_t k = 0; k < n; k++) {
        size_t grp = o->batch ? (k / S) % C : k / S;
        I[grp] += p[k] * t[k];
        P[grp] += p[k];
        T[grp] += t[k];
    }
    double mean = 0;
    for (size_t q = 0; q < G; q++)
        mean += (2 * o->pen * I[q] + o->smooth) / (T[q] + o->pen * P[q] + o->smooth) / (double)G;
    for (size_t k = 0; k < n; k++) {
        size_t grp = o->batch ? (k / S) % C : k / S;
        double num = 2 * o->pen * I[grp] + o->smooth, den = T[grp] + o->pen * P[grp] + o->smooth;
        dp[k] = -(2 * o->pen * t[k] * den - num * o->pen) / ((double)G * den * den);
    }
    for (size_t b = 0; b < N; b++)
        for (size_t i = 0; i < S; i++) {
            double dot = 0;
            for (size_t c = 0; c < C; c++)
                dot += p[(b * C + c) * S + i] * dp[(b * C + c) * S + i];
            for (size_t c = 0; c < C; c++) {
                size_t k = (b * C + c) * S + i;
                double gk = o->act == GLIA_DICE_SIGMOID   ? dp[k] * p[k] * (1 - p[k])
                            : o->act == GLIA_DICE_SOFTMAX ? p[k] * (dp[k] - dot)
                                                          : dp[k];
                g[k] += w * gk;
            }
        }
    free(p);
    free(dp);
    free(I);
    free(P);
    free(T);
    return 1.0 - mean;
}

/* ---- the comparison ------------------------------------------------------------ */
/* Reads the loss, back-propagates and compares value and d loss / d x. Frees loss. */
static void check(const char *what, glia_tensor *loss, glia_tensor *x, double ref, const double *gref)
{
    size_t n = (size_t)glia_tensor_numel(x);
    float v = NAN;
    assert_non_null(loss);
    assert_int_equal(glia_tensor_numel(loss), 1);
    assert_int_equal(glia_tensor_read(loss, &v, 1), GLIA_STATUS_OK);
    double rel = fabs(v - ref) / fmax(fabs(ref), 1e-30);
    assert_int_equal(glia_backward(loss), GLIA_STATUS_OK);
    glia_tensor *gx = glia_tensor_grad(x);
    assert_non_null(gx);
    float *gf = xalloc(n * sizeof *gf);
    double *gd = xalloc(n * sizeof *gd);
    assert_int_equal(glia_tensor_read(gx, gf, n), GLIA_STATUS_OK);
    for (size_t i = 0; i < n; i++)
        gd[i] = gf[i];
    double gerr = gt_nerr_f64(gd, gref, n);
    if (!(rel < TOL) || !(gerr < TOL))
        print_error("%s: loss %.9g, expected %.9g (rel err %.2e); gradient err %.2e\n", what, v, ref, rel, gerr);
    assert_true(rel < TOL);
    assert_true(gerr < TOL);
    free(gf);
    free(gd);
    glia_tensor_free(loss);
}

/* Logits, target and a zeroed reference gradient for one shape. */
typedef struct inputs {
    const shp *s;
    size_t n;
    float *x, *t;
    double *g;
    glia_tensor *tx, *tt;
} inputs;

static void inputs_make(inputs *in, const shp *s, tkind kind, uint64_t seed, float lo, float hi)
{
    in->s = s;
    in->n = numel(s);
    in->x = xalloc(in->n * sizeof *in->x);
    in->t = xalloc(in->n * sizeof *in->t);
    in->g = xalloc(in->n * sizeof *in->g);
    gt_fill(in->x, in->n, seed, lo, hi);
    make_target(in->t, s, kind, seed + 1000);
    in->tx = mk(s, in->x, 1);
    in->tt = mk(s, in->t, 0);
}

static void inputs_free(inputs *in)
{
    glia_tensor_free(in->tx);
    glia_tensor_free(in->tt);
    free(in->x);
    free(in->t);
    free(in->g);
}

/* ---- tests --------------------------------------------------------------------- */
static void test_bce(void **state)
{
    (void)state;
    const tkind kinds[] = {T_SOFT, T_MASK};
    for (size_t si = 0; si < NSHAPES; si++)
        for (size_t ki = 0; ki < 2; ki++) {
            inputs in;
            glia_tensor *loss = NULL;
            inputs_make(&in, &SHAPES[si], kinds[ki], 10 * si + ki + 1, -4.0f, 4.0f);
            double ref = ref_bce(in.x, in.t, in.n, 1.0, in.g);
            assert_int_equal(glia_loss_bce_logits(in.tx, in.tt, &loss), GLIA_STATUS_OK);
            check("bce", loss, in.tx, ref, in.g);
            inputs_free(&in);
        }
}

static void test_softmax_ce(void **state)
{
    (void)state;
    const tkind kinds[] = {T_ONEHOT, T_PROB};
    for (size_t si = 0; si < NSHAPES; si++) {
        if (SHAPES[si].d[1] < 2)
            continue; /* one channel: log_softmax is 0, the loss vanishes */
        for (size_t ki = 0; ki < 2; ki++) {
            inputs in;
            glia_tensor *loss = NULL;
            const shp *s = &SHAPES[si];
            inputs_make(&in, s, kinds[ki], 100 + 10 * si + ki, -3.0f, 3.0f);
            double ref = ref_ce(in.x, in.t, (size_t)s->d[0], (size_t)s->d[1], spatial(s), 1.0, in.g);
            assert_int_equal(glia_loss_softmax_ce(in.tx, in.tt, &loss), GLIA_STATUS_OK);
            check("softmax ce", loss, in.tx, ref, in.g);
            inputs_free(&in);
        }
    }
}

static void test_mse(void **state)
{
    (void)state;
    for (size_t si = 0; si < NSHAPES; si++) {
        inputs in;
        glia_tensor *loss = NULL;
        inputs_make(&in, &SHAPES[si], T_SOFT, 200 + si, -2.0f, 2.0f);
        double ref = ref_mse(in.x, in.t, in.n, in.g);
        assert_int_equal(glia_loss_mse(in.tx, in.tt, &loss), GLIA_STATUS_OK);
        check("mse", loss, in.tx, ref, in.g);
        inputs_free(&in);
    }
}

/* Every activation x smoothing (0 = default 1e-5, 1e-5, 1) x penalty (0 = default 1, 1, 5) x batch. */
static void test_dice(void **state)
{
    (void)state;
    const glia_dice_activation acts[] = {GLIA_DICE_SIGMOID, GLIA_DICE_SOFTMAX, GLIA_DICE_NONE};
    const float smooths[] = {0.0f, 1e-5f, 1.0f}, pens[] = {0.0f, 1.0f, 5.0f};
    uint64_t seed = 300;
    for (size_t si = 0; si < NSHAPES; si++)
        for (size_t ai = 0; ai < 3; ai++)
            for (size_t mi = 0; mi < 3; mi++)
                for (size_t pi = 0; pi < 3; pi++)
                    for (int batch = 0; batch < 2; batch++) {
                        const shp *s = &SHAPES[si];
                        glia_dice_activation act = acts[ai];
                        if (act == GLIA_DICE_SOFTMAX && s->d[1] < 2)
                            continue; /* one channel: softmax is constant 1 */
                        inputs in;
                        glia_tensor *loss = NULL;
                        if (act == GLIA_DICE_NONE)
                            inputs_make(&in, s, T_MASK, seed++, 0.0f, 1.0f);
                        else
                            inputs_make(&in, s, act == GLIA_DICE_SOFTMAX ? T_ONEHOT : T_MASK, seed++, -3.0f, 3.0f);
                        glia_dice_options o = {.activation = act, .smooth = smooths[mi], .penalty = pens[pi],
                                               .batch = batch};
                        dice_ref r = {act, smooths[mi] > 0 ? (double)smooths[mi] : 1e-5,
                                      pens[pi] > 0 ? (double)pens[pi] : 1.0, batch};
                        double ref = ref_dice(in.x, in.t, s, &r, 1.0, in.g);
                        char what[96];
                        snprintf(what, sizeof what, "dice shape %zu act %d smooth %g penalty %g batch %d", si,
                                 (int)act, smooths[mi], pens[pi], batch);
                        assert_int_equal(glia_loss_dice(in.tx, in.tt, &o, &loss), GLIA_STATUS_OK);
                        check(what, loss, in.tx, ref, in.g);
                        inputs_free(&in);
                    }
}

/* NULL options are MONAI's defaults: sigmoid, smooth 1e-5, penalty 1, per sample. */
static void test_dice_defaults(void **state)
{
    (void)state;
    for (size_t si = 0; si < NSHAPES; si++) {
        inputs in;
        glia_tensor *loss = NULL;
        inputs_make(&in, &SHAPES[si], T_MASK, 400 + si, -3.0f, 3.0f);
        dice_ref r = {GLIA_DICE_SIGMOID, 1e-5, 1.0, 0};
        double ref = ref_dice(in.x, in.t, in.s, &r, 1.0, in.g);
        assert_int_equal(glia_loss_dice(in.tx, in.tt, NULL, &loss), GLIA_STATUS_OK);
        check("dice NULL options", loss, in.tx, ref, in.g);
        inputs_free(&in);
    }
}

/* Weighted sums; the combination fixes the activation whatever opts says. */
static void test_dice_combos(void **state)
{
    (void)state;
    const float w[][2] = {{1.0f, 1.0f}, {0.7f, 0.3f}, {0.25f, 2.0f}};
    const glia_dice_options opts[] = {
        {0},
        {.activation = GLIA_DICE_NONE, .smooth = 1.0f, .penalty = 5.0f, .batch = 1},
    };
    uint64_t seed = 500;
    for (size_t si = 0; si < NSHAPES; si++)
        for (size_t wi = 0; wi < 3; wi++)
            for (size_t oi = 0; oi < 2; oi++) {
                const shp *s = &SHAPES[si];
                const glia_dice_options *o = &opts[oi];
                double sm = o->smooth > 0 ? o->smooth : 1e-5, pen = o->penalty > 0 ? o->penalty : 1.0;
                inputs in;
                glia_tensor *loss = NULL;
                char what[64];

                inputs_make(&in, s, T_MASK, seed++, -3.0f, 3.0f);
                dice_ref rs = {GLIA_DICE_SIGMOID, sm, pen, o->batch};
                double ref = w[wi][0] * ref_dice(in.x, in.t, s, &rs, w[wi][0], in.g) +
                             w[wi][1] * ref_bce(in.x, in.t, in.n, w[wi][1], in.g);
                snprintf(what, sizeof what, "dice_bce shape %zu weights %zu opts %zu", si, wi, oi);
                assert_int_equal(glia_loss_dice_bce(in.tx, in.tt, o, w[wi][0], w[wi][1], &loss), GLIA_STATUS_OK);
                check(what, loss, in.tx, ref, in.g);
                inputs_free(&in);

                if (s->d[1] < 2)
                    continue;
                inputs_make(&in, s, oi ? T_PROB : T_ONEHOT, seed++, -3.0f, 3.0f);
                dice_ref rc = {GLIA_DICE_SOFTMAX, sm, pen, o->batch};
                ref = w[wi][0] * ref_dice(in.x, in.t, s, &rc, w[wi][0], in.g) +
                      w[wi][1] * ref_ce(in.x, in.t, (size_t)s->d[0], (size_t)s->d[1], spatial(s), w[wi][1], in.g);
                snprintf(what, sizeof what, "dice_ce shape %zu weights %zu opts %zu", si, wi, oi);
                assert_int_equal(glia_loss_dice_ce(in.tx, in.tt, o, w[wi][0], w[wi][1], &loss), GLIA_STATUS_OK);
                check(what, loss, in.tx, ref, in.g);
                inputs_free(&in);
            }
}

static void test_loss_errors(void **state)
{
    (void)state;
    const shp a = {4, {2, 3, 4, 5}}, b = {4, {2, 3, 5, 4}}, flat = {1, {6}};
    float data[120] = {0};
    glia_tensor *x = mk(&a, data, 1), *y = mk(&b, data, 0), *f = mk(&flat, data, 0), *out = NULL;
    assert_int_equal(glia_loss_bce_logits(x, y, &out), GLIA_STATUS_SHAPE_MISMATCH);
    assert_null(out);
    assert_true(strlen(glia_last_error()) > 0);
    assert_int_equal(glia_loss_softmax_ce(x, y, &out), GLIA_STATUS_SHAPE_MISMATCH);
    assert_int_equal(glia_loss_mse(x, y, &out), GLIA_STATUS_SHAPE_MISMATCH);
    assert_int_equal(glia_loss_dice(x, y, NULL, &out), GLIA_STATUS_SHAPE_MISMATCH);
    assert_int_equal(glia_loss_dice_bce(x, y, NULL, 1, 1, &out), GLIA_STATUS_SHAPE_MISMATCH);
    assert_int_equal(glia_loss_dice_ce(x, y, NULL, 1, 1, &out), GLIA_STATUS_SHAPE_MISMATCH);
    /* cross-entropy and Dice need N and C */
    assert_int_equal(glia_loss_softmax_ce(f, f, &out), GLIA_STATUS_SHAPE_MISMATCH);
    assert_int_equal(glia_loss_dice(f, f, NULL, &out), GLIA_STATUS_SHAPE_MISMATCH);
    assert_int_equal(glia_loss_bce_logits(x, x, NULL), GLIA_STATUS_INVALID_ARGUMENT);
    assert_int_equal(glia_loss_bce_logits(NULL, x, &out), GLIA_STATUS_INVALID_ARGUMENT);
    glia_dice_options bad = {.smooth = -1.0f};
    assert_int_equal(glia_loss_dice(x, x, &bad, &out), GLIA_STATUS_INVALID_ARGUMENT);
    bad = (glia_dice_options){.penalty = -2.0f};
    assert_int_equal(glia_loss_dice(x, x, &bad, &out), GLIA_STATUS_INVALID_ARGUMENT);
    bad = (glia_dice_options){.activation = (glia_dice_activation)7};
    assert_int_equal(glia_loss_dice(x, x, &bad, &out), GLIA_STATUS_INVALID_ARGUMENT);
    assert_null(out);
    glia_tape_clear(g_dev);
    glia_tensor_free(x);
    glia_tensor_free(y);
    glia_tensor_free(f);
}

/* ---- metrics ------------------------------------------------------------------- */
typedef struct counts {
    double tp, fp, fn, tn;
} counts;

static double ratio(double num, double den) { return den > 0 ? num / den : 1.0; }

static void assert_metrics(const glia_metrics *m, const counts *k)
{
    const double tol = 1e-12;
    assert_true(fabs(m->dice - ratio(2 * k->tp, 2 * k->tp + k->fp + k->fn)) < tol);
    assert_true(fabs(m->iou - ratio(k->tp, k->tp + k->fp + k->fn)) < tol);
    assert_true(fabs(m->accuracy - ratio(k->tp + k->tn, k->tp + k->tn + k->fp + k->fn)) < tol);
    assert_true(fabs(m->sensitivity - ratio(k->tp, k->tp + k->fn)) < tol);
    assert_true(fabs(m->specificity - ratio(k->tn, k->tn + k->fp)) < tol);
}

/* Adds one batch to the confusion and to the counts kept here (per channel). */
static void confusion_batch(glia_confusion *c, counts *k, const shp *s, const float *pred, const float *tgt, float thr)
{
    size_t n = numel(s), C = (size_t)s->d[1], S = spatial(s);
    for (size_t i = 0; i < n; i++) {
        counts *ck = &k[(i / S) % C];
        int yp = pred[i] > thr, yt = tgt[i] > 0.5f;
        ck->tp += yp && yt;
        ck->fp += yp && !yt;
        ck->fn += !yp && yt;
        ck->tn += !yp && !yt;
    }
    glia_tensor *tp = mk(s, pred, 0), *tt = mk(s, tgt, 0);
    assert_int_equal(glia_confusion_update(c, tp, tt, thr), GLIA_STATUS_OK);
    glia_tensor_free(tp);
    glia_tensor_free(tt);
}

static void check_confusion(const glia_confusion *c, const counts *k, int channels)
{
    counts all = {0};
    for (int ch = 0; ch < channels; ch++) {
        assert_true(c->tp[ch] == k[ch].tp && c->fp[ch] == k[ch].fp);
        assert_true(c->fn[ch] == k[ch].fn && c->tn[ch] == k[ch].tn);
        glia_metrics m = glia_metrics_from_confusion(c, ch);
        assert_metrics(&m, &k[ch]);
        all.tp += k[ch].tp, all.fp += k[ch].fp, all.fn += k[ch].fn, all.tn += k[ch].tn;
    }
    glia_metrics m = glia_metrics_from_confusion(c, -1);
    assert_metrics(&m, &all);
}

static void test_metrics_counts(void **state)
{
    (void)state;
    const shp s1 = {4, {2, 3, 5, 7}}, s2 = {5, {1, 3, 2, 3, 4}};
    const float thr[] = {0.5f, 0.3f};
    for (int round = 0; round < 2; round++) {
        glia_confusion c;
        counts k[3] = {{0}};
        assert_int_equal(glia_confusion_init(&c, 3), GLIA_STATUS_OK);
        assert_int_equal(c.channels, 3);
        const shp *ss[2] = {&s1, &s2};
        for (int b = 0; b < 2; b++) {
            size_t n = numel(ss[b]);
            float *p = xalloc(n * sizeof *p), *t = xalloc(n * sizeof *t);
            gt_fill(p, n, 600 + 10 * round + b, 0.0f, 1.0f);
            make_target(t, ss[b], T_MASK, 700 + 10 * round + b);
            p[0] = thr[round]; /* strictly greater than the threshold counts as positive */
            p[1] = nextafterf(thr[round], 1.0f);
            confusion_batch(&c, k, ss[b], p, t, thr[round]);
            free(p);
            free(t);
        }
        check_confusion(&c, k, 3);
    }
}

/* Empty prediction of an empty target is perfect; predictions on an empty
 * target have Dice 0 and sensitivity 0/0 = 1. */
static void test_metrics_empty(void **state)
{
    (void)state;
    const shp s = {4, {2, 2, 3, 3}};
    size_t n = numel(&s);
    float p[36], t[36] = {0};
    gt_fill(p, n, 800, 0.0f, 0.49f);
    glia_confusion c;
    counts k[2] = {{0}};
    assert_int_equal(glia_confusion_init(&c, 2), GLIA_STATUS_OK);
    confusion_batch(&c, k, &s, p, t, 0.5f);
    check_confusion(&c, k, 2);
    for (int ch = -1; ch < 2; ch++) {
        glia_metrics m = glia_metrics_from_confusion(&c, ch);
        assert_true(m.dice == 1.0 && m.iou == 1.0 && m.accuracy == 1.0);
        assert_true(m.sensitivity == 1.0 && m.specificity == 1.0);
    }
    p[9 + 4] = 0.9f; /* sample 0, channel 1: one false positive */
    confusion_batch(&c, k, &s, p, t, 0.5f);
    check_confusion(&c, k, 2);
    glia_metrics m = glia_metrics_from_confusion(&c, 1);
    assert_true(m.dice == 0.0 && m.iou == 0.0 && m.sensitivity == 1.0);
    assert_true(fabs(m.specificity - 35.0 / 36.0) < 1e-12);
    m = glia_metrics_from_confusion(&c, 0);
    assert_true(m.dice == 1.0 && m.specificity == 1.0);
}

static void test_metrics_errors(void **state)
{
    (void)state;
    glia_confusion c;
    assert_int_equal(glia_confusion_init(&c, 0), GLIA_STATUS_INVALID_ARGUMENT);
    assert_int_equal(glia_confusion_init(&c, GLIA_METRICS_MAX_CHANNELS + 1), GLIA_STATUS_INVALID_ARGUMENT);
    assert_int_equal(glia_confusion_init(NULL, 2), GLIA_STATUS_INVALID_ARGUMENT);
    assert_int_equal(glia_confusion_init(&c, GLIA_METRICS_MAX_CHANNELS), GLIA_STATUS_OK);
    assert_int_equal(glia_confusion_init(&c, 2), GLIA_STATUS_OK);
    const shp a = {4, {1, 3, 2, 2}}, b = {4, {1, 2, 2, 3}};
    float z[12] = {0};
    glia_tensor *x = mk(&a, z, 0), *y = mk(&b, z, 0);
    assert_int_equal(glia_confusion_update(&c, x, x, 0.5f), GLIA_STATUS_SHAPE_MISMATCH); /* 3 channels, not 2 */
    assert_int_equal(glia_confusion_update(&c, x, y, 0.5f), GLIA_STATUS_SHAPE_MISMATCH);
    assert_int_equal(glia_confusion_update(&c, NULL, y, 0.5f), GLIA_STATUS_INVALID_ARGUMENT);
    assert_int_equal(glia_confusion_update(NULL, y, y, 0.5f), GLIA_STATUS_INVALID_ARGUMENT);
    for (int ch = 0; ch < 2; ch++)
        assert_true(c.tp[ch] == 0 && c.fp[ch] == 0 && c.fn[ch] == 0 && c.tn[ch] == 0);
    glia_tensor_free(x);
    glia_tensor_free(y);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bce),
        cmocka_unit_test(test_softmax_ce),
        cmocka_unit_test(test_mse),
        cmocka_unit_test(test_dice),
        cmocka_unit_test(test_dice_defaults),
        cmocka_unit_test(test_dice_combos),
        cmocka_unit_test(test_loss_errors),
        cmocka_unit_test(test_metrics_counts),
        cmocka_unit_test(test_metrics_empty),
        cmocka_unit_test(test_metrics_errors),
    };
    return cmocka_run_group_tests(tests, gt_open_cpu, gt_close_cpu);
}
