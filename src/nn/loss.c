/* Losses. BCE and cross-entropy are fused ops (one pass forward, one backward);
 * Dice is the fused partial-sum op followed by small differentiable vector ops
 * on the sums, so every formula variant (penalty, batch Dice) shares one path. */
#include <string.h>
#include "core/core.h"
#include "glia/glia.h"

static glia_status check_pair(glia_tensor *x, glia_tensor *t, int min_dim, const char *name, glia_tensor **out)
{
    glia_status s;
    if (!out)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "%s: out is NULL", name);
    *out = NULL;
    if ((s = glia_check_tensor(x, name)) != GLIA_STATUS_OK || (s = glia_check_tensor(t, name)) != GLIA_STATUS_OK ||
        (s = glia_check_same_shape(x, t, name)) != GLIA_STATUS_OK)
        return s;
    if (x->ndim < min_dim)
        return glia_seterr(GLIA_STATUS_SHAPE_MISMATCH, "%s: input needs at least %d dimensions (N, C, ...)", name,
                           min_dim);
    return GLIA_STATUS_OK;
}

static int64_t spatial(const glia_tensor *t)
{
    int64_t s = 1;
    for (int i = 2; i < t->ndim; i++)
        s *= t->shape[i];
    return s;
}

/* ---- fused elementwise losses: BCE-with-logits and softmax cross-entropy -- */
/* p.xent: ce = 1 for cross-entropy, scale = the mean scale. in: logits, target. */
static glia_status fused_backward(glia_node *nd, glia_tensor *g)
{
    glia_tensor *x = nd->in[0], *gx = NULL;
    int ce = nd->p.xent.ce;
    glia_status s = glia_tensor_empty_like(x, &gx);
    if (s != GLIA_STATUS_OK)
        return s;
    glia_op op = {.kind = ce ? GLIA_OP_SOFTMAX_CE_BWD : GLIA_OP_BCE_LOGITS_BWD,
                  .t = {glia_view(x), glia_view(nd->in[1]), glia_view(g), glia_view(gx)}};
    if (ce) {
        op.p.chan.n = (size_t)x->shape[0];
        op.p.chan.c = (size_t)x->shape[1];
        op.p.chan.s = (size_t)spatial(x);
        op.p.chan.scale = nd->p.xent.scale;
    } else {
        op.p.loss.n = (size_t)x->numel;
        op.p.loss.scale = nd->p.xent.scale;
    }
    if ((s = glia_run(x->dev, &op)) == GLIA_STATUS_OK)
        s = glia_grad_accum(x, gx);
    glia_tensor_free(gx);
    return s;
}

static glia_status fused_loss(glia_tensor *x, glia_tensor *t, int ce, glia_tensor **out)
{
    const char *name = ce ? "glia_loss_softmax_ce" : "glia_loss_bce_logits";
    glia_status s = check_pair(x, t, ce ? 2 : 1, name, out);
    if (s != GLIA_STATUS_OK)
        return s;
    int64_t count = ce ? x->shape[0] * spatial(x) : x->numel, one = 1;
    glia_tensor *elem = NULL;
    if ((s = glia_tensor_empty(x->dev, 1, &count, &elem)) != GLIA_STATUS_OK)
        return s;
    glia_op op = {.kind = ce ? GLIA_OP_SOFTMAX_CE : GLIA_OP_BCE_LOGITS,
                  .t = {glia_view(x), glia_view(t), glia_view(elem)}};
    if (ce) {
        op.p.chan.n = (size_t)x->shape[0];
        op.p.chan.c = (size_t)x->shape[1];
        op.p.chan.s = (size_t)spatial(x);
        op.p.chan.scale = 1.0f;
    } else {
        op.p.loss.n = (size_t)x->numel;
        op.p.loss.scale = 1.0f;
    }
    float scale = 1.0f / (float)count;
    if ((s = glia_run(x->dev, &op)) == GLIA_STATUS_OK && (s = glia_tensor_empty(x->dev, 1, &one, out)) == GLIA_STATUS_OK) {
        glia_op red = {.kind = GLIA_OP_REDUCE, .t = {glia_view(elem), glia_view(*out)}};
        red.p.bcast.a = 1;
        red.p.bcast.b = 1;
        red.p.bcast.c = (size_t)count;
        red.p.bcast.alpha = scale;
        s = glia_run(x->dev, &red);
    }
    glia_tensor_free(elem);
    glia_tensor *in[2] = {x, t};
    glia_node *nd;
    if (s == GLIA_STATUS_OK && glia_grad_needed(x->dev, in, 1) &&
        (s = glia_tape_record(x->dev, fused_backward, *out, in, 2, &nd)) == GLIA_STATUS_OK) {
        nd->p.xent.ce = ce;
        nd->p.xent.scale = scale;
    }
    return glia_out_fail(s, out);
}

