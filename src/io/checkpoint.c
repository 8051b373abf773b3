/* Checkpoints: a model's parameters with its configuration as metadata, and
 * for training checkpoints the optimizer's state and options. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cJSON.h"
#include "core/error.h"
#include "glia/glia.h"
#include "glia/io.h"
#include "io_priv.h"

/* ---- configuration <-> JSON ------------------------------------------------
 * The keys and their kinds come from the architecture's field table
 * (glia/model.h), so this file knows no model's options. */
glia_status glia_model_config_to_json(const glia_model_config *cfg, char *buf, size_t len)
{
    glia_status s = glia_model_config_check(cfg);
    if (s != GLIA_STATUS_OK)
        return s;
    if (!buf || !len)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_model_config_to_json: no buffer");
    size_t n = (size_t)snprintf(buf, len, "{");
    const glia_model_field *f;
    for (int i = 0; (f = glia_model_field_at(cfg->arch, i)) && n < len; i++) {
        char value[160];
        glia_model_field_format(cfg, f, value, sizeof value);
        const char *open = f->type == GLIA_MODEL_FIELD_INT_LIST ? "[" : "";
        const char *close = f->type == GLIA_MODEL_FIELD_INT_LIST ? "]" : "";
        n += (size_t)snprintf(buf + n, len - n, "%s\"%s\": %s%s%s", i ? ", " : "", f->key, open, value, close);
    }
    if (n < len)
        n += (size_t)snprintf(buf + n, len - n, "}");
    if (n >= len)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_model_config_to_json: %zu bytes are too few", len);
    return GLIA_STATUS_OK;
}

/* Whole numbers of a JSON value: a number, a boolean (1/0) or an array of
 * numbers; the count, or -1 if it holds anything else. */
static int json_ints(const cJSON *j, int *v, int max)
{
    if (cJSON_IsBool(j)) {
        v[0] = cJSON_IsTrue(j);
        return 1;
    }
    int n = 0;
    for (const cJSON *e = cJSON_IsArray(j) ? j->child : cJSON_IsNumber(j) ? j : NULL; e; e = e->next, n++) {
        if (n == max || !cJSON_IsNumber(e) || !(e->valuedouble >= -1e9 && e->valuedouble <= 1e9) ||
            e->valuedouble != (double)(int)e->valuedouble)
            return -1;
        v[n] = (int)e->valuedouble;
        if (!cJSON_IsArray(j))
            return 1;
    }
    return cJSON_IsArray(j) ? n : -1;
}

static glia_status config_fields(const cJSON *root, glia_model_config *cfg)
{
    for (const cJSON *c = root->child; c; c = c->next) {
        const glia_model_field *f = glia_model_field_find(cfg->arch, c->string);
        if (!f)
            return glia_seterr(GLIA_STATUS_FORMAT_ERROR, "model config: unknown key '%s'", c->string);
        int v[64], n = json_ints(c, v, 64);
        if ((f->type == GLIA_MODEL_FIELD_BOOL) != cJSON_IsBool(c) || n < 0 ||
            glia_model_field_set_ints(cfg, f, v, n) != GLIA_STATUS_OK)
            return glia_seterr(GLIA_STATUS_FORMAT_ERROR, "model config: bad value of '%s'", c->string);
    }
    return GLIA_STATUS_OK;
}

glia_status glia_model_config_from_json(const char *arch, const char *json, glia_model_config *cfg)
{
    glia_model_arch a;
    if (!json || !cfg)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_model_config_from_json: NULL argument");
    glia_status s = glia_model_arch_from_name(arch, &a);
    if (s == GLIA_STATUS_OK)
        s = glia_model_config_default(a, cfg);
    if (s != GLIA_STATUS_OK)
        return s;
    cJSON *root = cJSON_Parse(json);
    if (!cJSON_IsObject(root))
        s = glia_seterr(GLIA_STATUS_FORMAT_ERROR, "model config is not a JSON object: %.60s", json);
    else
        s = config_fields(root, cfg);
    cJSON_Delete(root);
    return s == GLIA_STATUS_OK ? glia_model_config_check(cfg) : s;
}

