/* Elementwise, pooling, per-channel, loss and optimizer ops: one kernel each. */
#include "backends/opencl/cl_priv.h"

#define V(i) GLIA_KA_VIEW(op->t[i])
#define LAUNCH(k, n, ...) GLIA_CL_LAUNCH(ctx, k, n, 0, __VA_ARGS__)

/* Geometry arguments shared by the pooling kernels. */
#define POOL_DIMS(pd)                                                                        \
    GLIA_KA_U32((pd)->planes), GLIA_KA_U32((pd)->in[0]), GLIA_KA_U32((pd)->in[1]),           \
        GLIA_KA_U32((pd)->in[2]), GLIA_KA_U32((pd)->out[0]), GLIA_KA_U32((pd)->out[1]),      \
        GLIA_KA_U32((pd)->out[2])

static glia_status pool(glia_bctx *ctx, const glia_op *op)
{
    const glia_pool_desc *pd = &op->p.pool;
    uint64_t nin = (uint64_t)pd->planes * pd->in[0] * pd->in[1] * pd->in[2];
    uint64_t nout = (uint64_t)pd->planes * pd->out[0] * pd->out[1] * pd->out[2];
    glia_status s = glia_cl_check_u32(nin > nout ? nin : nout, "pooling");
    if (s != GLIA_STATUS_OK)
        return s;
#define KS(a) GLIA_KA_I32((pd)->a[0]), GLIA_KA_I32((pd)->a[1]), GLIA_KA_I32((pd)->a[2])
    switch (op->kind) {
    case GLIA_OP_MAXPOOL_FWD:
        return LAUNCH(GLIA_CLK_MAXPOOL_FWD, nout, V(0), V(1), V(2), POOL_DIMS(pd), KS(k),
                      KS(stride));
    case GLIA_OP_MAXPOOL_BWD:
        return LAUNCH(GLIA_CLK_MAXPOOL_BWD, nin, V(0), V(1), V(2), POOL_DIMS(pd), KS(k),
                      KS(stride));
    case GLIA_OP_UPSAMPLE_FWD:
        return LAUNCH(GLIA_CLK_UPSAMPLE_FWD, nout, V(0), V(1), POOL_DIMS(pd), KS(k));
    case GLIA_OP_UPSAMPLE_BWD: /* t0 = dy (out), t1 = dx (in) */
        return LAUNCH(GLIA_CLK_UPSAMPLE_BWD, nin, V(0), V(1), POOL_DIMS(pd), KS(k));
    default:
        return glia_cl_misrouted(op);
    }
#undef KS
}

static glia_status channel(glia_bctx *ctx, const glia_op *op)
{
    size_t n = op->p.chan.n, c = op->p.chan.c, sp = op->p.chan.s;
    glia_status s = glia_cl_check_u32((uint64_t)n * c * sp, "channel op");
    if (s != GLIA_STATUS_OK)
        return s;
#define NCS GLIA_KA_U32(n), GLIA_KA_U32(c), GLIA_KA_U32(sp)
    size_t items = n * sp;
    switch (op->kind) {
    case GLIA_OP_SOFTMAX_FWD:
        return LAUNCH(GLIA_CLK_SOFTMAX_FWD, items, V(0), V(1), NCS);
    case GLIA_OP_SOFTMAX_BWD:
        return LAUNCH(GLIA_CLK_SOFTMAX_BWD, items, V(0), V(1), V(2), NCS);
    case GLIA_OP_SOFTMAX_CE:
        return LAUNCH(GLIA_CLK_SOFTMAX_CE, items, V(0), V(1), V(2), NCS);
    case GLIA_OP_SOFTMAX_CE_BWD:
        return LAUNCH(GLIA_CLK_SOFTMAX_CE_BWD, items, V(0), V(1), V(2), V(3), NCS,
                      GLIA_KA_F32(op->p.chan.scale));
    case GLIA_OP_ARGMAX:
        return LAUNCH(GLIA_CLK_ARGMAX, items, V(0), V(1), NCS);
    default:
        return glia_cl_misrouted(op);
    }
#undef NCS
}

