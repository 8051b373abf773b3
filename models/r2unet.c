/* R2U-Net (Alom et al. 2018): a U-Net whose blocks are recurrent residual
 * convolutions. A recurrent block applies one conv+bn+ReLU t+1 times, feeding
 * the block input back in: x1 = f(x), then t times x1 = f(x + x1). */
#include <stdlib.h>
#include "core/error.h"
#include "model_impl.h"

typedef struct conv_bn {
    glia_mconv conv;
    glia_mbn bn;
} conv_bn;

/* y = proj(x); out = y + rec2(rec1(y)) */
typedef struct rrcnn {
    glia_mconv proj;
    conv_bn rec1, rec2;
} rrcnn;

typedef struct r2_layers {
    rrcnn enc[GLIA_MODEL_MAX_LEVELS], dec[GLIA_MODEL_MAX_LEVELS];
    conv_bn up[GLIA_MODEL_MAX_LEVELS];
    glia_mconv head;
} r2_layers;

static glia_status conv_bn_add(glia_model *m, conv_bn *cb, const char *prefix, int cin, int cout)
{
    char n[192];
    glia_status s = glia_mjoin(n, sizeof n, prefix, "conv");
    if (s == GLIA_STATUS_OK && (s = glia_mconv_add(m, &cb->conv, n, cin, cout, 3, 0)) == GLIA_STATUS_OK &&
        (s = glia_mjoin(n, sizeof n, prefix, "bn")) == GLIA_STATUS_OK)
        s = glia_mbn_add(m, &cb->bn, n, cout);
    return s;
}

static glia_status rrcnn_add(glia_model *m, rrcnn *r, const char *prefix, int cin, int cout)
{
    char n[192];
    glia_status s = glia_mjoin(n, sizeof n, prefix, "proj");
    if (s == GLIA_STATUS_OK && (s = glia_mconv_add(m, &r->proj, n, cin, cout, 1, 0)) == GLIA_STATUS_OK &&
        (s = glia_mjoin(n, sizeof n, prefix, "rec1")) == GLIA_STATUS_OK &&
        (s = conv_bn_add(m, &r->rec1, n, cout, cout)) == GLIA_STATUS_OK &&
        (s = glia_mjoin(n, sizeof n, prefix, "rec2")) == GLIA_STATUS_OK)
        s = conv_bn_add(m, &r->rec2, n, cout, cout);
    return s;
}

static glia_status r2_build(glia_model *m)
{
    const glia_model_config *c = &m->cfg;
    r2_layers *l = glia_mlayers_new(m, sizeof *l);
    if (!l)
        return GLIA_STATUS_OUT_OF_MEMORY;
    char n[64];
    int L = c->levels, ch = c->in_channels;
    glia_status s = GLIA_STATUS_OK;
    for (int i = 0; i < L && s == GLIA_STATUS_OK; i++) {
        s = rrcnn_add(m, &l->enc[i], glia_mname(n, sizeof n, "enc", i), ch, c->features[i]);
        ch = c->features[i];
    }
    for (int i = 0; i < L - 1 && s == GLIA_STATUS_OK; i++) {
        int f = c->features[L - 2 - i];
        if ((s = conv_bn_add(m, &l->up[i], glia_mname(n, sizeof n, "up", i), ch, f)) == GLIA_STATUS_OK)
            s = rrcnn_add(m, &l->dec[i], glia_mname(n, sizeof n, "dec", i), 2 * f, f);
        ch = f;
    }
    if (s == GLIA_STATUS_OK)
        s = glia_mconv_add(m, &l->head, "head", c->features[0], c->out_channels, 1, 0);
    return s;
}

static glia_status recurrent_fwd(glia_model *m, const conv_bn *cb, glia_tensor *x, int train, glia_tensor **out)
{
    glia_tensor *x1 = NULL, *sum = NULL, *next = NULL;
    glia_status s = glia_mcbr_fwd(m, &cb->conv, &cb->bn, x, train, &x1);
    for (int k = 0; k < m->cfg.t && s == GLIA_STATUS_OK; k++) {
        next = NULL;
        if ((s = glia_add(x, x1, &sum)) == GLIA_STATUS_OK)
            s = glia_mcbr_fwd(m, &cb->conv, &cb->bn, sum, train, &next);
        glia_mreplace(&sum, NULL);
        glia_mreplace(&x1, next);
    }
    if (s == GLIA_STATUS_OK)
        *out = glia_tensor_retain(x1);
    glia_tensor_free(x1);
    return s;
}

static glia_status rrcnn_fwd(glia_model *m, const rrcnn *r, glia_tensor *x, int train, glia_tensor **out)
{
    glia_tensor *y = NULL, *a = NULL, *b = NULL;
    glia_status s = glia_mconv_fwd(&r->proj, x, &y);
    if (s == GLIA_STATUS_OK && (s = recurrent_fwd(m, &r->rec1, y, train, &a)) == GLIA_STATUS_OK &&
        (s = recurrent_fwd(m, &r->rec2, a, train, &b)) == GLIA_STATUS_OK)
        s = glia_add(y, b, out);
    glia_tensor_free(y);
    glia_tensor_free(a);
    glia_tensor_free(b);
    return s;
}

