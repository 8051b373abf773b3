/* Rejection paths of the public API: every entry point given bad arguments
 * must return the specific status, record a message that names the problem,
 * leave *out NULL, never crash, and leak nothing (each test ends by closing
 * its devices, which fails while a tensor is alive).
 *
 * A wrong path is reported and counted rather than stopping the test, so one
 * run lists every one; each test fails at its end if any was found. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "glia/glia.h"
#include "testutil.h"

#define OK GLIA_STATUS_OK
#define INV GLIA_STATUS_INVALID_ARGUMENT
#define SHAPE GLIA_STATUS_SHAPE_MISMATCH
#define DEVM GLIA_STATUS_DEVICE_MISMATCH
#define NODEV GLIA_STATUS_NO_DEVICE

static int failures;
static const char *label; /* names the table entry being checked, in loops */

/* words: space-separated; each must appear in the message (any case). */
static void check_status(glia_status got, glia_status want, const char *words, const char *call, int line)
{
    const char *msg = glia_last_error();
    char where[80] = "";
    if (label)
        snprintf(where, sizeof where, " [%s]", label);
    if (got != want) {
        print_error("line %d%s: %s -> %s, expected %s (message \"%s\")\n", line, where, call,
                    glia_status_str(got), glia_status_str(want), msg);
        failures++;
        return;
    }
    if (want == OK)
        return;
    if (!msg || !msg[0]) {
        print_error("line %d%s: %s -> %s with an empty message\n", line, where, call, glia_status_str(got));
        failures++;
        return;
    }
    for (const char *w = words; w && *w;) {
        size_t len = strcspn(w, " ");
        char word[48];
        snprintf(word, sizeof word, "%.*s", (int)len, w);
        if (len && !strcasestr(msg, word)) {
            print_error("line %d%s: %s: message \"%s\" does not mention \"%.*s\"\n", line, where, call, msg,
                        (int)len, w);
            failures++;
        }
        w += len + (w[len] == ' ');
    }
}

static char stale_byte;
#define STALE ((glia_tensor *)(void *)&stale_byte)

static void check_out_cleared(glia_tensor **out, int line)
{
    if (*out == STALE) {
        print_error("line %d%s%s: *out left unset after a failure\n", line, label ? " " : "", label ? label : "");
        failures++;
    } else if (*out) {
        glia_tensor_free(*out);
    }
    *out = NULL;
}

/* The error is cleared first so a stale message cannot satisfy the check. */
#define EXPECT(want, words, call) (glia_clear_error(), check_status((call), (want), (words), #call, __LINE__))
/* For calls that write a tensor to `out`: it starts as garbage and must end NULL. */
#define EXPECT_OUT(want, words, call)              \
    do {                                           \
        out = STALE;                               \
        EXPECT(want, words, call);                 \
        check_out_cleared(&out, __LINE__);         \
    } while (0)

typedef struct fx {
    glia_device *dev, *dev2;
} fx;

static int setup(void **state)
{
    static fx f;
    memset(&f, 0, sizeof f);
    failures = 0;
    label = NULL;
    if (gt_open_cpu(state))
        return -1;
    f.dev = gt_dev;
    f.dev2 = gt_dev2;
    *state = &f;
    return 0;
}

/* Every test frees what it made: a device that will not close has leaked tensors. */
#define teardown gt_close_cpu

static void finish(void) { assert_int_equal(failures, 0); }

/* A tensor of shape "2x3x8x8" with values in (0.1, 0.9) (valid targets too). */
static glia_tensor *mk(glia_device *dev, const char *spec)
{
    int64_t dims[GLIA_MAX_DIMS];
    int n = 0;
    for (const char *p = spec; *p && n < GLIA_MAX_DIMS;) {
        char *end;
        dims[n++] = strtoll(p, &end, 10);
        p = *end == 'x' ? end + 1 : end;
    }
    int64_t numel = 1;
    for (int i = 0; i < n; i++)
        numel *= dims[i];
    float *data = malloc((size_t)numel * sizeof *data);
    assert_non_null(data);
    gt_fill(data, (size_t)numel, (uint64_t)numel, 0.1f, 0.9f);
    glia_tensor *t = NULL;
    glia_status s = glia_tensor_from_host(dev, n, dims, data, &t);
    free(data);
    if (s != OK)
        print_error("mk(%s): %s\n", spec, glia_last_error());
    assert_int_equal(s, OK);
    return t;
}

static void free_all(glia_tensor **ts, size_t n)
{
    for (size_t i = 0; i < n; i++)
        glia_tensor_free(ts[i]);
}
#define FREE_ALL(...)                                        \
    do {                                                     \
        glia_tensor *all_[] = {__VA_ARGS__};                 \
        free_all(all_, sizeof all_ / sizeof all_[0]);        \
    } while (0)

