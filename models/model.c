/* The model registry, the public model API, and the layers every model shares. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/core.h"
#include "core/error.h"
#include "model_impl.h"

/* The registry: one line per architecture, each defined in its own file. */
static const glia_arch *const archs[GLIA_MODEL_ARCH_COUNT_] = {
    [GLIA_MODEL_UNET2D] = &glia_arch_unet2d,
    [GLIA_MODEL_R2UNET] = &glia_arch_r2unet,
    [GLIA_MODEL_UNET3D] = &glia_arch_unet3d,
    [GLIA_MODEL_SWINUNETR] = &glia_arch_swinunetr,
};

const glia_arch *glia_arch_get(glia_model_arch a) { return (unsigned)a < GLIA_MODEL_ARCH_COUNT_ ? archs[a] : NULL; }

/* ---- registry ------------------------------------------------------------- */
const char *glia_model_arch_name(glia_model_arch arch)
{
    return (unsigned)arch < GLIA_MODEL_ARCH_COUNT_ ? archs[arch]->name : NULL;
}

glia_status glia_model_arch_from_name(const char *name, glia_model_arch *arch)
{
    char known[128] = "";
    for (int i = 0; i < GLIA_MODEL_ARCH_COUNT_; i++) {
        if (name && arch && strcmp(archs[i]->name, name) == 0) {
            *arch = (glia_model_arch)i;
            return GLIA_STATUS_OK;
        }
        snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", i ? ", " : "", archs[i]->name);
    }
    return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "unknown model '%s' (known: %s)", name ? name : "(null)", known);
}

glia_status glia_model_config_default(glia_model_arch arch, glia_model_config *cfg)
{
    if (!cfg || (unsigned)arch >= GLIA_MODEL_ARCH_COUNT_)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_model_config_default: bad architecture %d or NULL",
                           (int)arch);
    *cfg = archs[arch]->defaults;
    return GLIA_STATUS_OK;
}

glia_status glia_model_config_check(const glia_model_config *cfg)
{
    if (!cfg || (unsigned)cfg->arch >= GLIA_MODEL_ARCH_COUNT_)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "model config: NULL or unknown architecture %d",
                           cfg ? (int)cfg->arch : -1);
    return glia_mfields_check_(archs[cfg->arch], cfg);
}

int glia_model_config_spatial_dims(const glia_model_config *cfg)
{
    return cfg && (unsigned)cfg->arch < GLIA_MODEL_ARCH_COUNT_ ? archs[cfg->arch]->nsp : 0;
}

int glia_model_conv_layers(const glia_model_config *cfg, int64_t size, glia_model_conv_layer *out, int max)
{
    if (!cfg || (unsigned)cfg->arch >= GLIA_MODEL_ARCH_COUNT_ || glia_mfields_check_(archs[cfg->arch], cfg) != GLIA_STATUS_OK)
        return 0;
    glia_mlayers l = {out, max, 0};
    archs[cfg->arch]->conv_layers(&l, cfg, size);
    return l.n;
}

double glia_model_matmul_flops(const glia_model_config *cfg, int64_t batch, int64_t size)
{
    if (!cfg || (unsigned)cfg->arch >= GLIA_MODEL_ARCH_COUNT_ || !archs[cfg->arch]->matmul_flops ||
        glia_mfields_check_(archs[cfg->arch], cfg) != GLIA_STATUS_OK)
        return 0;
    return archs[cfg->arch]->matmul_flops(cfg, batch, size);
}

static void add_layer(glia_mlayers *l, glia_model_conv_layer c)
{
    if (l->n < l->max)
        l->out[l->n] = c;
    l->n++;
}

void glia_mlayer(glia_mlayers *l, int64_t cin, int64_t cout, int64_t side, int k, int transposed, int uses,
                 int needs_dx)
{
    add_layer(l, (glia_model_conv_layer){.cin = cin, .cout = cout, .side = side, .k = k, .transposed = transposed,
                                         .uses = uses, .needs_dx = needs_dx});
}

