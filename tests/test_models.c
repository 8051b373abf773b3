/* The three models on one backend (argv[1]): parameter names and counts from
 * the specification, seeded initialisation, forward (eval and train mode) and
 * gradients against the CPU backend's scalar reference path, a few training
 * steps, and the rejection of bad inputs and configurations.
 *
 * Tolerance: outputs of a float32 network of ~20 layers computed with two
 * summation orders differ by ~1e-6 relative; 1e-4 leaves a margin of 100 while
 * any wiring mistake (a wrong skip, a missing ReLU) gives errors of order one. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "glia/glia.h"
#include "testutil.h"

#define TOL 1e-4

static const char *backend_name;
static glia_device *dev, *ref;

/* ---- configurations --------------------------------------------------------- */
static glia_model_config cfg_of(glia_model_arch arch, int in, int out, int levels, const int *f, int bn, int t)
{
    glia_model_config c = {.arch = arch, .in_channels = in, .out_channels = out, .levels = levels, .batchnorm = bn,
                           .t = t};
    memcpy(c.features, f, (size_t)levels * sizeof *f);
    return c;
}

/* Small versions of the three models (features need not double). */
static glia_model_config small(int which)
{
    static const int f2[] = {4, 6}, f2n[] = {3, 5}, fr[] = {4, 6, 8}, f3[] = {4, 6};
    switch (which) {
    case 0: return cfg_of(GLIA_MODEL_UNET2D, 3, 2, 2, f2, 1, 0);
    case 1: return cfg_of(GLIA_MODEL_UNET2D, 2, 1, 2, f2n, 0, 0);
    case 2: return cfg_of(GLIA_MODEL_R2UNET, 2, 1, 3, fr, 1, 2);
    default: return cfg_of(GLIA_MODEL_UNET3D, 4, 3, 2, f3, 1, 0);
    }
}
enum { NSMALL = 4 };

static int input_shape(const glia_model_config *c, int64_t *shape)
{
    int nsp = c->arch == GLIA_MODEL_UNET3D ? 3 : 2;
    shape[0] = 2;
    shape[1] = c->in_channels;
    for (int i = 0; i < nsp; i++)
        shape[2 + i] = nsp == 3 ? 8 : 16;
    return 2 + nsp;
}

/* ---- parameter counts from the specification ------------------------------------ */
static int64_t double_conv(int64_t k3, int64_t cin, int64_t cout, int bn)
{
    return k3 * cin * cout + cout + k3 * cout * cout + cout + (bn ? 4 * cout : 0);
}

static int64_t spec_count(const glia_model_config *c)
{
    int nsp = c->arch == GLIA_MODEL_UNET3D ? 3 : 2, L = c->levels;
    int64_t k3 = nsp == 3 ? 27 : 9, k2 = nsp == 3 ? 8 : 4, n = 0, ch = c->in_channels;
    if (c->arch == GLIA_MODEL_R2UNET) {
        /* RRCNN: proj 1x1 + two recurrent blocks of conv 3x3 and bn */
#define RRCNN(cin, cout) ((cin) * (cout) + (cout) + 2 * (9 * (cout) * (cout) + (cout) + 2 * (cout)))
        for (int i = 0; i < L; i++, ch = c->features[i - 1])
            n += RRCNN(ch, (int64_t)c->features[i]);
        for (int i = L - 2; i >= 0; i--) {
            int64_t f = c->features[i];
            n += 9 * ch * f + f + 2 * f + RRCNN(2 * f, f);
            ch = f;
        }
#undef RRCNN
    } else {
        for (int i = 0; i < L; i++, ch = c->features[i - 1])
            n += double_conv(k3, ch, c->features[i], c->batchnorm);
        n += double_conv(k3, ch, 2 * ch, c->batchnorm);
        ch *= 2;
        for (int i = L - 1; i >= 0; i--) {
            int64_t f = c->features[i];
            n += ch * f * k2 + f + double_conv(k3, 2 * f, f, c->batchnorm);
            ch = f;
        }
    }
    return n + (int64_t)c->features[0] * c->out_channels + c->out_channels;
}

