/* SwinUNETR (Hatamizadeh et al. 2022) as MONAI 1.5 builds it, 3-D, with
 * MONAI's defaults: patch 2, window 7, depths 2,2,2,2, heads 3,6,12,24,
 * normalised skips, instance norm, no dropout. Parameters carry MONAI's names
 * and shapes, so a state_dict moves between glia and PyTorch with strict
 * loading, the int64 relative_position_index buffers included (stored for
 * that; forward derives the same index on the host, swin_blocks.c). The Swin stages are in swin_blocks.c; this file holds
 * the configuration, the parameters and the convolutional encoder/decoder. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "core/error.h"
#include "swin.h"

#define STEP(v, call) GLIA_SWIN_STEP(s, v, call)
#define FEATURE_SIZE(c) GLIA_SWIN_FEATURE_SIZE(c)
#define USE_V2(c) GLIA_SWIN_USE_V2(c)

/* ---- parameters ------------------------------------------------------------------ */
enum { INIT_ZERO, INIT_ONE, INIT_UNIFORM, INIT_NORMAL };

/* A trainable tensor under name, zeros, ones, U(-a, a) or N(0, a^2). */
static glia_status add_param(glia_model *m, const char *name, int nd, const int64_t *shape, int init, float a,
                             glia_tensor **t)
{
    glia_tensor *x = NULL;
    *t = NULL;
    if (m->list_fn)
        return glia_mlist(m, name, NULL, GLIA_PARAM_TRAINABLE, GLIA_ETYPE_F32, nd, shape);
    glia_status s = glia_tensor_zeros(m->dev, nd, shape, &x);
    if (s == GLIA_STATUS_OK && init == INIT_ONE)
        s = glia_tensor_fill(x, 1.0f);
    if (s == GLIA_STATUS_OK && init == INIT_UNIFORM)
        s = glia_tensor_uniform(x, &m->rng, -a, a);
    if (s == GLIA_STATUS_OK && init == INIT_NORMAL)
        s = glia_tensor_normal(x, &m->rng, 0.0f, a);
    if (s == GLIA_STATUS_OK)
        s = glia_params_add(m->params, name, GLIA_PARAM_TRAINABLE, x);
    *t = s == GLIA_STATUS_OK ? x : NULL; /* the set holds its own reference */
    glia_tensor_free(x);
    return s;
}

/* "<prefix>.<suffix>" as a parameter of the given shape. */
static glia_status add_named(glia_model *m, const char *prefix, const char *suffix, int nd, const int64_t *shape,
                             int init, float a, glia_tensor **t)
{
    char name[160];
    glia_status s = glia_mjoin(name, sizeof name, prefix, suffix);
    return s == GLIA_STATUS_OK ? add_param(m, name, nd, shape, init, a, t) : s;
}

/* nn.Linear(in, out): PyTorch's default U(-1/sqrt(in), 1/sqrt(in)) for both. */
static glia_status add_linear(glia_model *m, glia_swin_wb *l, const char *prefix, int in, int out, int bias)
{
    float bound = 1.0f / sqrtf((float)in);
    glia_status s = add_named(m, prefix, "weight", 2, (const int64_t[]){out, in}, INIT_UNIFORM, bound, &l->w);
    l->b = NULL;
    if (s == GLIA_STATUS_OK && bias)
        s = add_named(m, prefix, "bias", 1, (const int64_t[]){out}, INIT_UNIFORM, bound, &l->b);
    return s;
}

static glia_status add_norm(glia_model *m, glia_swin_wb *l, const char *prefix, int dim)
{
    glia_status s = add_named(m, prefix, "weight", 1, (const int64_t[]){dim}, INIT_ONE, 0.0f, &l->w);
    return s == GLIA_STATUS_OK ? add_named(m, prefix, "bias", 1, (const int64_t[]){dim}, INIT_ZERO, 0.0f, &l->b) : s;
}

