/* glia — facts derived from the op table (op_list.h, op_modes.h): names,
 * mode names and properties, and each op's operand slots. One slot function per
 * family of ops with the same operand layout; the table row names it. */
#include <string.h>
#include "backends/backend.h"

#define NAME_(kind, name, slots) [GLIA_OP_##kind] = #kind,
static const char *const op_names[GLIA_OP_COUNT_] = {GLIA_OPS(NAME_)};

#define UNARY_NAME_(mode, grad) #mode,
static const char *const unary_names[] = {GLIA_UNARY_MODES(UNARY_NAME_)};
#define UNARY_GRAD_(mode, grad) grad,
static const glia_grad_reads unary_grads[] = {GLIA_UNARY_MODES(UNARY_GRAD_)};
#define BINARY_NAME_(mode) #mode,
static const char *const binary_names[] = {GLIA_BINARY_MODES(BINARY_NAME_)};

const char *glia_op_name(glia_op_kind kind)
{
    return (unsigned)kind < GLIA_OP_COUNT_ ? op_names[kind] : "?";
}

const char *glia_op_mode_name(const glia_op *op)
{
    switch (op->kind) {
    case GLIA_OP_UNARY:
    case GLIA_OP_UNARY_BWD:
        return (unsigned)op->p.unary.mode < GLIA_UNARY_COUNT_ ? unary_names[op->p.unary.mode] : "?";
    case GLIA_OP_BINARY:
        return (unsigned)op->p.binary.mode < GLIA_BINARY_COUNT_ ? binary_names[op->p.binary.mode] : "?";
    default:   /* every other kind has no modes */
        return NULL;
    }
}

glia_grad_reads glia_unary_grad(glia_unary_mode mode)
{
    return (unsigned)mode < GLIA_UNARY_COUNT_ ? unary_grads[mode] : GLIA_GRAD_NONE;
}

int glia_op_well_formed(const glia_op *op)
{
    if ((unsigned)op->kind >= GLIA_OP_COUNT_)
        return 0;
    switch (op->kind) {
    case GLIA_OP_UNARY:
        if ((unsigned)op->p.unary.mode >= GLIA_UNARY_COUNT_)
            return 0;
        break;
    case GLIA_OP_UNARY_BWD: {
        glia_grad_reads g = glia_unary_grad(op->p.unary.mode);
        if (g != GLIA_GRAD_X && g != GLIA_GRAD_Y)
            return 0;
        break;
    }
    case GLIA_OP_BINARY:
        if ((unsigned)op->p.binary.mode >= GLIA_BINARY_COUNT_)
            return 0;
        break;
    case GLIA_OP_COPY_ND:
        if (op->p.copy.ndim < 1 || op->p.copy.ndim > GLIA_COPY_MAX_DIMS)
            return 0;
        break;
    default:   /* kinds without modes */
        break;
    }
    /* every view has its slot's element type */
    glia_op_slot s[8];
    glia_op_slots(op, s);
    for (int i = 0; i < 8; i++)
        if (s[i].role != GLIA_SLOT_UNUSED && op->t[i].buf && op->t[i].type != s[i].type)
            return 0;
    return 1;
}

/* ---- operand slots ------------------------------------------------------------ */

#define LO -1.0f
#define HI 1.0f

static void set(glia_op_slot *s, glia_slot_role role, size_t n, float lo, float hi)
{
    s->role = role;
    s->n = n;
    s->lo = lo;
    s->hi = hi;
}

static size_t vol3(const int64_t v[3]) { return (size_t)(v[0] * v[1] * v[2]); }

static size_t gemm_size(int64_t batch, int64_t stride, int64_t rows, int64_t ld)
{
    return batch > 0 ? (size_t)((batch - 1) * stride + rows * ld) : 0;
}

static void glia_slots_fill(const glia_op *op, glia_op_slot *s)
{
    set(&s[0], GLIA_SLOT_OUT, op->p.fill.n, LO, HI);
    set(&s[1], GLIA_SLOT_IN, 1, 0.5f, 2.0f);
}

