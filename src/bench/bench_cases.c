/* The benchmark list: model training steps and inference (2-D models: batch
 * 4, 256^2; 3-D models, unet3d and swinunetr: batch 1, 4x128^3), then single
 * ops at the shapes the default unet2d and unet3d run. Channels and layers
 * come from the model configurations, so the list follows the models if their
 * defaults change. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bench_priv.h"
#include "infer/infer_priv.h"

#define F4 4.0 /* bytes per element */

glia_bench_case *glia_bench_add(glia_bench_caselist *l, unsigned suite, const char *fmt, ...)
{
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 64;
        glia_bench_case *v = realloc(l->v, (size_t)cap * sizeof *v);
        if (!v)
            return NULL;
        l->v = v;
        l->cap = cap;
    }
    glia_bench_case *c = &l->v[l->n++];
    memset(c, 0, sizeof *c);
    c->suite = suite;
    c->unit = "";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->name, sizeof c->name, fmt, ap);
    va_end(ap);
    return c;
}

void glia_bench_cases_free(glia_bench_caselist *l)
{
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

static glia_status oom(void) { return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "bench: no host memory for the case list"); }

/* ---- models ------------------------------------------------------------------ */

/* A BraTS volume (240 x 240 x 155 voxels, four modalities) by 128^3 windows
 * overlapping by half, one window per forward, Gaussian blending: what glia
 * infer does with a 3-D model. With --size S the windows are S^3 and the
 * volume shrinks by S/128. FLOPs: the windows' forward passes. */
static glia_status volume(glia_bench_caselist *l, const glia_model_config *cfg, int64_t size, double window_flops)
{
    static const int64_t brats[3] = {240, 240, 155};
    glia_bench_case *c = glia_bench_add(l, GLIA_BENCH_SUITE_MODELS, "model.%s.infer_volume",
                                        glia_model_arch_name(cfg->arch));
    if (!c)
        return oom();
    int64_t windows = 1;
    for (int a = 0; a < 3; a++) {
        c->volume[a] = (brats[a] * size + 127) / 128;
        windows *= glia_predict_window_count_(c->volume[a], size, 0.5f);
    }
    c->kind = GLIA_BENCH_KIND_VOLUME;
    c->arch = cfg->arch;
    c->batch = 1;
    c->size = size;
    c->flops = window_flops * (double)windows;
    c->items = 1;
    c->unit = "volumes";
    return GLIA_STATUS_OK;
}

static glia_status models(const glia_bench_options *o, glia_bench_caselist *l)
{
    glia_status s;
    static const glia_model_arch archs[] = {GLIA_MODEL_UNET2D, GLIA_MODEL_R2UNET, GLIA_MODEL_UNET3D,
                                            GLIA_MODEL_SWINUNETR};
    for (size_t i = 0; i < sizeof archs / sizeof *archs; i++) {
        glia_model_config cfg;
        glia_model_config_default(archs[i], &cfg);
        int three = glia_model_config_spatial_dims(&cfg) == 3;
        int64_t batch = o->batch > 0 ? o->batch : three ? 1 : 4;
        int64_t size = o->size > 0 ? o->size : three ? 128 : 256;
        double fi, ft;
        glia_bench_model_flops(&cfg, batch, size, &fi, &ft);
        for (int train = 1; train >= 0; train--) {
            glia_bench_case *c = glia_bench_add(l, GLIA_BENCH_SUITE_MODELS, "model.%s.%s",
                                                glia_model_arch_name(archs[i]), train ? "train_step" : "infer");
            if (!c)
                return oom();
            c->kind = train ? GLIA_BENCH_KIND_TRAIN : GLIA_BENCH_KIND_INFER;
            c->arch = archs[i];
            c->batch = batch;
            c->size = size;
            c->flops = train ? ft : fi;
            c->items = (double)batch;
            c->unit = three ? "volumes" : "images";
        }
        if (archs[i] == GLIA_MODEL_UNET3D && (s = volume(l, &cfg, size, fi / (double)batch)) != GLIA_STATUS_OK)
            return s;
    }
    return GLIA_STATUS_OK;
}

/* ---- ops ----------------------------------------------------------------------- */

