/* Optimizers and learning-rate schedules of the public API on the "cpu" device.
 *
 * Optimizers: a few parameters are trained for 4 steps with gradients set
 * here (loss = sum_j sum(w_j * param_j) through glia_mul, glia_sum, glia_add
 * and glia_backward, so grad_j = w_j exactly) and compared with PyTorch's
 * update rules (torch.optim.SGD / Adam / AdamW docs) evaluated here in double
 * from the same float inputs and hyper-parameters. What is compared is the
 * displacement param - param0 (about lr per step): the library keeps params in
 * float32, so its rounding reaches ~1e-6 of the displacement (measured: at
 * most 1.1e-6, where a small gradient moves a parameter of size 1), and 1e-5
 * separates that from any wrong term (a dampened first momentum step, eps
 * inside the bias correction or coupled AdamW decay give 5e-3 to 1.5).
 *
 * Schedules: values at chosen steps worked out by hand (the arithmetic is in
 * the comments) and written as literals; double formulas evaluated in another
 * order agree to ~1e-16, so the bound is 1e-12 relative. */
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
#define NPAR 4      /* trainable entries of the test set */
#define MAXN 6      /* largest numel among them */

#define g_dev gt_dev


/* a and b get a gradient every step, c never (it must not move, whatever the
 * weight decay), d only from step `late` on (its state starts then, as in
 * PyTorch, where each parameter counts its own steps). */
static const char *const NAMES[NPAR] = {"a.weight", "b.bias", "c.frozen", "d.late"};
static const int NDIM[NPAR] = {2, 1, 1, 1};
static const int64_t SHAPE[NPAR][2] = {{2, 3}, {4, 0}, {3, 0}, {2, 0}};

static size_t pnumel(int j) { return (size_t)(SHAPE[j][0] * (NDIM[j] == 2 ? SHAPE[j][1] : 1)); }

static int has_grad(int j, int step, int late) { return j < 2 || (j == 3 && step >= late); }

/* The gradient of parameter j at step t (1-based). */
static void grad_of(int j, int step, float *w) { gt_fill(w, pnumel(j), 1000u * (uint64_t)step + (uint64_t)j, -1.0f, 1.0f); }

/* A fresh set: the trainable entries from `init` (or random), plus a buffer. */
static glia_params *make_params(float init[NPAR][MAXN])
{
    glia_params *p = NULL;
    assert_int_equal(glia_params_create(&p), GLIA_STATUS_OK);
    for (int j = 0; j < NPAR; j++) {
        float v[MAXN];
        if (init)
            memcpy(v, init[j], sizeof v);
        else
            gt_fill(v, MAXN, 50 + (uint64_t)j, -1.0f, 1.0f);
        glia_tensor *t = NULL;
        assert_int_equal(glia_tensor_from_host(g_dev, NDIM[j], SHAPE[j], v, &t), GLIA_STATUS_OK);
        assert_int_equal(glia_params_add(p, NAMES[j], GLIA_PARAM_TRAINABLE, t), GLIA_STATUS_OK);
        glia_tensor_free(t);
    }
    const int64_t two = 2;
    glia_tensor *buf = NULL;
    assert_int_equal(glia_tensor_full(g_dev, 1, &two, 0.5f, &buf), GLIA_STATUS_OK);
    assert_int_equal(glia_params_add(p, "e.running_mean", GLIA_PARAM_BUFFER, buf), GLIA_STATUS_OK);
    glia_tensor_free(buf);
    return p;
}

static void read_params(const glia_params *p, float v[NPAR][MAXN])
{
    for (int j = 0; j < NPAR; j++) {
        glia_tensor *t = glia_params_find(p, NAMES[j]);
        assert_non_null(t);
        assert_int_equal(glia_tensor_read(t, v[j], pnumel(j)), GLIA_STATUS_OK);
    }
}