size_t glia_copy_extent(const glia_copy_desc *d, const int64_t *stride)
{
    size_t n = 1;
    for (int k = 0; k < d->ndim; k++) {
        if (d->shape[k] < 1)
            return 0;
        n += (size_t)(d->shape[k] - 1) * (size_t)stride[k];
    }
    return n;
}

static void glia_slots_copy_nd(const glia_op *op, glia_op_slot *s)
{
    set(&s[0], GLIA_SLOT_IN, glia_copy_extent(&op->p.copy, op->p.copy.src_stride), LO, HI);
    set(&s[1], GLIA_SLOT_OUT, glia_copy_extent(&op->p.copy, op->p.copy.dst_stride), LO, HI);
}

static void glia_slots_gather(const glia_op *op, glia_op_slot *s)
{
    size_t n = op->p.gather.n, w = op->p.gather.w, rows = op->p.gather.rows;
    if (op->kind == GLIA_OP_GATHER_ROWS) {
        set(&s[0], GLIA_SLOT_IN, rows * w, LO, HI);
        set(&s[1], GLIA_SLOT_IN, n, 0, (float)rows);
        set(&s[2], GLIA_SLOT_OUT, n * w, LO, HI);
    } else {
        set(&s[0], GLIA_SLOT_IN, n * w, LO, HI);
        set(&s[1], GLIA_SLOT_IN, n, 0, (float)n);
        set(&s[2], GLIA_SLOT_IN, rows + 1, 0, (float)n);
        set(&s[3], GLIA_SLOT_OUT, rows * w, LO, HI);
        s[2].type = GLIA_ETYPE_I32;
    }
    s[1].type = GLIA_ETYPE_I32;
}

static void glia_slots_axpbyz(const glia_op *op, glia_op_slot *s)
{
    set(&s[0], GLIA_SLOT_IN, op->p.axpbyz.n, LO, HI);
    if (op->p.axpbyz.b != 0.0f)
        set(&s[1], GLIA_SLOT_IN, op->p.axpbyz.n, LO, HI);
    set(&s[2], GLIA_SLOT_OUT, op->p.axpbyz.n, LO, HI);
}

static void glia_slots_binary(const glia_op *op, glia_op_slot *s)
{
    set(&s[0], GLIA_SLOT_IN, op->p.binary.n, LO, HI);
    if (op->p.binary.mode == GLIA_BINARY_DIV)
        set(&s[1], GLIA_SLOT_IN, op->p.binary.n, 0.5f, 2.0f);   /* away from 0 */
    else
        set(&s[1], GLIA_SLOT_IN, op->p.binary.n, LO, HI);
    set(&s[2], GLIA_SLOT_OUT, op->p.binary.n, LO, HI);
}

static void glia_slots_unary(const glia_op *op, glia_op_slot *s)
{
    set(&s[0], GLIA_SLOT_IN, op->p.unary.n, -3.0f, 3.0f);
    set(&s[1], GLIA_SLOT_OUT, op->p.unary.n, LO, HI);
}

static void glia_slots_unary_bwd(const glia_op *op, glia_op_slot *s)
{
    /* t0 as the forward gives it: a sigmoid's output is in (0,1); relu's y
     * includes zeros and negatives so both branches of y > 0 are hit */
    if (op->p.unary.mode == GLIA_UNARY_SIGMOID)
        set(&s[0], GLIA_SLOT_IN, op->p.unary.n, 0.0f, 1.0f);
    else if (glia_unary_grad(op->p.unary.mode) == GLIA_GRAD_X)
        set(&s[0], GLIA_SLOT_IN, op->p.unary.n, -3.0f, 3.0f);
    else
        set(&s[0], GLIA_SLOT_IN, op->p.unary.n, LO, HI);
    set(&s[1], GLIA_SLOT_IN, op->p.unary.n, LO, HI);
    set(&s[2], GLIA_SLOT_OUT, op->p.unary.n, LO, HI);
}