static glia_status copy_nd(glia_bctx *ctx, const glia_op *op)
{
    const glia_copy_desc *d = &op->p.copy;
    cl_uint8 shape = {{0}}, ss = {{0}}, ds = {{0}};
    uint64_t n = 1;
    for (int k = 0; k < d->ndim; k++) {
        n *= (uint64_t)d->shape[k];
        shape.s[k] = (cl_uint)d->shape[k];
        ss.s[k] = (cl_uint)d->src_stride[k];
        ds.s[k] = (cl_uint)d->dst_stride[k];
    }
    size_t se = glia_copy_extent(d, d->src_stride), de = glia_copy_extent(d, d->dst_stride);
    glia_status s = glia_cl_check_u32(n, "copy_nd");
    if (s == GLIA_STATUS_OK)
        s = glia_cl_check_u32(se > de ? se : de, "copy_nd extent");
    if (s != GLIA_STATUS_OK || n == 0)
        return s;
    return LAUNCH(GLIA_CLK_COPY_ND, n, V(0), V(1), GLIA_KA_U32(n), GLIA_KA_I32(d->ndim),
                  ((glia_clarg){sizeof shape, &shape}), ((glia_clarg){sizeof ss, &ss}),
                  ((glia_clarg){sizeof ds, &ds}), GLIA_KA_F32(d->beta));
}

static glia_status gather(glia_bctx *ctx, const glia_op *op)
{
    size_t n = op->p.gather.n, w = op->p.gather.w, rows = op->p.gather.rows;
    uint64_t most = (uint64_t)(n > rows + 1 ? n : rows + 1) * w;
    glia_status s = glia_cl_check_u32(most, "gather_rows");
    if (s != GLIA_STATUS_OK)
        return s;
    if (op->kind == GLIA_OP_GATHER_ROWS)
        return LAUNCH(GLIA_CLK_GATHER, n * w, V(0), V(1), V(2), GLIA_KA_U32(n), GLIA_KA_U32(w));
    return LAUNCH(GLIA_CLK_GATHER_BWD, rows * w, V(0), V(1), V(2), V(3), GLIA_KA_U32(rows), GLIA_KA_U32(w));
}

static glia_status abc_op(glia_bctx *ctx, const glia_op *op, glia_cl_kern k, size_t a, size_t b,
                          size_t c)
{
    uint64_t n = (uint64_t)a * b * c;
    glia_status s = glia_cl_check_u32(n, "broadcast");
    if (s != GLIA_STATUS_OK)
        return s;
    if (k == GLIA_CLK_BROADCAST)
        return LAUNCH(k, n, V(0), V(1), GLIA_KA_U32(a), GLIA_KA_U32(b), GLIA_KA_U32(c),
                      GLIA_KA_F32(op->p.bcast.alpha), GLIA_KA_F32(op->p.bcast.beta));
    return LAUNCH(k, n, V(0), V(1), V(2), GLIA_KA_U32(a), GLIA_KA_U32(b), GLIA_KA_U32(c));
}

static glia_status optim(glia_bctx *ctx, const glia_op *op)
{
    if (op->kind == GLIA_OP_SGD) {
#define P op->p.sgd
        return LAUNCH(GLIA_CLK_SGD, P.n, V(0), V(1), GLIA_KA_OPT(op->t[2], op->t[0]),
                      GLIA_KA_U64(P.n), GLIA_KA_F32(P.lr), GLIA_KA_F32(P.momentum),
                      GLIA_KA_F32(P.dampening), GLIA_KA_F32(P.weight_decay),
                      GLIA_KA_I32(P.nesterov), GLIA_KA_I32(P.first));
#undef P
    }
#define P op->p.adam
    return LAUNCH(GLIA_CLK_ADAM, P.n, V(0), V(1), V(2), V(3), GLIA_KA_U64(P.n),
                  GLIA_KA_F32(P.lr), GLIA_KA_F32(P.beta1), GLIA_KA_F32(P.beta2),
                  GLIA_KA_F32(P.eps), GLIA_KA_F32(P.weight_decay), GLIA_KA_F32(P.bias_corr1),
                  GLIA_KA_F32(P.bias_corr2), GLIA_KA_I32(P.decoupled));
#undef P
}

glia_status glia_cl_misrouted(const glia_op *op)
{
    return glia_seterr(GLIA_STATUS_INTERNAL, "opencl: op %s reached the wrong runner", glia_op_name(op->kind));
}

/* The dispatcher: every kind listed, no default, so -Wswitch turns a kind
 * added to the op table without an OpenCL kernel into a compile error. */
