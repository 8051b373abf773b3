/* Rejection paths of metrics, parameter sets, optimizers, schedules and the
 * toy model (see test_errors.c for the harness's rules). */
#include "errors_harness.h"

/* ---- metrics -------------------------------------------------------------- */
static void test_metrics(void **state)
{
    fx *f = *state;
    glia_confusion c;
    EXPECT(INV, "null", glia_confusion_init(NULL, 2)); /* FAILS: message names no NULL */
    EXPECT(INV, "channels", glia_confusion_init(&c, 0));
    EXPECT(INV, "channels", glia_confusion_init(&c, -1));
    EXPECT(INV, "channels", glia_confusion_init(&c, GLIA_METRICS_MAX_CHANNELS + 1));
    EXPECT(OK, "", glia_confusion_init(&c, GLIA_METRICS_MAX_CHANNELS));

    glia_tensor *p = mk(f->dev, "2x3x4x4"), *t = mk(f->dev, "2x3x4x4"), *p2 = mk(f->dev, "2x2x4x4");
    glia_tensor *r1 = mk(f->dev, "3"), *far = mk(f->dev2, "2x3x4x4"), *odd = mk(f->dev, "2x3x4x5");
    EXPECT(OK, "", glia_confusion_init(&c, 3));
    EXPECT(INV, "null", glia_confusion_update(NULL, p, t, 0.5f)); /* FAILS: message names no NULL */
    EXPECT(INV, "null", glia_confusion_update(&c, NULL, t, 0.5f));
    EXPECT(INV, "null", glia_confusion_update(&c, p, NULL, 0.5f));
    EXPECT(SHAPE, "", glia_confusion_update(&c, p, odd, 0.5f));
    EXPECT(SHAPE, "channels", glia_confusion_update(&c, p2, p2, 0.5f));
    EXPECT(SHAPE, "channels", glia_confusion_update(&c, r1, r1, 0.5f));
    EXPECT(DEVM, "cpu", glia_confusion_update(&c, p, far, 0.5f));
    for (int ch = 0; ch < 3; ch++)
        assert_true(c.tp[ch] + c.fp[ch] + c.fn[ch] + c.tn[ch] == 0); /* refusals count nothing */
    glia_confusion zero;
    memset(&zero, 0, sizeof zero);
    EXPECT(INV, "", glia_confusion_update(&zero, p, t, 0.5f)); /* never initialised */

    /* A corrupt count (more channels than the arrays hold) must be refused,
     * not written past the arrays. The guard catches such writes. */
    struct {
        glia_confusion c;
        double guard[4 * GLIA_METRICS_MAX_CHANNELS];
    } g;
    memset(&g, 0, sizeof g);
    g.c.channels = GLIA_METRICS_MAX_CHANNELS + 1;
    glia_tensor *wide = mk(f->dev, "1x17x2x2");
    /* LIBRARY BUG (metrics.c glia_confusion_update): only channels < 1 is
     * refused; 17 channels pass and index tp/fp/fn/tn[16] out of bounds. */
    EXPECT(INV, "channels", glia_confusion_update(&g.c, wide, wide, 0.5f));
    for (size_t i = 0; i < sizeof g.guard / sizeof *g.guard; i++) {
        if (g.guard[i] != 0) {
            print_error("glia_confusion_update wrote past the confusion struct (guard[%zu] = %g)\n", i, g.guard[i]);
            failures++;
            break;
        }
    }
    glia_metrics m = glia_metrics_from_confusion(NULL, 0);
    assert_true(m.dice == 0 && m.iou == 0);
    FREE_ALL(p, t, p2, r1, far, odd, wide);
    finish();
}