static void glia_slots_broadcast(const glia_op *op, glia_op_slot *s)
{
    set(&s[0], GLIA_SLOT_IN, op->p.bcast.b, LO, HI);
    set(&s[1], GLIA_SLOT_OUT, op->p.bcast.a * op->p.bcast.b * op->p.bcast.c, LO, HI);
}

static void glia_slots_reduce(const glia_op *op, glia_op_slot *s)
{
    set(&s[0], GLIA_SLOT_IN, op->p.bcast.a * op->p.bcast.b * op->p.bcast.c, LO, HI);
    set(&s[1], GLIA_SLOT_OUT, op->p.bcast.b, LO, HI);
}

static void glia_slots_gemm(const glia_op *op, glia_op_slot *s)
{
    const glia_gemm_desc *g = &op->p.gemm;
    set(&s[0], GLIA_SLOT_IN, gemm_size(g->batch, g->stride_a, g->trans_a ? g->k : g->m, g->lda), LO, HI);
    set(&s[1], GLIA_SLOT_IN, gemm_size(g->batch, g->stride_b, g->trans_b ? g->n : g->k, g->ldb), LO, HI);
    set(&s[2], GLIA_SLOT_OUT, gemm_size(g->batch, g->stride_c, g->m, g->ldc), LO, HI);
}

/* Forward: x, w -> y; backward-data: dy, w -> dx; backward-weight: x, dy -> dw. */
static void glia_slots_conv(const glia_op *op, glia_op_slot *s)
{
    const glia_conv_desc *c = &op->p.conv;
    size_t x = (size_t)(c->n * c->cin) * vol3(c->in);
    size_t y = (size_t)(c->n * c->cout) * vol3(c->out);
    size_t w = (size_t)(c->cout * c->cin * c->k[0] * c->k[1] * c->k[2]);
    size_t n[3] = {x, w, y};
    if (op->kind == GLIA_OP_CONV_BWD_DATA)
        n[0] = y, n[2] = x;
    else if (op->kind == GLIA_OP_CONV_BWD_WEIGHT)
        n[1] = y, n[2] = w;
    set(&s[0], GLIA_SLOT_IN, n[0], LO, HI);
    set(&s[1], GLIA_SLOT_IN, n[1], LO, HI);
    set(&s[2], GLIA_SLOT_OUT, n[2], LO, HI);
}

static void glia_slots_bn(const glia_op *op, glia_op_slot *s)
{
    size_t n = op->p.bn.n * op->p.bn.c * op->p.bn.s, c = op->p.bn.c;
    set(&s[0], GLIA_SLOT_IN, n, -2.0f, 3.0f);     /* a non-zero mean */
    set(&s[1], GLIA_SLOT_IN, c, 0.5f, 1.5f);
    set(&s[2], GLIA_SLOT_IN, c, LO, HI);
    set(&s[3], GLIA_SLOT_OUT, n, LO, HI);
    glia_slot_role r = op->kind == GLIA_OP_BN_FWD_TRAIN ? GLIA_SLOT_OUT : GLIA_SLOT_IN;
    if (op->kind == GLIA_OP_BN_FWD_TRAIN) {
        set(&s[4], GLIA_SLOT_OUT, c, LO, HI);
        set(&s[5], GLIA_SLOT_OUT, c, LO, HI);
    }
    set(&s[6], r, c, LO, HI);
    set(&s[7], r, c, 0.5f, 2.0f);                 /* a variance: > 0 */
}

/* A normalisation backward over n elements: nstat saved means and 1/stds,
 * nparam gammas (and their gradients). */