glia_status glia_loss_bce_logits(glia_tensor *logits, glia_tensor *target, glia_tensor **out)
{
    return fused_loss(logits, target, 0, out);
}

glia_status glia_loss_softmax_ce(glia_tensor *logits, glia_tensor *target, glia_tensor **out)
{
    return fused_loss(logits, target, 1, out);
}

glia_status glia_loss_mse(glia_tensor *pred, glia_tensor *target, glia_tensor **out)
{
    glia_status s = check_pair(pred, target, 1, "glia_loss_mse", out);
    glia_tensor *d = NULL, *sq = NULL;
    if (s == GLIA_STATUS_OK && (s = glia_sub(pred, target, &d)) == GLIA_STATUS_OK &&
        (s = glia_mul(d, d, &sq)) == GLIA_STATUS_OK)
        s = glia_mean(sq, out);
    glia_tensor_free(d);
    glia_tensor_free(sq);
    return s;
}

/* ---- Dice ------------------------------------------------------------------ */
/* in: p; saved: target; p.dice: the A, B, C view. */
static glia_status dice_sums_backward(glia_node *nd, glia_tensor *g)
{
    glia_tensor *p = nd->in[0], *gp;
    glia_status s = glia_tensor_empty_like(p, &gp);
    if (s != GLIA_STATUS_OK)
        return s;
    glia_op op = {.kind = GLIA_OP_DICE_SUMS_BWD, .t = {glia_view(nd->saved[0]), glia_view(g), glia_view(gp)}};
    op.p.dice.a = (size_t)nd->p.dice.a;
    op.p.dice.b = (size_t)nd->p.dice.b;
    op.p.dice.c = (size_t)nd->p.dice.c;
    if ((s = glia_run(p->dev, &op)) == GLIA_STATUS_OK)
        s = glia_grad_accum(p, gp);
    glia_tensor_free(gp);
    return s;
}

/* sums[B, 3] = (sum p*t, sum p, sum t) over the A and C axes of an [A, B, C] view. */
static glia_status dice_sums(glia_tensor *p, glia_tensor *t, int batch, glia_tensor **out)
{
    int64_t a = batch ? p->shape[0] : 1, b = batch ? p->shape[1] : p->shape[0] * p->shape[1], c = spatial(p);
    int64_t shape[2] = {b, 3};
    glia_status s = glia_tensor_empty(p->dev, 2, shape, out);
    if (s != GLIA_STATUS_OK)
        return s;
    glia_op op = {.kind = GLIA_OP_DICE_SUMS, .t = {glia_view(p), glia_view(t), glia_view(*out)}};
    op.p.dice.a = (size_t)a;
    op.p.dice.b = (size_t)b;
    op.p.dice.c = (size_t)c;
    s = glia_run(p->dev, &op);
    glia_node *nd;
    if (s == GLIA_STATUS_OK && glia_grad_needed(p->dev, &p, 1) &&
        (s = glia_tape_record(p->dev, dice_sums_backward, *out, &p, 1, &nd)) == GLIA_STATUS_OK) {
        nd->saved[0] = glia_tensor_retain(t);
        nd->p.dice.a = a;
        nd->p.dice.b = b;
        nd->p.dice.c = c;
    }
    return glia_out_fail(s, out);
}