/* ---- status names --------------------------------------------------------- */
static void test_status_str(void **state)
{
    (void)state;
    const char *unknown = glia_status_str(GLIA_STATUS_COUNT_);
    assert_non_null(unknown);
    assert_true(unknown[0] != '\0');
    for (int s = 0; s < GLIA_STATUS_COUNT_; s++) {
        const char *name = glia_status_str((glia_status)s);
        assert_non_null(name);
        assert_true(name[0] != '\0');
        assert_string_not_equal(name, unknown);
        for (int t = 0; t < s; t++)
            assert_string_not_equal(name, glia_status_str((glia_status)t));
    }
    assert_string_equal(glia_status_str((glia_status)-1), unknown);
    assert_string_equal(glia_status_str((glia_status)1000), unknown);
    glia_clear_error();
    assert_string_equal(glia_last_error(), "");
    assert_non_null(glia_version());
    assert_true(glia_version()[0] != '\0');
}

/* ---- devices -------------------------------------------------------------- */
static void test_device_specs(void **state)
{
    (void)state;
    failures = 0;
    label = NULL;
    glia_device *dev;
    static const char *const malformed[] = {"", "gpu", "opencl:x", "vulkan:-1", "cpu:", "cpu:0x", "cpu:-0x1",
                                            "cpu:99999999999999999999", " cpu", "cpu ", "cpu:0:0", ":0"};
    for (size_t i = 0; i < sizeof malformed / sizeof *malformed; i++) {
        label = malformed[i];
        dev = (glia_device *)STALE;
        EXPECT(INV, "", glia_device_open(malformed[i], NULL, &dev));
        if (dev) {
            print_error("spec '%s': *out not NULL after a failure\n", malformed[i]);
            failures++;
        }
    }
    label = NULL;
    dev = (glia_device *)STALE;
    EXPECT(INV, "spec", glia_device_open(NULL, NULL, &dev));
    assert_null(dev);
    EXPECT(INV, "null", glia_device_open("cpu", NULL, NULL));
    dev = (glia_device *)STALE;
    EXPECT(NODEV, "cpu:7", glia_device_open("cpu:7", NULL, &dev));
    assert_null(dev);
    EXPECT(NODEV, "cpu:1", glia_device_open("cpu:1", NULL, &dev));
    glia_device_options bad = {.threads = -2};
    EXPECT(INV, "threads", glia_device_open("cpu", &bad, &dev));
    assert_null(dev);
    /* "cpu:0" is the same device as "cpu" */
    EXPECT(OK, "", glia_device_open("cpu:0", NULL, &dev));
    assert_int_equal(glia_device_close(dev), OK);

    int n = 0;
    glia_device_info info;
    EXPECT(INV, "", glia_devices_list(NULL, 0, NULL));
    EXPECT(INV, "", glia_devices_list(NULL, 3, &n));
    EXPECT(INV, "", glia_devices_list(&info, -1, &n));
    EXPECT(INV, "null", glia_devices_auto(NULL));
    EXPECT(INV, "null", glia_device_sync(NULL));
    EXPECT(OK, "", glia_device_close(NULL));
    assert_null(glia_device_get_info(NULL));
    glia_memory_stats m;
    memset(&m, 0xff, sizeof m);
    glia_device_memory_stats(NULL, &m);
    assert_int_equal(m.in_use_bytes, 0);
    glia_device_memory_stats(NULL, NULL);
    glia_device_empty_cache(NULL);
    glia_tape_clear(NULL);
    assert_int_equal(glia_grad_mode(NULL, 1), 0);
    finish();
}

static void test_device_close_live(void **state)
{
    fx *f = *state;
    const int64_t shape[2] = {4, 5};
    glia_tensor *a = NULL, *b = NULL, *y = NULL;
    assert_int_equal(glia_tensor_zeros(f->dev, 2, shape, &a), OK);
    assert_int_equal(glia_tensor_zeros(f->dev, 2, shape, &b), OK);
    EXPECT(INV, "alive", glia_device_close(f->dev));
    /* the device still works after the refusal */
    assert_int_equal(glia_tensor_fill(a, 3.0f), OK);
    float v[20];
    assert_int_equal(glia_tensor_read(a, v, 20), OK);
    assert_true(v[19] == 3.0f);
    glia_tensor_free(a);
    EXPECT(INV, "alive", glia_device_close(f->dev));
    /* tensors only the tape still holds do not block closing */
    assert_int_equal(glia_tensor_set_requires_grad(b, 1), OK);
    assert_int_equal(glia_relu(b, &y), OK);
    glia_tensor_free(y);
    glia_tensor_free(b);
    EXPECT(OK, "", glia_device_close(f->dev));
    f->dev = gt_dev = NULL; /* closed: teardown's close(NULL) is a no-op */
    finish();
}