/* glia_model_shape_fn over a safetensors file. */
static int st_shape(void *ctx, const char *name, int64_t shape[8])
{
    const glia_st_entry *e = glia_safetensors_find(ctx, name);
    if (!e)
        return 0;
    for (int i = 0; i < e->ndim && i < 8; i++)
        shape[i] = e->shape[i];
    return e->ndim > 8 ? 8 : e->ndim;
}

glia_status glia_checkpoint_config(const glia_safetensors *st, glia_model_config *cfg)
{
    if (!st || !cfg)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_checkpoint_config: NULL argument");
    const glia_meta *meta = glia_safetensors_meta(st);
    const char *arch = glia_meta_get(meta, "model"), *json = glia_meta_get(meta, "config");
    glia_status s;
    /* a PyTorch export carries no glia metadata: the architectures recognise their own tensors */
    if (!arch && (s = glia_model_config_recognise(st_shape, (void *)st, cfg)) != GLIA_STATUS_OK)
        return glia_seterr(s, "%s has no 'model' metadata, and %s", glia_safetensors_path(st), glia_last_error());
    if (!arch)
        return GLIA_STATUS_OK;
    s = glia_model_config_from_json(arch, json ? json : "{}", cfg);
    if (s != GLIA_STATUS_OK)
        return glia_seterr(s, "%s: %s", glia_safetensors_path(st), glia_last_error());
    return s;
}

/* ---- the tensors against the configuration ------------------------------------- */
typedef struct ckpt_check {
    const glia_safetensors *st;
    unsigned char *seen;     /* per file entry: the model has it */
    int64_t trainable;
} ckpt_check;

static glia_status check_tensor(void *ctx, const glia_model_tensor *t)
{
    ckpt_check *c = ctx;
    const char *path = glia_safetensors_path(c->st), *dtype = glia_st_dtype(t->etype);
    const glia_st_entry *e = NULL;
    int n = glia_safetensors_count(c->st), i = 0;
    for (; i < n && !e; i++)
        if (strcmp(glia_safetensors_entry(c->st, i)->name, t->name) == 0)
            e = glia_safetensors_entry(c->st, i);
    char want[128], have[128];
    glia_st_shape_text(t->ndim, t->shape, want, sizeof want);
    if (!e)
        return glia_seterr(GLIA_STATUS_FORMAT_ERROR,
                           "%s: its model configuration needs tensor '%s' (%s %s), which the file lacks", path,
                           t->name, dtype, want);
    int same = strcmp(e->dtype, dtype) == 0 && e->ndim == t->ndim;
    for (int d = 0; same && d < t->ndim; d++)
        same = e->shape[d] == t->shape[d];
    if (!same)
        return glia_seterr(GLIA_STATUS_FORMAT_ERROR,
                           "%s: tensor '%s' is %s %s in the file, its model configuration needs %s %s", path, t->name,
                           e->dtype, glia_st_shape_text(e->ndim, e->shape, have, sizeof have), dtype, want);
    c->seen[i - 1] = 1;
    if (t->kind == GLIA_PARAM_TRAINABLE)
        c->trainable += e->numel;
    return GLIA_STATUS_OK;
}

