/* Named parameter sets and PyTorch-style layer initialisers. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/core.h"
#include "glia/params.h"

typedef struct entry {
    char name[128];
    glia_param_kind kind;
    glia_tensor *t;
    int64_t counter;
} entry;

struct glia_params {
    entry *e;
    int n, cap;
};

glia_status glia_params_create(glia_params **out)
{
    if (!out)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_params_create: out is NULL");
    *out = calloc(1, sizeof **out);
    return *out ? GLIA_STATUS_OK : glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "glia_params_create: no host memory");
}

void glia_params_free(glia_params *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->n; i++)
        glia_tensor_free(p->e[i].t);
    free(p->e);
    free(p);
}

static entry *find(const glia_params *p, const char *name)
{
    for (int i = 0; p && name && i < p->n; i++)
        if (strcmp(p->e[i].name, name) == 0)
            return &p->e[i];
    return NULL;
}

glia_status glia_params_add(glia_params *p, const char *name, glia_param_kind kind, glia_tensor *t)
{
    if (!p || !name || !*name)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_params_add: NULL set or empty name");
    if (strlen(name) >= sizeof p->e->name)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_params_add: name '%.40s...' is too long", name);
    if (kind != GLIA_PARAM_TRAINABLE && kind != GLIA_PARAM_BUFFER && kind != GLIA_PARAM_COUNTER)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_params_add: '%s' has unknown kind %d", name, (int)kind);
    if ((kind == GLIA_PARAM_COUNTER) != (t == NULL))
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT,
                           "glia_params_add: '%s': counters take no tensor, other kinds need one", name);
    if (find(p, name))
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_params_add: '%s' is already in the set", name);
    if (kind == GLIA_PARAM_TRAINABLE && glia_tensor_etype(t) != GLIA_ETYPE_F32)
        return glia_seterr(GLIA_STATUS_UNSUPPORTED, "glia_params_add: trainable '%s' holds %s; training is float32",
                           name, glia_etype_name(glia_tensor_etype(t)));
    if (kind == GLIA_PARAM_TRAINABLE) {
        glia_status s = glia_tensor_set_requires_grad(t, 1);
        if (s != GLIA_STATUS_OK)
            return s;
    }
    if (p->n == p->cap) {
        int cap = p->cap ? p->cap * 2 : 32;
        entry *e = realloc(p->e, (size_t)cap * sizeof *e);
        if (!e)
            return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "glia_params_add: no host memory");
        p->e = e;
        p->cap = cap;
    }
    entry *e = &p->e[p->n++];
    memset(e, 0, sizeof *e);
    snprintf(e->name, sizeof e->name, "%s", name);
    e->kind = kind;
    e->t = glia_tensor_retain(t);
    return GLIA_STATUS_OK;
}

int glia_params_count(const glia_params *p) { return p ? p->n : 0; }

glia_status glia_params_get(const glia_params *p, int i, const char **name, glia_param_kind *kind, glia_tensor **t)
{
    if (!p)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_params_get: parameter set is NULL");
    if (i < 0 || i >= p->n)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_params_get: index %d out of range (%d entries)", i,
                           p ? p->n : 0);
    if (name)
        *name = p->e[i].name;
    if (kind)
        *kind = p->e[i].kind;
    if (t)
        *t = p->e[i].t;
    return GLIA_STATUS_OK;
}

glia_tensor *glia_params_find(const glia_params *p, const char *name)
{
    entry *e = find(p, name);
    return e ? e->t : NULL;
}

static glia_status find_counter(const glia_params *p, const char *name, entry **out)
{
    if (!p || !name)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "counter access: %s is NULL", p ? "name" : "parameter set");
    *out = find(p, name);
    if (!*out || (*out)->kind != GLIA_PARAM_COUNTER)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "no counter named '%s'", name ? name : "(null)");
    return GLIA_STATUS_OK;
}

glia_status glia_params_counter(const glia_params *p, const char *name, int64_t *value)
{
    entry *e = NULL;
    glia_status s = find_counter(p, name, &e);
    if (s == GLIA_STATUS_OK && value)
        *value = e->counter;
    return s;
}

glia_status glia_params_set_counter(glia_params *p, const char *name, int64_t value)
{
    entry *e = NULL;
    glia_status s = find_counter(p, name, &e);
    if (s == GLIA_STATUS_OK)
        e->counter = value;
    return s;
}

int64_t glia_params_numel(const glia_params *p)
{
    int64_t n = 0;
    for (int i = 0; p && i < p->n; i++)
        if (p->e[i].kind == GLIA_PARAM_TRAINABLE)
            n += glia_tensor_numel(p->e[i].t);
    return n;
}

void glia_params_zero_grad(glia_params *p)
{
    for (int i = 0; p && i < p->n; i++)
        if (p->e[i].kind == GLIA_PARAM_TRAINABLE)
            glia_tensor_zero_grad(p->e[i].t);
}

/* Create, fill and add one tensor; the set keeps the only reference. */
static glia_status add_new(glia_params *p, glia_device *dev, const char *prefix, const char *suffix,
                           glia_param_kind kind, int ndim, const int64_t *shape, glia_rng *rng, float bound,
                           float value)
{
    char name[160];
    glia_tensor *t;
    snprintf(name, sizeof name, "%s.%s", prefix, suffix);
    glia_status s = glia_tensor_empty(dev, ndim, shape, &t);
    if (s != GLIA_STATUS_OK)
        return s;
    s = rng ? glia_tensor_uniform(t, rng, -bound, bound) : glia_tensor_fill(t, value);
    if (s == GLIA_STATUS_OK)
        s = glia_params_add(p, name, kind, t);
    glia_tensor_free(t);
    return s;
}