/* ---- tensors -------------------------------------------------------------- */
static void test_tensor_create(void **state)
{
    fx *f = *state;
    glia_tensor *out;
    const float data[8] = {0};
    const int64_t good[2] = {2, 4}, six[6] = {1, 1, 1, 1, 1, 1};
    const int64_t bad[][3] = {{2, 0, 4}, {2, -3, 4}, {INT64_MAX, 1, 1}, {(int64_t)1 << 32, (int64_t)1 << 32, 1},
                              {(int64_t)1 << 21, (int64_t)1 << 21, (int64_t)1 << 21}, {-1, -1, 1}};
    EXPECT_OUT(INV, "null", glia_tensor_zeros(NULL, 2, good, &out));
    EXPECT_OUT(INV, "null", glia_tensor_full(NULL, 2, good, 1.0f, &out));
    EXPECT_OUT(INV, "null", glia_tensor_from_host(NULL, 2, good, data, &out));
    EXPECT_OUT(INV, "null", glia_tensor_from_host(f->dev, 2, good, NULL, &out));
    EXPECT(INV, "null", glia_tensor_zeros(f->dev, 2, good, NULL));
    EXPECT(INV, "null", glia_tensor_full(f->dev, 2, good, 1.0f, NULL));
    EXPECT(INV, "null", glia_tensor_from_host(f->dev, 2, good, data, NULL));
    EXPECT_OUT(INV, "null", glia_tensor_zeros(f->dev, 2, NULL, &out));
    EXPECT_OUT(INV, "dimensions", glia_tensor_zeros(f->dev, 0, good, &out));
    EXPECT_OUT(INV, "dimensions", glia_tensor_zeros(f->dev, -1, good, &out));
    EXPECT_OUT(INV, "dimensions", glia_tensor_zeros(f->dev, 6, six, &out));
    EXPECT_OUT(INV, "dimensions", glia_tensor_full(f->dev, 6, six, 2.0f, &out));
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char name[32];
        snprintf(name, sizeof name, "bad shape %zu", i);
        label = name;
        EXPECT_OUT(INV, "size", glia_tensor_zeros(f->dev, 3, bad[i], &out));
        EXPECT_OUT(INV, "size", glia_tensor_from_host(f->dev, 3, bad[i], data, &out));
    }
    label = NULL;
    assert_null(glia_tensor_retain(NULL));
    glia_tensor_free(NULL);
    assert_int_equal(glia_tensor_ndim(NULL), 0);
    assert_int_equal(glia_tensor_numel(NULL), 0);
    assert_int_equal(glia_tensor_dim(NULL, 0), 0);
    assert_null(glia_tensor_device(NULL));
    glia_memory_stats m;
    glia_device_memory_stats(f->dev, &m);
    assert_int_equal(m.in_use_bytes, 0); /* nothing was half-made */
    finish();
}

static void test_tensor_transfer(void **state)
{
    fx *f = *state;
    glia_tensor *t = mk(f->dev, "2x3"), *t6 = mk(f->dev, "6"), *t32 = mk(f->dev, "3x2"), *t4 = mk(f->dev, "4");
    glia_tensor *out;
    float buf[8], before[6], after[6];
    assert_int_equal(glia_tensor_read(t, before, 6), OK);
    EXPECT(INV, "null", glia_tensor_read(NULL, buf, 6));
    EXPECT(INV, "null", glia_tensor_read(t, NULL, 6));
    EXPECT(SHAPE, "6", glia_tensor_read(t, buf, 5));
    EXPECT(SHAPE, "6", glia_tensor_read(t, buf, 7));
    EXPECT(SHAPE, "", glia_tensor_read(t, buf, 0));
    EXPECT(INV, "null", glia_tensor_write(NULL, buf, 6));
    EXPECT(INV, "null", glia_tensor_write(t, NULL, 6));
    gt_fill(buf, 8, 1, 5.0f, 6.0f);
    EXPECT(SHAPE, "6", glia_tensor_write(t, buf, 5));
    EXPECT(SHAPE, "6", glia_tensor_write(t, buf, 8));
    assert_int_equal(glia_tensor_read(t, after, 6), OK);
    assert_memory_equal(before, after, sizeof before); /* a refused write changes nothing */

    EXPECT(INV, "null", glia_tensor_copy(NULL, t));
    EXPECT(INV, "null", glia_tensor_copy(t, NULL));
    EXPECT(SHAPE, "", glia_tensor_copy(t4, t));
    /* LIBRARY BUG (tensor.c glia_tensor_copy): the header asks for the same
     * shape but only numel is compared, so 2x3 -> 3x2 and 2x3 -> [6] succeed. */
    EXPECT(SHAPE, "", glia_tensor_copy(t32, t));
    EXPECT(SHAPE, "", glia_tensor_copy(t6, t));
    EXPECT(INV, "null", glia_tensor_fill(NULL, 1.0f));

    const int64_t s23[2] = {2, 3}, s7[1] = {7}, s0[2] = {0, 6}, sneg[2] = {-2, -3}, s6x1[6] = {6, 1, 1, 1, 1, 1};
    EXPECT(INV, "null", glia_tensor_reshape(t, 2, s23, NULL));
    EXPECT_OUT(INV, "null", glia_tensor_reshape(NULL, 2, s23, &out));
    EXPECT_OUT(INV, "", glia_tensor_reshape(t, 2, NULL, &out));
    EXPECT_OUT(INV, "rank", glia_tensor_reshape(t, 0, s23, &out));
    EXPECT_OUT(INV, "rank", glia_tensor_reshape(t, 6, s6x1, &out));
    EXPECT_OUT(SHAPE, "7", glia_tensor_reshape(t, 1, s7, &out));
    EXPECT_OUT(SHAPE, "", glia_tensor_reshape(t, 2, s0, &out));
    EXPECT_OUT(SHAPE, "", glia_tensor_reshape(t, 2, sneg, &out));

    glia_rng rng;
    glia_rng_init(&rng, 1);
    EXPECT(INV, "null", glia_tensor_uniform(NULL, &rng, 0.0f, 1.0f));
    EXPECT(INV, "null", glia_tensor_uniform(t, NULL, 0.0f, 1.0f));
    EXPECT(INV, "", glia_tensor_uniform(t, &rng, 1.0f, 0.0f));
    EXPECT(INV, "", glia_tensor_uniform(t, &rng, NAN, 1.0f));
    EXPECT(INV, "null", glia_tensor_normal(NULL, &rng, 0.0f, 1.0f));
    EXPECT(INV, "null", glia_tensor_normal(t, NULL, 0.0f, 1.0f));
    EXPECT(INV, "std", glia_tensor_normal(t, &rng, 0.0f, -1.0f));
    EXPECT(INV, "std", glia_tensor_normal(t, &rng, 0.0f, NAN));
    assert_int_equal(rng.counter, 0); /* refused fills draw nothing */
    glia_rng_init(NULL, 3);
    FREE_ALL(t, t6, t32, t4);
    finish();
}