static void norm_bwd_slots(glia_op_slot *s, size_t n, size_t nstat, size_t nparam)
{
    set(&s[0], GLIA_SLOT_IN, n, -2.0f, 3.0f);
    set(&s[1], GLIA_SLOT_IN, nparam, 0.5f, 1.5f);
    set(&s[2], GLIA_SLOT_IN, n, LO, HI);
    set(&s[3], GLIA_SLOT_IN, nstat, 0.0f, 1.0f);
    set(&s[4], GLIA_SLOT_IN, nstat, 0.5f, 2.0f);
    set(&s[5], GLIA_SLOT_OUT, n, LO, HI);
    set(&s[6], GLIA_SLOT_OUT, nparam, LO, HI);
    set(&s[7], GLIA_SLOT_OUT, nparam, LO, HI);
}

static void glia_slots_bn_bwd(const glia_op *op, glia_op_slot *s)
{
    norm_bwd_slots(s, op->p.bn.n * op->p.bn.c * op->p.bn.s, op->p.bn.c, op->p.bn.c);
}

/* LayerNorm over the last axis of x[rows, cols]; the backward's saved
 * statistics are a mean and a 1/std of rows of x's range, not necessarily of
 * its actual rows (the op is defined for any). */
static void glia_slots_ln(const glia_op *op, glia_op_slot *s)
{
    size_t n = op->p.ln.rows * op->p.ln.cols, r = op->p.ln.rows, c = op->p.ln.cols;
    set(&s[0], GLIA_SLOT_IN, n, -2.0f, 3.0f);     /* a non-zero mean */
    set(&s[1], GLIA_SLOT_IN, c, 0.5f, 1.5f);
    if (op->kind == GLIA_OP_LN_FWD) {
        set(&s[2], GLIA_SLOT_IN, c, LO, HI);
        set(&s[3], GLIA_SLOT_OUT, n, LO, HI);
        set(&s[4], GLIA_SLOT_OUT, r, LO, HI);
        set(&s[5], GLIA_SLOT_OUT, r, LO, HI);
        return;
    }
    norm_bwd_slots(s, n, r, c);
}

static void glia_slots_pool(const glia_op *op, glia_op_slot *s)
{
    size_t in = (size_t)op->p.pool.planes * vol3(op->p.pool.in);
    size_t out = (size_t)op->p.pool.planes * vol3(op->p.pool.out);
    switch (op->kind) {
    case GLIA_OP_MAXPOOL_FWD:
        set(&s[0], GLIA_SLOT_IN, in, LO, HI);
        set(&s[1], GLIA_SLOT_OUT, out, LO, HI);
        set(&s[2], GLIA_SLOT_OUT, out, LO, HI);
        s[2].type = GLIA_ETYPE_I32;
        break;
    case GLIA_OP_MAXPOOL_BWD:
        set(&s[0], GLIA_SLOT_IN, out, LO, HI);
        set(&s[1], GLIA_SLOT_IN, out, LO, HI);
        s[1].type = GLIA_ETYPE_I32;
        set(&s[2], GLIA_SLOT_OUT, in, LO, HI);
        break;
    case GLIA_OP_UPSAMPLE_FWD:
        set(&s[0], GLIA_SLOT_IN, in, LO, HI);
        set(&s[1], GLIA_SLOT_OUT, out, LO, HI);
        break;
    default:   /* UPSAMPLE_BWD: the only other kind whose row names this function */
        set(&s[0], GLIA_SLOT_IN, out, LO, HI);
        set(&s[1], GLIA_SLOT_OUT, in, LO, HI);
        break;
    }
}

/* SOFTMAX_FWD and ARGMAX: x[N,C,S] -> y[N,C,S] or [N,S]. */
static void glia_slots_chan(const glia_op *op, glia_op_slot *s)
{
    size_t n = op->p.chan.n * op->p.chan.c * op->p.chan.s;
    set(&s[0], GLIA_SLOT_IN, n, -3.0f, 3.0f);
    set(&s[1], GLIA_SLOT_OUT, op->kind == GLIA_OP_ARGMAX ? op->p.chan.n * op->p.chan.s : n, LO, HI);
}