/* Gradients through the public ops, then one optimizer step. */
static void train_step(glia_params *p, glia_optimizer *opt, int step, int late)
{
    glia_tensor *total = NULL;
    for (int j = 0; j < NPAR; j++) {
        if (!has_grad(j, step, late))
            continue;
        float w[MAXN];
        glia_tensor *param = glia_params_find(p, NAMES[j]), *tw = NULL, *prod = NULL, *sum = NULL, *acc = NULL;
        grad_of(j, step, w);
        assert_int_equal(glia_tensor_from_host(g_dev, NDIM[j], SHAPE[j], w, &tw), GLIA_STATUS_OK);
        assert_int_equal(glia_mul(tw, param, &prod), GLIA_STATUS_OK);
        assert_int_equal(glia_sum(prod, &sum), GLIA_STATUS_OK);
        if (total) {
            assert_int_equal(glia_add(total, sum, &acc), GLIA_STATUS_OK);
            glia_tensor_free(total);
            glia_tensor_free(sum);
            total = acc;
        } else {
            total = sum;
        }
        glia_tensor_free(tw);
        glia_tensor_free(prod);
    }
    assert_int_equal(glia_backward(total), GLIA_STATUS_OK);
    glia_tensor_free(total);
    assert_int_equal(glia_optim_step(opt), GLIA_STATUS_OK);
    glia_params_zero_grad(p);
}

/* ---- PyTorch's update rules in double ------------------------------------------ */
typedef struct ref_param {
    double v[MAXN], buf[MAXN], m[MAXN], s[MAXN];
    int64_t t;      /* this parameter's own step count */
} ref_param;

typedef struct ref_opt {
    glia_optim_kind kind;
    double lr, mom, damp, wd, b1, b2, eps;
    int nesterov;
    ref_param p[NPAR];
} ref_opt;

static void ref_init(ref_opt *r, const glia_optim_options *o, float init[NPAR][MAXN])
{
    memset(r, 0, sizeof *r);
    r->kind = o->kind;
    r->lr = o->lr;
    r->mom = o->momentum;
    r->damp = o->dampening;
    r->wd = o->weight_decay;
    r->nesterov = o->nesterov;
    /* zero = the documented defaults (0.9, 0.999, 1e-8), as floats like the options */
    r->b1 = o->beta1 == 0 && o->beta2 == 0 ? (double)0.9f : o->beta1;
    r->b2 = o->beta1 == 0 && o->beta2 == 0 ? (double)0.999f : o->beta2;
    r->eps = o->eps == 0 ? (double)1e-8f : o->eps;
    for (int j = 0; j < NPAR; j++)
        for (size_t i = 0; i < pnumel(j); i++)
            r->p[j].v[i] = init[j][i];
}

static void ref_update(ref_opt *r, ref_param *q, const float *grad, size_t n)
{
    int first = q->t++ == 0;
    for (size_t i = 0; i < n; i++) {
        double g = grad[i];
        if (r->kind == GLIA_OPTIM_SGD) {
            g += r->wd * q->v[i];
            if (r->mom != 0) {
                /* torch.optim.SGD: the first step stores the gradient itself (no dampening) */
                q->buf[i] = first ? g : r->mom * q->buf[i] + (1 - r->damp) * g;
                g = r->nesterov ? g + r->mom * q->buf[i] : q->buf[i];
            }
            q->v[i] -= r->lr * g;
            continue;
        }
        if (r->kind == GLIA_OPTIM_ADAMW)
            q->v[i] *= 1 - r->lr * r->wd;
        else
            g += r->wd * q->v[i];
        q->m[i] = r->b1 * q->m[i] + (1 - r->b1) * g;
        q->s[i] = r->b2 * q->s[i] + (1 - r->b2) * g * g;
        double bc1 = 1 - pow(r->b1, (double)q->t), bc2 = 1 - pow(r->b2, (double)q->t);
        q->v[i] -= r->lr / bc1 * q->m[i] / (sqrt(q->s[i]) / sqrt(bc2) + r->eps);
    }
}