/* ---- autograd ------------------------------------------------------------- */
static void test_autograd(void **state)
{
    fx *f = *state;
    glia_tensor *x = mk(f->dev, "2x3"), *c = mk(f->dev, "2x3"), *y = NULL, *s = NULL, *z = NULL;
    EXPECT(INV, "null", glia_backward(NULL));
    EXPECT(INV, "null", glia_tensor_set_requires_grad(NULL, 1));
    assert_int_equal(glia_tensor_set_requires_grad(x, 1), OK);

    assert_int_equal(glia_relu(x, &y), OK);
    EXPECT(SHAPE, "one", glia_backward(y)); /* six elements */
    EXPECT(INV, "leaf", glia_tensor_set_requires_grad(y, 0));
    assert_int_equal(glia_tensor_requires_grad(y), 1);
    glia_tape_clear(f->dev);

    /* a loss of tensors that need no gradient */
    assert_int_equal(glia_sum(c, &s), OK);
    EXPECT(INV, "grad", glia_backward(s));
    glia_tensor_free(s);

    /* grad mode off: nothing is recorded, so there is nothing to differentiate */
    assert_int_equal(glia_grad_mode(f->dev, 0), 1);
    assert_int_equal(glia_sum(x, &s), OK);
    assert_int_equal(glia_tensor_requires_grad(s), 0);
    EXPECT(INV, "grad", glia_backward(s));
    assert_int_equal(glia_grad_mode(f->dev, 1), 0);
    glia_tensor_free(s);

    /* the refusals above leave the device usable: a real backward still works */
    assert_int_equal(glia_mul(x, c, &z), OK);
    assert_int_equal(glia_sum(z, &s), OK);
    EXPECT(OK, "", glia_backward(s));
    assert_non_null(glia_tensor_grad(x));
    assert_null(glia_tensor_grad(NULL));
    glia_tensor_zero_grad(NULL);
    glia_tensor_zero_grad(x);
    assert_null(glia_tensor_grad(x));
    assert_int_equal(glia_tensor_requires_grad(NULL), 0);
    FREE_ALL(x, c, y, s, z);
    finish();
}

/* ---- ops: NULL arguments, device and shape checks shared by whole families -- */
typedef glia_status (*binop)(glia_tensor *, glia_tensor *, glia_tensor **);
typedef glia_status (*unop)(glia_tensor *, glia_tensor **);

static glia_status dice(glia_tensor *x, glia_tensor *t, glia_tensor **o) { return glia_loss_dice(x, t, NULL, o); }
static glia_status dice_bce(glia_tensor *x, glia_tensor *t, glia_tensor **o)
{
    return glia_loss_dice_bce(x, t, NULL, 1.0f, 1.0f, o);
}
static glia_status dice_ce(glia_tensor *x, glia_tensor *t, glia_tensor **o)
{
    return glia_loss_dice_ce(x, t, NULL, 1.0f, 1.0f, o);
}
static glia_status affine(glia_tensor *x, glia_tensor **o) { return glia_affine(x, 2.0f, 1.0f, o); }
static glia_status threshold(glia_tensor *x, glia_tensor **o) { return glia_threshold(x, 0.5f, o); }
static glia_status max_pool2(glia_tensor *x, glia_tensor **o) { return glia_max_pool(x, (const int[]){2, 2}, NULL, o); }
static glia_status upsample2(glia_tensor *x, glia_tensor **o) { return glia_upsample_nearest(x, (const int[]){2, 2}, o); }
static glia_status slice1(glia_tensor *x, glia_tensor **o) { return glia_slice_channels(x, 1, 1, o); }