void glia_mlayer_strided(glia_mlayers *l, int64_t cin, int64_t cout, int64_t side, int k, int needs_dx)
{
    add_layer(l, (glia_model_conv_layer){.cin = cin, .cout = cout, .side = side, .k = k, .uses = 1,
                                         .needs_dx = needs_dx, .strided = 1});
}

int glia_model_config_pool_levels(const glia_model_config *cfg)
{
    return cfg && (unsigned)cfg->arch < GLIA_MODEL_ARCH_COUNT_ ? cfg->levels - archs[cfg->arch]->pool_levels_less
                                                               : 0;
}

/* ---- models --------------------------------------------------------------- */
glia_status glia_model_create(glia_device *dev, const glia_model_config *cfg, uint64_t seed, glia_model **out)
{
    if (!out)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_model_create: out is NULL");
    *out = NULL;
    if (!dev)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_model_create: device is NULL");
    glia_status s = glia_model_config_check(cfg);
    if (s != GLIA_STATUS_OK)
        return s;
    glia_model *m = calloc(1, sizeof *m);
    if (!m)
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "glia_model_create: no host memory");
    m->cfg = *cfg;
    glia_mfields_canonical_(&m->cfg);
    m->arch = archs[cfg->arch];
    m->dev = dev;
    glia_rng_init(&m->rng, seed);
    if ((s = glia_params_create(&m->params)) == GLIA_STATUS_OK)
        s = m->arch->build(m);
    if (s != GLIA_STATUS_OK) {
        glia_model_free(m);
        return s;
    }
    *out = m;
    return GLIA_STATUS_OK;
}

glia_status glia_model_tensors(const glia_model_config *cfg, glia_model_tensor_fn fn, void *ctx)
{
    if (!fn)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_model_tensors: no callback");
    glia_status s = glia_model_config_check(cfg);
    if (s != GLIA_STATUS_OK)
        return s;
    /* the builders themselves list, so the names and shapes cannot drift from glia_model_create's */
    glia_model m = {.cfg = *cfg, .arch = archs[cfg->arch], .list_fn = fn, .list_ctx = ctx};
    glia_mfields_canonical_(&m.cfg);
    s = m.arch->build(&m);
    free(m.layers);
    return s;
}

glia_status glia_mlist(glia_model *m, const char *prefix, const char *suffix, glia_param_kind kind, glia_etype et,
                       int nd, const int64_t *shape)
{
    char name[192];
    glia_status s = suffix ? glia_mjoin(name, sizeof name, prefix, suffix) : GLIA_STATUS_OK;
    if (s != GLIA_STATUS_OK)
        return s;
    glia_model_tensor t = {.name = suffix ? name : prefix, .kind = kind, .etype = et, .ndim = nd};
    for (int i = 0; i < nd && i < GLIA_MAX_DIMS; i++)
        t.shape[i] = shape[i];
    return m->list_fn(m->list_ctx, &t);
}

void glia_model_free(glia_model *m)
{
    if (!m)
        return;
    glia_params_free(m->params);
    free(m->layers);
    free(m);
}

const glia_model_config *glia_model_get_config(const glia_model *m) { return m ? &m->cfg : NULL; }
glia_device *glia_model_device(const glia_model *m) { return m ? m->dev : NULL; }
glia_params *glia_model_params(glia_model *m) { return m ? m->params : NULL; }

