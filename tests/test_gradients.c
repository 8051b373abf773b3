/* Gradient checks through the public API on one backend (argv[1]): for every
 * differentiable op and loss, the gradients glia_backward produces are
 * compared with central finite differences of the same forward pass along
 * random directions. The forward passes run on the backend; the scalar
 * L = sum(w * f(x)) is formed on the host in double so that float rounding of
 * a long sum does not swamp the difference quotient.
 *
 * Tolerance: with h = 1e-2 the truncation error of a central difference is
 * O(h^2 |f'''|) ~ 1e-4 relative for these smooth functions, and rounding of
 * float32 outputs adds ~ 6e-8 * sum|w f| / h ~ 1e-5. A bound of 5e-3 leaves a
 * wide margin for that noise while any wiring mistake (a missing term, a wrong
 * transpose, a lost accumulation) gives errors of order one. Inputs of the
 * non-smooth ops (ReLU, max-pool) are kept at least 5h away from their kinks.
 * The exact (double precision) checks of each backward op live in gradcheck. */
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

#define H 1e-2
#define TOL 5e-3
#define MAXIN 4

typedef glia_status (*fwd_fn)(glia_tensor **in, glia_tensor **out);

enum { F_GRAD = 1, F_AWAY = 2, F_GRID = 4, F_POS = 8, F_ONEHOT = 16, F_BINARY = 32 };

typedef struct gcase {
    const char *name;
    fwd_fn f;
    int nin;
    int ndim[MAXIN];
    int64_t shape[MAXIN][6];
    int flags[MAXIN];
} gcase;

static glia_device *dev;
static const char *backend_name;