static const struct {
    const char *name;
    binop fn;
} binops[] = {
    {"glia_add", glia_add}, {"glia_sub", glia_sub}, {"glia_mul", glia_mul}, {"glia_div", glia_div},
    {"glia_loss_bce_logits", glia_loss_bce_logits}, {"glia_loss_softmax_ce", glia_loss_softmax_ce},
    {"glia_loss_mse", glia_loss_mse}, {"glia_loss_dice", dice}, {"glia_loss_dice_bce", dice_bce},
    {"glia_loss_dice_ce", dice_ce},
};

static const struct {
    const char *name;
    unop fn;
    int min_rank; /* the op needs N, C (, spatial...) */
} unops[] = {
    {"glia_relu", glia_relu, 1}, {"glia_sigmoid", glia_sigmoid, 1}, {"glia_softmax", glia_softmax, 2},
    {"glia_affine", affine, 1}, {"glia_sum", glia_sum, 1}, {"glia_mean", glia_mean, 1},
    {"glia_argmax_channels", glia_argmax_channels, 2}, {"glia_threshold", threshold, 1},
    {"glia_max_pool", max_pool2, 3}, {"glia_upsample_nearest", upsample2, 3}, {"glia_slice_channels", slice1, 2},
};

static void test_op_families(void **state)
{
    fx *f = *state;
    glia_tensor *x = mk(f->dev, "2x3x4x4"), *y = mk(f->dev, "2x3x4x4"), *bad = mk(f->dev, "2x3x4x5");
    glia_tensor *far = mk(f->dev2, "2x3x4x4"), *flat = mk(f->dev, "96"), *v = mk(f->dev, "6"), *out;
    glia_tensor *chan = mk(f->dev, "2x4x4x4");
    /* LIBRARY BUG (loss.c dice_combo): glia_loss_dice_bce/_ce never set *out
     * on failure, so every refusal of theirs below FAILS "*out left unset". */
    for (size_t i = 0; i < sizeof binops / sizeof *binops; i++) {
        label = binops[i].name;
        binop fn = binops[i].fn;
        EXPECT_OUT(INV, "null", fn(NULL, y, &out));
        EXPECT_OUT(INV, "null", fn(x, NULL, &out));
        EXPECT_OUT(INV, "null", fn(NULL, NULL, &out));
        EXPECT(INV, "null", fn(x, y, NULL));
        EXPECT_OUT(SHAPE, "2x3x4x5", fn(x, bad, &out));
        EXPECT_OUT(SHAPE, "2x4x4x4", fn(x, chan, &out)); /* channel counts differ */
        EXPECT_OUT(SHAPE, "", fn(flat, x, &out)); /* same numel, other shape */
        EXPECT_OUT(DEVM, "cpu", fn(x, far, &out));
        EXPECT_OUT(DEVM, "cpu", fn(far, x, &out));
        EXPECT_OUT(OK, "", fn(x, y, &out)); /* the same call, well formed, works */
    }
    for (size_t i = 0; i < sizeof unops / sizeof *unops; i++) {
        label = unops[i].name;
        EXPECT_OUT(INV, "null", unops[i].fn(NULL, &out));
        EXPECT(INV, "null", unops[i].fn(x, NULL));
        if (unops[i].min_rank > 1) /* FAILS for slice: INVALID_ARGUMENT, unlike the other N,C ops */
            EXPECT_OUT(SHAPE, "", unops[i].fn(v, &out));
        EXPECT_OUT(OK, "", unops[i].fn(x, &out));
    }
    label = NULL;
    /* ranks the channel losses cannot read */
    EXPECT_OUT(SHAPE, "", glia_loss_softmax_ce(v, v, &out));
    EXPECT_OUT(SHAPE, "", glia_loss_dice(v, v, NULL, &out));
    EXPECT_OUT(SHAPE, "", glia_loss_dice_bce(v, v, NULL, 1, 1, &out));
    EXPECT_OUT(SHAPE, "", glia_loss_dice_ce(v, v, NULL, 1, 1, &out));
    glia_dice_options o = {.smooth = -1.0f};
    EXPECT_OUT(INV, "smooth", glia_loss_dice(x, y, &o, &out));
    o = (glia_dice_options){.penalty = -1.0f};
    EXPECT_OUT(INV, "penalty", glia_loss_dice(x, y, &o, &out));
    EXPECT_OUT(INV, "penalty", glia_loss_dice_bce(x, y, &o, 1, 1, &out));
    o = (glia_dice_options){.activation = (glia_dice_activation)7};
    EXPECT_OUT(INV, "activation", glia_loss_dice(x, y, &o, &out));
    FREE_ALL(x, y, bad, far, flat, v, chan);
    finish();
}