/* An op case with slots sized numel[0..7] (0 = unused). bytes: the least traffic. */
static glia_bench_case *op_case(glia_bench_caselist *l, glia_op_kind kind, const size_t *numel, double flops,
                                double bytes, const char *name)
{
    glia_bench_case *c = glia_bench_add(l, GLIA_BENCH_SUITE_OPS, "%s", name);
    if (!c)
        return NULL;
    c->kind = GLIA_BENCH_KIND_OP;
    c->op.kind = kind;
    memcpy(c->numel, numel, sizeof c->numel);
    c->flops = flops;
    c->bytes = bytes;
    return c;
}

static glia_status gemm(glia_bench_caselist *l, int64_t m, int64_t n, int64_t k)
{
    char name[96];
    snprintf(name, sizeof name, "op.gemm.%lldx%lldx%lld", (long long)m, (long long)n, (long long)k);
    size_t numel[8] = {(size_t)(m * k), (size_t)(k * n), (size_t)(m * n)};
    glia_bench_case *c = op_case(l, GLIA_OP_GEMM, numel, 2.0 * m * n * k, F4 * (m * k + k * n + m * n), name);
    if (!c)
        return oom();
    c->init[2] = GLIA_BENCH_INIT_NONE;
    c->op.p.gemm = (glia_gemm_desc){.m = m, .n = n, .k = k, .lda = k, .ldb = n, .ldc = n, .batch = 1,
                                    .stride_a = m * k, .stride_b = k * n, .stride_c = m * n, .alpha = 1.0f};
    return GLIA_STATUS_OK;
}

static int same_conv(const glia_conv_desc *a, const glia_conv_desc *b)
{
    if (a->n != b->n || a->cin != b->cin || a->cout != b->cout)
        return 0;
    for (int i = 0; i < 3; i++)
        if (a->in[i] != b->in[i] || a->out[i] != b->out[i] || a->k[i] != b->k[i] || a->stride[i] != b->stride[i] ||
            a->pad[i] != b->pad[i])
            return 0;
    return 1;
}

/* "n4c64k64.256x256.k3" (".k2s2" for a strided kernel); axes from the primitive's input side. */
static void conv_shape(const glia_conv_desc *d, char *buf, size_t len)
{
    int a0 = 3 - d->nd;
    int w = snprintf(buf, len, "n%lldc%lldk%lld.", (long long)d->n, (long long)d->cin, (long long)d->cout);
    for (int a = a0; a < 3 && w > 0 && (size_t)w < len; a++)
        w += snprintf(buf + w, len - (size_t)w, "%s%lld", a > a0 ? "x" : "", (long long)d->in[a]);
    if (w > 0 && (size_t)w < len)
        snprintf(buf + w, len - (size_t)w, d->stride[2] > 1 ? ".k%ds%d" : ".k%d", d->k[2], d->stride[2]);
}

static glia_status convs(glia_bench_caselist *l, glia_model_arch arch, int64_t batch, int64_t size)
{
    static const struct {
        glia_op_kind kind;
        const char *name;
    } dirs[] = {{GLIA_OP_CONV_FWD, "fwd"}, {GLIA_OP_CONV_BWD_DATA, "bwd_data"}, {GLIA_OP_CONV_BWD_WEIGHT, "bwd_weight"}};
    glia_model_config cfg;
    glia_model_config_default(arch, &cfg);
    glia_bench_conv cv[128];
    int n = glia_bench_model_convs(&cfg, batch, size, cv, 128);
    for (int i = 0; i < n && i < 128; i++) {
        const glia_conv_desc *d = &cv[i].d;
        int dup = 0;
        for (int j = 0; j < i && !dup; j++)
            dup = same_conv(d, &cv[j].d);
        if (dup)
            continue;
        size_t X = (size_t)(d->in[0] * d->in[1] * d->in[2]), P = (size_t)(d->out[0] * d->out[1] * d->out[2]);
        size_t x = (size_t)d->n * (size_t)d->cin * X, y = (size_t)d->n * (size_t)d->cout * P;
        size_t w = (size_t)(d->cout * d->cin * d->k[0] * d->k[1] * d->k[2]);
        char shape[64], name[96];
        conv_shape(d, shape, sizeof shape);
        for (size_t k = 0; k < 3; k++) {
            /* operand order of the backend op: fwd x,w,y; data dy,w,dx; weight x,dy,dw */
            size_t fwd[8] = {x, w, y}, data[8] = {y, w, x}, wgt[8] = {x, y, w};
            const size_t *num = k == 0 ? fwd : k == 1 ? data : wgt;
            snprintf(name, sizeof name, "op.conv%dd.%s.%s", d->nd, dirs[k].name, shape);
            glia_bench_case *c = op_case(l, dirs[k].kind, num, glia_bench_conv_flops(d), F4 * (double)(x + w + y), name);
            if (!c)
                return oom();
            c->init[2] = GLIA_BENCH_INIT_NONE;
            c->op.p.conv = *d;
        }
    }
    return GLIA_STATUS_OK;
}