/* UnetResBlock under "<prefix>.conv<i>.conv" (MONAI's Convolution wrapper adds the ".conv"). */
static glia_status add_res(glia_model *m, glia_swin_res *r, const char *prefix, int cin, int cout)
{
    char n[3][160];
    glia_status s = GLIA_STATUS_OK;
    glia_mconv *conv[3] = {&r->conv1, &r->conv2, &r->conv3};
    r->downsample = cin != cout;
    for (int i = 0; i < 2 + r->downsample && s == GLIA_STATUS_OK; i++) {
        if ((size_t)snprintf(n[i], sizeof n[i], "%s.conv%d.conv", prefix, i + 1) >= sizeof n[i])
            return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "swinunetr: name '%s' is too long", prefix);
        s = glia_mconv_add(m, conv[i], n[i], i == 1 ? cout : cin, cout, i == 2 ? 1 : 3, GLIA_MCONV_NO_BIAS);
    }
    return s;
}

/* attn.relative_position_index: MONAI's int64 (W^3, W^3) buffer. */
static glia_status add_rel_index(glia_model *m, const char *prefix)
{
    enum { N = GLIA_SWIN_WINDOW * GLIA_SWIN_WINDOW * GLIA_SWIN_WINDOW };
    char name[160];
    if (m->list_fn)
        return glia_mlist(m, prefix, "attn.relative_position_index", GLIA_PARAM_BUFFER, GLIA_ETYPE_I64, 2,
                          (const int64_t[]){N, N});
    int64_t *v = malloc((size_t)N * N * sizeof *v);
    glia_tensor *t = NULL;
    glia_status s = v ? glia_mjoin(name, sizeof name, prefix, "attn.relative_position_index")
                      : glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "swinunetr: no host memory for the position index");
    for (int i = 0; s == GLIA_STATUS_OK && i < N; i++)
        for (int j = 0; j < N; j++)
            v[i * N + j] = glia_swin_rel_index(i, j);
    if (s == GLIA_STATUS_OK &&
        (s = glia_tensor_from_host_typed(m->dev, GLIA_ETYPE_I64, 2, (const int64_t[]){N, N}, v, &t)) == GLIA_STATUS_OK)
        s = glia_params_add(m->params, name, GLIA_PARAM_BUFFER, t);
    glia_tensor_free(t);
    free(v);
    return s;
}

static glia_status add_block(glia_model *m, glia_swin_block *bk, const char *p, int dim, int heads)
{
    char n[6][160];
    static const char *const part[6] = {"norm1", "attn.qkv", "attn.proj", "norm2", "mlp.linear1", "mlp.linear2"};
    glia_status s = GLIA_STATUS_OK;
    for (int i = 0; i < 6 && s == GLIA_STATUS_OK; i++)
        s = glia_mjoin(n[i], sizeof n[i], p, part[i]);
    int64_t rows = (2 * GLIA_SWIN_WINDOW - 1) * (2 * GLIA_SWIN_WINDOW - 1) * (2 * GLIA_SWIN_WINDOW - 1);
    if (s == GLIA_STATUS_OK && (s = add_norm(m, &bk->norm1, n[0], dim)) == GLIA_STATUS_OK)
        /* MONAI: trunc_normal_(std=0.02); a plain normal is as good a start */
        s = add_named(m, p, "attn.relative_position_bias_table", 2, (const int64_t[]){rows, heads}, INIT_NORMAL,
                      0.02f, &bk->table);
    if (s == GLIA_STATUS_OK && (s = add_rel_index(m, p)) == GLIA_STATUS_OK &&
        (s = add_linear(m, &bk->qkv, n[1], dim, 3 * dim, 1)) == GLIA_STATUS_OK &&
        (s = add_linear(m, &bk->proj, n[2], dim, dim, 1)) == GLIA_STATUS_OK &&
        (s = add_norm(m, &bk->norm2, n[3], dim)) == GLIA_STATUS_OK &&
        (s = add_linear(m, &bk->fc1, n[4], dim, 4 * dim, 1)) == GLIA_STATUS_OK)
        s = add_linear(m, &bk->fc2, n[5], 4 * dim, dim, 1);
    return s;
}