/* ---- forward functions ------------------------------------------------------ */
static glia_status f_conv_s2p1(glia_tensor **in, glia_tensor **out)
{
    glia_conv_params p = {.stride = {2, 2, 2}, .padding = {1, 1, 1}};
    return glia_conv(in[0], in[1], in[2], &p, out);
}
static glia_status f_conv_p1(glia_tensor **in, glia_tensor **out)
{
    glia_conv_params p = {.padding = {1, 1, 1}};
    return glia_conv(in[0], in[1], in[2], &p, out);
}
static glia_status f_convt_s2(glia_tensor **in, glia_tensor **out)
{
    glia_conv_params p = {.stride = {2, 2, 2}};
    return glia_conv_transpose(in[0], in[1], in[2], &p, out);
}
static glia_status f_convt_s2p1(glia_tensor **in, glia_tensor **out)
{
    glia_conv_params p = {.stride = {2, 2, 2}, .padding = {1, 1, 1}};
    return glia_conv_transpose(in[0], in[1], NULL, &p, out);
}
static glia_status f_bn_train(glia_tensor **in, glia_tensor **out)
{
    return glia_batch_norm(in[0], in[1], in[2], NULL, NULL, 1, 0.1f, 1e-5f, out);
}
static glia_status f_bn_eval(glia_tensor **in, glia_tensor **out)
{
    /* in[3] is C x 2: running mean in column 0, running variance in column 1 */
    glia_tensor *rm = NULL, *rv = NULL;
    int64_t c = glia_tensor_dim(in[1], 0);
    glia_status s = glia_slice_channels(in[3], 0, 1, &rm);
    glia_tensor *m1 = NULL, *v1 = NULL;
    if (s == GLIA_STATUS_OK)
        s = glia_slice_channels(in[3], 1, 1, &rv);
    if (s == GLIA_STATUS_OK)
        s = glia_tensor_reshape(rm, 1, &c, &m1);
    if (s == GLIA_STATUS_OK)
        s = glia_tensor_reshape(rv, 1, &c, &v1);
    if (s == GLIA_STATUS_OK)
        s = glia_batch_norm(in[0], in[1], in[2], m1, v1, 0, 0.1f, 1e-5f, out);
    glia_tensor_free(rm);
    glia_tensor_free(rv);
    glia_tensor_free(m1);
    glia_tensor_free(v1);
    return s;
}
static glia_status f_relu(glia_tensor **in, glia_tensor **out) { return glia_relu(in[0], out); }
static glia_status f_sigmoid(glia_tensor **in, glia_tensor **out) { return glia_sigmoid(in[0], out); }
static glia_status f_gelu(glia_tensor **in, glia_tensor **out) { return glia_gelu(in[0], out); }
static glia_status f_ln_affine(glia_tensor **in, glia_tensor **out) { return glia_layer_norm(in[0], in[1], in[2], 1e-5f, out); }
static glia_status f_ln_plain(glia_tensor **in, glia_tensor **out) { return glia_layer_norm(in[0], NULL, NULL, 1e-5f, out); }
static glia_status f_ln_gamma(glia_tensor **in, glia_tensor **out) { return glia_layer_norm(in[0], in[1], NULL, 1e-5f, out); }
static glia_status f_instance_norm(glia_tensor **in, glia_tensor **out) { return glia_instance_norm(in[0], 1e-5f, out); }
static glia_status f_leaky_relu(glia_tensor **in, glia_tensor **out) { return glia_leaky_relu(in[0], 0.2f, out); }
static glia_status f_softmax(glia_tensor **in, glia_tensor **out) { return glia_softmax(in[0], out); }
static glia_status f_pool2(glia_tensor **in, glia_tensor **out)
{
    int k[3] = {2, 2, 2};
    return glia_max_pool(in[0], k, NULL, out);
}
static glia_status f_pool3s2(glia_tensor **in, glia_tensor **out)
{
    int k[3] = {3, 3, 3}, s[3] = {2, 2, 2};
    return glia_max_pool(in[0], k, s, out);
}
static glia_status f_up2(glia_tensor **in, glia_tensor **out)
{
    int k[3] = {2, 2, 2};
    return glia_upsample_nearest(in[0], k, out);
}
static glia_status f_concat(glia_tensor **in, glia_tensor **out) { return glia_concat(in, 2, out); }
static glia_status f_slice(glia_tensor **in, glia_tensor **out) { return glia_slice_channels(in[0], 1, 2, out); }
/* the layout ops: window partition (6-D), transposes, slices, rolls and concatenation along other axes */
static glia_status f_permute_window(glia_tensor **in, glia_tensor **out)
{
    return glia_permute(in[0], (const int[]){0, 2, 4, 1, 3, 5}, out);
}
static glia_status f_permute3(glia_tensor **in, glia_tensor **out) { return glia_permute(in[0], (const int[]){2, 0, 1}, out); }
static glia_status f_slice_last(glia_tensor **in, glia_tensor **out) { return glia_slice(in[0], -1, 1, 3, out); }
static glia_status f_slice_1d(glia_tensor **in, glia_tensor **out) { return glia_slice(in[0], 0, 2, 5, out); }
static glia_status f_slice_odd(glia_tensor **in, glia_tensor **out) { return glia_slice_step(in[0], 3, 1, 2, 2, out); }
static glia_status f_pad(glia_tensor **in, glia_tensor **out)
{
    return glia_pad(in[0], (const int64_t[]){0, 1, 0, 2, 0}, (const int64_t[]){0, 0, 3, 1, 0}, out);
}
static glia_status f_roll_mid(glia_tensor **in, glia_tensor **out) { return glia_roll(in[0], 2, -2, out); }
static glia_status f_roll_1d(glia_tensor **in, glia_tensor **out) { return glia_roll(in[0], 0, 3, out); }
static glia_status f_cat_last(glia_tensor **in, glia_tensor **out) { return glia_cat(in, 3, -1, out); }
static glia_status f_cat_first(glia_tensor **in, glia_tensor **out) { return glia_cat(in, 2, 0, out); }
/* attention: softmax over keys, relative-position bias and shifted-window mask by broadcasting */
static glia_status f_softmax_last(glia_tensor **in, glia_tensor **out) { return glia_softmax_axis(in[0], -1, out); }
static glia_status f_softmax_mid(glia_tensor **in, glia_tensor **out) { return glia_softmax_axis(in[0], 2, out); }
static glia_status f_add_bcast(glia_tensor **in, glia_tensor **out) { return glia_add_broadcast(in[0], in[1], out); }
static glia_status f_linear(glia_tensor **in, glia_tensor **out) { return glia_linear(in[0], in[1], in[2], out); }
static glia_status f_linear_nobias(glia_tensor **in, glia_tensor **out) { return glia_linear(in[0], in[1], NULL, out); }
/* 6 slices of in[0] joined in reverse order: a cat of more than 4 inputs */
static glia_status f_cat6_reversed(glia_tensor **in, glia_tensor **out)
{
    glia_tensor *part[6] = {0};
    glia_status s = GLIA_STATUS_OK;
    for (int i = 0; i < 6 && s == GLIA_STATUS_OK; i++)
        s = glia_slice(in[0], 1, 5 - i, 1, &part[i]);
    if (s == GLIA_STATUS_OK)
        s = glia_cat(part, 6, 1, out);
    for (int i = 0; i < 6; i++)
        glia_tensor_free(part[i]);
    return s;
}
/* rows 0..4 of a 5-row table, some repeated, one unused (row 3) */
static glia_status f_gather(glia_tensor **in, glia_tensor **out)
{
    static const int32_t idx[11] = {4, 0, 2, 2, 1, 4, 0, 4, 1, 2, 0};
    return glia_gather_rows(in[0], idx, 11, out);
}
static glia_status f_add(glia_tensor **in, glia_tensor **out) { return glia_add(in[0], in[1], out); }
static glia_status f_sub(glia_tensor **in, glia_tensor **out) { return glia_sub(in[0], in[1], out); }
static glia_status f_mul(glia_tensor **in, glia_tensor **out) { return glia_mul(in[0], in[1], out); }
static glia_status f_div(glia_tensor **in, glia_tensor **out) { return glia_div(in[0], in[1], out); }
static glia_status f_affine(glia_tensor **in, glia_tensor **out) { return glia_affine(in[0], -1.5f, 0.25f, out); }
static glia_status f_sum(glia_tensor **in, glia_tensor **out) { return glia_sum(in[0], out); }
static glia_status f_mean(glia_tensor **in, glia_tensor **out) { return glia_mean(in[0], out); }
static glia_status f_mm(glia_tensor **in, glia_tensor **out) { return glia_matmul(in[0], in[1], 0, 0, out); }
static glia_status f_mm_tt(glia_tensor **in, glia_tensor **out) { return glia_matmul(in[0], in[1], 1, 1, out); }
static glia_status f_mm_tn(glia_tensor **in, glia_tensor **out) { return glia_matmul(in[0], in[1], 1, 0, out); }
static glia_status f_mm_nt(glia_tensor **in, glia_tensor **out) { return glia_matmul(in[0], in[1], 0, 1, out); }
static glia_status f_reshape_mul(glia_tensor **in, glia_tensor **out)
{
    /* reshape, then a nonlinear use of both views of x */
    int64_t shape[2] = {6, 10};
    glia_tensor *r = NULL, *r2 = NULL;
    glia_status s = glia_tensor_reshape(in[0], 2, shape, &r);
    if (s == GLIA_STATUS_OK)
        s = glia_tensor_reshape(in[0], 2, shape, &r2);
    if (s == GLIA_STATUS_OK)
        s = glia_mul(r, r2, out);
    glia_tensor_free(r);
    glia_tensor_free(r2);
    return s;
}
static glia_status f_bce(glia_tensor **in, glia_tensor **out) { return glia_loss_bce_logits(in[0], in[1], out); }
static glia_status f_ce(glia_tensor **in, glia_tensor **out) { return glia_loss_softmax_ce(in[0], in[1], out); }
static glia_status f_mse(glia_tensor **in, glia_tensor **out) { return glia_loss_mse(in[0], in[1], out); }
static glia_status f_dice_sig(glia_tensor **in, glia_tensor **out) { return glia_loss_dice(in[0], in[1], NULL, out); }
static glia_status f_dice_soft_pen_batch(glia_tensor **in, glia_tensor **out)
{
    glia_dice_options o = {.activation = GLIA_DICE_SOFTMAX, .penalty = 5.0f, .smooth = 1.0f, .batch = 1};
    return glia_loss_dice(in[0], in[1], &o, out);
}
static glia_status f_dice_none(glia_tensor **in, glia_tensor **out)
{
    glia_dice_options o = {.activation = GLIA_DICE_NONE, .penalty = 2.0f};
    return glia_loss_dice(in[0], in[1], &o, out);
}
static glia_status f_dice_bce(glia_tensor **in, glia_tensor **out)
{
    return glia_loss_dice_bce(in[0], in[1], NULL, 0.7f, 0.3f, out);
}
static glia_status f_dice_ce(glia_tensor **in, glia_tensor **out)
{
    return glia_loss_dice_ce(in[0], in[1], NULL, 1.0f, 1.0f, out);
}