static glia_model *make(glia_device *d, const glia_model_config *c, uint64_t seed)
{
    glia_model *m = NULL;
    glia_status s = glia_model_create(d, c, seed, &m);
    if (s != GLIA_STATUS_OK)
        fail_msg("glia_model_create(%s): %s", glia_model_arch_name(c->arch), glia_last_error());
    return m;
}

#define NEED_DEVICE()                \
    do {                             \
        if (!dev)                    \
            skip();                  \
    } while (0)

/* glia_model_conv_layers lists one layer per convolution kernel the model
 * holds (its parameters of rank nsp + 2), with the kernel's size. */
static void check_conv_layers(glia_model *m, const glia_model_config *c)
{
    int nsp = glia_model_config_spatial_dims(c), nk = 0;
    int64_t kernel_numel = 0, listed = 0;
    glia_params *p = glia_model_params(m);
    for (int i = 0; i < glia_params_count(p); i++) {
        const char *n;
        glia_param_kind k;
        glia_tensor *t;
        glia_params_get(p, i, &n, &k, &t);
        if (k != GLIA_PARAM_COUNTER && glia_tensor_ndim(t) == nsp + 2) {
            nk++;
            kernel_numel += glia_tensor_numel(t);
        }
    }
    glia_model_conv_layer layers[64];
    int n = glia_model_conv_layers(c, 64, layers, 64);
    assert_int_equal(n, nk);
    for (int i = 0; i < n; i++) {
        int64_t kk = 1;
        for (int a = 0; a < nsp; a++)
            kk *= layers[i].k;
        listed += layers[i].cin * layers[i].cout * kk;
    }
    assert_int_equal(listed, kernel_numel);
}

static void test_param_counts(void **state)
{
    (void)state;
    NEED_DEVICE();
    /* the defaults: the figures the issue fixes */
    static const struct {
        glia_model_arch arch;
        int bn;
        int64_t count;
    } defaults[] = {{GLIA_MODEL_UNET2D, 1, 31043521},
                    {GLIA_MODEL_UNET2D, 0, 31031745},
                    {GLIA_MODEL_R2UNET, 1, 39091393},
                    {GLIA_MODEL_UNET3D, 1, 1413907}};
    /* defaults allocate ~40M parameters: do it once, on the CPU */
    for (size_t i = 0; strcmp(backend_name, "cpu") == 0 && i < sizeof defaults / sizeof *defaults; i++) {
        glia_model_config c;
        assert_int_equal(glia_model_config_default(defaults[i].arch, &c), GLIA_STATUS_OK);
        c.batchnorm = defaults[i].bn;
        assert_int_equal(spec_count(&c), defaults[i].count);
        glia_model *m = make(dev, &c, 0);
        assert_int_equal(glia_params_numel(glia_model_params(m)), defaults[i].count);
        glia_model_free(m);
    }
    static const int fa[] = {16, 24, 40}, fb[] = {8, 16, 32}, fc[] = {4, 8}, fd[] = {5};
    glia_model_config others[] = {
        cfg_of(GLIA_MODEL_UNET2D, 1, 4, 3, fa, 1, 0), cfg_of(GLIA_MODEL_UNET2D, 7, 2, 1, fd, 0, 0),
        cfg_of(GLIA_MODEL_R2UNET, 4, 2, 3, fb, 1, 3), cfg_of(GLIA_MODEL_UNET3D, 2, 5, 2, fc, 0, 0),
        cfg_of(GLIA_MODEL_UNET3D, 1, 1, 3, fb, 1, 0),
    };
    for (size_t i = 0; i < sizeof others / sizeof *others; i++) {
        glia_model *m = make(dev, &others[i], 1);
        assert_int_equal(glia_params_numel(glia_model_params(m)), spec_count(&others[i]));
        check_conv_layers(m, &others[i]);
        glia_model_free(m);
    }
    /* SwinUNETR's list: every kernel, the strided patch embedding and the v2 blocks included */
    glia_model_config sw;
    assert_int_equal(glia_model_config_default(GLIA_MODEL_SWINUNETR, &sw), GLIA_STATUS_OK);
    assert_int_equal(glia_model_field_set(&sw, glia_model_field_find(sw.arch, "feature_size"), "12"), GLIA_STATUS_OK);
    assert_int_equal(glia_model_field_set(&sw, glia_model_field_find(sw.arch, "use_v2"), "true"), GLIA_STATUS_OK);
    glia_model *m = make(dev, &sw, 1);
    check_conv_layers(m, &sw);
    glia_model_free(m);
    /* only SwinUNETR has matrix products besides convolutions (test_bench checks its count) */
    assert_true(glia_model_matmul_flops(&sw, 1, 64) > 0);
    assert_true(glia_model_matmul_flops(&others[3], 1, 64) == 0);
    assert_true(glia_model_matmul_flops(NULL, 1, 64) == 0);
    sw.in_channels = 0;   /* no count for an invalid configuration */
    assert_true(glia_model_matmul_flops(&sw, 1, 64) == 0);
}

