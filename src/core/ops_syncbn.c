/* Synchronised batch norm from the existing batch-norm primitives and a
 * host-side sum over ranks, so every backend has it without a kernel of its
 * own. Forward: the local training op gives this rank's mean and variance;
 * the ranks' counts, sums and sums of squares (rebuilt in double from them)
 * are summed; the inference op normalises with the global statistics.
 * Backward: the training backward op with the global statistics gives the
 * local sums of dy and dy*xhat and a dx that uses them; after the sum over
 * ranks, dx is corrected by gamma*invstd*(A + B*xhat) with A, B the local
 * minus the global means, which is once more the inference op. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "core.h"

static glia_status read_f64(const glia_tensor *t, double *out, float *tmp, int64_t n)
{
    glia_status s = glia_tensor_read(t, tmp, (size_t)n);
    for (int64_t i = 0; s == GLIA_STATUS_OK && i < n; i++)
        out[i] = tmp[i];
    return s;
}

static glia_status vec(glia_device *dev, const double *v, float *tmp, int64_t n, glia_tensor **out)
{
    for (int64_t i = 0; i < n; i++)
        tmp[i] = (float)v[i];
    return glia_tensor_from_host(dev, 1, &n, tmp, out);
}

static glia_status sums_call(glia_sum_fn fn, void *user, double *buf, size_t n)
{
    glia_status s = fn(user, buf, n);
    return s == GLIA_STATUS_OK ? s : glia_seterr(s, "sync batch norm: the sum over ranks failed: %s", glia_last_error());
}

/* in: x, gamma, beta; saved: mean, invstd, var (global, [C]). */
static glia_status sbn_backward(glia_node *nd, glia_tensor *g)
{
    glia_tensor *x = nd->in[0], *gamma = nd->in[1], *beta = nd->in[2];
    glia_tensor *mean = nd->saved[0], *inv = nd->saved[1], *var = nd->saved[2];
    glia_device *dev = x->dev;
    int64_t C = x->shape[1];
    double m = (double)(x->numel / C), M = nd->p.sbn.count;
    glia_tensor *dx = NULL, *dg = NULL, *db = NULL, *gp = NULL, *bp = NULL, *corr = NULL;
    double *h = malloc((size_t)C * 7 * sizeof *h);
    float *tmp = malloc((size_t)C * sizeof *tmp);
    glia_status s = h && tmp ? GLIA_STATUS_OK : glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "sync batch norm backward");
    double *sum = h, *dg_l = h + 2 * C, *db_l = h + 3 * C, *gam = h + 4 * C, *invh = h + 5 * C, *k = h + 6 * C;
    glia_op op = {.kind = GLIA_OP_BN_BWD};
    glia_bn_dims_(&op, x, nd->p.sbn.eps, 0.0f);
    if (s == GLIA_STATUS_OK && (s = glia_tensor_empty_like(x, &dx)) == GLIA_STATUS_OK &&
        (s = glia_tensor_empty_like(gamma, &dg)) == GLIA_STATUS_OK &&
        (s = glia_tensor_empty_like(beta, &db)) == GLIA_STATUS_OK) {
        glia_bview t[8] = {glia_view(x),   glia_view(gamma), glia_view(g),  glia_view(mean),
                           glia_view(inv), glia_view(dx),    glia_view(dg), glia_view(db)};
        memcpy(op.t, t, sizeof t);
        s = glia_run(dev, &op);
    }
    if (s == GLIA_STATUS_OK && (s = read_f64(dg, dg_l, tmp, C)) == GLIA_STATUS_OK &&
        (s = read_f64(db, db_l, tmp, C)) == GLIA_STATUS_OK && (s = read_f64(gamma, gam, tmp, C)) == GLIA_STATUS_OK &&
        (s = read_f64(inv, invh, tmp, C)) == GLIA_STATUS_OK) {
        memcpy(sum, dg_l, (size_t)C * sizeof *sum);
        memcpy(sum + C, db_l, (size_t)C * sizeof *sum);
        s = sums_call(nd->p.sbn.sums, nd->p.sbn.user, sum, (size_t)(2 * C));
    }
    if (s == GLIA_STATUS_OK) {
        /* dx so far used the local means of dy and dy*xhat; the global ones replace them */
        for (int64_t c = 0; c < C; c++) {
            double kc = gam[c] * invh[c];
            k[c] = kc * (dg_l[c] / m - sum[c] / M);          /* B: times xhat */
            sum[c] = kc * (db_l[c] / m - sum[C + c] / M);    /* A: constant */
        }
        if ((s = vec(dev, k, tmp, C, &gp)) == GLIA_STATUS_OK && (s = vec(dev, sum, tmp, C, &bp)) == GLIA_STATUS_OK &&
            (s = glia_tensor_empty_like(x, &corr)) == GLIA_STATUS_OK) {
            glia_op fix = {.kind = GLIA_OP_BN_FWD_INFER,
                           .t = {glia_view(x), glia_view(gp), glia_view(bp), glia_view(corr)}};
            glia_bn_dims_(&fix, x, nd->p.sbn.eps, 0.0f);
            fix.t[6] = glia_view(mean);
            fix.t[7] = glia_view(var);
            if ((s = glia_run(dev, &fix)) == GLIA_STATUS_OK)
                s = glia_axpbyz(dev, (size_t)x->numel, 1.0f, glia_view(dx), 1.0f, glia_view(corr), glia_view(dx));
        }
    }
    if (s == GLIA_STATUS_OK && (s = glia_grad_accum(x, dx)) == GLIA_STATUS_OK &&
        (s = glia_grad_accum(gamma, dg)) == GLIA_STATUS_OK)
        s = glia_grad_accum(beta, db);
    glia_tensor *all[] = {dx, dg, db, gp, bp, corr};
    for (int i = 0; i < 6; i++)
        glia_tensor_free(all[i]);
    free(h);
    free(tmp);
    return s;
}

