/* U-Net (Ronneberger et al. 2015), in 2D here and in 3D through unet3d.c: the
 * number of spatial axes comes from the architecture entry. */
#include <stdlib.h>
#include "core/error.h"
#include "model_impl.h"

typedef struct unet_layers {
    glia_double_conv enc[GLIA_MODEL_MAX_LEVELS], bottleneck, dec[GLIA_MODEL_MAX_LEVELS];
    glia_mconv up[GLIA_MODEL_MAX_LEVELS], head;
} unet_layers;

glia_status glia_unet_build(glia_model *m)
{
    const glia_model_config *c = &m->cfg;
    unet_layers *l = glia_mlayers_new(m, sizeof *l);
    if (!l)
        return GLIA_STATUS_OUT_OF_MEMORY;
    char n[64];
    int L = c->levels, ch = c->in_channels, bn = c->batchnorm;
    glia_status s = GLIA_STATUS_OK;
    for (int i = 0; i < L && s == GLIA_STATUS_OK; i++) {
        s = glia_double_conv_add(m, &l->enc[i], glia_mname(n, sizeof n, "enc", i), ch, c->features[i], bn);
        ch = c->features[i];
    }
    if (s == GLIA_STATUS_OK)
        s = glia_double_conv_add(m, &l->bottleneck, "bottleneck", ch, 2 * ch, bn);
    ch *= 2;
    for (int i = 0; i < L && s == GLIA_STATUS_OK; i++) {
        int f = c->features[L - 1 - i];
        if ((s = glia_mconv_add(m, &l->up[i], glia_mname(n, sizeof n, "up", i), ch, f, 2, GLIA_MCONV_TRANSPOSED)) == GLIA_STATUS_OK)
            s = glia_double_conv_add(m, &l->dec[i], glia_mname(n, sizeof n, "dec", i), 2 * f, f, bn);
        ch = f;
    }
    if (s == GLIA_STATUS_OK)
        s = glia_mconv_add(m, &l->head, "head", c->features[0], c->out_channels, 1, 0);
    return s;
}

/* [skip, up(x)] */
static glia_status up_concat(const glia_mconv *up, glia_tensor *x, glia_tensor *skip, glia_tensor **out)
{
    glia_tensor *u = NULL;
    glia_status s = glia_mconv_fwd(up, x, &u);
    if (s == GLIA_STATUS_OK)
        s = glia_mcat(skip, u, out);
    glia_tensor_free(u);
    return s;
}

glia_status glia_unet_forward(glia_model *m, glia_tensor *x, int train, glia_tensor **out)
{
    const unet_layers *l = m->layers;
    int L = m->cfg.levels;
    glia_tensor *skip[GLIA_MODEL_MAX_LEVELS] = {0}, *cur = glia_tensor_retain(x), *next = NULL;
    glia_status s = GLIA_STATUS_OK;
    for (int i = 0; i < L && s == GLIA_STATUS_OK; i++) {
        next = NULL;
        if ((s = glia_double_conv_fwd(m, &l->enc[i], cur, train, &skip[i])) == GLIA_STATUS_OK)
            s = glia_mpool2(skip[i], &next);
        glia_mreplace(&cur, next);
    }
    next = NULL;
    if (s == GLIA_STATUS_OK)
        s = glia_double_conv_fwd(m, &l->bottleneck, cur, train, &next);
    glia_mreplace(&cur, next);
    for (int i = 0; i < L && s == GLIA_STATUS_OK; i++) {
        int lvl = L - 1 - i;
        next = NULL;
        s = up_concat(&l->up[i], cur, skip[lvl], &next);
        glia_mreplace(&cur, next);
        /* the skip is no longer needed here (the tape keeps what backward uses) */
        glia_mreplace(&skip[lvl], NULL);
        next = NULL;
        if (s == GLIA_STATUS_OK)
            s = glia_double_conv_fwd(m, &l->dec[i], cur, train, &next);
        glia_mreplace(&cur, next);
    }
    if (s == GLIA_STATUS_OK)
        s = glia_mconv_fwd(&l->head, cur, out);
    glia_tensor_free(cur);
    for (int i = 0; i < L; i++)
        glia_tensor_free(skip[i]);
    return s;
}

/* The options of unet2d and unet3d beyond the channels. */
const glia_model_field glia_unet_fields[GLIA_UNET_NFIELDS] = {
    GLIA_MFIELD_FEATURES(1),
    GLIA_MFIELD("batchnorm", "--batchnorm", GLIA_MODEL_FIELD_BOOL, 0, 1, batchnorm,
                "batch norm after each 3x3 convolution"),
};

/* enc.0.conv1.weight of the architecture's rank: features from enc.<i>.conv1,
 * batch norm present when enc.0.bn1 is. */
int glia_unet_recognise(const glia_arch *a, glia_model_shape_fn shape_of, void *ctx, glia_model_config *cfg)
{
    if (!glia_mrecognise_levels(shape_of, ctx, "conv1", a->nsp + 2, cfg))
        return 0;
    cfg->batchnorm = glia_mhas(shape_of, ctx, "enc.0.bn1.weight");
    return 1;
}

/* Encoder double convs, the bottleneck, then per level an up-convolution and
 * a double conv on [skip, up], and the 1x1 head. */
void glia_unet_conv_layers(glia_mlayers *l, const glia_model_config *c, int64_t size)
{
    int L = c->levels, ch = c->in_channels;
    int64_t side = size;
    for (int i = 0; i < L; i++, side /= 2) {
        glia_mlayer(l, ch, c->features[i], side, 3, 0, 1, i > 0);
        glia_mlayer(l, c->features[i], c->features[i], side, 3, 0, 1, 1);
        ch = c->features[i];
    }
    glia_mlayer(l, ch, 2 * ch, side, 3, 0, 1, 1);
    glia_mlayer(l, 2 * ch, 2 * ch, side, 3, 0, 1, 1);
    ch *= 2;
    for (int i = 0; i < L; i++) {
        int f = c->features[L - 1 - i];
        side *= 2;
        glia_mlayer(l, ch, f, side, 2, 1, 1, 1);
        glia_mlayer(l, 2 * f, f, side, 3, 0, 1, 1);
        glia_mlayer(l, f, f, side, 3, 0, 1, 1);
        ch = f;
    }
    glia_mlayer(l, c->features[0], c->out_channels, size, 1, 0, 1, 1);
}

const glia_arch glia_arch_unet2d = {
    .name = "unet2d",
    .nsp = 2,
    .defaults = {.arch = GLIA_MODEL_UNET2D, .in_channels = 3, .out_channels = 1, .levels = 4,
                 .features = {64, 128, 256, 512}, .batchnorm = 1},
    .pool_levels_less = 0,
    .fields = glia_unet_fields,
    .nfields = GLIA_UNET_NFIELDS,
    .recognise = glia_unet_recognise,
    .build = glia_unet_build,
    .conv_layers = glia_unet_conv_layers,
    .forward = glia_unet_forward,
};