/* An entry's kind and shape. */
static void expect(glia_model *m, const char *name, glia_param_kind kind, int ndim, const int64_t *shape)
{
    glia_params *p = glia_model_params(m);
    for (int i = 0; i < glia_params_count(p); i++) {
        const char *n;
        glia_param_kind k;
        glia_tensor *t;
        glia_params_get(p, i, &n, &k, &t);
        if (strcmp(n, name))
            continue;
        assert_int_equal(k, kind);
        if (kind == GLIA_PARAM_COUNTER)
            return;
        assert_int_equal(glia_tensor_ndim(t), ndim);
        for (int d = 0; d < ndim; d++)
            assert_int_equal(glia_tensor_dim(t, d), shape[d]);
        return;
    }
    fail_msg("no entry '%s'", name);
}

#define SHAPE(...) (sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), (int64_t[]){__VA_ARGS__}

static void test_names(void **state)
{
    (void)state;
    NEED_DEVICE();
    glia_model_config c = small(0);
    glia_model *m = make(dev, &c, 0);
    expect(m, "enc.0.conv1.weight", GLIA_PARAM_TRAINABLE, SHAPE(4, 3, 3, 3));
    expect(m, "enc.1.conv2.bias", GLIA_PARAM_TRAINABLE, SHAPE(6));
    expect(m, "enc.1.bn1.running_var", GLIA_PARAM_BUFFER, SHAPE(6));
    expect(m, "bottleneck.conv1.weight", GLIA_PARAM_TRAINABLE, SHAPE(12, 6, 3, 3));
    expect(m, "bottleneck.bn2.num_batches_tracked", GLIA_PARAM_COUNTER, SHAPE(1));
    expect(m, "up.0.weight", GLIA_PARAM_TRAINABLE, SHAPE(12, 6, 2, 2));
    expect(m, "up.1.weight", GLIA_PARAM_TRAINABLE, SHAPE(6, 4, 2, 2));
    expect(m, "dec.0.conv1.weight", GLIA_PARAM_TRAINABLE, SHAPE(6, 12, 3, 3));
    expect(m, "dec.1.conv1.weight", GLIA_PARAM_TRAINABLE, SHAPE(4, 8, 3, 3));
    expect(m, "head.weight", GLIA_PARAM_TRAINABLE, SHAPE(2, 4, 1, 1));
    /* 2L+1 DoubleConvs of 2 convs (weight, bias) and 2 bns (5 entries), L ups, head */
    assert_int_equal(glia_params_count(glia_model_params(m)), 5 * 14 + 2 * 2 + 2);
    glia_model_free(m);

    c = small(1);
    m = make(dev, &c, 0);
    assert_null(glia_params_find(glia_model_params(m), "enc.0.bn1.weight"));
    assert_int_equal(glia_params_count(glia_model_params(m)), 5 * 4 + 2 * 2 + 2);
    glia_model_free(m);

    c = small(2);
    m = make(dev, &c, 0);
    expect(m, "enc.0.proj.weight", GLIA_PARAM_TRAINABLE, SHAPE(4, 2, 1, 1));
    expect(m, "enc.2.rec2.conv.weight", GLIA_PARAM_TRAINABLE, SHAPE(8, 8, 3, 3));
    expect(m, "enc.2.rec1.bn.num_batches_tracked", GLIA_PARAM_COUNTER, SHAPE(1));
    expect(m, "up.0.conv.weight", GLIA_PARAM_TRAINABLE, SHAPE(6, 8, 3, 3));
    expect(m, "up.1.bn.running_mean", GLIA_PARAM_BUFFER, SHAPE(4));
    expect(m, "dec.0.proj.weight", GLIA_PARAM_TRAINABLE, SHAPE(6, 12, 1, 1));
    expect(m, "dec.1.rec1.conv.bias", GLIA_PARAM_TRAINABLE, SHAPE(4));
    expect(m, "head.weight", GLIA_PARAM_TRAINABLE, SHAPE(1, 4, 1, 1));
    assert_null(glia_params_find(glia_model_params(m), "up.2.conv.weight"));
    glia_model_free(m);

    c = small(3);
    m = make(dev, &c, 0);
    expect(m, "enc.0.conv1.weight", GLIA_PARAM_TRAINABLE, SHAPE(4, 4, 3, 3, 3));
    expect(m, "up.0.weight", GLIA_PARAM_TRAINABLE, SHAPE(12, 6, 2, 2, 2));
    expect(m, "up.1.weight", GLIA_PARAM_TRAINABLE, SHAPE(6, 4, 2, 2, 2));
    expect(m, "head.weight", GLIA_PARAM_TRAINABLE, SHAPE(3, 4, 1, 1, 1));
    glia_model_free(m);
}

