/* Vulkan backend: elementwise, per-channel, channel-wise and pooling ops. Each
 * fills a vkb_dispatch (bindings in the op's slot order where the shader
 * allows, the elements each touches, push constants) and enqueues it. */
#include <string.h>
#include "vk_internal.h"

void glia_vk_magic(uint32_t d, uint32_t *magic, uint32_t *shifts)
{
    uint32_t l = 0;
    if (d == 0)
        d = 1;   /* never divided by: any value will do */
    while (((uint64_t)1 << l) < d)
        l++;
    *magic = (uint32_t)((((uint64_t)1 << 32) * (((uint64_t)1 << l) - d)) / d + 1);
    uint32_t sh1 = l < 1 ? l : 1, sh2 = l > 1 ? l - 1 : 0;
    *shifts = sh1 | sh2 << 8;
}

glia_status glia_vk_check_elems(uint64_t v, const char *what)
{
    if (v >= ((uint64_t)1 << 31))
        return glia_seterr(GLIA_STATUS_UNSUPPORTED,
                           "vulkan: %s (%llu elements) exceeds the 2^31 elements a shader can index",
                           what, (unsigned long long)v);
    return GLIA_STATUS_OK;
}

glia_status glia_vk_check_loop(const glia_bctx *ctx, uint64_t iterations, const char *what)
{
    if (ctx->tune->loop_limit && iterations >= ctx->tune->loop_limit)
        return glia_seterr(GLIA_STATUS_UNSUPPORTED,
                           "vulkan: %s needs %llu loop iterations per invocation; %s stops loops after %u",
                           what, (unsigned long long)iterations, ctx->props.deviceName, ctx->tune->loop_limit);
    return GLIA_STATUS_OK;
}

/* Iterations of a grid-stride loop over n items in d's grid. */
static uint64_t strides(const vkb_dispatch *d, uint64_t n)
{
    uint64_t grid = (uint64_t)d->groups[0] * d->spec[0];
    return (n + grid - 1) / grid;
}

void glia_vk_dispatch_1d(glia_bctx *ctx, vkb_dispatch *d, uint32_t shader, uint32_t mode, size_t n)
{
    memset(d, 0, sizeof *d);
    d->shader = shader;
    d->nspec = 2;
    d->spec[0] = ctx->wg;
    d->spec[1] = mode;
    d->groups[0] = vkb_groups(n, ctx->wg, ctx->max_groups[0]);
    d->groups[1] = d->groups[2] = 1;
}

void glia_vk_use(vkb_dispatch *d, int i, glia_bview v, size_t need, int write)
{
    d->v[i] = v;
    d->need[i] = v.buf ? need : 0;
    if (write)
        d->writes |= 1u << i;
}

static void put_magic(vkb_dispatch *d, int word, uint32_t divisor)
{
    glia_vk_magic(divisor, &d->pc[word], &d->pc[word + 1]);
}

/* ---- 1-D elementwise ------------------------------------------------------ */

/* The eltwise.comp mode of a unary op or its backward. Every mode of the
 * table is listed and there is no default, so -Wswitch rejects a mode added to
 * op_modes.h without a shader branch; supports() admitted the op, so bwd is
 * only asked for modes that have a backward. */
static uint32_t ew_unary(glia_unary_mode m, int bwd)
{
    switch (m) {
    case GLIA_UNARY_AFFINE: return EW_AFFINE;
    case GLIA_UNARY_RELU: return bwd ? EW_RELU_BWD : EW_RELU;
    case GLIA_UNARY_SIGMOID: return bwd ? EW_SIGMOID_BWD : EW_SIGMOID;
    case GLIA_UNARY_THRESHOLD: return EW_THRESHOLD;
    case GLIA_UNARY_GELU: return bwd ? EW_GELU_BWD : EW_GELU;
    case GLIA_UNARY_LEAKY_RELU: return bwd ? EW_LEAKY_RELU_BWD : EW_LEAKY_RELU;
    case GLIA_UNARY_COUNT_: break;
    }
    return EW_THRESHOLD;
}

glia_status glia_vk_misrouted(const glia_op *op)
{
    return glia_seterr(GLIA_STATUS_INTERNAL, "vulkan: op %s reached the wrong runner", glia_op_name(op->kind));
}