glia_status glia_params_add_conv(glia_params *p, glia_device *dev, glia_rng *rng, const char *prefix, int nsp,
                                 int cin, int cout, const int *k, int bias, int transposed)
{
    if (!p || !dev || !rng || !prefix || !k)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_params_add_conv: %s is NULL",
                           !p ? "parameter set" : !dev ? "device" : !rng ? "rng" : !prefix ? "prefix" : "kernel");
    if ((nsp != 2 && nsp != 3) || cin < 1 || cout < 1)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT,
                           "glia_params_add_conv '%s': %d spatial axes (2 or 3), %d in and %d out channels (>= 1)",
                           prefix, nsp, cin, cout);
    int64_t shape[5] = {transposed ? cin : cout, transposed ? cout : cin};
    int64_t ksize = 1;
    for (int i = 0; i < nsp; i++) {
        if (k[i] < 1)
            return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_params_add_conv: kernel %d on axis %d", k[i], i);
        shape[2 + i] = k[i];
        ksize *= k[i];
    }
    /* kaiming_uniform(a=sqrt(5)) gives bound sqrt(6/((1+5) fan_in)) = 1/sqrt(fan_in) */
    float bound = (float)(1.0 / sqrt((double)shape[1] * (double)ksize));
    glia_status s = add_new(p, dev, prefix, "weight", GLIA_PARAM_TRAINABLE, 2 + nsp, shape, rng, bound, 0);
    if (s == GLIA_STATUS_OK && bias)
        s = add_new(p, dev, prefix, "bias", GLIA_PARAM_TRAINABLE, 1, &shape[transposed ? 1 : 0], rng, bound, 0);
    return s;
}

glia_status glia_params_add_batchnorm(glia_params *p, glia_device *dev, const char *prefix, int channels)
{
    if (!p || !dev || !prefix)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_params_add_batchnorm: %s is NULL",
                           !p ? "parameter set" : !dev ? "device" : "prefix");
    if (channels < 1)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_params_add_batchnorm '%s': %d channels (>= 1)", prefix,
                           channels);
    int64_t c = channels;
    glia_status s = add_new(p, dev, prefix, "weight", GLIA_PARAM_TRAINABLE, 1, &c, NULL, 0, 1.0f);
    if (s == GLIA_STATUS_OK)
        s = add_new(p, dev, prefix, "bias", GLIA_PARAM_TRAINABLE, 1, &c, NULL, 0, 0.0f);
    if (s == GLIA_STATUS_OK)
        s = add_new(p, dev, prefix, "running_mean", GLIA_PARAM_BUFFER, 1, &c, NULL, 0, 0.0f);
    if (s == GLIA_STATUS_OK)
        s = add_new(p, dev, prefix, "running_var", GLIA_PARAM_BUFFER, 1, &c, NULL, 0, 1.0f);
    if (s == GLIA_STATUS_OK) {
        char name[160];
        snprintf(name, sizeof name, "%s.num_batches_tracked", prefix);
        s = glia_params_add(p, name, GLIA_PARAM_COUNTER, NULL);
    }
    return s;
}