glia_status glia_loss_dice(glia_tensor *logits, glia_tensor *target, const glia_dice_options *opts,
                           glia_tensor **out)
{
    glia_status s = check_pair(logits, target, 2, "glia_loss_dice", out);
    if (s != GLIA_STATUS_OK)
        return s;
    glia_dice_options o = opts ? *opts : (glia_dice_options){0};
    float sm = o.smooth > 0 ? o.smooth : 1e-5f, pen = o.penalty > 0 ? o.penalty : 1.0f;
    if (o.smooth < 0 || o.penalty < 0 || (unsigned)o.activation > GLIA_DICE_NONE)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_loss_dice: smooth %g, penalty %g (>= 0), activation %d",
                           o.smooth, o.penalty, (int)o.activation);
    glia_tensor *p = NULL, *sums = NULL, *I = NULL, *P = NULL, *T = NULL, *num = NULL, *pp = NULL, *den = NULL,
                *ratio = NULL, *mean = NULL;
    if (o.activation == GLIA_DICE_SIGMOID)
        s = glia_sigmoid(logits, &p);
    else if (o.activation == GLIA_DICE_SOFTMAX)
        s = glia_softmax(logits, &p);
    else
        p = glia_tensor_retain(logits);
    if (s == GLIA_STATUS_OK && (s = dice_sums(p, target, o.batch, &sums)) == GLIA_STATUS_OK &&
        (s = glia_slice_channels(sums, 0, 1, &I)) == GLIA_STATUS_OK &&
        (s = glia_slice_channels(sums, 1, 1, &P)) == GLIA_STATUS_OK &&
        (s = glia_slice_channels(sums, 2, 1, &T)) == GLIA_STATUS_OK &&
        (s = glia_affine(I, 2.0f * pen, sm, &num)) == GLIA_STATUS_OK &&
        (s = glia_affine(P, pen, sm, &pp)) == GLIA_STATUS_OK && (s = glia_add(T, pp, &den)) == GLIA_STATUS_OK &&
        (s = glia_div(num, den, &ratio)) == GLIA_STATUS_OK && (s = glia_mean(ratio, &mean)) == GLIA_STATUS_OK)
        s = glia_affine(mean, -1.0f, 1.0f, out);
    glia_tensor *tmp[] = {p, sums, I, P, T, num, pp, den, ratio, mean};
    for (size_t i = 0; i < sizeof tmp / sizeof tmp[0]; i++)
        glia_tensor_free(tmp[i]);
    return s;
}

static glia_status dice_combo(glia_tensor *x, glia_tensor *t, const glia_dice_options *opts, glia_dice_activation act,
                              float w_dice, float w_other, glia_tensor **out)
{
    if (!out)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "dice combination loss: out is NULL");
    *out = NULL;
    glia_dice_options o = opts ? *opts : (glia_dice_options){0};
    o.activation = act;
    glia_tensor *d = NULL, *other = NULL, *wd = NULL, *wo = NULL;
    glia_status s = glia_loss_dice(x, t, &o, &d);
    if (s == GLIA_STATUS_OK)
        s = act == GLIA_DICE_SOFTMAX ? glia_loss_softmax_ce(x, t, &other) : glia_loss_bce_logits(x, t, &other);
    if (s == GLIA_STATUS_OK && (s = glia_affine(d, w_dice, 0.0f, &wd)) == GLIA_STATUS_OK &&
        (s = glia_affine(other, w_other, 0.0f, &wo)) == GLIA_STATUS_OK)
        s = glia_add(wd, wo, out);
    glia_tensor_free(d);
    glia_tensor_free(other);
    glia_tensor_free(wd);
    glia_tensor_free(wo);
    return s;
}

glia_status glia_loss_dice_bce(glia_tensor *logits, glia_tensor *target, const glia_dice_options *opts, float w_dice,
                               float w_bce, glia_tensor **out)
{
    return dice_combo(logits, target, opts, GLIA_DICE_SIGMOID, w_dice, w_bce, out);
}

glia_status glia_loss_dice_ce(glia_tensor *logits, glia_tensor *target, const glia_dice_options *opts, float w_dice,
                              float w_ce, glia_tensor **out)
{
    return dice_combo(logits, target, opts, GLIA_DICE_SOFTMAX, w_dice, w_ce, out);
}