static void ref_step(ref_opt *r, int step, int late)
{
    for (int j = 0; j < NPAR; j++) {
        if (!has_grad(j, step, late))
            continue;
        float w[MAXN];
        grad_of(j, step, w);
        ref_update(r, &r->p[j], w, pnumel(j));
    }
}

/* Displacement from init of the library's params vs the reference's. */
static double displacement_err(float got[NPAR][MAXN], const ref_opt *r, float init[NPAR][MAXN], int j)
{
    double a[MAXN], b[MAXN];
    for (size_t i = 0; i < pnumel(j); i++) {
        a[i] = (double)got[j][i] - init[j][i];
        b[i] = r->p[j].v[i] - init[j][i];
    }
    return gt_nerr_f64(a, b, pnumel(j));
}

/* ---- optimizer tests ----------------------------------------------------------- */
typedef struct ocase {
    const char *name;
    glia_optim_options o;
} ocase;

static const ocase CASES[] = {
    {"sgd", {.kind = GLIA_OPTIM_SGD, .lr = 0.1f}},
    {"sgd wd", {.kind = GLIA_OPTIM_SGD, .lr = 0.1f, .weight_decay = 0.05f}},
    {"sgd momentum", {.kind = GLIA_OPTIM_SGD, .lr = 0.1f, .momentum = 0.9f}},
    {"sgd dampening", {.kind = GLIA_OPTIM_SGD, .lr = 0.1f, .momentum = 0.9f, .dampening = 0.3f}},
    {"sgd nesterov", {.kind = GLIA_OPTIM_SGD, .lr = 0.1f, .momentum = 0.9f, .nesterov = 1}},
    {"sgd nesterov wd", {.kind = GLIA_OPTIM_SGD, .lr = 0.05f, .momentum = 0.5f, .nesterov = 1, .weight_decay = 0.1f}},
    {"sgd momentum dampening wd",
     {.kind = GLIA_OPTIM_SGD, .lr = 0.1f, .momentum = 0.8f, .dampening = 0.5f, .weight_decay = 0.01f}},
    {"adam defaults", {.kind = GLIA_OPTIM_ADAM, .lr = 0.1f}},
    /* eps comparable to sqrt(v_hat) so where eps enters the denominator shows */
    {"adam betas eps wd",
     {.kind = GLIA_OPTIM_ADAM, .lr = 0.05f, .beta1 = 0.8f, .beta2 = 0.99f, .eps = 0.1f, .weight_decay = 0.1f}},
    {"adamw", {.kind = GLIA_OPTIM_ADAMW, .lr = 0.1f, .weight_decay = 0.01f}},
    {"adamw betas eps wd",
     {.kind = GLIA_OPTIM_ADAMW, .lr = 0.1f, .beta1 = 0.5f, .beta2 = 0.9f, .eps = 0.05f, .weight_decay = 0.5f}},
};
#define NCASES (sizeof CASES / sizeof CASES[0])