static glia_status add_stage(glia_model *m, glia_swin_stage *st, int i, int use_v2)
{
    char p[160], q[160];
    glia_status s = GLIA_STATUS_OK;
    for (int j = 0; j < GLIA_SWIN_DEPTH && s == GLIA_STATUS_OK; j++) {
        snprintf(p, sizeof p, "swinViT.layers%d.0.blocks.%d", i + 1, j);
        s = add_block(m, &st->blk[j], p, st->dim, st->heads);
    }
    snprintf(p, sizeof p, "swinViT.layers%d.0.downsample.norm", i + 1);
    snprintf(q, sizeof q, "swinViT.layers%d.0.downsample.reduction", i + 1);
    if (s == GLIA_STATUS_OK && (s = add_norm(m, &st->merge_norm, p, 8 * st->dim)) == GLIA_STATUS_OK)
        s = add_linear(m, &st->reduction, q, 8 * st->dim, 2 * st->dim, 0);
    snprintf(p, sizeof p, "swinViT.layers%dc.0.layer", i + 1);
    if (s == GLIA_STATUS_OK && use_v2)
        s = add_res(m, &st->v2, p, st->dim, st->dim);
    return s;
}

static glia_status swin_build(glia_model *m)
{
    const glia_model_config *c = &m->cfg;
    glia_swin_layers *l = glia_mlayers_new(m, sizeof *l);
    if (!l)
        return GLIA_STATUS_OUT_OF_MEMORY;
    int fs = FEATURE_SIZE(c), in = c->in_channels;   /* fs % 12 == 0: the field table checked it */
    glia_status s = glia_mconv_add(m, &l->embed, "swinViT.patch_embed.proj", in, fs, 2, GLIA_MCONV_STRIDED);
    for (int i = 0; i < GLIA_SWIN_STAGES && s == GLIA_STATUS_OK; i++) {
        l->stage[i].dim = fs << i;
        l->stage[i].heads = 3 << i;
        s = add_stage(m, &l->stage[i], i, USE_V2(c));
    }
    static const char *const enc[5] = {"encoder1.layer", "encoder2.layer", "encoder3.layer", "encoder4.layer",
                                       "encoder10.layer"};
    const int enc_in[5] = {in, fs, 2 * fs, 4 * fs, 16 * fs}, enc_out[5] = {fs, fs, 2 * fs, 4 * fs, 16 * fs};
    for (int i = 0; i < 5 && s == GLIA_STATUS_OK; i++)
        s = add_res(m, &l->enc[i], enc[i], enc_in[i], enc_out[i]);
    /* decoder5 .. decoder1: transp_conv from cin to cout, conv_block on [up, skip] */
    const int dec_in[5] = {16 * fs, 8 * fs, 4 * fs, 2 * fs, fs}, dec_out[5] = {8 * fs, 4 * fs, 2 * fs, fs, fs};
    for (int i = 0; i < 5 && s == GLIA_STATUS_OK; i++) {
        char p[64], q[64];
        snprintf(p, sizeof p, "decoder%d.transp_conv.conv", 5 - i);
        snprintf(q, sizeof q, "decoder%d.conv_block", 5 - i);
        if ((s = glia_mconv_add(m, &l->up[i], p, dec_in[i], dec_out[i], 2, GLIA_MCONV_TRANSPOSED | GLIA_MCONV_NO_BIAS)) ==
            GLIA_STATUS_OK)
            s = add_res(m, &l->dec[i], q, 2 * dec_out[i], dec_out[i]);
    }
    if (s == GLIA_STATUS_OK)
        s = glia_mconv_add(m, &l->out, "out.conv.conv", fs, c->out_channels, 1, 0);
    return s;
}