/* All entries of a model's set, concatenated on the host. */
static float *read_all(glia_model *m, size_t *count)
{
    glia_params *p = glia_model_params(m);
    size_t n = 0;
    for (int i = 0; i < glia_params_count(p); i++) {
        glia_tensor *t;
        glia_params_get(p, i, NULL, NULL, &t);
        n += t ? (size_t)glia_tensor_numel(t) : 0;
    }
    float *all = malloc(n * sizeof *all);
    assert_non_null(all);
    size_t off = 0;
    for (int i = 0; i < glia_params_count(p); i++) {
        glia_tensor *t;
        glia_params_get(p, i, NULL, NULL, &t);
        if (!t)
            continue;
        assert_int_equal(glia_tensor_read(t, all + off, (size_t)glia_tensor_numel(t)), GLIA_STATUS_OK);
        off += (size_t)glia_tensor_numel(t);
    }
    *count = n;
    return all;
}

static void test_seeded_init(void **state)
{
    (void)state;
    NEED_DEVICE();
    for (int w = 0; w < NSMALL; w++) {
        glia_model_config c = small(w);
        glia_model *a = make(dev, &c, 5), *b = make(ref, &c, 5), *d = make(dev, &c, 6);
        size_t na, nb, nd;
        float *va = read_all(a, &na), *vb = read_all(b, &nb), *vd = read_all(d, &nd);
        assert_int_equal(na, nb);
        assert_memory_equal(va, vb, na * sizeof *va); /* same seed: same weights on every backend */
        assert_memory_not_equal(va, vd, na * sizeof *va);
        /* PyTorch's bounds: |w|, |b| <= 1/sqrt(fan_in); batch norm starts at 1, 0, 0, 1 */
        glia_params *p = glia_model_params(a);
        for (int i = 0; i < glia_params_count(p); i++) {
            const char *name;
            glia_tensor *t;
            glia_params_get(p, i, &name, NULL, &t);
            if (!t || glia_tensor_ndim(t) < 3)
                continue;
            int64_t n = glia_tensor_numel(t), fan_in = n / glia_tensor_dim(t, 0);
            float *v = malloc((size_t)n * sizeof *v), maxabs = 0;
            assert_int_equal(glia_tensor_read(t, v, (size_t)n), GLIA_STATUS_OK);
            for (int64_t k = 0; k < n; k++)
                maxabs = fmaxf(maxabs, fabsf(v[k]));
            free(v);
            double bound = 1.0 / sqrt((double)fan_in);
            if (!(maxabs <= bound && maxabs > 0.5 * bound))
                fail_msg("%s: max |w| %g, bound %g", name, maxabs, bound);
        }
        free(va);
        free(vb);
        free(vd);
        glia_model_free(a);
        glia_model_free(b);
        glia_model_free(d);
    }
}