glia_status glia_cl_run(glia_bctx *ctx, const glia_op *op)
{
    switch (op->kind) {
    case GLIA_OP_GEMM:
    case GLIA_OP_CONV_FWD:
    case GLIA_OP_CONV_BWD_DATA:
    case GLIA_OP_CONV_BWD_WEIGHT:
        return glia_cl_run_dense(ctx, op);
    case GLIA_OP_REDUCE:
    case GLIA_OP_BN_FWD_TRAIN:
    case GLIA_OP_BN_FWD_INFER:
    case GLIA_OP_BN_BWD:
    case GLIA_OP_DICE_SUMS:
        return glia_cl_run_reduce(ctx, op);
    case GLIA_OP_LN_FWD:
    case GLIA_OP_LN_BWD:
        return glia_cl_run_layernorm(ctx, op);
    case GLIA_OP_FILL:
        return LAUNCH(GLIA_CLK_FILL, op->p.fill.n, V(0), GLIA_KA_U64(op->p.fill.n),
                      GLIA_KA_F32(op->p.fill.value), GLIA_KA_OPT(op->t[1], op->t[0]),
                      GLIA_KA_I32(op->t[1].buf != NULL));
    case GLIA_OP_COPY_ND:
        return copy_nd(ctx, op);
    case GLIA_OP_GATHER_ROWS:
    case GLIA_OP_GATHER_ROWS_BWD:
        return gather(ctx, op);
    case GLIA_OP_AXPBYZ:
        return LAUNCH(GLIA_CLK_AXPBYZ, op->p.axpbyz.n, V(0), GLIA_KA_OPT(op->t[1], op->t[0]),
                      V(2), GLIA_KA_U64(op->p.axpbyz.n), GLIA_KA_F32(op->p.axpbyz.a),
                      GLIA_KA_F32(op->p.axpbyz.b),
                      GLIA_KA_I32(op->t[1].buf != NULL && op->p.axpbyz.b != 0.0f));
    case GLIA_OP_BINARY:
        return LAUNCH(GLIA_CLK_BINARY, op->p.binary.n, V(0), V(1), V(2),
                      GLIA_KA_U64(op->p.binary.n), GLIA_KA_I32(op->p.binary.mode));
    case GLIA_OP_UNARY:
        return LAUNCH(GLIA_CLK_UNARY, op->p.unary.n, V(0), V(1), GLIA_KA_U64(op->p.unary.n),
                      GLIA_KA_I32(op->p.unary.mode), GLIA_KA_F32(op->p.unary.a),
                      GLIA_KA_F32(op->p.unary.b));
    case GLIA_OP_UNARY_BWD:
        return LAUNCH(GLIA_CLK_UNARY_BWD, op->p.unary.n, V(0), V(1), V(2),
                      GLIA_KA_U64(op->p.unary.n), GLIA_KA_I32(op->p.unary.mode),
                      GLIA_KA_F32(op->p.unary.a));
    case GLIA_OP_BROADCAST:
        return abc_op(ctx, op, GLIA_CLK_BROADCAST, op->p.bcast.a, op->p.bcast.b, op->p.bcast.c);
    case GLIA_OP_DICE_SUMS_BWD:
        return abc_op(ctx, op, GLIA_CLK_DICE_BWD, op->p.dice.a, op->p.dice.b, op->p.dice.c);
    case GLIA_OP_MAXPOOL_FWD:
    case GLIA_OP_MAXPOOL_BWD:
    case GLIA_OP_UPSAMPLE_FWD:
    case GLIA_OP_UPSAMPLE_BWD:
        return pool(ctx, op);
    case GLIA_OP_SOFTMAX_FWD:
    case GLIA_OP_SOFTMAX_BWD:
    case GLIA_OP_SOFTMAX_CE:
    case GLIA_OP_SOFTMAX_CE_BWD:
    case GLIA_OP_ARGMAX:
        return channel(ctx, op);
    case GLIA_OP_BCE_LOGITS:
        return LAUNCH(GLIA_CLK_BCE, op->p.loss.n, V(0), V(1), V(2), GLIA_KA_U64(op->p.loss.n));
    case GLIA_OP_BCE_LOGITS_BWD:
        return LAUNCH(GLIA_CLK_BCE_BWD, op->p.loss.n, V(0), V(1), V(2), V(3),
                      GLIA_KA_U64(op->p.loss.n), GLIA_KA_F32(op->p.loss.scale));
    case GLIA_OP_SGD:
    case GLIA_OP_ADAM:
        return optim(ctx, op);
    case GLIA_OP_COUNT_:
        break;
    }
    return glia_cl_misrouted(op);
}