/* ---- ops: each op's own geometry ------------------------------------------ */
static void test_conv(void **state)
{
    fx *f = *state;
    glia_device *d = f->dev;
    glia_tensor *x = mk(d, "2x3x6x6"), *w = mk(d, "4x3x3x3"), *b = mk(d, "4"), *b5 = mk(d, "5"), *b2 = mk(d, "1x4");
    glia_tensor *x3 = mk(d, "2x3x6"), *w5 = mk(d, "4x3x3x3x3"), *x5 = mk(d, "1x3x4x4x4"), *w4c = mk(d, "4x4x3x3");
    glia_tensor *tiny = mk(d, "1x3x2x2"), *wt = mk(d, "3x5x2x2"), *wfar = mk(f->dev2, "4x3x3x3");
    glia_tensor *bfar = mk(f->dev2, "4"), *out;
    glia_conv_params neg_stride = {.stride = {-1, 1}}, neg_pad = {.padding = {0, -1}};

    EXPECT(INV, "null", glia_conv(x, w, b, NULL, NULL));
    EXPECT_OUT(INV, "null", glia_conv(NULL, w, b, NULL, &out));
    EXPECT_OUT(INV, "null", glia_conv(x, NULL, b, NULL, &out));
    EXPECT_OUT(SHAPE, "2x3x6", glia_conv(x3, w, NULL, NULL, &out));   /* rank 3 */
    EXPECT_OUT(SHAPE, "", glia_conv(x, w5, NULL, NULL, &out));         /* 2D input, 3D weight */
    EXPECT_OUT(SHAPE, "", glia_conv(x5, w, NULL, NULL, &out));         /* 3D input, 2D weight */
    EXPECT_OUT(SHAPE, "channels", glia_conv(x, w4c, NULL, NULL, &out));
    EXPECT_OUT(SHAPE, "bias", glia_conv(x, w, b5, NULL, &out));
    EXPECT_OUT(SHAPE, "bias", glia_conv(x, w, b2, NULL, &out));
    EXPECT_OUT(SHAPE, "", glia_conv(tiny, w, NULL, NULL, &out));       /* 3x3 kernel on 2x2 */
    EXPECT_OUT(INV, "stride", glia_conv(x, w, NULL, &neg_stride, &out));
    EXPECT_OUT(INV, "padding", glia_conv(x, w, NULL, &neg_pad, &out));
    EXPECT_OUT(DEVM, "cpu", glia_conv(x, wfar, NULL, NULL, &out));
    EXPECT_OUT(DEVM, "cpu", glia_conv(x, w, bfar, NULL, &out));

    /* transposed: w is Cin, Cout, k...; x has Cin = 3 channels */
    glia_tensor *bt = mk(d, "5");
    EXPECT(INV, "null", glia_conv_transpose(x, wt, bt, NULL, NULL));
    EXPECT_OUT(INV, "null", glia_conv_transpose(NULL, wt, bt, NULL, &out));
    EXPECT_OUT(INV, "null", glia_conv_transpose(x, NULL, bt, NULL, &out));
    EXPECT_OUT(SHAPE, "", glia_conv_transpose(x3, wt, NULL, NULL, &out));
    EXPECT_OUT(SHAPE, "channels", glia_conv_transpose(x, w4c, NULL, NULL, &out));
    EXPECT_OUT(SHAPE, "bias", glia_conv_transpose(x, wt, b, NULL, &out)); /* bias has Cin, not Cout */
    EXPECT_OUT(INV, "stride", glia_conv_transpose(x, wt, NULL, &neg_stride, &out));
    EXPECT_OUT(DEVM, "cpu", glia_conv_transpose(x, wt, bfar, NULL, &out));
    EXPECT_OUT(OK, "", glia_conv_transpose(x, wt, bt, NULL, &out));
    EXPECT_OUT(OK, "", glia_conv(x, w, b, NULL, &out));
    FREE_ALL(x, w, b, b5, b2, x3, w5, x5, w4c, tiny, wt, wfar, bfar, bt);
    finish();
}