/* ---- forward --------------------------------------------------------------------- */
glia_status glia_swin_res_fwd(const glia_swin_res *r, glia_tensor *x, glia_tensor **out)
{
    glia_tensor *h = NULL, *res = NULL;
    glia_status s = glia_mconv_fwd(&r->conv1, x, &h);
    STEP(h, glia_instance_norm(h, 1e-5f, &next_));
    STEP(h, glia_leaky_relu(h, 0.01f, &next_));
    STEP(h, glia_mconv_fwd(&r->conv2, h, &next_));
    STEP(h, glia_instance_norm(h, 1e-5f, &next_));
    if (r->downsample) {
        if (s == GLIA_STATUS_OK)
            s = glia_mconv_fwd(&r->conv3, x, &res);
        STEP(res, glia_instance_norm(res, 1e-5f, &next_));
    } else {
        res = glia_tensor_retain(x);
    }
    STEP(h, glia_add(h, res, &next_));
    STEP(h, glia_leaky_relu(h, 0.01f, &next_));
    glia_tensor_free(res);
    *out = h;
    return s;
}

/* UnetrUpBlock: conv_block(cat(transp_conv(x), skip)). */
static glia_status up_fwd(const glia_mconv *up, const glia_swin_res *blk, glia_tensor *x, glia_tensor *skip,
                          glia_tensor **out)
{
    glia_tensor *u = NULL;
    glia_status s = glia_mconv_fwd(up, x, &u);
    STEP(u, glia_cat((glia_tensor *const[]){u, skip}, 2, 1, &next_));
    STEP(u, glia_swin_res_fwd(blk, u, &next_));
    *out = u;
    return s;
}

/* No dropout and no batch norm: training and evaluation compute the same. */
static glia_status swin_forward(glia_model *m, glia_tensor *x, int train, glia_tensor **out)
{
    (void)train;
    const glia_swin_layers *l = m->layers;
    glia_tensor *hs[5] = {0}, *enc[4] = {0}, *cur = NULL, *dec = NULL;
    glia_status s = glia_mconv_fwd(&l->embed, x, &cur);
    if (s == GLIA_STATUS_OK)
        s = glia_swin_channel_norm(cur, &hs[0]);
    for (int i = 0; i < GLIA_SWIN_STAGES; i++) {
        if (USE_V2(&m->cfg))
            STEP(cur, glia_swin_res_fwd(&l->stage[i].v2, cur, &next_));
        STEP(cur, glia_swin_stage_fwd(&l->stage[i], cur, &next_));
        if (s == GLIA_STATUS_OK)
            s = glia_swin_channel_norm(cur, &hs[i + 1]);
    }
    glia_tensor_free(cur);
    glia_tensor *enc_in[4] = {x, hs[0], hs[1], hs[2]};
    for (int i = 0; i < 4 && s == GLIA_STATUS_OK; i++)
        s = glia_swin_res_fwd(&l->enc[i], enc_in[i], &enc[i]);
    if (s == GLIA_STATUS_OK)
        s = glia_swin_res_fwd(&l->enc[4], hs[4], &dec);
    /* MONAI quirk: decoder5's skip is hs[3] itself, with no encoder block */
    glia_tensor *skip[5] = {hs[3], enc[3], enc[2], enc[1], enc[0]};
    for (int i = 0; i < 5; i++)
        STEP(dec, up_fwd(&l->up[i], &l->dec[i], dec, skip[i], &next_));
    if (s == GLIA_STATUS_OK)
        s = glia_mconv_fwd(&l->out, dec, out);
    glia_tensor_free(dec);
    for (int i = 0; i < 5; i++)
        glia_tensor_free(hs[i]);
    for (int i = 0; i < 4; i++)
        glia_tensor_free(enc[i]);
    return s;
}

/* ---- configuration ----------------------------------------------------------------- */
static const glia_model_field swin_fields[] = {
    /* a multiple of 12: the heads 3, 6, 12, 24 divide every stage's channels */
    {.key = "feature_size", .flag = "--feature-size", .type = GLIA_MODEL_FIELD_INT, .min = 12, .max = 1536,
     .multiple = 12, .min_count = 1, .max_count = 1, .offset = offsetof(glia_model_config, extra[0]),
     .help = "embedding channels of the first stage (a multiple of 12)"},
    GLIA_MFIELD("use_v2", "--v2", GLIA_MODEL_FIELD_BOOL, 0, 1, extra[1],
                "SwinUNETR-v2: a residual conv block before each Swin stage"),
};