/* Batch norm, pooling, upsampling at the first level of a model (its largest activation). */
static glia_status layers(glia_bench_caselist *l, int nd, int64_t n, int64_t c, int64_t side)
{
    char shape[64], name[96];
    int64_t vol = side * side * (nd == 3 ? side : 1), half = vol >> nd;
    size_t x = (size_t)(n * c * vol), h = (size_t)(n * c * half), C = (size_t)c;
    if (nd == 3)
        snprintf(shape, sizeof shape, "n%lldc%lld.%lldx%lldx%lld", (long long)n, (long long)c, (long long)side,
                 (long long)side, (long long)side);
    else
        snprintf(shape, sizeof shape, "n%lldc%lld.%lldx%lld", (long long)n, (long long)c, (long long)side,
                 (long long)side);
    /* ---- batch norm */
    static const char *const bn_names[] = {"fwd_train", "fwd_infer", "bwd"};
    static const glia_op_kind bn_kinds[] = {GLIA_OP_BN_FWD_TRAIN, GLIA_OP_BN_FWD_INFER, GLIA_OP_BN_BWD};
    for (int k = 0; k < 3; k++) {
        size_t train[8] = {x, C, C, x, C, C, C, C}, infer[8] = {x, C, C, x, 0, 0, C, C};
        size_t bwd[8] = {x, C, x, C, C, x, C, C};
        snprintf(name, sizeof name, "op.bn.%s.%s", bn_names[k], shape);
        /* train reads x twice (stats, then apply); backward reads x and dy twice */
        double traffic[3] = {3.0 * x, 2.0 * x, 5.0 * x};
        glia_bench_case *cs = op_case(l, bn_kinds[k], k == 0 ? train : k == 1 ? infer : bwd, 0, F4 * traffic[k], name);
        if (!cs)
            return oom();
        cs->op.p.bn.n = (size_t)n;
        cs->op.p.bn.c = C;
        cs->op.p.bn.s = (size_t)vol;
        cs->op.p.bn.eps = 1e-5f;
        cs->op.p.bn.momentum = 0.1f;
        for (int s = 0; s < 8; s++)
            cs->init[s] = GLIA_BENCH_INIT_POSITIVE;   /* harmless for x, needed for variances */
    }
    /* ---- pooling and upsampling by 2 on every spatial axis */
    glia_pool_desc pd = {.planes = n * c};
    glia_pool_desc ud = {.planes = n * c};
    for (int a = 0; a < 3; a++) {
        int sp = a >= 3 - nd;
        pd.in[a] = ud.out[a] = sp ? side : 1;
        pd.out[a] = ud.in[a] = sp ? side / 2 : 1;
        pd.k[a] = pd.stride[a] = ud.k[a] = ud.stride[a] = sp ? 2 : 1;
    }
    struct {
        const char *name, *dir;
        glia_op_kind kind;
        size_t num[3];
        glia_bench_init init[3];
        const glia_pool_desc *d;
    } pool[] = {
        {"maxpool", "fwd", GLIA_OP_MAXPOOL_FWD, {x, h, h}, {0, GLIA_BENCH_INIT_NONE, GLIA_BENCH_INIT_NONE}, &pd},
        {"maxpool", "bwd", GLIA_OP_MAXPOOL_BWD, {h, h, x}, {0, GLIA_BENCH_INIT_POOL_INDEX, GLIA_BENCH_INIT_NONE}, &pd},
        {"upsample", "fwd", GLIA_OP_UPSAMPLE_FWD, {h, x, 0}, {0, GLIA_BENCH_INIT_NONE, 0}, &ud},
        {"upsample", "bwd", GLIA_OP_UPSAMPLE_BWD, {x, h, 0}, {0, GLIA_BENCH_INIT_NONE, 0}, &ud},
    };
    for (size_t k = 0; k < sizeof pool / sizeof *pool; k++) {
        size_t num[8] = {pool[k].num[0], pool[k].num[1], pool[k].num[2]};
        snprintf(name, sizeof name, "op.%s%dd.%s.%s", pool[k].name, nd, pool[k].dir, shape);
        glia_bench_case *cs = op_case(l, pool[k].kind, num, 0, F4 * (double)(num[0] + num[1] + num[2]), name);
        if (!cs)
            return oom();
        memcpy(cs->init, pool[k].init, sizeof pool[k].init);
        cs->op.p.pool = *pool[k].d;
    }
    return GLIA_STATUS_OK;
}