#define S4(a, b, c, d) {a, b, c, d}
#define S5(a, b, c, d, e) {a, b, c, d, e}
static const gcase cases[] = {
    {"conv2d s2 p1", f_conv_s2p1, 3, {4, 4, 1}, {S4(2, 3, 7, 6), S4(4, 3, 3, 3), {4}}, {F_GRAD, F_GRAD, F_GRAD}},
    {"conv3d p1", f_conv_p1, 3, {5, 5, 1}, {S5(1, 2, 5, 4, 6), S5(3, 2, 3, 3, 3), {3}}, {F_GRAD, F_GRAD, F_GRAD}},
    {"conv3d s2 p1", f_conv_s2p1, 3, {5, 5, 1}, {S5(2, 2, 5, 6, 5), S5(2, 2, 3, 3, 3), {2}}, {F_GRAD, F_GRAD, F_GRAD}},
    {"convT2d s2", f_convt_s2, 3, {4, 4, 1}, {S4(2, 3, 4, 5), S4(3, 2, 2, 2), {2}}, {F_GRAD, F_GRAD, F_GRAD}},
    {"convT3d s2 p1", f_convt_s2p1, 2, {5, 5}, {S5(1, 2, 3, 2, 3), S5(2, 3, 3, 3, 3)}, {F_GRAD, F_GRAD}},
    {"batchnorm train", f_bn_train, 3, {4, 1, 1}, {S4(3, 4, 5, 5), {4}, {4}}, {F_GRAD, F_GRAD, F_GRAD}},
    {"batchnorm3d train", f_bn_train, 3, {5, 1, 1}, {S5(2, 3, 3, 4, 2), {3}, {3}}, {F_GRAD, F_GRAD, F_GRAD}},
    {"layernorm 3d affine", f_ln_affine, 3, {3, 1, 1}, {{3, 4, 7}, {7}, {7}}, {F_GRAD, F_GRAD, F_GRAD}},
    {"layernorm 2d", f_ln_plain, 1, {2}, {{5, 9}}, {F_GRAD}},
    {"layernorm 2d gamma only", f_ln_gamma, 2, {2, 1}, {{4, 8}, {8}}, {F_GRAD, F_GRAD}},
    {"instancenorm 4d", f_instance_norm, 1, {4}, {S4(2, 3, 4, 5)}, {F_GRAD}},
    {"instancenorm 5d", f_instance_norm, 1, {5}, {S5(2, 2, 3, 2, 3)}, {F_GRAD}},
    {"batchnorm eval", f_bn_eval, 4, {4, 1, 1, 2}, {S4(2, 4, 3, 3), {4}, {4}, {4, 2}},
     {F_GRAD, F_GRAD, F_GRAD, F_POS}},
    {"relu", f_relu, 1, {4}, {S4(2, 3, 5, 7)}, {F_GRAD | F_AWAY}},
    {"sigmoid", f_sigmoid, 1, {4}, {S4(2, 3, 5, 7)}, {F_GRAD}},
    {"gelu", f_gelu, 1, {4}, {S4(2, 3, 5, 7)}, {F_GRAD}},
    {"leaky_relu", f_leaky_relu, 1, {4}, {S4(2, 3, 5, 7)}, {F_GRAD | F_AWAY}},
    {"softmax", f_softmax, 1, {4}, {S4(2, 4, 3, 3)}, {F_GRAD}},
    {"maxpool2d k2", f_pool2, 1, {4}, {S4(2, 3, 6, 7)}, {F_GRAD | F_GRID}},
    {"maxpool3d k2", f_pool2, 1, {5}, {S5(1, 2, 4, 5, 4)}, {F_GRAD | F_GRID}},
    {"maxpool2d k3 s2", f_pool3s2, 1, {4}, {S4(2, 2, 7, 9)}, {F_GRAD | F_GRID}},
    {"upsample2d", f_up2, 1, {4}, {S4(2, 3, 3, 4)}, {F_GRAD}},
    {"upsample3d", f_up2, 1, {5}, {S5(1, 2, 2, 3, 2)}, {F_GRAD}},
    {"concat", f_concat, 2, {4, 4}, {S4(2, 3, 4, 4), S4(2, 2, 4, 4)}, {F_GRAD, F_GRAD}},
    {"slice", f_slice, 1, {4}, {S4(2, 5, 3, 3)}, {F_GRAD}},
    {"permute 6d window", f_permute_window, 1, {6}, {{2, 3, 2, 2, 3, 2}}, {F_GRAD}},
    {"permute 3d", f_permute3, 1, {3}, {{3, 4, 5}}, {F_GRAD}},
    {"slice 5d last axis", f_slice_last, 1, {5}, {S5(2, 2, 3, 2, 5)}, {F_GRAD}},
    {"slice 1d", f_slice_1d, 1, {1}, {{9}}, {F_GRAD}},
    {"slice odd of 5", f_slice_odd, 1, {5}, {S5(2, 2, 3, 5, 2)}, {F_GRAD}},
    {"pad 5d", f_pad, 1, {5}, {S5(2, 2, 3, 2, 4)}, {F_GRAD}},
    {"roll 4d", f_roll_mid, 1, {4}, {S4(2, 3, 5, 2)}, {F_GRAD}},
    {"roll 1d", f_roll_1d, 1, {1}, {{7}}, {F_GRAD}},
    {"cat 3d last axis", f_cat_last, 3, {3, 3, 3}, {{2, 3, 2}, {2, 3, 4}, {2, 3, 1}}, {F_GRAD, F_GRAD, F_GRAD}},
    {"cat 2d first axis", f_cat_first, 2, {2, 2}, {{3, 4}, {2, 4}}, {F_GRAD, F_GRAD}},
    {"softmax last axis", f_softmax_last, 1, {4}, {S4(2, 3, 4, 7)}, {F_GRAD}},
    {"softmax axis 2 of 5", f_softmax_mid, 1, {5}, {S5(2, 2, 3, 2, 3)}, {F_GRAD}},
    {"add broadcast bias", f_add_bcast, 2, {4, 3}, {S4(4, 3, 5, 5), {3, 5, 5}}, {F_GRAD, F_GRAD}},
    {"gather rows", f_gather, 1, {2}, {{5, 3}}, {F_GRAD}},
    {"linear 3d", f_linear, 3, {3, 2, 1}, {{2, 3, 5}, {4, 5}, {4}}, {F_GRAD, F_GRAD, F_GRAD}},
    {"linear no bias", f_linear_nobias, 2, {2, 2}, {{7, 3}, {2, 3}}, {F_GRAD, F_GRAD}},
    {"cat of 6", f_cat6_reversed, 1, {3}, {{2, 6, 3}}, {F_GRAD}},
    {"add broadcast mask", f_add_bcast, 2, {5, 5}, {S5(2, 3, 2, 4, 4), S5(1, 3, 1, 4, 4)}, {F_GRAD, F_GRAD}},
    {"add", f_add, 2, {3, 3}, {{3, 4, 5}, {3, 4, 5}}, {F_GRAD, F_GRAD}},
    {"sub", f_sub, 2, {3, 3}, {{3, 4, 5}, {3, 4, 5}}, {F_GRAD, F_GRAD}},
    {"mul", f_mul, 2, {3, 3}, {{3, 4, 5}, {3, 4, 5}}, {F_GRAD, F_GRAD}},
    {"div", f_div, 2, {3, 3}, {{3, 4, 5}, {3, 4, 5}}, {F_GRAD, F_GRAD | F_POS}},
    {"affine", f_affine, 1, {2}, {{6, 7}}, {F_GRAD}},
    {"sum", f_sum, 1, {3}, {{3, 4, 5}}, {F_GRAD}},
    {"mean", f_mean, 1, {3}, {{3, 4, 5}}, {F_GRAD}},
    {"matmul", f_mm, 2, {2, 2}, {{5, 7}, {7, 3}}, {F_GRAD, F_GRAD}},
    {"matmul TT batched", f_mm_tt, 2, {3, 3}, {{2, 7, 5}, {2, 3, 7}}, {F_GRAD, F_GRAD}},
    {"matmul TN", f_mm_tn, 2, {2, 2}, {{7, 5}, {7, 3}}, {F_GRAD, F_GRAD}},
    {"matmul NT batched", f_mm_nt, 2, {3, 3}, {{2, 5, 7}, {2, 3, 7}}, {F_GRAD, F_GRAD}},
    {"reshape", f_reshape_mul, 1, {3}, {{3, 4, 5}}, {F_GRAD}},
    {"loss bce", f_bce, 2, {4, 4}, {S4(2, 2, 4, 5), S4(2, 2, 4, 5)}, {F_GRAD, F_BINARY}},
    {"loss ce", f_ce, 2, {4, 4}, {S4(2, 3, 4, 5), S4(2, 3, 4, 5)}, {F_GRAD, F_ONEHOT}},
    {"loss mse", f_mse, 2, {4, 4}, {S4(2, 2, 3, 3), S4(2, 2, 3, 3)}, {F_GRAD, F_GRAD}},
    {"loss dice sigmoid", f_dice_sig, 2, {4, 4}, {S4(2, 2, 4, 5), S4(2, 2, 4, 5)}, {F_GRAD, F_BINARY}},
    {"loss dice softmax penalty batch", f_dice_soft_pen_batch, 2, {5, 5}, {S5(2, 3, 2, 3, 4), S5(2, 3, 2, 3, 4)},
     {F_GRAD, F_ONEHOT}},
    {"loss dice probabilities", f_dice_none, 2, {4, 4}, {S4(2, 2, 4, 4), S4(2, 2, 4, 4)}, {F_GRAD | F_POS, F_BINARY}},
    {"loss dice+bce", f_dice_bce, 2, {4, 4}, {S4(2, 1, 5, 5), S4(2, 1, 5, 5)}, {F_GRAD, F_BINARY}},
    {"loss dice+ce", f_dice_ce, 2, {4, 4}, {S4(2, 3, 4, 4), S4(2, 3, 4, 4)}, {F_GRAD, F_ONEHOT}},
};