/* The global mean and biased variance from this rank's; *count: the global
 * count. y (x's shape) takes the training op's output, which is not used: the
 * caller then writes the real output over it. */
static glia_status global_stats(glia_tensor *x, glia_tensor *y, float eps, glia_sum_fn sums, void *user,
                                double *mean, double *var, double *count)
{
    int64_t C = x->shape[1];
    glia_tensor *lm = NULL, *li = NULL, *gb = NULL;
    double *buf = malloc((size_t)(2 * C + 1) * sizeof *buf);
    float *tmp = malloc((size_t)C * sizeof *tmp);
    glia_status s = buf && tmp ? GLIA_STATUS_OK : glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "sync batch norm");
    if (s == GLIA_STATUS_OK && (s = glia_tensor_empty(x->dev, 1, &C, &lm)) == GLIA_STATUS_OK &&
        (s = glia_tensor_empty(x->dev, 1, &C, &li)) == GLIA_STATUS_OK &&
        (s = glia_tensor_empty(x->dev, 1, &C, &gb)) == GLIA_STATUS_OK) {
        /* gamma and beta (gb, unset) shape only the output, which is not used */
        glia_op op = {.kind = GLIA_OP_BN_FWD_TRAIN,
                      .t = {glia_view(x), glia_view(gb), glia_view(gb), glia_view(y), glia_view(lm), glia_view(li)}};
        glia_bn_dims_(&op, x, eps, 0.0f);
        s = glia_run(x->dev, &op);
    }
    double m = (double)(x->numel / C);
    if (s == GLIA_STATUS_OK && (s = read_f64(lm, mean, tmp, C)) == GLIA_STATUS_OK &&
        (s = read_f64(li, var, tmp, C)) == GLIA_STATUS_OK) {
        buf[0] = m;
        for (int64_t c = 0; c < C; c++) {
            double v = 1.0 / (var[c] * var[c]) - eps;
            buf[1 + c] = m * mean[c];
            buf[1 + C + c] = m * ((v > 0 ? v : 0) + mean[c] * mean[c]);
        }
        s = sums_call(sums, user, buf, (size_t)(2 * C + 1));
    }
    if (s == GLIA_STATUS_OK) {
        *count = buf[0];
        for (int64_t c = 0; c < C; c++) {
            mean[c] = buf[1 + c] / buf[0];
            double v = buf[1 + C + c] / buf[0] - mean[c] * mean[c];
            var[c] = v > 0 ? v : 0;
        }
    }
    glia_tensor_free(lm);
    glia_tensor_free(li);
    glia_tensor_free(gb);
    free(buf);
    free(tmp);
    return s;
}