/* Elementwise ops over an activation of n elements (GB/s), and the bias ops. */
static glia_status elementwise(glia_bench_caselist *l, size_t n, size_t batch, size_t chans)
{
    char name[96];
    size_t two[8] = {n, n}, three[8] = {n, n, n}, one[8] = {n}, bias[8] = {chans, n}, red[8] = {n, chans};
    size_t cat[8] = {n / 2, n};
    const struct {
        const char *name;
        glia_op_kind kind;
        int mode;           /* unary mode */
        const size_t *num;
        double traffic;     /* elements moved per element of n */
    } e[] = {
        {"fill", GLIA_OP_FILL, 0, one, 1},
        {"add", GLIA_OP_AXPBYZ, 0, three, 3},
        {"mul", GLIA_OP_BINARY, 0, three, 3},
        {"relu", GLIA_OP_UNARY, GLIA_UNARY_RELU, two, 2},
        {"relu_bwd", GLIA_OP_UNARY_BWD, GLIA_UNARY_RELU, three, 3},
        {"sigmoid", GLIA_OP_UNARY, GLIA_UNARY_SIGMOID, two, 2},
        {"bias_add", GLIA_OP_BROADCAST, 0, bias, 2},
        {"bias_grad", GLIA_OP_REDUCE, 0, red, 1},
        {"concat_half", GLIA_OP_COPY_ND, 0, cat, 1},   /* half the channels into a concatenation */
    };
    for (size_t k = 0; k < sizeof e / sizeof *e; k++) {
        snprintf(name, sizeof name, "op.%s.%zu", e[k].name, n);
        glia_bench_case *c = op_case(l, e[k].kind, e[k].num, 0, F4 * e[k].traffic * (double)n, name);
        if (!c)
            return oom();
        glia_op *op = &c->op;
        switch (e[k].kind) {
        case GLIA_OP_FILL:
            op->p.fill.n = n;
            op->p.fill.value = 1.0f;
            break;
        case GLIA_OP_AXPBYZ:
            op->p.axpbyz.n = n;
            op->p.axpbyz.a = op->p.axpbyz.b = 1.0f;
            break;
        case GLIA_OP_BINARY:
            op->p.binary.n = n;
            op->p.binary.mode = GLIA_BINARY_MUL;
            break;
        case GLIA_OP_UNARY:
        case GLIA_OP_UNARY_BWD:
            op->p.unary.n = n;
            op->p.unary.mode = (glia_unary_mode)e[k].mode;
            break;
        case GLIA_OP_BROADCAST:
        case GLIA_OP_REDUCE:
            op->p.bcast.a = batch;
            op->p.bcast.b = chans;
            op->p.bcast.c = n / (batch * chans);
            op->p.bcast.alpha = 1.0f;
            op->p.bcast.beta = e[k].kind == GLIA_OP_BROADCAST ? 1.0f : 0.0f;
            break;
        default:   /* COPY_ND: one row per sample, half of its channels */
            op->p.copy = (glia_copy_desc){.ndim = 2, .shape = {(int64_t)batch, (int64_t)(n / batch / 2)},
                                          .src_stride = {(int64_t)(n / batch / 2), 1},
                                          .dst_stride = {(int64_t)(n / batch), 1}};
            break;
        }
    }
    return GLIA_STATUS_OK;
}

