/* Optimizers: per-parameter state created lazily on the first step (as in
 * PyTorch), updates done by one fused backend op per parameter. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/core.h"
#include "glia/optim.h"

typedef struct slot {
    glia_tensor *param;
    const char *name;
    glia_tensor *s0, *s1;   /* momentum buffer | exp_avg, exp_avg_sq */
    int64_t steps;          /* updates this parameter has had */
} slot;

struct glia_optimizer {
    glia_optim_options o;
    slot *slots;
    int n;
    int64_t steps;
};

glia_status glia_optim_create(glia_params *params, const glia_optim_options *opts, glia_optimizer **out)
{
    if (!out)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_optim_create: out is NULL");
    *out = NULL;
    if (!params || !opts)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_optim_create: params or options are NULL");
    glia_optim_options o = *opts;
    if ((unsigned)o.kind > GLIA_OPTIM_ADAMW || !(o.lr >= 0) || !(o.momentum >= 0) || !(o.weight_decay >= 0) ||
        !(o.dampening >= 0))
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT,
                           "glia_optim_create: kind %d, lr %g, momentum %g, dampening %g, weight decay %g "
                           "(all must be >= 0)", (int)o.kind, o.lr, o.momentum, o.dampening, o.weight_decay);
    if (o.nesterov && (o.momentum <= 0 || o.dampening != 0))
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_optim_create: Nesterov needs momentum > 0 and dampening 0");
    if (o.beta1 == 0 && o.beta2 == 0) {
        o.beta1 = 0.9f;
        o.beta2 = 0.999f;
    }
    if (o.eps == 0)
        o.eps = 1e-8f;
    if (!(o.beta1 >= 0 && o.beta1 < 1 && o.beta2 >= 0 && o.beta2 < 1 && o.eps > 0))
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_optim_create: betas (%g, %g) in [0,1), eps %g > 0",
                           o.beta1, o.beta2, o.eps);
    glia_optimizer *opt = calloc(1, sizeof *opt);
    int count = glia_params_count(params);
    if (!opt || !(opt->slots = calloc((size_t)(count ? count : 1), sizeof *opt->slots))) {
        free(opt);
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "glia_optim_create: no host memory");
    }
    opt->o = o;
    for (int i = 0; i < count; i++) {
        glia_param_kind kind;
        glia_tensor *t;
        const char *name;
        glia_params_get(params, i, &name, &kind, &t);
        if (kind == GLIA_PARAM_TRAINABLE) {
            opt->slots[opt->n].param = glia_tensor_retain(t);
            opt->slots[opt->n++].name = name;
        }
    }
    *out = opt;
    return GLIA_STATUS_OK;
}

void glia_optim_free(glia_optimizer *opt)
{
    if (!opt)
        return;
    for (int i = 0; i < opt->n; i++) {
        glia_tensor_free(opt->slots[i].param);
        glia_tensor_free(opt->slots[i].s0);
        glia_tensor_free(opt->slots[i].s1);
    }
    free(opt->slots);
    free(opt);
}

static glia_status update(glia_optimizer *opt, slot *sl)
{
    glia_tensor *p = sl->param, *g = glia_tensor_grad(p);
    const glia_optim_options *o = &opt->o;
    glia_status s = GLIA_STATUS_OK;
    int sgd = o->kind == GLIA_OPTIM_SGD, first = sl->s0 == NULL;
    if (first && (!sgd || o->momentum > 0)) {
        s = glia_tensor_zeros(p->dev, p->ndim, p->shape, &sl->s0);
        if (s == GLIA_STATUS_OK && !sgd)
            s = glia_tensor_zeros(p->dev, p->ndim, p->shape, &sl->s1);
        if (s != GLIA_STATUS_OK)
            return s;
    }
    sl->steps++;
    glia_op op = {.kind = sgd ? GLIA_OP_SGD : GLIA_OP_ADAM,
                  .t = {glia_view(p), glia_view(g), glia_view(sl->s0), glia_view(sl->s1)}};
    if (sgd) {
        op.p.sgd.n = (size_t)p->numel;
        op.p.sgd.lr = o->lr;
        op.p.sgd.momentum = o->momentum;
        op.p.sgd.dampening = o->dampening;
        op.p.sgd.weight_decay = o->weight_decay;
        op.p.sgd.nesterov = o->nesterov;
        op.p.sgd.first = first;
    } else {
        op.p.adam.n = (size_t)p->numel;
        op.p.adam.lr = o->lr;
        op.p.adam.beta1 = o->beta1;
        op.p.adam.beta2 = o->beta2;
        op.p.adam.eps = o->eps;
        op.p.adam.weight_decay = o->weight_decay;
        op.p.adam.bias_corr1 = (float)(1.0 - pow(o->beta1, (double)sl->steps));
        op.p.adam.bias_corr2 = (float)(1.0 - pow(o->beta2, (double)sl->steps));
        op.p.adam.decoupled = o->kind == GLIA_OPTIM_ADAMW;
    }
    return glia_run(p->dev, &op);
}