glia_status glia_checkpoint_check(const glia_safetensors *st, const glia_model_config *cfg, int64_t *trainable)
{
    if (!st || !cfg)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_checkpoint_check: NULL argument");
    int n = glia_safetensors_count(st);
    ckpt_check c = {.st = st, .seen = calloc((size_t)n + 1, 1)};
    if (!c.seen)
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "glia_checkpoint_check: no host memory");
    glia_status s = glia_model_tensors(cfg, check_tensor, &c);
    size_t plen = strlen(GLIA_CHECKPOINT_OPTIM_PREFIX);
    for (int i = 0; i < n && s == GLIA_STATUS_OK; i++) {
        const char *name = glia_safetensors_entry(st, i)->name;
        if (!c.seen[i] && strncmp(name, GLIA_CHECKPOINT_OPTIM_PREFIX, plen) != 0)
            s = glia_seterr(GLIA_STATUS_FORMAT_ERROR, "%s: tensor '%s' is not one of its model configuration's",
                            glia_safetensors_path(st), name);
    }
    free(c.seen);
    if (s == GLIA_STATUS_OK && trainable)
        *trainable = c.trainable;
    return s;
}

/* ---- models -------------------------------------------------------------------- */
/* extra's keys, then the model's own (which win). */
static glia_status model_meta(glia_model *m, const glia_meta *extra, glia_meta **out)
{
    char json[512];
    glia_status s = glia_model_config_to_json(glia_model_get_config(m), json, sizeof json);
    if (s == GLIA_STATUS_OK)
        s = glia_meta_create(out);
    for (int i = 0; s == GLIA_STATUS_OK && i < glia_meta_count(extra); i++) {
        const char *k, *v;
        glia_meta_at(extra, i, &k, &v);
        s = glia_meta_set(*out, k, v);
    }
    if (s == GLIA_STATUS_OK && (s = glia_meta_set(*out, "format", "pt")) == GLIA_STATUS_OK &&
        (s = glia_meta_set(*out, "model", glia_model_arch_name(glia_model_get_config(m)->arch))) == GLIA_STATUS_OK &&
        (s = glia_meta_set(*out, "config", json)) == GLIA_STATUS_OK)
        s = glia_meta_set(*out, "glia_version", glia_version());
    return s;
}

glia_status glia_model_save(glia_model *m, const char *path, const glia_meta *extra)
{
    return glia_checkpoint_save(path, m, NULL, NULL, extra);
}

glia_status glia_model_load(const glia_safetensors *st, glia_device *dev, glia_model **out)
{
    if (!out)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_model_load: out is NULL");
    *out = NULL;
    glia_model_config cfg;
    glia_status s = glia_checkpoint_config(st, &cfg);
    /* before anything is allocated: the metadata may claim a model far larger than the file */
    if (s == GLIA_STATUS_OK)
        s = glia_checkpoint_check(st, &cfg, NULL);
    if (s == GLIA_STATUS_OK)
        s = glia_model_create(dev, &cfg, 0, out);
    glia_st_load_options o = {.strict = 1, .exclude = GLIA_CHECKPOINT_OPTIM_PREFIX};
    if (s == GLIA_STATUS_OK && (s = glia_safetensors_load(st, glia_model_params(*out), &o)) != GLIA_STATUS_OK) {
        glia_model_free(*out);
        *out = NULL;
    }
    return s;
}

glia_status glia_model_load_file(const char *path, glia_device *dev, glia_model **out)
{
    glia_safetensors *st = NULL;
    if (out)
        *out = NULL;
    glia_status s = glia_safetensors_open(path, &st);
    if (s == GLIA_STATUS_OK)
        s = glia_model_load(st, dev, out);
    glia_safetensors_close(st);
    return s;
}

/* ---- training checkpoints ------------------------------------------------------- */
static const char *const optim_kinds[] = {"sgd", "adam", "adamw"};

static glia_status optim_json(const glia_optim_options *o, char *buf, size_t len)
{
    if ((unsigned)o->kind > GLIA_OPTIM_ADAMW)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "checkpoint: unknown optimizer kind %d", (int)o->kind);
    size_t n = (size_t)snprintf(buf, len,
                                "{\"kind\": \"%s\", \"lr\": %.9g, \"momentum\": %.9g, \"dampening\": %.9g, "
                                "\"nesterov\": %s, \"beta1\": %.9g, \"beta2\": %.9g, \"eps\": %.9g, "
                                "\"weight_decay\": %.9g}",
                                optim_kinds[o->kind], o->lr, o->momentum, o->dampening, o->nesterov ? "true" : "false",
                                o->beta1, o->beta2, o->eps, o->weight_decay);
    return n < len ? GLIA_STATUS_OK : glia_seterr(GLIA_STATUS_INTERNAL, "checkpoint: optimizer JSON too long");
}