static void test_batch_norm(void **state)
{
    fx *f = *state;
    glia_device *d = f->dev;
    glia_tensor *x = mk(d, "2x3x4x4"), *g = mk(d, "3"), *be = mk(d, "3"), *rm = mk(d, "3"), *rv = mk(d, "3");
    glia_tensor *g4 = mk(d, "4"), *g2d = mk(d, "1x3"), *x1 = mk(d, "6"), *single = mk(d, "1x3x1x1");
    glia_tensor *gfar = mk(f->dev2, "3"), *rmfar = mk(f->dev2, "3"), *out;
    EXPECT(INV, "null", glia_batch_norm(x, g, be, rm, rv, 1, 0.1f, 1e-5f, NULL));
    EXPECT_OUT(INV, "null", glia_batch_norm(NULL, g, be, rm, rv, 1, 0.1f, 1e-5f, &out));
    EXPECT_OUT(INV, "null", glia_batch_norm(x, NULL, be, rm, rv, 1, 0.1f, 1e-5f, &out));
    EXPECT_OUT(INV, "null", glia_batch_norm(x, g, NULL, rm, rv, 1, 0.1f, 1e-5f, &out));
    EXPECT_OUT(INV, "running", glia_batch_norm(x, g, be, NULL, NULL, 0, 0.1f, 1e-5f, &out)); /* eval needs them */
    EXPECT_OUT(INV, "running", glia_batch_norm(x, g, be, rm, NULL, 1, 0.1f, 1e-5f, &out));
    EXPECT_OUT(INV, "running", glia_batch_norm(x, g, be, NULL, rv, 1, 0.1f, 1e-5f, &out));
    EXPECT_OUT(SHAPE, "", glia_batch_norm(x1, g, be, NULL, NULL, 1, 0.1f, 1e-5f, &out));
    EXPECT_OUT(SHAPE, "weight 3", glia_batch_norm(x, g4, be, NULL, NULL, 1, 0.1f, 1e-5f, &out));
    EXPECT_OUT(SHAPE, "bias 3", glia_batch_norm(x, g, g2d, NULL, NULL, 1, 0.1f, 1e-5f, &out));
    EXPECT_OUT(SHAPE, "running_mean", glia_batch_norm(x, g, be, g4, rv, 1, 0.1f, 1e-5f, &out));
    EXPECT_OUT(SHAPE, "running_var", glia_batch_norm(x, g, be, rm, g4, 0, 0.1f, 1e-5f, &out));
    EXPECT_OUT(SHAPE, "one value", glia_batch_norm(single, g, be, NULL, NULL, 1, 0.1f, 1e-5f, &out));
    EXPECT_OUT(INV, "eps", glia_batch_norm(x, g, be, NULL, NULL, 1, 0.1f, 0.0f, &out));
    EXPECT_OUT(INV, "eps", glia_batch_norm(x, g, be, NULL, NULL, 1, 0.1f, NAN, &out));
    EXPECT_OUT(INV, "momentum", glia_batch_norm(x, g, be, rm, rv, 1, 1.5f, 1e-5f, &out));
    EXPECT_OUT(INV, "momentum", glia_batch_norm(x, g, be, rm, rv, 1, -0.1f, 1e-5f, &out));
    EXPECT_OUT(DEVM, "cpu", glia_batch_norm(x, gfar, be, NULL, NULL, 1, 0.1f, 1e-5f, &out));
    EXPECT_OUT(DEVM, "cpu", glia_batch_norm(x, g, gfar, NULL, NULL, 1, 0.1f, 1e-5f, &out));
    EXPECT_OUT(DEVM, "cpu", glia_batch_norm(x, g, be, rmfar, rv, 1, 0.1f, 1e-5f, &out));
    /* eval mode with one value per channel is fine: no batch statistics */
    EXPECT_OUT(OK, "", glia_batch_norm(single, g, be, rm, rv, 0, 0.1f, 1e-5f, &out));
    FREE_ALL(x, g, be, rm, rv, g4, g2d, x1, single, gfar, rmfar);
    finish();
}