/* Give both models the same non-trivial running statistics, so eval mode is tested. */
static void randomise_running_stats(glia_model *a, glia_model *b, uint64_t seed)
{
    glia_params *p = glia_model_params(a);
    for (int i = 0; i < glia_params_count(p); i++) {
        const char *name;
        glia_param_kind kind;
        glia_tensor *t;
        glia_params_get(p, i, &name, &kind, &t);
        if (kind != GLIA_PARAM_BUFFER)
            continue;
        size_t n = (size_t)glia_tensor_numel(t);
        float *v = malloc(n * sizeof *v);
        int var = strstr(name, "running_var") != NULL;
        gt_fill(v, n, seed + (uint64_t)i, var ? 0.5f : -0.5f, var ? 2.0f : 0.5f);
        assert_int_equal(glia_tensor_write(t, v, n), GLIA_STATUS_OK);
        assert_int_equal(glia_tensor_write(glia_params_find(glia_model_params(b), name), v, n), GLIA_STATUS_OK);
        free(v);
    }
}

static float *run_forward(glia_model *m, glia_device *d, int ndim, const int64_t *shape, const float *x, int train,
                          size_t *count)
{
    glia_tensor *xt = NULL, *yt = NULL;
    int mode = glia_grad_mode(d, 0);
    assert_int_equal(glia_tensor_from_host(d, ndim, shape, x, &xt), GLIA_STATUS_OK);
    glia_status s = glia_model_forward(m, xt, train, &yt);
    if (s != GLIA_STATUS_OK)
        fail_msg("forward on %s: %s", glia_device_get_info(d)->backend, glia_last_error());
    *count = (size_t)glia_tensor_numel(yt);
    float *y = malloc(*count * sizeof *y);
    assert_int_equal(glia_tensor_read(yt, y, *count), GLIA_STATUS_OK);
    glia_tensor_free(xt);
    glia_tensor_free(yt);
    glia_grad_mode(d, mode);
    return y;
}

/* Loss gradient of every trainable parameter, concatenated on the host. */
static float *run_grads(glia_model *m, glia_device *d, int ndim, const int64_t *shape, const float *x, const float *y,
                        size_t *count)
{
    glia_tensor *xt = NULL, *yt = NULL, *logits = NULL, *loss = NULL;
    glia_params *p = glia_model_params(m);
    glia_params_zero_grad(p);
    int64_t oshape[5];
    memcpy(oshape, shape, (size_t)ndim * sizeof *shape);
    oshape[1] = glia_model_get_config(m)->out_channels;
    assert_int_equal(glia_tensor_from_host(d, ndim, shape, x, &xt), GLIA_STATUS_OK);
    assert_int_equal(glia_tensor_from_host(d, ndim, oshape, y, &yt), GLIA_STATUS_OK);
    assert_int_equal(glia_model_forward(m, xt, 1, &logits), GLIA_STATUS_OK);
    assert_int_equal(glia_loss_dice_bce(logits, yt, NULL, 1.0f, 1.0f, &loss), GLIA_STATUS_OK);
    assert_int_equal(glia_backward(loss), GLIA_STATUS_OK);
    size_t n = (size_t)glia_params_numel(p), off = 0;
    float *g = malloc(n * sizeof *g);
    for (int i = 0; i < glia_params_count(p); i++) {
        glia_param_kind kind;
        glia_tensor *t;
        glia_params_get(p, i, NULL, &kind, &t);
        if (kind != GLIA_PARAM_TRAINABLE)
            continue;
        assert_non_null(glia_tensor_grad(t));
        assert_int_equal(glia_tensor_read(glia_tensor_grad(t), g + off, (size_t)glia_tensor_numel(t)), GLIA_STATUS_OK);
        off += (size_t)glia_tensor_numel(t);
    }
    *count = n;
    glia_params_zero_grad(p);
    glia_tensor *tmp[] = {xt, yt, logits, loss};
    for (int i = 0; i < 4; i++)
        glia_tensor_free(tmp[i]);
    return g;
}