static size_t numel_of(const gcase *c, int i)
{
    size_t n = 1;
    for (int d = 0; d < c->ndim[i]; d++)
        n *= (size_t)c->shape[i][d];
    return n;
}

/* Input values honouring the case's flags. */
static void make_input(const gcase *c, int i, float *x, size_t n, uint64_t seed)
{
    int fl = c->flags[i];
    gt_fill(x, n, seed, -1.0f, 1.0f);
    if (fl & F_POS)
        for (size_t j = 0; j < n; j++)
            x[j] = 0.5f + 0.5f * fabsf(x[j]); /* in [0.5, 1]: safe denominators, variances, probabilities */
    if (fl & F_AWAY)
        for (size_t j = 0; j < n; j++)
            x[j] = (x[j] < 0 ? -1.0f : 1.0f) * (0.1f + 0.9f * fabsf(x[j]));
    if (fl & F_GRID) {
        /* distinct values 0.1 apart in a shuffled order: no max changes under a 1e-2 step */
        for (size_t j = 0; j < n; j++)
            x[j] = 0.1f * (float)j - 0.05f * (float)n;
        uint64_t s = seed;
        for (size_t j = n - 1; j > 0; j--) {
            s = s * 6364136223846793005ULL + 1442695040888963407ULL;
            size_t k = (size_t)((s >> 33) % (j + 1));
            float t = x[j];
            x[j] = x[k];
            x[k] = t;
        }
    }
    if (fl & F_BINARY)
        for (size_t j = 0; j < n; j++)
            x[j] = x[j] > 0 ? 1.0f : 0.0f;
    if (fl & F_ONEHOT) {
        /* one-hot over dimension 1 */
        size_t inner = n / (size_t)(c->shape[i][0] * c->shape[i][1]), ch = (size_t)c->shape[i][1];
        for (size_t j = 0; j < n; j++)
            x[j] = 0.0f;
        for (size_t b = 0; b < (size_t)c->shape[i][0]; b++)
            for (size_t s = 0; s < inner; s++)
                x[(b * ch + (s * 7 + b) % ch) * inner + s] = 1.0f;
    }
}