/* 4 steps, lr halved (set_lr) for the last two; d gets gradients from step 3. */
static void test_updates(void **state)
{
    (void)state;
    const int late = 3;
    for (size_t ci = 0; ci < NCASES; ci++) {
        float init[NPAR][MAXN], got[NPAR][MAXN];
        glia_params *p = make_params(NULL);
        glia_optimizer *opt = NULL;
        ref_opt r;
        read_params(p, init);
        assert_int_equal(glia_optim_create(p, &CASES[ci].o, &opt), GLIA_STATUS_OK);
        ref_init(&r, &CASES[ci].o, init);
        for (int step = 1; step <= 4; step++) {
            if (step == 3) {
                glia_optim_set_lr(opt, CASES[ci].o.lr * 0.5f);
                assert_true(glia_optim_lr(opt) == CASES[ci].o.lr * 0.5f);
                r.lr = CASES[ci].o.lr * 0.5f;
            }
            train_step(p, opt, step, late);
            ref_step(&r, step, late);
            read_params(p, got);
            for (int j = 0; j < NPAR; j++) {
                if (j == 2 || (j == 3 && step < late)) {
                    /* no gradient yet: untouched, bit for bit */
                    assert_memory_equal(got[j], init[j], pnumel(j) * sizeof(float));
                    continue;
                }
                double err = displacement_err(got, &r, init, j);
                if (!(err < TOL))
                    print_error("%s: step %d, %s: displacement error %.2e\n", CASES[ci].name, step, NAMES[j], err);
                assert_true(err < TOL);
            }
        }
        assert_int_equal(glia_optim_steps(opt), 4);
        float buf[2];
        assert_int_equal(glia_tensor_read(glia_params_find(p, "e.running_mean"), buf, 2), GLIA_STATUS_OK);
        assert_true(buf[0] == 0.5f && buf[1] == 0.5f);
        glia_optim_free(opt);
        glia_params_free(p);
    }
}

/* Exported state tensors equal the reference's buffers / moments. */
static void check_exported(const glia_params *st, const ref_opt *r, int j, const char *suffix, int which)
{
    char name[160];
    snprintf(name, sizeof name, "%s.%s", NAMES[j], suffix);
    glia_tensor *t = glia_params_find(st, name);
    if (!t)
        print_error("state entry '%s' missing\n", name);
    assert_non_null(t);
    float f[MAXN];
    double d[MAXN];
    assert_int_equal(glia_tensor_numel(t), (int64_t)pnumel(j));
    assert_int_equal(glia_tensor_read(t, f, pnumel(j)), GLIA_STATUS_OK);
    for (size_t i = 0; i < pnumel(j); i++)
        d[i] = f[i];
    const double *ref = which == 0 ? r->p[j].buf : which == 1 ? r->p[j].m : r->p[j].s;
    assert_true(gt_nerr_f64(d, ref, pnumel(j)) < TOL);
}

/* Train `cut` steps, export, import into a fresh optimizer over a copy of the
 * params, then both run to `last`: the results must be identical. */
static void round_trip(const glia_optim_options *o, int late, int cut, int last)
{
    float init[NPAR][MAXN], v1[NPAR][MAXN], v2[NPAR][MAXN];
    glia_params *p1 = make_params(NULL), *p2 = NULL, *st = NULL;
    glia_optimizer *o1 = NULL, *o2 = NULL;
    ref_opt r;
    int64_t steps = -1;
    read_params(p1, init);
    ref_init(&r, o, init);
    assert_int_equal(glia_optim_create(p1, o, &o1), GLIA_STATUS_OK);
    for (int step = 1; step <= cut; step++) {
        train_step(p1, o1, step, late);
        ref_step(&r, step, late);
    }
    assert_int_equal(glia_params_create(&st), GLIA_STATUS_OK);
    assert_int_equal(glia_optim_export(o1, st, &steps), GLIA_STATUS_OK);
    assert_int_equal(steps, cut);
    for (int j = 0; j < NPAR; j++) {
        int started = has_grad(j, cut, late);
        char name[160];
        snprintf(name, sizeof name, "%s.%s", NAMES[j], o->kind == GLIA_OPTIM_SGD ? "momentum_buffer" : "exp_avg");
        if (!started) {
            assert_null(glia_params_find(st, name)); /* no state before the first update */
        } else if (o->kind == GLIA_OPTIM_SGD) {
            check_exported(st, &r, j, "momentum_buffer", 0);
        } else {
            check_exported(st, &r, j, "exp_avg", 1);
            check_exported(st, &r, j, "exp_avg_sq", 2);
        }
    }
    read_params(p1, v1);
    p2 = make_params(v1);
    assert_int_equal(glia_optim_create(p2, o, &o2), GLIA_STATUS_OK);
    assert_int_equal(glia_optim_import(o2, st, steps), GLIA_STATUS_OK);
    glia_params_free(st);
    assert_int_equal(glia_optim_steps(o2), cut);
    for (int step = cut + 1; step <= last; step++) {
        train_step(p1, o1, step, late);
        train_step(p2, o2, step, late);
    }
    read_params(p1, v1);
    read_params(p2, v2);
    int64_t steps2 = glia_optim_steps(o2);
    /* freed before asserting so a failure leaves no tensors behind */
    glia_optim_free(o1);
    glia_optim_free(o2);
    glia_params_free(p1);
    glia_params_free(p2);
    int same = 1;
    for (int j = 0; j < NPAR; j++) {
        if (memcmp(v1[j], v2[j], pnumel(j) * sizeof(float)) != 0) {
            print_error("optimizer kind %d, cut at %d, late %d: %s differs after resuming (%.9g vs %.9g)\n",
                        (int)o->kind, cut, late, NAMES[j], v2[j][0], v1[j][0]);
            same = 0;
        }
    }
    assert_true(same);
    assert_int_equal(steps2, last);
}