static void test_forward_matches_reference(void **state)
{
    (void)state;
    NEED_DEVICE();
    for (int w = 0; w < NSMALL; w++) {
        glia_model_config c = small(w);
        glia_model *a = make(dev, &c, 9), *b = make(ref, &c, 9);
        randomise_running_stats(a, b, 100);
        int64_t shape[5];
        int nd = input_shape(&c, shape);
        size_t nx = 1, n1, n2;
        for (int i = 0; i < nd; i++)
            nx *= (size_t)shape[i];
        float *x = malloc(nx * sizeof *x);
        /* without batch norm, PyTorch's initialisation shrinks the signal ~2.4x per
         * conv + ReLU: a large input keeps the output from being the head's bias */
        float amp = c.batchnorm ? 2.0f : 200.0f;
        gt_fill(x, nx, 7 + (uint64_t)w, -amp, amp);
        for (int train = 0; train < 2; train++) {
            float *ya = run_forward(a, dev, nd, shape, x, train, &n1), *yb = run_forward(b, ref, nd, shape, x, train, &n2);
            assert_int_equal(n1, n2);
            assert_int_equal(n1, nx / (size_t)c.in_channels * (size_t)c.out_channels);
            double e = gt_nerr(ya, yb, n1), mean = 0, var = 0;
            for (size_t i = 0; i < n1; i++)
                mean += yb[i] / (double)n1;
            for (size_t i = 0; i < n1; i++)
                var += (yb[i] - mean) * (yb[i] - mean) / (double)n1;
            print_message("%s %s %s: forward vs reference %.2e (output std %.3f)\n", backend_name,
                          glia_model_arch_name(c.arch), train ? "train" : "eval", e, sqrt(var));
            /* a near-constant output (every ReLU dead) would make the comparison empty */
            assert_true(sqrt(var) > 0.05);
            if (!(e < TOL))
                fail_msg("%s %s forward differs from the reference path: %g", glia_model_arch_name(c.arch),
                         train ? "train" : "eval", e);
            free(ya);
            free(yb);
        }
        /* train mode updated the running statistics and counted one batch per bn call */
        size_t sa, sb;
        float *va = read_all(a, &sa), *vb = read_all(b, &sb);
        assert_true(gt_nerr(va, vb, sa) < TOL);
        int64_t count = -1;
        const char *ctr = c.arch == GLIA_MODEL_R2UNET ? "enc.1.rec2.bn.num_batches_tracked"
                          : c.batchnorm                ? "dec.0.bn1.num_batches_tracked"
                                                       : NULL;
        if (ctr) {
            assert_int_equal(glia_params_counter(glia_model_params(a), ctr, &count), GLIA_STATUS_OK);
            assert_int_equal(count, c.arch == GLIA_MODEL_R2UNET ? c.t + 1 : 1);
        }
        /* gradients through the tape agree with the reference path (as one vector:
         * conv biases feeding batch norm have a zero gradient, i.e. rounding noise) */
        float *y = malloc(n1 * sizeof *y);
        gt_fill(y, n1, 3 + (uint64_t)w, 0.0f, 1.0f);
        for (size_t i = 0; i < n1; i++)
            y[i] = y[i] < 0.3f ? 1.0f : 0.0f;
        size_t g1, g2;
        float *ga = run_grads(a, dev, nd, shape, x, y, &g1), *gb = run_grads(b, ref, nd, shape, x, y, &g2);
        assert_int_equal(g1, g2);
        double e = gt_nerr(ga, gb, g1);
        print_message("%s %s: gradients vs reference %.2e\n", backend_name, glia_model_arch_name(c.arch), e);
        assert_true(e < TOL);
        free(ga);
        free(gb);
        free(y);
        free(va);
        free(vb);
        free(x);
        glia_model_free(a);
        glia_model_free(b);
    }
}