glia_status glia_model_check_input(const glia_model *m, int ndim, const int64_t *shape)
{
    if (!m || !shape)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_model_check_input: NULL model or shape");
    const char *name = m->arch->name;
    int nsp = m->arch->nsp, levels = glia_model_config_pool_levels(&m->cfg);
    if (ndim != 2 + nsp)
        return glia_seterr(GLIA_STATUS_SHAPE_MISMATCH, "%s takes a %d-D input (N,C,%s), got %d dimensions", name,
                           2 + nsp, nsp == 3 ? "D,H,W" : "H,W", ndim);
    if (shape[0] < 1)
        return glia_seterr(GLIA_STATUS_SHAPE_MISMATCH, "%s: the batch is empty", name);
    if (shape[1] != m->cfg.in_channels)
        return glia_seterr(GLIA_STATUS_SHAPE_MISMATCH, "%s takes %d input channels, got %lld", name,
                           m->cfg.in_channels, (long long)shape[1]);
    int64_t mult = (int64_t)1 << levels;
    for (int i = 0; i < nsp; i++)
        if (shape[2 + i] < mult || shape[2 + i] % mult)
            return glia_seterr(GLIA_STATUS_SHAPE_MISMATCH,
                               "%s: spatial size %lld on axis %d is not a multiple of %lld (%d poolings by 2)", name,
                               (long long)shape[2 + i], i, (long long)mult, levels);
    return GLIA_STATUS_OK;
}

glia_status glia_model_forward(glia_model *m, glia_tensor *x, int train, glia_tensor **out)
{
    if (!out)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_model_forward: out is NULL");
    *out = NULL;
    if (!m || !x)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_model_forward: NULL model or input");
    int64_t shape[GLIA_MAX_DIMS];
    int nd = glia_tensor_ndim(x);
    for (int i = 0; i < nd; i++)
        shape[i] = glia_tensor_dim(x, i);
    glia_status s = glia_model_check_input(m, nd, shape);
    if (s == GLIA_STATUS_OK)
        s = m->arch->forward(m, x, train ? 1 : 0, out);
    return s;
}

/* ---- shared layers ---------------------------------------------------------- */
const char *glia_mname(char *buf, size_t len, const char *prefix, int i)
{
    if ((size_t)snprintf(buf, len, "%s.%d", prefix, i) >= len)
        buf[0] = '\0'; /* an empty name: glia_params_add rejects it */
    return buf;
}

void *glia_mlayers_new(glia_model *m, size_t bytes)
{
    if (!(m->layers = calloc(1, bytes)))
        glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "%s: no host memory for the layer table", m->arch->name);
    return m->layers;
}

glia_status glia_mjoin(char *buf, size_t len, const char *prefix, const char *suffix)
{
    if ((size_t)snprintf(buf, len, "%s.%s", prefix, suffix) >= len)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "model build: name '%s.%s' is too long", prefix, suffix);
    return GLIA_STATUS_OK;
}

static glia_status resolve(glia_model *m, const char *prefix, const char *suffix, glia_tensor **t)
{
    char name[192];
    glia_status s = glia_mjoin(name, sizeof name, prefix, suffix);
    if (s != GLIA_STATUS_OK)
        return s;
    *t = glia_params_find(m->params, name);
    return *t ? GLIA_STATUS_OK : glia_seterr(GLIA_STATUS_INTERNAL, "model build: '%s' was not added", name);
}