static glia_status eltwise(glia_bctx *ctx, const glia_op *op)
{
    const glia_bview *t = op->t;
    vkb_dispatch d;
    size_t n;
    uint32_t mode;
    float a = 0, b = 0;
    uint32_t flag = 0;
    switch (op->kind) {
    case GLIA_OP_FILL:
        n = op->p.fill.n, mode = EW_FILL, a = op->p.fill.value, flag = t[1].buf != NULL;
        break;
    case GLIA_OP_AXPBYZ:
        n = op->p.axpbyz.n, mode = EW_AXPBYZ, a = op->p.axpbyz.a, b = op->p.axpbyz.b;
        flag = b != 0.0f && t[1].buf != NULL;
        break;
    case GLIA_OP_BINARY:
        n = op->p.binary.n, mode = op->p.binary.mode == GLIA_BINARY_DIV ? EW_DIV : EW_MUL;
        break;
    case GLIA_OP_UNARY:
    case GLIA_OP_UNARY_BWD:
        n = op->p.unary.n, mode = ew_unary(op->p.unary.mode, op->kind == GLIA_OP_UNARY_BWD);
        a = op->p.unary.a, b = op->p.unary.b;
        break;
    case GLIA_OP_BCE_LOGITS:
        n = op->p.loss.n, mode = EW_BCE;
        break;
    case GLIA_OP_BCE_LOGITS_BWD:
        n = op->p.loss.n, mode = EW_BCE_BWD, a = op->p.loss.scale;
        break;
    default:
        return glia_vk_misrouted(op);
    }
    glia_status s = glia_vk_check_elems(n, "an elementwise op");
    if (s != GLIA_STATUS_OK || n == 0)
        return s;
    glia_vk_dispatch_1d(ctx, &d, GLIA_VK_SHADER_ELTWISE, mode, n);
    d.nb = EW_NB;
    switch (op->kind) {
    case GLIA_OP_FILL:
        glia_vk_use(&d, 0, t[0], n, 1);
        glia_vk_use(&d, 1, t[1], 1, 0);
        break;
    case GLIA_OP_AXPBYZ:
        glia_vk_use(&d, 0, t[0], n, 0);
        if (flag)
            glia_vk_use(&d, 1, t[1], n, 0);
        glia_vk_use(&d, 2, t[2], n, 1);
        break;
    case GLIA_OP_UNARY:
        glia_vk_use(&d, 0, t[0], n, 0);
        glia_vk_use(&d, 1, t[1], n, 1);
        break;
    case GLIA_OP_BCE_LOGITS_BWD:
        glia_vk_use(&d, 0, t[0], n, 0);
        glia_vk_use(&d, 1, t[1], n, 0);
        glia_vk_use(&d, 2, t[2], 1, 0);
        glia_vk_use(&d, 3, t[3], n, 1);
        break;
    default: /* BINARY, UNARY_BWD, BCE_LOGITS: x, y -> z */
        glia_vk_use(&d, 0, t[0], n, 0);
        glia_vk_use(&d, 1, t[1], n, 0);
        glia_vk_use(&d, 2, t[2], n, 1);
        break;
    }
    d.pc[EW_N] = (uint32_t)n;
    d.pc[EW_A] = vkb_f2u(a);
    d.pc[EW_B] = vkb_f2u(b);
    d.pc[EW_FLAG] = flag;
    return glia_vk_dispatch(ctx, &d);
}

static glia_status optim(glia_bctx *ctx, const glia_op *op)
{
    vkb_dispatch d;
    const glia_bview *t = op->t;
    int sgd = op->kind == GLIA_OP_SGD;
    size_t n = sgd ? op->p.sgd.n : op->p.adam.n;
    glia_status s = glia_vk_check_elems(n, "an optimizer step");
    if (s != GLIA_STATUS_OK || n == 0)
        return s;
    glia_vk_dispatch_1d(ctx, &d, GLIA_VK_SHADER_OPTIM, sgd ? OP_SGD : OP_ADAM, n);
    d.nb = OP_NB;
    d.pc[OP_N] = (uint32_t)n;
    glia_vk_use(&d, 0, t[0], n, 1);
    glia_vk_use(&d, 1, t[1], n, 0);
    if (sgd) {
        int mom = op->p.sgd.momentum != 0.0f && t[2].buf;
        if (mom)
            glia_vk_use(&d, 2, t[2], n, 1);
        d.pc[OP_LR] = vkb_f2u(op->p.sgd.lr);
        d.pc[OP_B1] = vkb_f2u(op->p.sgd.momentum);
        d.pc[OP_B2] = vkb_f2u(op->p.sgd.dampening);
        d.pc[OP_WD] = vkb_f2u(op->p.sgd.weight_decay);
        d.pc[OP_FLAGS] = (op->p.sgd.nesterov ? 1u : 0u) | (op->p.sgd.first ? 2u : 0u) | (mom ? 4u : 0u);
    } else {
        glia_vk_use(&d, 2, t[2], n, 1);
        glia_vk_use(&d, 3, t[3], n, 1);
        d.pc[OP_LR] = vkb_f2u(op->p.adam.lr);
        d.pc[OP_B1] = vkb_f2u(op->p.adam.beta1);
        d.pc[OP_B2] = vkb_f2u(op->p.adam.beta2);
        d.pc[OP_EPS] = vkb_f2u(op->p.adam.eps);
        d.pc[OP_WD] = vkb_f2u(op->p.adam.weight_decay);
        d.pc[OP_BC1] = vkb_f2u(op->p.adam.bias_corr1);
        d.pc[OP_BC2] = vkb_f2u(op->p.adam.bias_corr2);
        d.pc[OP_FLAGS] = op->p.adam.decoupled ? 1u : 0u;
    }
    return glia_vk_dispatch(ctx, &d);
}