static void test_training_loss_falls(void **state)
{
    (void)state;
    NEED_DEVICE();
    for (int w = 0; w < NSMALL; w++) {
        glia_model_config c = small(w);
        glia_model *m = make(dev, &c, 2);
        int64_t shape[5], oshape[5];
        int nd = input_shape(&c, shape);
        memcpy(oshape, shape, sizeof shape);
        oshape[1] = c.out_channels;
        size_t nx = 1, ny;
        for (int i = 0; i < nd; i++)
            nx *= (size_t)shape[i];
        ny = nx / (size_t)c.in_channels * (size_t)c.out_channels;
        float *x = malloc(nx * sizeof *x), *y = malloc(ny * sizeof *y);
        gt_fill(x, nx, 21, -1.0f, 1.0f);
        /* a target the input determines: channel o is "first input channel > 0" */
        size_t sp = nx / (size_t)(shape[0] * shape[1]);
        for (size_t i = 0; i < ny; i++) {
            size_t n = i / (sp * (size_t)c.out_channels), s = i % sp;
            y[i] = x[n * (size_t)c.in_channels * sp + s] > 0 ? 1.0f : 0.0f;
        }
        glia_tensor *xt = NULL, *yt = NULL;
        assert_int_equal(glia_tensor_from_host(dev, nd, shape, x, &xt), GLIA_STATUS_OK);
        assert_int_equal(glia_tensor_from_host(dev, nd, oshape, y, &yt), GLIA_STATUS_OK);
        glia_optim_options oo = {.kind = GLIA_OPTIM_ADAM, .lr = 3e-2f};
        glia_optimizer *opt = NULL;
        assert_int_equal(glia_optim_create(glia_model_params(m), &oo, &opt), GLIA_STATUS_OK);
        float first = 0, last = 0;
        const int steps = 20;
        for (int step = 0; step < steps; step++) {
            glia_tensor *logits = NULL, *loss = NULL;
            glia_params_zero_grad(glia_model_params(m));
            assert_int_equal(glia_model_forward(m, xt, 1, &logits), GLIA_STATUS_OK);
            assert_int_equal(glia_loss_dice_bce(logits, yt, NULL, 1.0f, 1.0f, &loss), GLIA_STATUS_OK);
            assert_int_equal(glia_tensor_read(loss, step ? &last : &first, 1), GLIA_STATUS_OK);
            assert_int_equal(glia_backward(loss), GLIA_STATUS_OK);
            assert_int_equal(glia_optim_step(opt), GLIA_STATUS_OK);
            glia_tensor_free(logits);
            glia_tensor_free(loss);
        }
        print_message("%s %s: loss %.4f -> %.4f in %d steps\n", backend_name, glia_model_arch_name(c.arch), first,
                      last, steps);
        assert_true(isfinite(last) && last < 0.8f * first);
        glia_optim_free(opt);
        glia_tensor_free(xt);
        glia_tensor_free(yt);
        free(x);
        free(y);
        glia_model_free(m);
    }
}

static void expect_reject(glia_model *m, int ndim, const int64_t *shape, const char *needle)
{
    glia_tensor *x = NULL, *y = (glia_tensor *)&y;
    assert_int_equal(glia_model_check_input(m, ndim, shape), GLIA_STATUS_SHAPE_MISMATCH);
    assert_non_null(strstr(glia_last_error(), needle));
    assert_int_equal(glia_tensor_zeros(dev, ndim, shape, &x), GLIA_STATUS_OK);
    assert_int_equal(glia_model_forward(m, x, 0, &y), GLIA_STATUS_SHAPE_MISMATCH);
    assert_null(y);
    glia_tensor_free(x);
}