glia_status glia_mconv_add(glia_model *m, glia_mconv *c, const char *prefix, int cin, int cout, int k, int flags)
{
    int ks[3] = {k, k, k}, nsp = m->arch->nsp, bias = !(flags & GLIA_MCONV_NO_BIAS);
    int strided = flags & (GLIA_MCONV_TRANSPOSED | GLIA_MCONV_STRIDED);
    memset(c, 0, sizeof *c);
    if (m->list_fn) {
        /* glia_params_add_conv's shapes: a transposed weight is (cin, cout, k...) */
        int tr = (flags & GLIA_MCONV_TRANSPOSED) != 0;
        int64_t shape[5] = {tr ? cin : cout, tr ? cout : cin, k, k, k};
        glia_status s = glia_mlist(m, prefix, "weight", GLIA_PARAM_TRAINABLE, GLIA_ETYPE_F32, 2 + nsp, shape);
        int64_t nb = cout;
        return s == GLIA_STATUS_OK && bias ? glia_mlist(m, prefix, "bias", GLIA_PARAM_TRAINABLE, GLIA_ETYPE_F32, 1, &nb)
                                           : s;
    }
    c->transposed = (flags & GLIA_MCONV_TRANSPOSED) != 0;
    for (int i = 0; i < nsp; i++) {
        c->prm.stride[i] = strided ? k : 1;
        c->prm.padding[i] = strided ? 0 : k / 2;
    }
    glia_status s = glia_params_add_conv(m->params, m->dev, &m->rng, prefix, nsp, cin, cout, ks, bias, c->transposed);
    if (s == GLIA_STATUS_OK && (s = resolve(m, prefix, "weight", &c->w)) == GLIA_STATUS_OK && bias)
        s = resolve(m, prefix, "bias", &c->b);
    return s;
}

glia_status glia_mbn_add(glia_model *m, glia_mbn *bn, const char *prefix, int channels)
{
    memset(bn, 0, sizeof *bn);
    if (m->list_fn) {
        /* glia_params_add_batchnorm's entries */
        static const char *const part[4] = {"weight", "bias", "running_mean", "running_var"};
        int64_t c = channels;
        glia_status s = GLIA_STATUS_OK;
        for (int i = 0; i < 4 && s == GLIA_STATUS_OK; i++)
            s = glia_mlist(m, prefix, part[i], i < 2 ? GLIA_PARAM_TRAINABLE : GLIA_PARAM_BUFFER, GLIA_ETYPE_F32, 1, &c);
        return s == GLIA_STATUS_OK ? glia_mlist(m, prefix, "num_batches_tracked", GLIA_PARAM_COUNTER, GLIA_ETYPE_I64, 0,
                                                NULL)
                                   : s;
    }
    glia_status s = glia_mjoin(bn->counter, sizeof bn->counter, prefix, "num_batches_tracked");
    if (s == GLIA_STATUS_OK)
        s = glia_params_add_batchnorm(m->params, m->dev, prefix, channels);
    if (s == GLIA_STATUS_OK && (s = resolve(m, prefix, "weight", &bn->gamma)) == GLIA_STATUS_OK &&
        (s = resolve(m, prefix, "bias", &bn->beta)) == GLIA_STATUS_OK &&
        (s = resolve(m, prefix, "running_mean", &bn->mean)) == GLIA_STATUS_OK)
        s = resolve(m, prefix, "running_var", &bn->var);
    return s;
}

glia_status glia_double_conv_add(glia_model *m, glia_double_conv *dc, const char *prefix, int cin, int cout,
                                 int has_bn)
{
    char n[4][192];
    dc->has_bn = has_bn;
    glia_status s = glia_mjoin(n[0], sizeof n[0], prefix, "conv1");
    if (s == GLIA_STATUS_OK && (s = glia_mjoin(n[1], sizeof n[1], prefix, "bn1")) == GLIA_STATUS_OK &&
        (s = glia_mjoin(n[2], sizeof n[2], prefix, "conv2")) == GLIA_STATUS_OK)
        s = glia_mjoin(n[3], sizeof n[3], prefix, "bn2");
    if (s == GLIA_STATUS_OK)
        s = glia_mconv_add(m, &dc->conv1, n[0], cin, cout, 3, 0);
    if (s == GLIA_STATUS_OK && has_bn)
        s = glia_mbn_add(m, &dc->bn1, n[1], cout);
    if (s == GLIA_STATUS_OK)
        s = glia_mconv_add(m, &dc->conv2, n[2], cout, cout, 3, 0);
    if (s == GLIA_STATUS_OK && has_bn)
        s = glia_mbn_add(m, &dc->bn2, n[3], cout);
    return s;
}