/* L = sum(w * f(inputs)) in double, forward only. */
static double objective(const gcase *c, glia_tensor **in, const float *w, size_t nw)
{
    glia_tensor *out = NULL;
    assert_int_equal(c->f(in, &out), GLIA_STATUS_OK);
    assert_int_equal((size_t)glia_tensor_numel(out), nw);
    float *y = malloc(nw * sizeof *y);
    assert_int_equal(glia_tensor_read(out, y, nw), GLIA_STATUS_OK);
    double L = 0;
    for (size_t j = 0; j < nw; j++)
        L += (double)w[j] * y[j];
    free(y);
    glia_tensor_free(out);
    return L;
}

static void check_case(const gcase *c, uint64_t seed)
{
    glia_tensor *in[MAXIN] = {0};
    float *host[MAXIN] = {0};
    for (int i = 0; i < c->nin; i++) {
        size_t n = numel_of(c, i);
        host[i] = malloc(n * sizeof(float));
        make_input(c, i, host[i], n, seed * 31 + (uint64_t)i);
        assert_int_equal(glia_tensor_from_host(dev, c->ndim[i], c->shape[i], host[i], &in[i]), GLIA_STATUS_OK);
        if (c->flags[i] & F_GRAD)
            assert_int_equal(glia_tensor_set_requires_grad(in[i], 1), GLIA_STATUS_OK);
    }
    /* analytic: backward of sum(w * f) */
    glia_tensor *out = NULL, *wt = NULL, *prod = NULL, *L = NULL;
    assert_int_equal(c->f(in, &out), GLIA_STATUS_OK);
    size_t nw = (size_t)glia_tensor_numel(out);
    float *w = malloc(nw * sizeof *w);
    gt_fill(w, nw, seed + 1000, -1.0f, 1.0f);
    int64_t shape[6];
    for (int d = 0; d < glia_tensor_ndim(out); d++)
        shape[d] = glia_tensor_dim(out, d);
    assert_int_equal(glia_tensor_from_host(dev, glia_tensor_ndim(out), shape, w, &wt), GLIA_STATUS_OK);
    assert_int_equal(glia_mul(out, wt, &prod), GLIA_STATUS_OK);
    assert_int_equal(glia_sum(prod, &L), GLIA_STATUS_OK);
    assert_int_equal(glia_backward(L), GLIA_STATUS_OK);
    glia_tensor *tmp[] = {out, wt, prod, L};
    for (int i = 0; i < 4; i++)
        glia_tensor_free(tmp[i]);

    int mode = glia_grad_mode(dev, 0);
    for (int i = 0; i < c->nin; i++) {
        if (!(c->flags[i] & F_GRAD))
            continue;
        size_t n = numel_of(c, i);
        float *g = malloc(n * sizeof *g), *v = malloc(n * sizeof *v), *xp = malloc(n * sizeof *xp);
        glia_tensor *grad = glia_tensor_grad(in[i]);
        assert_non_null(grad);
        assert_int_equal(glia_tensor_read(grad, g, n), GLIA_STATUS_OK);
        for (int dir = 0; dir < 3; dir++) {
            gt_fill(v, n, seed * 7 + (uint64_t)(i * 3 + dir), -1.0f, 1.0f);
            double ana = 0, gnorm = 0;
            for (size_t j = 0; j < n; j++) {
                ana += (double)g[j] * v[j];
                gnorm += fabs((double)g[j] * v[j]);
            }
            double Ls[2];
            for (int sgn = 0; sgn < 2; sgn++) {
                for (size_t j = 0; j < n; j++)
                    xp[j] = host[i][j] + (float)((sgn ? -H : H) * v[j]);
                assert_int_equal(glia_tensor_write(in[i], xp, n), GLIA_STATUS_OK);
                Ls[sgn] = objective(c, in, w, nw);
            }
            assert_int_equal(glia_tensor_write(in[i], host[i], n), GLIA_STATUS_OK);
            double num = (Ls[0] - Ls[1]) / (2 * H);
            /* scale by the sum of |terms| so a cancelling directional derivative is not judged on its own size */
            double err = fabs(num - ana) / fmax(gnorm, 1e-6);
            if (err > TOL)
                fail_msg("%s on %s: input %d direction %d: analytic %.7g numeric %.7g (error %.3g > %.3g)", c->name,
                         backend_name, i, dir, ana, num, err, TOL);
        }
        free(g);
        free(v);
        free(xp);
    }
    glia_grad_mode(dev, mode);
    for (int i = 0; i < c->nin; i++) {
        glia_tensor_free(in[i]);
        free(host[i]);
    }
    free(w);
}