static glia_status copy_nd(glia_bctx *ctx, const glia_op *op)
{
    const glia_copy_desc *c = &op->p.copy;
    size_t n = 1;
    for (int k = 0; k < c->ndim; k++)
        n *= (size_t)c->shape[k];
    if (n == 0)
        return GLIA_STATUS_OK;
    size_t sneed = glia_copy_extent(c, c->src_stride), dneed = glia_copy_extent(c, c->dst_stride);
    glia_status s = glia_vk_check_elems(sneed > dneed ? sneed : dneed, "a strided copy");
    if (s == GLIA_STATUS_OK)
        s = glia_vk_check_elems(n, "a strided copy");
    if (s != GLIA_STATUS_OK)
        return s;
    vkb_dispatch d;
    glia_vk_dispatch_1d(ctx, &d, GLIA_VK_SHADER_COPY_ND, 0, n);
    d.nspec = 1;
    d.nb = CN_NB;
    glia_vk_use(&d, 0, op->t[0], sneed, 0);
    glia_vk_use(&d, 1, op->t[1], dneed, 1);
    d.pc[CN_N] = (uint32_t)n;
    d.pc[CN_NDIM] = (uint32_t)c->ndim;
    d.pc[CN_BETA] = vkb_f2u(c->beta);
    for (int k = 0; k < c->ndim; k++) {
        d.pc[CN_SHAPE + k] = (uint32_t)c->shape[k];
        d.pc[CN_SSTRIDE + k] = (uint32_t)c->src_stride[k];
        d.pc[CN_DSTRIDE + k] = (uint32_t)c->dst_stride[k];
    }
    return glia_vk_dispatch(ctx, &d);
}

/* ---- row gather (gather.comp) --------------------------------------------- */
glia_status glia_vk_run_gather(glia_bctx *ctx, const glia_op *op)
{
    size_t n = op->p.gather.n, w = op->p.gather.w, rows = op->p.gather.rows;
    int fwd = op->kind == GLIA_OP_GATHER_ROWS;
    size_t items = (fwd ? n : rows) * w;
    glia_status s = glia_vk_check_elems((uint64_t)(n > rows + 1 ? n : rows + 1) * w, "a row gather");
    if (s != GLIA_STATUS_OK || items == 0)
        return s;
    vkb_dispatch d;
    glia_vk_dispatch_1d(ctx, &d, GLIA_VK_SHADER_GATHER, fwd ? GA_FWD : GA_BWD, items);
    d.nspec = 2;
    /* the backward's inner loop runs up to max_run times per item */
    if (!fwd && (s = glia_vk_check_loop(ctx, strides(&d, items) * (op->p.gather.max_run + 2), "a row gather backward")) !=
                    GLIA_STATUS_OK)
        return s;
    d.nb = GA_NB;
    const glia_bview *t = op->t;
    if (fwd) {
        glia_vk_use(&d, 0, t[0], rows * w, 0);
        glia_vk_use(&d, 1, t[1], n, 0);
        glia_vk_use(&d, 3, t[2], n * w, 1);
    } else {
        glia_vk_use(&d, 0, t[0], n * w, 0);
        glia_vk_use(&d, 1, t[1], n, 0);
        glia_vk_use(&d, 2, t[2], rows + 1, 0);
        glia_vk_use(&d, 3, t[3], rows * w, 1);
    }
    d.pc[GA_N] = (uint32_t)n;
    d.pc[GA_W] = (uint32_t)w;
    d.pc[GA_ROWS] = (uint32_t)rows;
    return glia_vk_dispatch(ctx, &d);
}