/* ---- params --------------------------------------------------------------- */
static void test_params(void **state)
{
    fx *f = *state;
    glia_params *p = NULL;
    EXPECT(INV, "null", glia_params_create(NULL));
    assert_int_equal(glia_params_create(&p), OK);
    glia_tensor *w = mk(f->dev, "2x3"), *b = mk(f->dev, "3"), *y = NULL;
    char long_name[200], max_name[128];
    memset(long_name, 'a', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    memset(max_name, 'b', 127);
    max_name[127] = '\0';
    char name128[129];
    memset(name128, 'c', 128);
    name128[128] = '\0';

    EXPECT(INV, "", glia_params_add(NULL, "w", GLIA_PARAM_TRAINABLE, w));
    EXPECT(INV, "name", glia_params_add(p, NULL, GLIA_PARAM_TRAINABLE, w));
    EXPECT(INV, "name", glia_params_add(p, "", GLIA_PARAM_TRAINABLE, w));
    EXPECT(INV, "long", glia_params_add(p, long_name, GLIA_PARAM_TRAINABLE, w));
    EXPECT(INV, "long", glia_params_add(p, name128, GLIA_PARAM_TRAINABLE, w));
    EXPECT(OK, "", glia_params_add(p, max_name, GLIA_PARAM_BUFFER, b)); /* 127 bytes is the limit */
    EXPECT(INV, "kind", glia_params_add(p, "k", (glia_param_kind)7, w));
    EXPECT(INV, "counter", glia_params_add(p, "c", GLIA_PARAM_COUNTER, w));
    EXPECT(INV, "tensor", glia_params_add(p, "t", GLIA_PARAM_TRAINABLE, NULL));
    EXPECT(INV, "tensor", glia_params_add(p, "t", GLIA_PARAM_BUFFER, NULL));
    EXPECT(OK, "", glia_params_add(p, "w", GLIA_PARAM_TRAINABLE, w));
    EXPECT(INV, "already", glia_params_add(p, "w", GLIA_PARAM_BUFFER, b));
    EXPECT(INV, "already", glia_params_add(p, "w", GLIA_PARAM_COUNTER, NULL));
    EXPECT(OK, "", glia_params_add(p, "steps", GLIA_PARAM_COUNTER, NULL));
    assert_int_equal(glia_relu(w, &y), OK); /* a non-leaf cannot be trainable */
    EXPECT(INV, "leaf", glia_params_add(p, "y", GLIA_PARAM_TRAINABLE, y));
    assert_int_equal(glia_params_count(p), 3); /* refused entries were not added */
    glia_tape_clear(f->dev);

    const char *name;
    glia_param_kind kind;
    glia_tensor *t;
    int64_t value = 0;
    EXPECT(INV, "range", glia_params_get(p, -1, &name, &kind, &t));
    EXPECT(INV, "range", glia_params_get(p, 3, &name, &kind, &t));
    EXPECT(INV, "null", glia_params_get(NULL, 0, &name, &kind, &t)); /* FAILS: message names no NULL */
    EXPECT(INV, "nope", glia_params_counter(p, "nope", &value));
    EXPECT(INV, "w", glia_params_counter(p, "w", &value)); /* a tensor entry, not a counter */
    EXPECT(INV, "", glia_params_counter(p, NULL, &value));
    EXPECT(INV, "null", glia_params_counter(NULL, "steps", &value)); /* FAILS: message names no NULL */
    EXPECT(INV, "nope", glia_params_set_counter(p, "nope", 1));
    EXPECT(INV, "w", glia_params_set_counter(p, "w", 1));
    EXPECT(INV, "null", glia_params_set_counter(NULL, "steps", 1)); /* FAILS: message names no NULL */
    assert_null(glia_params_find(p, NULL));
    assert_null(glia_params_find(NULL, "w"));
    assert_null(glia_params_find(p, "missing"));
    assert_int_equal(glia_params_count(NULL), 0);
    assert_int_equal(glia_params_numel(NULL), 0);
    glia_params_zero_grad(NULL);
    glia_params_free(NULL);

    glia_rng rng;
    glia_rng_init(&rng, 1);
    const int k3[3] = {3, 3, 3}, k0[2] = {3, 0};
    /* FAILS: add_conv/add_batchnorm say only "bad arguments", not which one */
    EXPECT(INV, "null", glia_params_add_conv(NULL, f->dev, &rng, "c", 2, 1, 1, k3, 1, 0));
    EXPECT(INV, "null", glia_params_add_conv(p, NULL, &rng, "c", 2, 1, 1, k3, 1, 0));
    EXPECT(INV, "null", glia_params_add_conv(p, f->dev, NULL, "c", 2, 1, 1, k3, 1, 0));
    EXPECT(INV, "null", glia_params_add_conv(p, f->dev, &rng, NULL, 2, 1, 1, k3, 1, 0));
    EXPECT(INV, "null", glia_params_add_conv(p, f->dev, &rng, "c", 2, 1, 1, NULL, 1, 0));
    EXPECT(INV, "spatial", glia_params_add_conv(p, f->dev, &rng, "c", 1, 1, 1, k3, 1, 0));
    EXPECT(INV, "spatial", glia_params_add_conv(p, f->dev, &rng, "c", 4, 1, 1, k3, 1, 0));
    EXPECT(INV, "channels", glia_params_add_conv(p, f->dev, &rng, "c", 2, 0, 1, k3, 1, 0));
    EXPECT(INV, "channels", glia_params_add_conv(p, f->dev, &rng, "c", 2, 1, -1, k3, 1, 0));
    EXPECT(INV, "kernel", glia_params_add_conv(p, f->dev, &rng, "c", 2, 1, 1, k0, 1, 0));
    EXPECT(INV, "long", glia_params_add_conv(p, f->dev, &rng, long_name, 2, 1, 1, k3, 1, 0));
    EXPECT(OK, "", glia_params_add_conv(p, f->dev, &rng, "c", 3, 2, 4, k3, 1, 1));
    EXPECT(INV, "already", glia_params_add_conv(p, f->dev, &rng, "c", 3, 2, 4, k3, 1, 1));
    EXPECT(INV, "null", glia_params_add_batchnorm(NULL, f->dev, "bn", 4));
    EXPECT(INV, "null", glia_params_add_batchnorm(p, NULL, "bn", 4));
    EXPECT(INV, "null", glia_params_add_batchnorm(p, f->dev, NULL, 4));
    EXPECT(INV, "channels", glia_params_add_batchnorm(p, f->dev, "bn", 0));
    assert_int_equal(glia_params_count(p), 5);
    glia_params_free(p);
    FREE_ALL(w, b, y);
    finish();
}

/* ---- optimizers and schedules --------------------------------------------- */
static void test_optim(void **state)
{
    fx *f = *state;
    glia_params *p = NULL;
    glia_optimizer *opt = NULL;
    assert_int_equal(glia_params_create(&p), OK);
    glia_tensor *w = mk(f->dev, "2x3"), *s = NULL;
    assert_int_equal(glia_params_add(p, "w", GLIA_PARAM_TRAINABLE, w), OK);
    const glia_optim_options sgd = {.kind = GLIA_OPTIM_SGD, .lr = 0.1f, .momentum = 0.9f};
    const glia_optim_options adam = {.kind = GLIA_OPTIM_ADAM, .lr = 1e-3f};

    EXPECT(INV, "null", glia_optim_create(p, &sgd, NULL));
    static const struct {
        const char *what;
        glia_optim_options o;
        const char *words;
    } bad[] = {
        {"negative lr", {.kind = GLIA_OPTIM_SGD, .lr = -0.1f}, "lr"},
        {"NaN lr", {.kind = GLIA_OPTIM_ADAM, .lr = NAN}, "lr"},
        {"negative momentum", {.kind = GLIA_OPTIM_SGD, .lr = 0.1f, .momentum = -0.5f}, "momentum"},
        {"negative dampening", {.kind = GLIA_OPTIM_SGD, .lr = 0.1f, .momentum = 0.5f, .dampening = -1}, "dampening"},
        {"negative weight decay", {.kind = GLIA_OPTIM_ADAMW, .lr = 0.1f, .weight_decay = -0.01f}, "decay"},
        {"unknown kind", {.kind = (glia_optim_kind)9, .lr = 0.1f}, "kind"},
        {"nesterov, no momentum", {.kind = GLIA_OPTIM_SGD, .lr = 0.1f, .nesterov = 1}, "nesterov"},
        {"nesterov, dampening", {.kind = GLIA_OPTIM_SGD, .lr = 0.1f, .momentum = 0.9f, .dampening = 0.1f, .nesterov = 1},
         "nesterov"},
        {"beta1 = 1", {.kind = GLIA_OPTIM_ADAM, .lr = 0.1f, .beta1 = 1.0f, .beta2 = 0.999f}, "beta"},
        {"beta1 < 0", {.kind = GLIA_OPTIM_ADAM, .lr = 0.1f, .beta1 = -0.1f, .beta2 = 0.999f}, "beta"},
        {"beta2 > 1", {.kind = GLIA_OPTIM_ADAMW, .lr = 0.1f, .beta1 = 0.9f, .beta2 = 1.5f}, "beta"},
        {"NaN beta", {.kind = GLIA_OPTIM_ADAM, .lr = 0.1f, .beta1 = NAN, .beta2 = 0.999f}, "beta"},
        {"negative eps", {.kind = GLIA_OPTIM_ADAM, .lr = 0.1f, .eps = -1e-8f}, "eps"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        label = bad[i].what;
        opt = (glia_optimizer *)STALE;
        EXPECT(INV, bad[i].words, glia_optim_create(p, &bad[i].o, &opt));
        if (opt) {
            print_error("%s: *out not NULL after a failure\n", bad[i].what);
            failures++;
        }
    }
    label = NULL;
    opt = (glia_optimizer *)STALE;
    EXPECT(INV, "null", glia_optim_create(NULL, &sgd, &opt));
    assert_null(opt);
    EXPECT(INV, "null", glia_optim_create(p, NULL, &opt));
    assert_null(opt);
    EXPECT(INV, "null", glia_optim_step(NULL));
    glia_optim_set_lr(NULL, 1.0f);
    glia_optim_free(NULL);
    assert_true(glia_optim_lr(NULL) == 0.0f);
    assert_int_equal(glia_optim_steps(NULL), 0);

    /* one SGD step so the momentum buffer exists, then bad imports */
    assert_int_equal(glia_optim_create(p, &sgd, &opt), OK);
    glia_optim_set_lr(opt, -1.0f); /* refused silently: the lr stays usable */
    assert_true(glia_optim_lr(opt) == 0.1f);
    assert_int_equal(glia_sum(w, &s), OK);
    assert_int_equal(glia_backward(s), OK);
    assert_int_equal(glia_optim_step(opt), OK);
    glia_params *state_ok = NULL, *state_bad = NULL, *state_t = NULL;
    assert_int_equal(glia_params_create(&state_ok), OK);
    EXPECT(INV, "null", glia_optim_export(NULL, state_ok, NULL));
    EXPECT(INV, "null", glia_optim_export(opt, NULL, NULL));
    int64_t steps = -1;
    assert_int_equal(glia_optim_export(opt, state_ok, &steps), OK);
    assert_int_equal(steps, 1);
    EXPECT(INV, "", glia_optim_import(NULL, state_ok, 1));
    EXPECT(INV, "", glia_optim_import(opt, NULL, 1));
    EXPECT(INV, "negative", glia_optim_import(opt, state_ok, -1));
    glia_tensor *m4 = mk(f->dev, "4"), *m32 = mk(f->dev, "3x2");
    assert_int_equal(glia_params_create(&state_bad), OK);
    assert_int_equal(glia_params_add(state_bad, "w.momentum_buffer", GLIA_PARAM_BUFFER, m4), OK);
    EXPECT(SHAPE, "w.momentum_buffer", glia_optim_import(opt, state_bad, 1));
    assert_int_equal(glia_params_create(&state_t), OK);
    assert_int_equal(glia_params_add(state_t, "w.momentum_buffer", GLIA_PARAM_BUFFER, m32), OK);
    /* LIBRARY BUG (via tensor.c glia_tensor_copy): a 3x2 buffer for a 2x3
     * parameter has the right numel and is accepted; optim.h asks for the same shapes. */
    EXPECT(SHAPE, "w.momentum_buffer", glia_optim_import(opt, state_t, 1));
    assert_int_equal(glia_optim_steps(opt), 1); /* a refused import leaves the count */
    glia_optim_free(opt);
    glia_params_free(state_ok);
    glia_params_free(state_bad);
    glia_params_free(state_t);
    glia_params_free(p);

    assert_int_equal(glia_params_create(&p), OK);
    assert_int_equal(glia_optim_create(p, &adam, &opt), OK); /* an empty set is valid */
    assert_int_equal(glia_optim_step(opt), OK);
    glia_optim_free(opt);
    glia_params_free(p);
    FREE_ALL(w, s, m4, m32);
    finish();
}

/* One field of a valid schedule (base[b]) made bad; the message must name it. */
#define BAD_SCHED(b, field, value, words)                 \
    do {                                                  \
        glia_schedule s_ = base[b];                       \
        s_.field = value;                                 \
        label = #field " = " #value;                      \
        EXPECT(INV, words, glia_schedule_check(&s_));     \
    } while (0)

static void test_schedule(void **state)
{
    (void)state;
    failures = 0;
    const glia_schedule base[4] = {
        {.kind = GLIA_SCHED_CONSTANT, .base_lr = 0.1},
        {.kind = GLIA_SCHED_STEP, .base_lr = 0.1, .step_size = 10, .gamma = 0.5},
        {.kind = GLIA_SCHED_COSINE, .base_lr = 0.1, .t_max = 100, .eta_min = 0.0},
        {.kind = GLIA_SCHED_POLY, .base_lr = 0.1, .total = 100, .power = 0.9, .warmup = 5, .warmup_start = 0.1},
    };
    for (int i = 0; i < 4; i++)
        EXPECT(OK, "", glia_schedule_check(&base[i]));
    EXPECT(INV, "null", glia_schedule_check(NULL));
    BAD_SCHED(0, base_lr, -0.1, "rate");
    BAD_SCHED(0, base_lr, NAN, "rate");
    BAD_SCHED(1, base_lr, INFINITY, "rate");
    BAD_SCHED(2, warmup, -1, "warm");
    BAD_SCHED(3, warmup_start, -0.1, "warm");
    BAD_SCHED(3, warmup_start, 1.5, "warm");
    BAD_SCHED(3, warmup_start, NAN, "warm");
    BAD_SCHED(1, step_size, 0, "step size");
    BAD_SCHED(1, gamma, 0, "gamma");
    BAD_SCHED(1, gamma, NAN, "gamma");
    BAD_SCHED(2, t_max, 0, "t_max");
    BAD_SCHED(2, eta_min, -1e-3, "eta_min");
    BAD_SCHED(3, total, 0, "total");
    BAD_SCHED(3, power, 0, "power");
    BAD_SCHED(3, power, -1, "power");
    BAD_SCHED(0, kind, (glia_sched_kind)9, "kind");
    label = NULL;
    assert_true(glia_schedule_lr(NULL, 0) == 0.0);
    assert_true(glia_schedule_lr(&base[0], -1) == 0.0);
    finish();
}

/* ---- the toy model -------------------------------------------------------- */
static void test_toy(void **state)
{
    fx *f = *state;
    glia_toy_result r;
    const glia_toy_options odd = {.size = 31}, small = {.size = 4}, neg = {.steps = -1}, negb = {.batch = -2};
    /* LIBRARY BUG (models/toy.c glia_toy_train): the refusals below return
     * INVALID_ARGUMENT without recording a message. */
    EXPECT(INV, "", glia_toy_train(NULL, NULL, &r));
    EXPECT(INV, "", glia_toy_train(f->dev, NULL, NULL));
    EXPECT(INV, "size", glia_toy_train(f->dev, &odd, &r));
    EXPECT(INV, "size", glia_toy_train(f->dev, &small, &r));
    EXPECT(INV, "steps", glia_toy_train(f->dev, &neg, &r));
    EXPECT(INV, "batch", glia_toy_train(f->dev, &negb, &r));
    finish();
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_metrics),
        T(test_params),
        T(test_optim),
        cmocka_unit_test(test_schedule),
        T(test_toy),
    };
#undef T
    return cmocka_run_group_tests_name("errors_nn", tests, NULL, NULL);
}