static void test_all_cases(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
        check_case(&cases[k], 17 + k);
}

/* ReLU keeps NaN (PyTorch's rule), so a NaN input reaches the loss and stops training. */
static void check_relu_nan(void)
{
    const float x[4] = {NAN, -1.0f, 2.0f, -0.0f};
    float y[4];
    int64_t n = 4;
    glia_tensor *t = NULL, *r = NULL;
    assert_int_equal(glia_tensor_from_host(dev, 1, &n, x, &t), GLIA_STATUS_OK);
    assert_int_equal(glia_relu(t, &r), GLIA_STATUS_OK);
    assert_int_equal(glia_tensor_read(r, y, 4), GLIA_STATUS_OK);
    assert_true(isnan(y[0]));
    assert_true(y[1] == 0.0f && y[2] == 2.0f && y[3] == 0.0f);
    glia_tensor_free(t);
    glia_tensor_free(r);
}

static void run_or_skip(void **state)
{
    dev = gt_backend_device(state);
    test_all_cases(state);
    check_relu_nan();
}

int main(int argc, char **argv)
{
    backend_name = gt_backend_name = argc > 1 ? argv[1] : "cpu";
    const struct CMUnitTest tests[] = {cmocka_unit_test(run_or_skip)};
    return cmocka_run_group_tests_name(backend_name, tests, gt_backend_open, gt_backend_close);
}