/* [skip, relu(bn(conv(upsample2(x))))] */
static glia_status up_concat(glia_model *m, const conv_bn *up, glia_tensor *x, glia_tensor *skip, int train,
                             glia_tensor **out)
{
    static const int scale[2] = {2, 2};
    glia_tensor *u = NULL, *c = NULL;
    glia_status s = glia_upsample_nearest(x, scale, &u);
    if (s == GLIA_STATUS_OK && (s = glia_mcbr_fwd(m, &up->conv, &up->bn, u, train, &c)) == GLIA_STATUS_OK)
        s = glia_mcat(skip, c, out);
    glia_tensor_free(u);
    glia_tensor_free(c);
    return s;
}

static glia_status r2_forward(glia_model *m, glia_tensor *x, int train, glia_tensor **out)
{
    const r2_layers *l = m->layers;
    int L = m->cfg.levels;
    glia_tensor *skip[GLIA_MODEL_MAX_LEVELS] = {0}, *cur = glia_tensor_retain(x), *next = NULL;
    glia_status s = GLIA_STATUS_OK;
    for (int i = 0; i < L && s == GLIA_STATUS_OK; i++) {
        next = NULL;
        if (i > 0)
            s = glia_mpool2(skip[i - 1], &next);
        glia_mreplace(&cur, next);
        if (s == GLIA_STATUS_OK)
            s = rrcnn_fwd(m, &l->enc[i], i ? cur : x, train, &skip[i]);
    }
    /* the deepest encoder output feeds the first decoder level directly */
    glia_mreplace(&cur, s == GLIA_STATUS_OK ? glia_tensor_retain(skip[L - 1]) : NULL);
    for (int i = 0; i < L - 1 && s == GLIA_STATUS_OK; i++) {
        int lvl = L - 2 - i;
        next = NULL;
        s = up_concat(m, &l->up[i], cur, skip[lvl], train, &next);
        glia_mreplace(&cur, next);
        next = NULL;
        if (s == GLIA_STATUS_OK)
            s = rrcnn_fwd(m, &l->dec[i], cur, train, &next);
        glia_mreplace(&cur, next);
    }
    if (s == GLIA_STATUS_OK)
        s = glia_mconv_fwd(&l->head, cur, out);
    glia_tensor_free(cur);
    for (int i = 0; i < L; i++)
        glia_tensor_free(skip[i]);
    return s;
}

/* At least two levels: the deepest has no pooling after it. Batch norm is
 * part of every recurrent block, so it is no option here. */
static const glia_model_field r2_fields[] = {
    GLIA_MFIELD_FEATURES(2),
    GLIA_MFIELD("t", "--t", GLIA_MODEL_FIELD_INT, 1, 16, t, "recurrent steps of each recurrent block"),
};

/* enc.0.proj.weight (2-D): features from enc.<i>.proj; t shows in no tensor and keeps its default. */
static int r2_recognise(const glia_arch *a, glia_model_shape_fn shape_of, void *ctx, glia_model_config *cfg)
{
    return glia_mrecognise_levels(shape_of, ctx, "proj", a->nsp + 2, cfg);
}

/* A recurrent residual block: the 1x1 projection, then two recurrent convs
 * applied t + 1 times each. */
static void rrcnn_layers(glia_mlayers *l, int cin, int f, int64_t side, int t, int needs_dx)
{
    glia_mlayer(l, cin, f, side, 1, 0, 1, needs_dx);
    glia_mlayer(l, f, f, side, 3, 0, t + 1, 1);
    glia_mlayer(l, f, f, side, 3, 0, t + 1, 1);
}

static void r2_conv_layers(glia_mlayers *l, const glia_model_config *c, int64_t size)
{
    int L = c->levels, ch = c->in_channels;
    for (int i = 0; i < L; i++) {
        rrcnn_layers(l, ch, c->features[i], size >> i, c->t, i > 0);
        ch = c->features[i];
    }
    for (int i = 0; i < L - 1; i++) {
        int lvl = L - 2 - i, f = c->features[lvl];
        glia_mlayer(l, ch, f, size >> lvl, 3, 0, 1, 1);
        rrcnn_layers(l, 2 * f, f, size >> lvl, c->t, 1);
        ch = f;
    }
    glia_mlayer(l, c->features[0], c->out_channels, size, 1, 0, 1, 1);
}

const glia_arch glia_arch_r2unet = {
    .name = "r2unet",
    .nsp = 2,
    .defaults = {.arch = GLIA_MODEL_R2UNET, .in_channels = 3, .out_channels = 1, .levels = 5,
                 .features = {64, 128, 256, 512, 1024}, .batchnorm = 1, .t = 2},
    .pool_levels_less = 1,
    .fields = r2_fields,
    .nfields = sizeof r2_fields / sizeof r2_fields[0],
    .recognise = r2_recognise,
    .build = r2_build,
    .conv_layers = r2_conv_layers,
    .forward = r2_forward,
};