static void test_rejections(void **state)
{
    (void)state;
    NEED_DEVICE();
    glia_model_config c = small(0), bad;
    glia_model *m = make(dev, &c, 0), *none = (glia_model *)&c;
    expect_reject(m, 4, (int64_t[]){1, 2, 16, 16}, "input channels");
    expect_reject(m, 4, (int64_t[]){1, 3, 16, 18}, "not a multiple of 4");
    expect_reject(m, 5, (int64_t[]){1, 3, 16, 16, 16}, "4-D input");
    expect_reject(m, 4, (int64_t[]){1, 3, 2, 2}, "not a multiple");
    glia_model_free(m);
    c = small(2); /* r2unet: 3 levels, 2 poolings */
    m = make(dev, &c, 0);
    assert_int_equal(glia_model_check_input(m, 4, (int64_t[]){1, 2, 12, 8}), GLIA_STATUS_OK);
    expect_reject(m, 4, (int64_t[]){1, 2, 12, 10}, "multiple of 4");
    glia_model_free(m);

    c = small(0);
    bad = c, bad.levels = 0;
    assert_int_equal(glia_model_config_check(&bad), GLIA_STATUS_INVALID_ARGUMENT);
    bad = c, bad.levels = GLIA_MODEL_MAX_LEVELS + 1;
    assert_int_equal(glia_model_config_check(&bad), GLIA_STATUS_INVALID_ARGUMENT);
    bad = c, bad.features[1] = 0;
    assert_int_equal(glia_model_config_check(&bad), GLIA_STATUS_INVALID_ARGUMENT);
    assert_non_null(strstr(glia_last_error(), "feature 1"));
    bad = c, bad.in_channels = 0;
    assert_int_equal(glia_model_config_check(&bad), GLIA_STATUS_INVALID_ARGUMENT);
    bad = c, bad.t = 2;
    assert_int_equal(glia_model_config_check(&bad), GLIA_STATUS_INVALID_ARGUMENT);
    bad = c, bad.arch = GLIA_MODEL_ARCH_COUNT_;
    assert_int_equal(glia_model_config_check(&bad), GLIA_STATUS_INVALID_ARGUMENT);
    bad = small(2), bad.batchnorm = 0;
    assert_int_equal(glia_model_config_check(&bad), GLIA_STATUS_INVALID_ARGUMENT);
    bad = small(2), bad.t = 0;
    assert_int_equal(glia_model_config_check(&bad), GLIA_STATUS_INVALID_ARGUMENT);
    bad = small(2), bad.levels = 1;
    assert_int_equal(glia_model_config_check(&bad), GLIA_STATUS_INVALID_ARGUMENT);
    assert_int_equal(glia_model_create(dev, &bad, 0, &none), GLIA_STATUS_INVALID_ARGUMENT);
    assert_null(none);
    assert_int_equal(glia_model_create(NULL, &c, 0, &m), GLIA_STATUS_INVALID_ARGUMENT);
    assert_int_equal(glia_model_create(dev, NULL, 0, &m), GLIA_STATUS_INVALID_ARGUMENT);
    assert_int_equal(glia_model_create(dev, &c, 0, NULL), GLIA_STATUS_INVALID_ARGUMENT);

    glia_model_arch arch;
    assert_int_equal(glia_model_arch_from_name("unet3d", &arch), GLIA_STATUS_OK);
    assert_int_equal(arch, GLIA_MODEL_UNET3D);
    assert_int_equal(glia_model_arch_from_name("unet4d", &arch), GLIA_STATUS_INVALID_ARGUMENT);
    assert_non_null(strstr(glia_last_error(), "unet4d"));
    assert_null(glia_model_arch_name(GLIA_MODEL_ARCH_COUNT_));
    assert_int_equal(glia_model_config_default(GLIA_MODEL_ARCH_COUNT_, &c), GLIA_STATUS_INVALID_ARGUMENT);
    glia_model_free(NULL);
}

static int setup(void **state)
{
    (void)state;
    char spec[32];
    snprintf(spec, sizeof spec, strcmp(backend_name, "cpu") ? "%s:0" : "%s", backend_name);
    glia_device_options o = {.cache_dir = gt_cache_dir()}, r = {.reference = 1, .threads = 1};
    if (glia_device_open(spec, &o, &dev) != GLIA_STATUS_OK) {
        dev = NULL;
        if (gt_backend_required(backend_name)) {
            fprintf(stderr, "backend %s is required but cannot be opened: %s\n", backend_name, glia_last_error());
            return -1;
        }
    }
    return glia_device_open("cpu", &r, &ref) == GLIA_STATUS_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    /* close reports tensors still alive: a leak in a model or its forward fails here */
    int rc = glia_device_close(dev) == GLIA_STATUS_OK && glia_device_close(ref) == GLIA_STATUS_OK ? 0 : -1;
    if (rc)
        fprintf(stderr, "device close: %s\n", glia_last_error());
    return rc;
}

int main(int argc, char **argv)
{
    backend_name = argc > 1 ? argv[1] : "cpu";
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_param_counts),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_seeded_init),
        cmocka_unit_test(test_forward_matches_reference),
        cmocka_unit_test(test_training_loss_falls),
        cmocka_unit_test(test_rejections),
    };
    return cmocka_run_group_tests_name(backend_name, tests, setup, teardown);
}