glia_status glia_checkpoint_save(const char *path, glia_model *m, glia_optimizer *opt,
                                 const glia_optim_options *oo, const glia_meta *extra)
{
    if (!path || !m || (opt && !oo))
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_checkpoint_save: NULL path, model or optimizer options");
    glia_meta *meta = NULL;
    glia_params *state = NULL;
    int64_t steps = 0;
    char buf[512];
    glia_status s = model_meta(m, extra, &meta);
    if (s == GLIA_STATUS_OK && opt && (s = glia_params_create(&state)) == GLIA_STATUS_OK &&
        (s = glia_optim_export(opt, state, &steps)) == GLIA_STATUS_OK &&
        (s = optim_json(oo, buf, sizeof buf)) == GLIA_STATUS_OK &&
        (s = glia_meta_set(meta, "optimizer", buf)) == GLIA_STATUS_OK) {
        snprintf(buf, sizeof buf, "%lld", (long long)steps);
        s = glia_meta_set(meta, "optimizer_steps", buf);
    }
    glia_st_section sec[2] = {{glia_model_params(m), ""}, {state, GLIA_CHECKPOINT_OPTIM_PREFIX}};
    if (s == GLIA_STATUS_OK)
        s = glia_safetensors_save(path, sec, opt ? 2 : 1, meta);
    glia_params_free(state);
    glia_meta_free(meta);
    return s;
}

static int json_float(const cJSON *root, const char *key, float *out)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!cJSON_IsNumber(j))
        return 0;
    *out = (float)j->valuedouble;
    return 1;
}

glia_status glia_checkpoint_optim_options(const glia_safetensors *st, glia_optim_options *oo)
{
    if (!st || !oo)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_checkpoint_optim_options: NULL argument");
    const char *text = glia_meta_get(glia_safetensors_meta(st), "optimizer");
    if (!text)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "%s holds no optimizer state", glia_safetensors_path(st));
    cJSON *root = cJSON_Parse(text);
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(root, "kind");
    const cJSON *nest = cJSON_GetObjectItemCaseSensitive(root, "nesterov");
    memset(oo, 0, sizeof *oo);
    int ok = cJSON_IsString(kind) && cJSON_IsBool(nest), k = -1;
    for (int i = 0; ok && i < 3; i++)
        if (strcmp(kind->valuestring, optim_kinds[i]) == 0)
            k = i;
    ok = ok && k >= 0 && json_float(root, "lr", &oo->lr) && json_float(root, "momentum", &oo->momentum) &&
         json_float(root, "dampening", &oo->dampening) && json_float(root, "beta1", &oo->beta1) &&
         json_float(root, "beta2", &oo->beta2) && json_float(root, "eps", &oo->eps) &&
         json_float(root, "weight_decay", &oo->weight_decay);
    if (ok) {
        oo->kind = (glia_optim_kind)k;
        oo->nesterov = cJSON_IsTrue(nest);
    }
    cJSON_Delete(root);
    return ok ? GLIA_STATUS_OK
              : glia_seterr(GLIA_STATUS_FORMAT_ERROR, "%s: malformed optimizer metadata", glia_safetensors_path(st));
}

/* One state entry: "<param>.<suffix>" names a trainable parameter of m; a
 * tensor suffix has the parameter's shape (F32), "step" is an I64 count. */