static void test_export_import(void **state)
{
    (void)state;
    const glia_optim_options sgd = {.kind = GLIA_OPTIM_SGD, .lr = 0.1f, .momentum = 0.9f, .dampening = 0.2f};
    const glia_optim_options adam = {.kind = GLIA_OPTIM_ADAM, .lr = 0.1f, .weight_decay = 0.01f};
    const glia_optim_options adamw = {.kind = GLIA_OPTIM_ADAMW, .lr = 0.1f, .weight_decay = 0.1f};
    /* d starts at step 3, after the cut: it has no state to carry */
    round_trip(&sgd, 3, 2, 4);
    round_trip(&adam, 3, 2, 4);
    round_trip(&adamw, 3, 2, 4);
}

/* A parameter whose first gradient came after the optimizer's first step has
 * counted fewer steps than the optimizer; PyTorch keeps a step per parameter
 * (state['step']) so Adam's bias corrections continue correctly on resume. */
static void test_export_import_late_param(void **state)
{
    (void)state;
    const glia_optim_options adam = {.kind = GLIA_OPTIM_ADAM, .lr = 0.1f};
    round_trip(&adam, 2, 3, 5);
}

static void test_optim_errors(void **state)
{
    (void)state;
    glia_params *p = make_params(NULL);
    glia_optimizer *opt = NULL;
    const glia_optim_options good = {.kind = GLIA_OPTIM_SGD, .lr = 0.1f};
    const glia_optim_options bad[] = {
        {.kind = GLIA_OPTIM_SGD, .lr = -0.1f},
        {.kind = GLIA_OPTIM_SGD, .lr = NAN},
        {.kind = GLIA_OPTIM_SGD, .lr = 0.1f, .momentum = -0.5f},
        {.kind = GLIA_OPTIM_SGD, .lr = 0.1f, .weight_decay = -1.0f},
        {.kind = GLIA_OPTIM_SGD, .lr = 0.1f, .nesterov = 1},                                     /* no momentum */
        {.kind = GLIA_OPTIM_SGD, .lr = 0.1f, .momentum = 0.9f, .dampening = 0.1f, .nesterov = 1}, /* dampening */
        {.kind = GLIA_OPTIM_ADAM, .lr = 0.1f, .beta1 = 1.0f, .beta2 = 0.999f},
        {.kind = GLIA_OPTIM_ADAM, .lr = 0.1f, .beta1 = 0.9f, .beta2 = 1.5f},
        {.kind = GLIA_OPTIM_ADAMW, .lr = 0.1f, .eps = -1e-8f},
        {.kind = (glia_optim_kind)9, .lr = 0.1f},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        opt = (glia_optimizer *)(void *)&p; /* must be reset to NULL on failure */
        assert_int_equal(glia_optim_create(p, &bad[i], &opt), GLIA_STATUS_INVALID_ARGUMENT);
        assert_null(opt);
        assert_true(strlen(glia_last_error()) > 0);
    }
    assert_int_equal(glia_optim_create(NULL, &good, &opt), GLIA_STATUS_INVALID_ARGUMENT);
    assert_int_equal(glia_optim_create(p, NULL, &opt), GLIA_STATUS_INVALID_ARGUMENT);
    assert_int_equal(glia_optim_create(p, &good, NULL), GLIA_STATUS_INVALID_ARGUMENT);
    assert_int_equal(glia_optim_step(NULL), GLIA_STATUS_INVALID_ARGUMENT);
    assert_int_equal(glia_optim_create(p, &good, &opt), GLIA_STATUS_OK);
    /* a step with no gradients anywhere moves nothing but still counts */
    float before[NPAR][MAXN] = {{0}}, after[NPAR][MAXN] = {{0}};
    read_params(p, before);
    assert_int_equal(glia_optim_step(opt), GLIA_STATUS_OK);
    read_params(p, after);
    assert_memory_equal(before, after, sizeof before);
    assert_int_equal(glia_optim_steps(opt), 1);
    assert_int_equal(glia_optim_import(opt, p, -1), GLIA_STATUS_INVALID_ARGUMENT);
    assert_int_equal(glia_optim_import(opt, NULL, 0), GLIA_STATUS_INVALID_ARGUMENT);
    assert_int_equal(glia_optim_export(opt, NULL, NULL), GLIA_STATUS_INVALID_ARGUMENT);
    glia_optim_free(opt);
    glia_optim_free(NULL);
    glia_params_free(p);
}