static void test_pool_resample_concat(void **state)
{
    fx *f = *state;
    glia_device *d = f->dev;
    glia_tensor *x = mk(d, "2x3x4x4"), *x2 = mk(d, "2x3x2x2"), *m = mk(d, "4x6"), *out;
    const int k2[2] = {2, 2}, k0[2] = {0, 2}, k5[2] = {5, 2}, sneg[2] = {-1, 1};
    EXPECT_OUT(INV, "kernel", glia_max_pool(x, NULL, NULL, &out));
    EXPECT_OUT(SHAPE, "4x6", glia_max_pool(m, k2, NULL, &out));
    EXPECT_OUT(INV, "kernel", glia_max_pool(x, k0, NULL, &out));
    EXPECT_OUT(INV, "stride", glia_max_pool(x, k2, sneg, &out));
    EXPECT_OUT(SHAPE, "kernel", glia_max_pool(x, k5, NULL, &out));
    EXPECT_OUT(INV, "scale", glia_upsample_nearest(x, NULL, &out));
    EXPECT_OUT(SHAPE, "4x6", glia_upsample_nearest(m, k2, &out));
    EXPECT_OUT(INV, "scale", glia_upsample_nearest(x, k0, &out));

    glia_tensor *c4 = mk(d, "2x4x4x4"), *wrong_sp = mk(d, "2x3x4x5"), *wrong_n = mk(d, "1x3x4x4");
    glia_tensor *r3 = mk(d, "2x3x16"), *r1 = mk(d, "6"), *far = mk(f->dev2, "2x3x4x4");
    glia_tensor *ok2[2] = {x, c4}, *sp[2] = {x, wrong_sp}, *nn[2] = {x, wrong_n}, *rk[2] = {x, r3};
    glia_tensor *nul[2] = {x, NULL}, *ones[2] = {r1, r1}, *dv[2] = {x, far};
    EXPECT(INV, "null", glia_concat(ok2, 2, NULL));
    EXPECT_OUT(INV, "null", glia_concat(NULL, 2, &out)); /* FAILS: message names no NULL */
    EXPECT_OUT(INV, "", glia_concat(ok2, 0, &out));
    EXPECT_OUT(INV, "", glia_concat(ok2, -1, &out));
    EXPECT_OUT(INV, "null", glia_concat(nul, 2, &out));
    EXPECT_OUT(SHAPE, "2x3x4x5", glia_concat(sp, 2, &out));
    EXPECT_OUT(SHAPE, "1x3x4x4", glia_concat(nn, 2, &out));
    EXPECT_OUT(SHAPE, "2x3x16", glia_concat(rk, 2, &out));
    EXPECT_OUT(SHAPE, "", glia_concat(ones, 2, &out)); /* no channel axis */
    EXPECT_OUT(DEVM, "cpu", glia_concat(dv, 2, &out));
    EXPECT_OUT(OK, "", glia_concat(ok2, 2, &out));

    EXPECT(INV, "null", glia_slice_channels(x, 0, 1, NULL));
    EXPECT_OUT(INV, "null", glia_slice_channels(NULL, 0, 1, &out));
    EXPECT_OUT(INV, "channels", glia_slice_channels(x, 2, 2, &out)); /* [2, 4) of 3 */
    EXPECT_OUT(INV, "channels", glia_slice_channels(x, -1, 1, &out));
    EXPECT_OUT(INV, "channels", glia_slice_channels(x, 0, 0, &out));
    EXPECT_OUT(INV, "channels", glia_slice_channels(x, 3, 1, &out));
    /* UBSan flags this one: ops_elementwise.c formats start + count, which overflows */
    EXPECT_OUT(INV, "channels", glia_slice_channels(x, INT64_MAX, 2, &out));
    FREE_ALL(x, x2, m, c4, wrong_sp, wrong_n, r3, r1, far);
    finish();
}

static void test_matmul(void **state)
{
    fx *f = *state;
    glia_device *d = f->dev;
    glia_tensor *a = mk(d, "3x4"), *b = mk(d, "4x5"), *b6 = mk(d, "6x5"), *v = mk(d, "4");
    glia_tensor *a3 = mk(d, "2x3x4"), *b3 = mk(d, "2x4x5"), *b3n = mk(d, "3x4x5"), *a4 = mk(d, "1x2x3x4");
    glia_tensor *far = mk(f->dev2, "4x5"), *out;
    EXPECT(INV, "null", glia_matmul(a, b, 0, 0, NULL));
    EXPECT_OUT(INV, "null", glia_matmul(NULL, b, 0, 0, &out));
    EXPECT_OUT(INV, "null", glia_matmul(a, NULL, 0, 0, &out));
    EXPECT_OUT(SHAPE, "3x4", glia_matmul(a, b6, 0, 0, &out));
    EXPECT_OUT(SHAPE, "", glia_matmul(a, b, 1, 0, &out));  /* a^T is 4x3 */
    EXPECT_OUT(SHAPE, "", glia_matmul(a, b, 0, 1, &out));  /* b^T is 5x4 */
    EXPECT_OUT(SHAPE, "", glia_matmul(v, v, 0, 0, &out));  /* rank 1 */
    EXPECT_OUT(SHAPE, "", glia_matmul(a4, a4, 0, 1, &out)); /* rank 4 */
    EXPECT_OUT(SHAPE, "", glia_matmul(a, b3, 0, 0, &out)); /* ranks differ */
    EXPECT_OUT(SHAPE, "", glia_matmul(a3, b3n, 0, 0, &out)); /* batch 2 vs 3 */
    EXPECT_OUT(DEVM, "cpu", glia_matmul(a, far, 0, 0, &out));
    EXPECT_OUT(OK, "", glia_matmul(b, a, 1, 1, &out)); /* 5x4 . 4x3 */
    EXPECT_OUT(OK, "", glia_matmul(a3, b3, 0, 0, &out));
    FREE_ALL(a, b, b6, v, a3, b3, b3n, a4, far);
    finish();
}

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
        cmocka_unit_test(test_status_str),
        cmocka_unit_test(test_device_specs),
        T(test_device_close_live),
        T(test_tensor_create),
        T(test_tensor_transfer),
        T(test_autograd),
        T(test_op_families),
        T(test_conv),
        T(test_batch_norm),
        T(test_pool_resample_concat),
        T(test_matmul),
        T(test_metrics),
        T(test_params),
        T(test_optim),
        cmocka_unit_test(test_schedule),
        T(test_toy),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