/* running = (1 - momentum) running + momentum stat, PyTorch's rule (unbiased variance). */
static glia_status update_running(glia_tensor *rm, glia_tensor *rv, const double *mean, const double *var,
                                  double count, float momentum, int64_t C)
{
    float *v = malloc((size_t)(2 * C) * sizeof *v);
    glia_status s = v ? GLIA_STATUS_OK : glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "sync batch norm");
    if (s == GLIA_STATUS_OK && (s = glia_tensor_read(rm, v, (size_t)C)) == GLIA_STATUS_OK &&
        (s = glia_tensor_read(rv, v + C, (size_t)C)) == GLIA_STATUS_OK) {
        for (int64_t c = 0; c < C; c++) {
            v[c] = (float)((1.0 - momentum) * v[c] + momentum * mean[c]);
            v[C + c] = (float)((1.0 - momentum) * v[C + c] + momentum * var[c] * count / (count - 1));
        }
        if ((s = glia_tensor_write(rm, v, (size_t)C)) == GLIA_STATUS_OK)
            s = glia_tensor_write(rv, v + C, (size_t)C);
    }
    free(v);
    return s;
}

glia_status glia_batch_norm_sync(glia_tensor *x, glia_tensor *gamma, glia_tensor *beta, glia_tensor *running_mean,
                                 glia_tensor *running_var, float momentum, float eps, glia_sum_fn sums, void *user,
                                 glia_tensor **out)
{
    if (!out)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_batch_norm_sync: out is NULL");
    *out = NULL;
    glia_status s = glia_bn_check_(x, gamma, beta, running_mean, running_var, 1, momentum, eps, "glia_batch_norm_sync");
    if (s == GLIA_STATUS_OK && !sums)
        s = glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_batch_norm_sync: sums is NULL");
    if (s != GLIA_STATUS_OK)
        return s;
    glia_device *dev = x->dev;
    int64_t C = x->shape[1];
    double *h = malloc((size_t)(3 * C) * sizeof *h), count = 0;
    float *tmp = malloc((size_t)C * sizeof *tmp);
    glia_tensor *in[3] = {x, gamma, beta}, *saved[3] = {NULL, NULL, NULL};
    if (!h || !tmp)
        s = glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "glia_batch_norm_sync");
    double *mean = h, *var = h + C, *inv = h + 2 * C;
    if (s == GLIA_STATUS_OK && (s = glia_tensor_empty_like(x, out)) == GLIA_STATUS_OK)
        s = global_stats(x, *out, eps, sums, user, mean, var, &count);
    for (int64_t c = 0; s == GLIA_STATUS_OK && c < C; c++)
        inv[c] = 1.0 / sqrt(var[c] + eps);
    if (s == GLIA_STATUS_OK && (s = vec(dev, mean, tmp, C, &saved[0])) == GLIA_STATUS_OK &&
        (s = vec(dev, inv, tmp, C, &saved[1])) == GLIA_STATUS_OK &&
        (s = vec(dev, var, tmp, C, &saved[2])) == GLIA_STATUS_OK) {
        glia_op op = {.kind = GLIA_OP_BN_FWD_INFER,
                      .t = {glia_view(x), glia_view(gamma), glia_view(beta), glia_view(*out)}};
        glia_bn_dims_(&op, x, eps, momentum);
        op.t[6] = glia_view(saved[0]);
        op.t[7] = glia_view(saved[2]);
        s = glia_run(dev, &op);
    }
    if (s == GLIA_STATUS_OK && running_mean)
        s = update_running(running_mean, running_var, mean, var, count, momentum, C);
    glia_node *nd;
    if (s == GLIA_STATUS_OK && glia_grad_needed(dev, in, 3) &&
        (s = glia_tape_record(dev, sbn_backward, *out, in, 3, &nd)) == GLIA_STATUS_OK) {
        memcpy(nd->saved, saved, sizeof saved);
        memset(saved, 0, sizeof saved);
        nd->p.sbn.eps = eps;
        nd->p.sbn.count = count;
        nd->p.sbn.sums = sums;
        nd->p.sbn.user = user;
        glia_tape_gradonly(nd, GLIA_NODE_OUT | 1u << 2);   /* backward reads x, gamma and the statistics */
    }
    for (int i = 0; i < 3; i++)
        glia_tensor_free(saved[i]);
    free(h);
    free(tmp);
    return glia_out_fail(s, out);
}