/* One optimizer update over as many parameters as the model has (weights and biases). */
static glia_status optim(glia_bench_caselist *l, const char *model, size_t n)
{
    char name[96];
    size_t adam[8] = {n, n, n, n}, sgd[8] = {n, n, n};
    snprintf(name, sizeof name, "op.adam.%s.%zu", model, n);
    glia_bench_case *c = op_case(l, GLIA_OP_ADAM, adam, 0, F4 * 7.0 * (double)n, name);
    if (!c)
        return oom();
    c->init[3] = GLIA_BENCH_INIT_POSITIVE;
    c->op.p.adam.n = n;
    c->op.p.adam.lr = 1e-3f;
    c->op.p.adam.beta1 = 0.9f;
    c->op.p.adam.beta2 = 0.999f;
    c->op.p.adam.eps = 1e-8f;
    c->op.p.adam.bias_corr1 = 0.1f;     /* 1 - beta^t at t = 1 */
    c->op.p.adam.bias_corr2 = 0.001f;
    snprintf(name, sizeof name, "op.sgd.%s.%zu", model, n);
    if (!(c = op_case(l, GLIA_OP_SGD, sgd, 0, F4 * 5.0 * (double)n, name)))
        return oom();
    c->op.p.sgd.n = n;
    c->op.p.sgd.lr = 1e-2f;
    c->op.p.sgd.momentum = 0.9f;
    c->op.p.sgd.weight_decay = 1e-4f;
    return GLIA_STATUS_OK;
}

static size_t model_params(glia_model_arch arch)
{
    glia_model_config cfg;
    glia_model_config_default(arch, &cfg);
    glia_bench_conv cv[128];
    int n = glia_bench_model_convs(&cfg, 1, (int64_t)1 << glia_model_config_pool_levels(&cfg), cv, 128);
    size_t total = 0;
    for (int i = 0; i < n && i < 128; i++) {
        const glia_conv_desc *d = &cv[i].d;
        total += (size_t)(d->cin * d->cout * d->k[0] * d->k[1] * d->k[2]) +
                 (size_t)(cv[i].transposed ? d->cin : d->cout);
    }
    return total;
}

static glia_status ops(glia_bench_caselist *l)
{
    static const int64_t square[] = {1024, 2048, 4096};
    glia_status s = GLIA_STATUS_OK;
    for (size_t i = 0; i < sizeof square / sizeof *square && s == GLIA_STATUS_OK; i++)
        s = gemm(l, square[i], square[i], square[i]);
    /* the per-sample GEMMs of an im2col convolution: M = Cout, N = output pixels, K = Cin * 9 (27) */
    static const int64_t convlike[][3] = {{64, 65536, 576},  {128, 16384, 1152}, {256, 4096, 2304},
                                          {512, 1024, 4608}, {1024, 256, 9216},  {8, 2097152, 216},
                                          {64, 4096, 1728}};
    for (size_t i = 0; i < sizeof convlike / sizeof *convlike && s == GLIA_STATUS_OK; i++)
        s = gemm(l, convlike[i][0], convlike[i][1], convlike[i][2]);
    if (s == GLIA_STATUS_OK)
        s = convs(l, GLIA_MODEL_UNET2D, 4, 256);
    if (s == GLIA_STATUS_OK)
        s = convs(l, GLIA_MODEL_UNET3D, 1, 128);
    if (s == GLIA_STATUS_OK)
        s = layers(l, 2, 4, 64, 256);
    if (s == GLIA_STATUS_OK)
        s = layers(l, 3, 1, 8, 128);
    if (s == GLIA_STATUS_OK)
        s = elementwise(l, (size_t)4 * 64 * 256 * 256, 4, 64);
    if (s == GLIA_STATUS_OK)
        s = optim(l, "unet2d", model_params(GLIA_MODEL_UNET2D));
    if (s == GLIA_STATUS_OK)
        s = optim(l, "unet3d", model_params(GLIA_MODEL_UNET3D));
    return s;
}

glia_status glia_bench_cases(const glia_bench_options *o, glia_bench_caselist *l)
{
    unsigned suites = o->suites ? o->suites : GLIA_BENCH_SUITE_ALL;
    glia_status s = GLIA_STATUS_OK;
    if (suites & GLIA_BENCH_SUITE_MODELS)
        s = models(o, l);
    if (s == GLIA_STATUS_OK && (suites & GLIA_BENCH_SUITE_OPS))
        s = ops(l);
    return s;
}