/* MONAI's names: the patch embedding gives the channels in and feature_size,
 * out.conv.conv the channels out, layers1c the v2 blocks. */
static int swin_recognise(const glia_arch *a, glia_model_shape_fn shape_of, void *ctx, glia_model_config *cfg)
{
    (void)a;
    int64_t e[8], o[8];
    if (shape_of(ctx, "swinViT.patch_embed.proj.weight", e) != 5 || shape_of(ctx, "out.conv.conv.weight", o) != 5)
        return 0;
    cfg->in_channels = e[1] >= 1 && e[1] <= 65536 ? (int)e[1] : 0;
    cfg->out_channels = o[0] >= 1 && o[0] <= 65536 ? (int)o[0] : 0;
    FEATURE_SIZE(cfg) = e[0] >= 1 && e[0] <= 65536 ? (int)e[0] : 0;
    USE_V2(cfg) = glia_mhas(shape_of, ctx, "swinViT.layers1c.0.layer.conv1.conv.weight");
    return 1;
}

/* UnetResBlock's convolutions: two 3^3 and, when channels change, the 1^3 residual. */
static void res_layers(glia_mlayers *l, int cin, int cout, int64_t side, int needs_dx)
{
    glia_mlayer(l, cin, cout, side, 3, 0, 1, needs_dx);
    glia_mlayer(l, cout, cout, side, 3, 0, 1, 1);
    if (cin != cout)
        glia_mlayer(l, cin, cout, side, 1, 0, 1, needs_dx);
}

/* The patch embedding (its input is the image: no input gradient), the v2
 * blocks, the encoder and the decoder; the Swin stages' matrix products are
 * glia_swin_matmul_flops's. */
static void swin_conv_layers(glia_mlayers *l, const glia_model_config *c, int64_t size)
{
    int fs = FEATURE_SIZE(c);
    glia_mlayer_strided(l, c->in_channels, fs, size, 2, 0);
    for (int i = 0; USE_V2(c) && i < GLIA_SWIN_STAGES; i++)
        res_layers(l, fs << i, fs << i, size >> (i + 1), 1);
    res_layers(l, c->in_channels, fs, size, 0);
    for (int i = 0; i < 3; i++)
        res_layers(l, fs << i, fs << i, size >> (i + 1), 1);
    res_layers(l, 16 * fs, 16 * fs, size >> 5, 1);
    const int dec_in[5] = {16 * fs, 8 * fs, 4 * fs, 2 * fs, fs}, dec_out[5] = {8 * fs, 4 * fs, 2 * fs, fs, fs};
    for (int i = 0; i < 5; i++) {
        glia_mlayer(l, dec_in[i], dec_out[i], size >> (4 - i), 2, 1, 1, 1);
        res_layers(l, 2 * dec_out[i], dec_out[i], size >> (4 - i), 1);
    }
    glia_mlayer(l, fs, c->out_channels, size, 1, 0, 1, 1);
}

const glia_arch glia_arch_swinunetr = {
    .name = "swinunetr",
    .nsp = 3,
    /* levels 5 (features unused) makes the input sides multiples of 32:
       patch 2 and four 2x merges */
    .defaults = {.arch = GLIA_MODEL_SWINUNETR, .in_channels = 4, .out_channels = 3, .levels = 5,
                 .extra = {48, 0}},
    .pool_levels_less = 0,
    .fields = swin_fields,
    .nfields = sizeof swin_fields / sizeof swin_fields[0],
    .recognise = swin_recognise,
    .build = swin_build,
    .conv_layers = swin_conv_layers,
    .matmul_flops = glia_swin_matmul_flops,
    .forward = swin_forward,
};