static void glia_slots_softmax_bwd(const glia_op *op, glia_op_slot *s)
{
    size_t n = op->p.chan.n * op->p.chan.c * op->p.chan.s;
    set(&s[0], GLIA_SLOT_IN, n, 0.0f, 1.0f);
    set(&s[1], GLIA_SLOT_IN, n, LO, HI);
    set(&s[2], GLIA_SLOT_OUT, n, LO, HI);
}

/* The loss and its backward share logits and targets; the backward adds g. */
static void loss_slots(glia_op_slot *s, int bwd, size_t n, size_t nloss, float lim)
{
    set(&s[0], GLIA_SLOT_IN, n, -lim, lim);
    set(&s[1], GLIA_SLOT_IN, n, 0.0f, 1.0f);
    if (!bwd) {
        set(&s[2], GLIA_SLOT_OUT, nloss, LO, HI);
    } else {
        set(&s[2], GLIA_SLOT_IN, 1, 0.5f, 1.5f);
        set(&s[3], GLIA_SLOT_OUT, n, LO, HI);
    }
}

static void glia_slots_ce(const glia_op *op, glia_op_slot *s)
{
    loss_slots(s, op->kind == GLIA_OP_SOFTMAX_CE_BWD, op->p.chan.n * op->p.chan.c * op->p.chan.s,
               op->p.chan.n * op->p.chan.s, 4.0f);
}

static void glia_slots_bce(const glia_op *op, glia_op_slot *s)
{
    loss_slots(s, op->kind == GLIA_OP_BCE_LOGITS_BWD, op->p.loss.n, op->p.loss.n, 4.0f);
}

static void glia_slots_dice(const glia_op *op, glia_op_slot *s)
{
    size_t n = op->p.dice.a * op->p.dice.b * op->p.dice.c, sums = 3 * op->p.dice.b;
    set(&s[0], GLIA_SLOT_IN, n, 0.0f, 1.0f);
    if (op->kind == GLIA_OP_DICE_SUMS) {
        set(&s[1], GLIA_SLOT_IN, n, 0.0f, 1.0f);
        set(&s[2], GLIA_SLOT_OUT, sums, LO, HI);
    } else {
        set(&s[1], GLIA_SLOT_IN, sums, LO, HI);
        set(&s[2], GLIA_SLOT_OUT, n, LO, HI);
    }
}

static void glia_slots_sgd(const glia_op *op, glia_op_slot *s)
{
    set(&s[0], GLIA_SLOT_OUT, op->p.sgd.n, LO, HI);
    set(&s[1], GLIA_SLOT_IN, op->p.sgd.n, LO, HI);
    if (op->p.sgd.momentum != 0.0f)
        set(&s[2], GLIA_SLOT_OUT, op->p.sgd.n, LO, HI);
}

static void glia_slots_adam(const glia_op *op, glia_op_slot *s)
{
    set(&s[0], GLIA_SLOT_OUT, op->p.adam.n, LO, HI);
    set(&s[1], GLIA_SLOT_IN, op->p.adam.n, LO, HI);
    set(&s[2], GLIA_SLOT_OUT, op->p.adam.n, -0.1f, 0.1f);
    set(&s[3], GLIA_SLOT_OUT, op->p.adam.n, 0.0f, 0.01f);   /* a second moment: >= 0 */
}

typedef void (*slot_fn)(const glia_op *op, glia_op_slot *s);
#define SLOTS_(kind, name, slots) [GLIA_OP_##kind] = glia_slots_##slots,
static const slot_fn slot_fns[GLIA_OP_COUNT_] = {GLIA_OPS(SLOTS_)};

void glia_op_slots(const glia_op *op, glia_op_slot s[8])
{
    memset(s, 0, 8 * sizeof *s);
    if ((unsigned)op->kind < GLIA_OP_COUNT_)
        slot_fns[op->kind](op, s);
}