/* ---- schedules ----------------------------------------------------------------- */
static void expect_lr(const glia_schedule *s, int64_t t, double want)
{
    double got = glia_schedule_lr(s, t);
    if (!(fabs(got - want) <= 1e-12 * fabs(want) + 1e-18))
        print_error("schedule kind %d, step %lld: lr %.17g, expected %.17g\n", (int)s->kind, (long long)t, got, want);
    assert_true(fabs(got - want) <= 1e-12 * fabs(want) + 1e-18);
}

static void test_schedule_values(void **state)
{
    (void)state;
    glia_schedule s = {.kind = GLIA_SCHED_CONSTANT, .base_lr = 0.01};
    expect_lr(&s, 0, 0.01);
    expect_lr(&s, 12345, 0.01);

    /* StepLR(step_size=30, gamma=0.1) from 0.1: 0.1 * 0.1^floor(t/30) */
    s = (glia_schedule){.kind = GLIA_SCHED_STEP, .base_lr = 0.1, .step_size = 30, .gamma = 0.1};
    expect_lr(&s, 0, 0.1);
    expect_lr(&s, 29, 0.1);
    expect_lr(&s, 30, 0.1 * 0.1);       /* 0.01 */
    expect_lr(&s, 65, 0.1 * 0.1 * 0.1); /* floor(65/30) = 2: 0.001 */
    /* gamma 0.5, step 4: t = 13 -> 0.05 * 0.5^3 = 0.00625 */
    s = (glia_schedule){.kind = GLIA_SCHED_STEP, .base_lr = 0.05, .step_size = 4, .gamma = 0.5};
    expect_lr(&s, 13, 0.00625);

    /* CosineAnnealingLR(T_max=100, eta_min=0) from 0.1: 0.1 (1 + cos(pi t/100)) / 2 */
    s = (glia_schedule){.kind = GLIA_SCHED_COSINE, .base_lr = 0.1, .t_max = 100};
    expect_lr(&s, 0, 0.1);
    expect_lr(&s, 25, 0.08535533905932738); /* 0.1 (1 + cos(pi/4))/2 = 0.05 (1 + 0.7071067811865476) */
    expect_lr(&s, 50, 0.05);                /* cos(pi/2) = 0 */
    expect_lr(&s, 100, 0.0);                /* cos(pi) = -1 */
    /* eta_min 0.001: 0.001 + 0.099 (1 + cos(pi t/100)) / 2 */
    s.eta_min = 0.001;
    expect_lr(&s, 50, 0.0505);              /* 0.001 + 0.0495 */
    expect_lr(&s, 75, 0.0154982143312659);  /* 0.001 + 0.0495 (1 - 0.7071067811865476) */
    expect_lr(&s, 100, 0.001);

    /* PolynomialLR(total_iters=100, power=1) from 0.1: 0.1 (1 - min(t,100)/100) */
    s = (glia_schedule){.kind = GLIA_SCHED_POLY, .base_lr = 0.1, .total = 100, .power = 1.0};
    expect_lr(&s, 0, 0.1);
    expect_lr(&s, 25, 0.075);               /* 0.1 * 0.75 */
    expect_lr(&s, 100, 0.0);
    expect_lr(&s, 150, 0.0);                /* held at the end */
    s.power = 2.0;
    expect_lr(&s, 50, 0.025);               /* 0.1 * 0.5^2 */
    s.power = 0.9;
    expect_lr(&s, 50, 0.05358867312681466); /* 0.1 * 0.5^0.9 = 0.1 * 0.5358867312681466 (nnU-Net's power) */
    s = (glia_schedule){.kind = GLIA_SCHED_POLY, .base_lr = 0.1, .total = 40, .power = 2.0};
    expect_lr(&s, 30, 0.00625);             /* 0.1 * (1 - 30/40)^2 = 0.1 * 0.0625 */

    /* LinearLR(start_factor=0.1, total_iters=10) then cosine (T_max=100) at t - 10:
     * t < 10: 0.1 (0.1 + 0.9 t/10) */
    s = (glia_schedule){.kind = GLIA_SCHED_COSINE, .base_lr = 0.1, .t_max = 100, .warmup = 10, .warmup_start = 0.1};
    expect_lr(&s, 0, 0.01);                 /* 0.1 * 0.1 */
    expect_lr(&s, 5, 0.055);                /* 0.1 (0.1 + 0.45) */
    expect_lr(&s, 9, 0.091);                /* 0.1 (0.1 + 0.81) */
    expect_lr(&s, 10, 0.1);                 /* cosine at 0 */
    expect_lr(&s, 35, 0.08535533905932738); /* cosine at 25, as above */
    expect_lr(&s, 110, 0.0);                /* cosine at 100 */
    /* warm-up 5 from 0.5 in front of StepLR(3, 0.5) from 0.1 */
    s = (glia_schedule){.kind = GLIA_SCHED_STEP, .base_lr = 0.1, .step_size = 3, .gamma = 0.5, .warmup = 5,
                        .warmup_start = 0.5};
    expect_lr(&s, 2, 0.07);                 /* 0.1 (0.5 + 0.5 * 2/5) */
    expect_lr(&s, 7, 0.1);                  /* main at 2: floor(2/3) = 0 */
    expect_lr(&s, 8, 0.05);                 /* main at 3: 0.1 * 0.5 */
    expect_lr(&s, 11, 0.025);               /* main at 6: 0.1 * 0.5^2 */
}

