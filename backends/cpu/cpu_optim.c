/* CPU backend: optimizer updates, in place on the parameter and its state,
 * following PyTorch's torch.optim.SGD and Adam/AdamW step for one tensor. */
#include <math.h>
#include "cpu_impl.h"

typedef struct opt_job {
    const glia_op *op;
    float *const *t;
} opt_job;

static void sgd_task(void *arg, size_t b, size_t e)
{
    opt_job *j = arg;
    float *p = j->t[0], *buf = j->t[2];
    const float *grad = j->t[1];
    float lr = j->op->p.sgd.lr, mom = j->op->p.sgd.momentum, wd = j->op->p.sgd.weight_decay;
    float damp = 1.0f - j->op->p.sgd.dampening;
    if (mom == 0.0f || !buf) {
        for (size_t i = b; i < e; i++)
            p[i] -= lr * (grad[i] + wd * p[i]);
        return;
    }
    int first = j->op->p.sgd.first, nesterov = j->op->p.sgd.nesterov;
    for (size_t i = b; i < e; i++) {
        float g = grad[i] + wd * p[i];
        float m = first ? g : mom * buf[i] + damp * g;
        buf[i] = m;
        p[i] -= lr * (nesterov ? g + mom * m : m);
    }
}

void glia_cpu_sgd(glia_bctx *ctx, const glia_op *op, glia_cpu_ptrs t)
{
    opt_job j = {op, t};
    glia_cpu_parallel_for(ctx->pool, op->p.sgd.n, GLIA_CPU_GRAIN, sgd_task, &j);
}

static void adam_task(void *arg, size_t b, size_t e)
{
    opt_job *j = arg;
    float *p = j->t[0], *m = j->t[2], *v = j->t[3];
    const float *grad = j->t[1];
    float lr = j->op->p.adam.lr, b1 = j->op->p.adam.beta1, b2 = j->op->p.adam.beta2;
    float eps = j->op->p.adam.eps, wd = j->op->p.adam.weight_decay;
    float step = lr / j->op->p.adam.bias_corr1;
    float inv_sqrt_bc2 = 1.0f / sqrtf(j->op->p.adam.bias_corr2);
    /* AdamW decays the parameter itself; Adam adds the decay to the gradient */
    float decay = j->op->p.adam.decoupled ? 1.0f - lr * wd : 1.0f;
    float l2 = j->op->p.adam.decoupled ? 0.0f : wd;
    for (size_t i = b; i < e; i++) {
        float g = grad[i] + l2 * p[i];
        float mi = b1 * m[i] + (1.0f - b1) * g;
        float vi = b2 * v[i] + (1.0f - b2) * g * g;
        m[i] = mi;
        v[i] = vi;
        p[i] = p[i] * decay - step * mi / (sqrtf(vi) * inv_sqrt_bc2 + eps);
    }
}

void glia_cpu_adam(glia_bctx *ctx, const glia_op *op, glia_cpu_ptrs t)
{
    opt_job j = {op, t};
    glia_cpu_parallel_for(ctx->pool, op->p.adam.n, GLIA_CPU_GRAIN / 4, adam_task, &j);
}