static glia_status load_state_entry(const glia_safetensors *st, const glia_st_entry *e, glia_model *m,
                                    glia_params *state)
{
    const char *path = glia_safetensors_path(st), *rest = e->name + strlen(GLIA_CHECKPOINT_OPTIM_PREFIX);
    const char *dot = strrchr(rest, '.'), *suffix = dot ? dot + 1 : "";
    char pname[200];
    glia_tensor *p = NULL, *t = NULL;
    if (dot && (size_t)(dot - rest) < sizeof pname) {
        memcpy(pname, rest, (size_t)(dot - rest));
        pname[dot - rest] = '\0';
        p = glia_params_find(glia_model_params(m), pname);
    }
    int counter = strcmp(suffix, "step") == 0, nd = p ? glia_tensor_ndim(p) : -1;
    int fits = p && glia_tensor_requires_grad(p);
    if (counter)
        fits = fits && e->ndim == 0 && strcmp(e->dtype, "I64") == 0;
    else
        fits = fits && e->ndim == nd && strcmp(e->dtype, "F32") == 0 &&
               (!strcmp(suffix, "momentum_buffer") || !strcmp(suffix, "exp_avg") || !strcmp(suffix, "exp_avg_sq"));
    for (int i = 0; fits && !counter && i < nd; i++)
        fits = e->shape[i] == glia_tensor_dim(p, i);
    if (!fits)
        return glia_seterr(GLIA_STATUS_SHAPE_MISMATCH,
                           "%s: optimizer state '%s' fits no trainable parameter of the model (name, shape, dtype)",
                           path, e->name);
    if (counter) {
        int64_t v = 0;
        glia_status s = glia_safetensors_read(st, e, &v, sizeof v);
        if (s == GLIA_STATUS_OK && (s = glia_params_add(state, rest, GLIA_PARAM_COUNTER, NULL)) == GLIA_STATUS_OK)
            s = glia_params_set_counter(state, rest, v);
        return s;
    }
    int64_t shape[GLIA_MAX_DIMS];
    for (int i = 0; i < nd; i++)
        shape[i] = e->shape[i];
    float *buf = malloc((size_t)e->bytes ? (size_t)e->bytes : 1);
    glia_status s = buf ? GLIA_STATUS_OK
                        : glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "%s: no host memory for '%s'", path, e->name);
    if (s == GLIA_STATUS_OK && (s = glia_safetensors_read(st, e, buf, (size_t)e->bytes)) == GLIA_STATUS_OK &&
        (s = glia_tensor_from_host(glia_model_device(m), nd, shape, buf, &t)) == GLIA_STATUS_OK)
        s = glia_params_add(state, rest, GLIA_PARAM_BUFFER, t);
    glia_tensor_free(t);
    free(buf);
    return s;
}

glia_status glia_checkpoint_load_optim(const glia_safetensors *st, glia_model *m, glia_optimizer *opt)
{
    if (!st || !m || !opt)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_checkpoint_load_optim: NULL argument");
    const char *steps_text = glia_meta_get(glia_safetensors_meta(st), "optimizer_steps");
    char *end = NULL;
    long long steps = steps_text ? strtoll(steps_text, &end, 10) : -1;
    if (!steps_text || !*steps_text || *end || steps < 0)
        return glia_seterr(GLIA_STATUS_FORMAT_ERROR, "%s: missing or bad optimizer_steps metadata",
                           glia_safetensors_path(st));
    glia_params *state = NULL;
    glia_status s = glia_params_create(&state);
    size_t plen = strlen(GLIA_CHECKPOINT_OPTIM_PREFIX);
    for (int i = 0; s == GLIA_STATUS_OK && i < glia_safetensors_count(st); i++) {
        const glia_st_entry *e = glia_safetensors_entry(st, i);
        if (strncmp(e->name, GLIA_CHECKPOINT_OPTIM_PREFIX, plen) == 0)
            s = load_state_entry(st, e, m, state);
    }
    if (s == GLIA_STATUS_OK)
        s = glia_optim_import(opt, state, (int64_t)steps);
    glia_params_free(state);
    return s;
}