/* ---- per-channel elementwise on x[A,B,C] (chanwise.comp) ------------------- */
void glia_vk_chanwise(glia_bctx *ctx, vkb_dispatch *d, uint32_t mode, size_t a, size_t b, size_t c)
{
    glia_vk_dispatch_1d(ctx, d, GLIA_VK_SHADER_CHANWISE, mode, c);
    d->nb = CW_NB;
    size_t planes = a * b;
    d->groups[1] = planes == 0 ? 1 : planes < ctx->max_groups[1] ? (uint32_t)planes : ctx->max_groups[1];
    d->pc[CW_PLANES] = (uint32_t)planes;
    d->pc[CW_CH] = (uint32_t)b;
    d->pc[CW_INNER] = (uint32_t)c;
}

static glia_status chanwise_op(glia_bctx *ctx, const glia_op *op)
{
    vkb_dispatch d;
    const glia_bview *t = op->t;
    int bc = op->kind == GLIA_OP_BROADCAST;
    size_t a = bc ? op->p.bcast.a : op->p.dice.a, b = bc ? op->p.bcast.b : op->p.dice.b;
    size_t c = bc ? op->p.bcast.c : op->p.dice.c, n = a * b * c;
    glia_status s = glia_vk_check_elems(n, bc ? "a broadcast" : "a Dice backward");
    if (s != GLIA_STATUS_OK || n == 0)
        return s;
    glia_vk_chanwise(ctx, &d, bc ? CW_BROADCAST : CW_DICE_BWD, a, b, c);
    if (bc) {
        glia_vk_use(&d, 0, t[0], b, 0);
        glia_vk_use(&d, 1, t[1], n, 1);
        d.pc[CW_ALPHA] = vkb_f2u(op->p.bcast.alpha);
        d.pc[CW_BETA] = vkb_f2u(op->p.bcast.beta);
    } else {
        glia_vk_use(&d, 0, t[0], n, 0);
        glia_vk_use(&d, 1, t[1], 3 * b, 0);
        glia_vk_use(&d, 2, t[2], n, 1);
    }
    return glia_vk_dispatch(ctx, &d);
}

glia_status glia_vk_run_elementwise(glia_bctx *ctx, const glia_op *op)
{
    switch (op->kind) {
    case GLIA_OP_COPY_ND:
        return copy_nd(ctx, op);
    case GLIA_OP_SGD:
    case GLIA_OP_ADAM:
        return optim(ctx, op);
    case GLIA_OP_BROADCAST:
    case GLIA_OP_DICE_SUMS_BWD:
        return chanwise_op(ctx, op);
    case GLIA_OP_FILL:
    case GLIA_OP_AXPBYZ:
    case GLIA_OP_BINARY:
    case GLIA_OP_UNARY:
    case GLIA_OP_UNARY_BWD:
    case GLIA_OP_BCE_LOGITS:
    case GLIA_OP_BCE_LOGITS_BWD:
        return eltwise(ctx, op);
    default:
        return glia_vk_misrouted(op);
    }
}

/* ---- over the channels of x[N,C,S] (channel.comp) ------------------------- */
glia_status glia_vk_run_channel(glia_bctx *ctx, const glia_op *op)
{
    size_t n = op->p.chan.n, c = op->p.chan.c, sp = op->p.chan.s, all = n * c * sp;
    glia_status s = glia_vk_check_elems(all, "a channel op");
    if (s != GLIA_STATUS_OK || all == 0)
        return s;
    uint32_t mode;
    switch (op->kind) {
    case GLIA_OP_SOFTMAX_FWD: mode = CH_SOFTMAX; break;
    case GLIA_OP_SOFTMAX_BWD: mode = CH_SOFTMAX_BWD; break;
    case GLIA_OP_SOFTMAX_CE: mode = CH_CE; break;
    case GLIA_OP_SOFTMAX_CE_BWD: mode = CH_CE_BWD; break;
    case GLIA_OP_ARGMAX: mode = CH_ARGMAX; break;
    default: return glia_vk_misrouted(op);
    }
    vkb_dispatch d;
    const glia_bview *t = op->t;
    glia_vk_dispatch_1d(ctx, &d, GLIA_VK_SHADER_CHANNEL, mode, n * sp);
    /* each invocation walks the channels up to four times per item */
    if ((s = glia_vk_check_loop(ctx, strides(&d, n * sp) * (4 * (uint64_t)c + 2), "a channel op")) != GLIA_STATUS_OK)
        return s;
    d.nb = CH_NB;
    glia_vk_use(&d, 0, t[0], all, 0);
    switch (mode) {
    case CH_SOFTMAX_BWD:
        glia_vk_use(&d, 1, t[1], all, 0);
        glia_vk_use(&d, 2, t[2], all, 1);
        break;
    case CH_CE:
        glia_vk_use(&d, 1, t[1], all, 0);
        glia_vk_use(&d, 2, t[2], n * sp, 1);
        break;
    case CH_CE_BWD:
        glia_vk_use(&d, 1, t[1], all, 0);
        glia_vk_use(&d, 2, t[2], 1, 0);
        glia_vk_use(&d, 3, t[3], all, 1);
        break;
    case CH_ARGMAX:
        glia_vk_use(&d, 1, t[1], n * sp, 1);
        break;
    default:
        glia_vk_use(&d, 1, t[1], all, 1);
        break;
    }
    d.pc[CH_N] = (uint32_t)n;
    d.pc[CH_C] = (uint32_t)c;
    d.pc[CH_S] = (uint32_t)sp;
    d.pc[CH_SCALE] = vkb_f2u(op->p.chan.scale);
    put_magic(&d, CH_MAGIC, (uint32_t)sp);
    return glia_vk_dispatch(ctx, &d);
}