glia_status glia_optim_step(glia_optimizer *opt)
{
    if (!opt)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_optim_step: optimizer is NULL");
    for (int i = 0; i < opt->n; i++) {
        if (!glia_tensor_grad(opt->slots[i].param))
            continue; /* PyTorch skips parameters without a gradient */
        glia_status s = update(opt, &opt->slots[i]);
        if (s != GLIA_STATUS_OK)
            return s;
    }
    opt->steps++;
    return GLIA_STATUS_OK;
}

void glia_optim_set_lr(glia_optimizer *opt, float lr)
{
    if (opt && lr >= 0)
        opt->o.lr = lr;
}

float glia_optim_lr(const glia_optimizer *opt) { return opt ? opt->o.lr : 0.0f; }

int64_t glia_optim_steps(const glia_optimizer *opt) { return opt ? opt->steps : 0; }

static const char *state_suffix(const glia_optimizer *opt, int which)
{
    if (opt->o.kind == GLIA_OPTIM_SGD)
        return which == 0 ? "momentum_buffer" : NULL;
    return which == 0 ? "exp_avg" : "exp_avg_sq";
}

glia_status glia_optim_export(glia_optimizer *opt, glia_params *state, int64_t *steps)
{
    if (!opt || !state)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_optim_export: optimizer or state set is NULL");
    for (int i = 0; i < opt->n; i++) {
        for (int w = 0; w < 2; w++) {
            glia_tensor *t = w ? opt->slots[i].s1 : opt->slots[i].s0;
            const char *suffix = state_suffix(opt, w);
            if (!t || !suffix)
                continue;
            char name[200];
            snprintf(name, sizeof name, "%s.%s", opt->slots[i].name, suffix);
            glia_status s = glia_params_add(state, name, GLIA_PARAM_BUFFER, t);
            if (s != GLIA_STATUS_OK)
                return s;
        }
        /* each parameter's own update count (PyTorch's state['step']): a parameter
         * that first got a gradient late has fewer updates than the optimizer */
        if (opt->slots[i].s0 || opt->slots[i].steps) {
            char name[200];
            snprintf(name, sizeof name, "%s.step", opt->slots[i].name);
            glia_status s = glia_params_add(state, name, GLIA_PARAM_COUNTER, NULL);
            if (s == GLIA_STATUS_OK)
                s = glia_params_set_counter(state, name, opt->slots[i].steps);
            if (s != GLIA_STATUS_OK)
                return s;
        }
    }
    if (steps)
        *steps = opt->steps;
    return GLIA_STATUS_OK;
}

glia_status glia_optim_import(glia_optimizer *opt, const glia_params *state, int64_t steps)
{
    if (!opt || !state || steps < 0)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_optim_import: NULL argument or negative step count");
    for (int i = 0; i < opt->n; i++) {
        slot *sl = &opt->slots[i];
        for (int w = 0; w < 2; w++) {
            const char *suffix = state_suffix(opt, w);
            char name[200];
            if (!suffix)
                continue;
            snprintf(name, sizeof name, "%s.%s", sl->name, suffix);
            glia_tensor *src = glia_params_find(state, name), **dst = w ? &sl->s1 : &sl->s0;
            if (!src)
                continue; /* parameter not updated yet when the state was saved */
            glia_status s = GLIA_STATUS_OK;
            if (!*dst)
                s = glia_tensor_empty_like(sl->param, dst);
            if (s == GLIA_STATUS_OK)
                s = glia_tensor_copy(*dst, src);
            if (s != GLIA_STATUS_OK)
                return glia_seterr(s, "optimizer state '%s': %s", name, glia_last_error());
            sl->steps = steps;
        }
        char name[200];
        int64_t own;
        snprintf(name, sizeof name, "%s.step", sl->name);
        if (glia_params_find(state, name) == NULL && glia_params_counter(state, name, &own) == GLIA_STATUS_OK)
            sl->steps = own;
    }
    glia_clear_error();
    opt->steps = steps;
    return GLIA_STATUS_OK;
}