glia_status glia_mconv_fwd(const glia_mconv *c, glia_tensor *x, glia_tensor **out)
{
    return c->transposed ? glia_conv_transpose(x, c->w, c->b, &c->prm, out) : glia_conv(x, c->w, c->b, &c->prm, out);
}

/* PyTorch's defaults: momentum 0.1, eps 1e-5; every training-mode call counts a batch. */
static glia_status bn_fwd(glia_model *m, const glia_mbn *bn, glia_tensor *x, int train, glia_tensor **out)
{
    glia_status s = train && m->sync_sums ? glia_batch_norm_sync(x, bn->gamma, bn->beta, bn->mean, bn->var,
                                                                 GLIA_MBN_MOMENTUM, GLIA_MBN_EPS, m->sync_sums,
                                                                 m->sync_user, out)
                                          : glia_batch_norm(x, bn->gamma, bn->beta, bn->mean, bn->var, train,
                                                            GLIA_MBN_MOMENTUM, GLIA_MBN_EPS, out);
    int64_t n = 0;
    if (s == GLIA_STATUS_OK && train && (s = glia_params_counter(m->params, bn->counter, &n)) == GLIA_STATUS_OK)
        s = glia_params_set_counter(m->params, bn->counter, n + 1);
    return s;
}

void glia_model_set_sync_bn(glia_model *m, glia_sum_fn sums, void *user)
{
    if (m) {
        m->sync_sums = sums;
        m->sync_user = user;
    }
}

glia_status glia_mcbr_fwd(glia_model *m, const glia_mconv *c, const glia_mbn *bn, glia_tensor *x, int train,
                          glia_tensor **out)
{
    glia_tensor *y = NULL, *z = NULL;
    /* inference that records nothing on the tape: batch norm folded into the convolution */
    glia_tensor *const in[5] = {x, c->w, c->b, bn ? bn->gamma : NULL, bn ? bn->beta : NULL};
    if (bn && !train && !c->transposed && !glia_grad_needed(m->dev, in, 5)) {
        glia_tensor *w = NULL, *b = NULL;
        glia_status s = glia_mbn_fold(c, bn, &w, &b);
        if (s == GLIA_STATUS_OK && (s = glia_conv(x, w, b, &c->prm, &y)) == GLIA_STATUS_OK)
            s = glia_relu(y, out);
        glia_tensor_free(w);
        glia_tensor_free(b);
        glia_tensor_free(y);
        return s;
    }
    glia_status s = glia_mconv_fwd(c, x, &y);
    if (s == GLIA_STATUS_OK && bn)
        s = bn_fwd(m, bn, y, train, &z);
    if (s == GLIA_STATUS_OK)
        s = glia_relu(bn ? z : y, out);
    glia_tensor_free(y);
    glia_tensor_free(z);
    return s;
}

glia_status glia_double_conv_fwd(glia_model *m, const glia_double_conv *dc, glia_tensor *x, int train,
                                 glia_tensor **out)
{
    glia_tensor *h = NULL;
    glia_status s = glia_mcbr_fwd(m, &dc->conv1, dc->has_bn ? &dc->bn1 : NULL, x, train, &h);
    if (s == GLIA_STATUS_OK)
        s = glia_mcbr_fwd(m, &dc->conv2, dc->has_bn ? &dc->bn2 : NULL, h, train, out);
    glia_tensor_free(h);
    return s;
}

void glia_mreplace(glia_tensor **cur, glia_tensor *next)
{
    glia_tensor_free(*cur);
    *cur = next;
}

glia_status glia_mpool2(glia_tensor *x, glia_tensor **out)
{
    static const int k2[3] = {2, 2, 2};
    return glia_max_pool(x, k2, NULL, out);
}

glia_status glia_mcat(glia_tensor *skip, glia_tensor *up, glia_tensor **out)
{
    glia_tensor *pair[2] = {skip, up};
    return glia_concat(pair, 2, out);
}