/* ---- pooling and upsampling ----------------------------------------------- */
glia_status glia_vk_run_pool(glia_bctx *ctx, const glia_op *op)
{
    const glia_pool_desc *p = &op->p.pool;
    size_t is = (size_t)(p->in[0] * p->in[1] * p->in[2]), os = (size_t)(p->out[0] * p->out[1] * p->out[2]);
    size_t ni = (size_t)p->planes * is, no = (size_t)p->planes * os;
    glia_status s = glia_vk_check_elems(ni > no ? ni : no, "a pooling op");
    if (s != GLIA_STATUS_OK || ni == 0 || no == 0)
        return s;
    int fwd = op->kind == GLIA_OP_MAXPOOL_FWD || op->kind == GLIA_OP_UPSAMPLE_FWD;
    uint32_t shader = op->kind == GLIA_OP_MAXPOOL_FWD ? GLIA_VK_SHADER_MAXPOOL_FWD
                      : op->kind == GLIA_OP_MAXPOOL_BWD ? GLIA_VK_SHADER_MAXPOOL_BWD
                                                        : GLIA_VK_SHADER_UPSAMPLE;
    vkb_dispatch d;
    glia_vk_dispatch_1d(ctx, &d, shader, fwd ? PL_FWD : PL_BWD, fwd ? no : ni);
    if (shader != GLIA_VK_SHADER_UPSAMPLE)
        d.nspec = 1;
    uint64_t window = (uint64_t)p->k[0] * (uint64_t)p->k[1] * (uint64_t)p->k[2];
    if ((s = glia_vk_check_loop(ctx, strides(&d, fwd ? no : ni) * (window + 2), "a pooling op")) != GLIA_STATUS_OK)
        return s;
    d.nb = PL_NB;
    const glia_bview *t = op->t;
    switch (op->kind) {
    case GLIA_OP_MAXPOOL_FWD:
        glia_vk_use(&d, 0, t[0], ni, 0);
        glia_vk_use(&d, 1, t[1], no, 1);
        glia_vk_use(&d, 2, t[2], no, 1);
        break;
    case GLIA_OP_MAXPOOL_BWD:
        glia_vk_use(&d, 0, t[0], no, 0);
        glia_vk_use(&d, 1, t[1], no, 0);
        glia_vk_use(&d, 2, t[2], ni, 1);
        break;
    case GLIA_OP_UPSAMPLE_FWD:
        glia_vk_use(&d, 0, t[0], ni, 0);
        glia_vk_use(&d, 1, t[1], no, 1);
        break;
    default: /* UPSAMPLE_BWD: the pool kinds are the only ones routed here */
        glia_vk_use(&d, 0, t[0], no, 0);
        glia_vk_use(&d, 1, t[1], ni, 1);
        break;
    }
    d.pc[PL_PLANES] = (uint32_t)p->planes;
    for (int i = 0; i < 3; i++) {
        d.pc[PL_IN + i] = (uint32_t)p->in[i];
        d.pc[PL_OUT + i] = (uint32_t)p->out[i];
        d.pc[PL_K + i] = (uint32_t)p->k[i];
        d.pc[PL_S + i] = (uint32_t)(p->stride[i] > 0 ? p->stride[i] : 1);
    }
    const int64_t *walk = fwd ? p->out : p->in;
    put_magic(&d, PL_MAGIC, (uint32_t)walk[2]);
    put_magic(&d, PL_MAGIC + 2, (uint32_t)walk[1]);
    put_magic(&d, PL_MAGIC + 4, (uint32_t)walk[0]);
    return glia_vk_dispatch(ctx, &d);
}