static void test_schedule_check(void **state)
{
    (void)state;
    const glia_schedule good[] = {
        {.kind = GLIA_SCHED_CONSTANT, .base_lr = 0.1},
        {.kind = GLIA_SCHED_CONSTANT, .base_lr = 0.0},
        {.kind = GLIA_SCHED_STEP, .base_lr = 0.1, .step_size = 1, .gamma = 0.5},
        {.kind = GLIA_SCHED_STEP, .base_lr = 0.1, .step_size = 30, .gamma = 1.0},
        {.kind = GLIA_SCHED_COSINE, .base_lr = 0.1, .t_max = 1},
        {.kind = GLIA_SCHED_COSINE, .base_lr = 0.1, .t_max = 100, .eta_min = 1e-5},
        {.kind = GLIA_SCHED_POLY, .base_lr = 0.01, .total = 1000, .power = 0.9},
        {.kind = GLIA_SCHED_POLY, .base_lr = 0.01, .total = 1, .power = 1.0, .warmup = 50, .warmup_start = 0.01},
        {.kind = GLIA_SCHED_CONSTANT, .base_lr = 0.1, .warmup = 3, .warmup_start = 1.0},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        if (glia_schedule_check(&good[i]) != GLIA_STATUS_OK)
            print_error("good schedule %zu rejected: %s\n", i, glia_last_error());
        assert_int_equal(glia_schedule_check(&good[i]), GLIA_STATUS_OK);
    }
    /* each bad one with a word its message must contain */
    const struct {
        glia_schedule s;
        const char *word;
    } bad[] = {
        {{.kind = GLIA_SCHED_CONSTANT, .base_lr = -0.1}, "learning rate"},
        {{.kind = GLIA_SCHED_CONSTANT, .base_lr = NAN}, "learning rate"},
        {{.kind = GLIA_SCHED_CONSTANT, .base_lr = INFINITY}, "learning rate"},
        {{.kind = GLIA_SCHED_STEP, .base_lr = 0.1, .step_size = 0, .gamma = 0.1}, "step size"},
        {{.kind = GLIA_SCHED_STEP, .base_lr = 0.1, .step_size = 10, .gamma = 0.0}, "gamma"},
        {{.kind = GLIA_SCHED_STEP, .base_lr = 0.1, .step_size = 10, .gamma = -0.5}, "gamma"},
        {{.kind = GLIA_SCHED_COSINE, .base_lr = 0.1, .t_max = 0}, "T_max"},
        {{.kind = GLIA_SCHED_COSINE, .base_lr = 0.1, .t_max = 10, .eta_min = -1e-3}, "eta_min"},
        {{.kind = GLIA_SCHED_POLY, .base_lr = 0.1, .total = 0, .power = 1.0}, "total"},
        {{.kind = GLIA_SCHED_POLY, .base_lr = 0.1, .total = 10, .power = 0.0}, "power"},
        {{.kind = GLIA_SCHED_POLY, .base_lr = 0.1, .total = 10, .power = -1.0}, "power"},
        {{.kind = GLIA_SCHED_CONSTANT, .base_lr = 0.1, .warmup = -1}, "warm-up"},
        {{.kind = GLIA_SCHED_CONSTANT, .base_lr = 0.1, .warmup = 5, .warmup_start = 1.5}, "warm-up"},
        {{.kind = GLIA_SCHED_CONSTANT, .base_lr = 0.1, .warmup = 5, .warmup_start = -0.1}, "warm-up"},
        {{.kind = (glia_sched_kind)42, .base_lr = 0.1}, "kind"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        glia_clear_error();
        assert_int_equal(glia_schedule_check(&bad[i].s), GLIA_STATUS_INVALID_ARGUMENT);
        if (!strstr(glia_last_error(), bad[i].word))
            print_error("bad schedule %zu: message '%s' does not name '%s'\n", i, glia_last_error(), bad[i].word);
        assert_non_null(strstr(glia_last_error(), bad[i].word));
    }
    assert_int_equal(glia_schedule_check(NULL), GLIA_STATUS_INVALID_ARGUMENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_updates),
        cmocka_unit_test(test_export_import),
        cmocka_unit_test(test_export_import_late_param),
        cmocka_unit_test(test_optim_errors),
        cmocka_unit_test(test_schedule_values),
        cmocka_unit_test(test_schedule_check),
    };
    return cmocka_run_group_tests(tests, gt_open_cpu, gt_close_cpu);
}
