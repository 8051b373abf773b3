/* The training configuration: one table of keys drives setting a field from
 * text (command-line flags), JSON in and out (--config, config.json, the
 * checkpoint's record of how a model was trained) and the help text. The
 * model's options are not in it: they come from the model registry's field
 * tables (glia/model.h), so a new model brings its own keys. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cJSON.h"
#include "train/train_priv.h"

typedef enum kind { K_STR, K_INT, K_U64, K_I64, K_FLOAT, K_DOUBLE, K_BOOL, K_SIZE3, K_DOUBLE3, K_SPECIAL } kind;

typedef struct key {
    const char *name;
    kind kind;
    size_t off, len;    /* offset in glia_train_config; K_STR: buffer size */
    double lo, hi;      /* numeric bounds */
    const char *help;
} key;

#define F(field) offsetof(glia_train_config, field), sizeof(((glia_train_config *)0)->field)
#define BIG 1e9
static const key keys[] = {
    {"data", K_STR, F(data), 0, 0, "dataset folder"},
    {"layout", K_SPECIAL, F(layout), 0, 0, "auto, brats2020, brats2021, brats2023, msd, lgg, generic, nnunet"},
    {"target", K_SPECIAL, F(target), 0, 0,
     "auto (the dataset's regions, else wt for one tumour class, else labels), regions (WT, TC, ET), wt (whole "
     "tumour), labels (softmax classes)"},
    {"folds", K_SPECIAL, F(folds), 0, 100,
     "k of the k-fold patient split; auto = 5, fewer for fewer patients, none for one; 0 = no validation"},
    {"fold", K_INT, F(fold), 0, 99, "the validation fold"},
    {"split", K_STR, F(split), 0, 0, "a saved split (JSON, as glia dataset --save-split writes) instead of folds"},
    {"zscore", K_BOOL, F(pre.zscore), 0, 1, "z-score each channel over brain voxels"},
    {"clip", K_SPECIAL, F(pre.clip_lo), 0, 0, "LO,HI percentiles to clip intensities to first (0,0 = none)"},
    {"crop_nonzero", K_BOOL, F(pre.crop_nonzero), 0, 1, "crop cases to the non-zero bounding box"},
    {"spacing", K_DOUBLE3, F(pre.spacing), 0, 100, "resample to this spacing in mm, i,j,k (0 = keep)"},
    {"resize", K_SIZE3, F(pre.resize), 0, 4096, "resize cases to i,j,k (0 = keep)"},
    {"crop", K_SIZE3, F(pre.crop), 0, 4096, "centre crop or pad cases to i,j,k (0 = keep)"},
    {"size", K_SIZE3, F(size), 0, 4096, "training crop (2-D: i,j) or patch (3-D: i,j,k); 0 = whole axis"},
    {"drop_empty", K_FLOAT, F(drop_empty), 0, 1, "2-D: drop slices with an empty mask with this probability"},
    {"fg_fraction", K_FLOAT, F(fg_fraction), 0, 1, "3-D: share of patches centred on tumour"},
    {"augment", K_BOOL, F(augment), 0, 1, "flips, rotations, scaling, intensity, gamma, noise, blur"},
    {"model", K_SPECIAL, F(model.arch), 0, 0, "the model (as glia init names it); resets its options to their defaults"},
    {"init", K_STR, F(init), 0, 0, "start from this checkpoint's weights (transfer)"},
    {"epochs", K_INT, F(epochs), 1, BIG, "epochs to train"},
    {"steps_per_epoch", K_INT, F(steps_per_epoch), 0, BIG, "steps per epoch; 0 = one pass over the training data"},
    {"batch", K_INT, F(batch), 1, 4096, "samples per step (per rank under mpirun: the global batch is ranks x batch)"},
    {"optimizer", K_SPECIAL, F(optim.kind), 0, 0, "sgd, adam, adamw"},
    {"lr", K_FLOAT, F(optim.lr), 1e-12, 1e3, "learning rate"},
    {"momentum", K_FLOAT, F(optim.momentum), 0, 1, "SGD momentum"},
    {"dampening", K_FLOAT, F(optim.dampening), 0, 1, "SGD dampening"},
    {"nesterov", K_BOOL, F(optim.nesterov), 0, 1, "SGD Nesterov momentum"},
    {"weight_decay", K_FLOAT, F(optim.weight_decay), 0, 10, "weight decay (AdamW: decoupled)"},
    {"beta1", K_FLOAT, F(optim.beta1), 0, 1, "Adam beta1"},
    {"beta2", K_FLOAT, F(optim.beta2), 0, 1, "Adam beta2"},
    {"eps", K_FLOAT, F(optim.eps), 0, 1, "Adam epsilon"},
    {"schedule", K_SPECIAL, F(sched.kind), 0, 0, "constant, step, cosine, poly"},
    {"schedule_unit", K_SPECIAL, F(sched_per_step), 0, 0, "epoch (the schedule counts epochs) or step"},
    {"t_max", K_I64, F(sched.t_max), 1, BIG, "cosine: period T_max"},
    {"eta_min", K_DOUBLE, F(sched.eta_min), 0, 1e3, "cosine: lowest learning rate"},
    {"step_size", K_I64, F(sched.step_size), 1, BIG, "step: decay every this many"},
    {"gamma", K_DOUBLE, F(sched.gamma), 0, 1, "step: decay factor"},
    {"total", K_I64, F(sched.total), 1, BIG, "poly: length of the decay"},
    {"power", K_DOUBLE, F(sched.power), 1e-6, 100, "poly: exponent"},
    {"warmup", K_I64, F(sched.warmup), 0, BIG, "linear warm-up length"},
    {"warmup_start", K_DOUBLE, F(sched.warmup_start), 0, 1, "warm-up starts at lr times this"},
    {"loss", K_SPECIAL, F(loss), 0, 0, "bce, dice, penalty-dice, dice+bce, ce, dice+ce"},
    {"penalty", K_FLOAT, F(penalty), 1e-6, 1e3, "p of penalty-dice"},
    {"then_loss", K_SPECIAL, F(then_loss), 0, 0, "the loss from epoch switch_epoch on"},
    {"switch_epoch", K_INT, F(switch_epoch), 0, BIG, "epoch (1-based) from which then_loss is used; 0 = never"},
    {"seed", K_U64, F(seed), 0, 9007199254740991.0, "seed of the split, weights, batches and augmentation"},
    {"device", K_STR, F(device), 0, 0, "cpu, opencl:N, vulkan:N, auto; under mpirun a list A,B,.. gives rank r entry r mod length"},
    {"threads", K_INT, F(threads), 0, 1024, "CPU backend threads; 0 = all cores"},
    {"loader_threads", K_INT, F(loader_threads), 0, 64, "data loading threads; 0 = cores - 1"},
    {"val_batch", K_INT, F(val_batch), 0, 4096, "slices or windows per forward in validation; 0 = batch"},
    {"tta", K_BOOL, F(tta), 0, 1, "flip test-time augmentation in validation"},
    {"sync_bn", K_BOOL, F(sync_bn), 0, 1, "under mpirun: batch-norm statistics over the global batch (else per rank)"},
    {"bucket_mb", K_DOUBLE, F(bucket_mb), 0.001, 4096, "under mpirun: gradient allreduce bucket size in MB"},
};
enum { NKEYS = sizeof keys / sizeof keys[0] };

static const char *const loss_names[GLIA_LOSS_COUNT_] = {"bce", "dice", "penalty-dice", "dice+bce", "ce", "dice+ce"};
static const char *const optim_names[] = {"sgd", "adam", "adamw"};
static const char *const sched_names[] = {"constant", "step", "cosine", "poly"};

const char *glia_loss_kind_name(glia_loss_kind k) { return (unsigned)k < GLIA_LOSS_COUNT_ ? loss_names[k] : "unknown"; }

/* Index of name in names[0..n-1], or -1. */
static int find_name(const char *const *names, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return i;
    return -1;
}

glia_status glia_loss_kind_parse(const char *name, glia_loss_kind *out)
{
    int i = name ? find_name(loss_names, GLIA_LOSS_COUNT_, name) : -1;
    if (i < 0 || !out)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT,
                           "unknown loss '%s' (known: bce, dice, penalty-dice, dice+bce, ce, dice+ce)", name ? name : "");
    *out = (glia_loss_kind)i;
    return GLIA_STATUS_OK;
}

void glia_train_config_default(glia_train_config *c)
{
    memset(c, 0, sizeof *c);
    c->layout = GLIA_LAYOUT_AUTO;
    c->target = GLIA_TARGET_AUTO; /* resolved from the dataset when a run starts (src/train/defaults.c) */
    c->folds = GLIA_FOLDS_AUTO;
    c->pre.zscore = 1;
    c->fg_fraction = 0.33f;
    glia_model_config_default(GLIA_MODEL_UNET2D, &c->model);
    c->epochs = 10;
    c->batch = 4;
    c->bucket_mb = 25;
    c->optim.kind = GLIA_OPTIM_ADAM;
    c->optim.lr = 1e-3f;
    c->optim.beta1 = 0.9f;
    c->optim.beta2 = 0.999f;
    c->optim.eps = 1e-8f;
    c->sched.kind = GLIA_SCHED_CONSTANT;
    c->sched.t_max = 100;
    c->sched.step_size = 30;
    c->sched.gamma = 0.1;
    c->sched.total = 100;
    c->sched.power = 0.9;
    c->sched.warmup_start = 0.1;
    c->loss = GLIA_LOSS_DICE_BCE;
    c->penalty = 2.0f;
    c->then_loss = GLIA_LOSS_PENALTY_DICE;
    snprintf(c->device, sizeof c->device, "auto");
}

/* Model option i of any architecture, without the channels (they come from the data). */
static const glia_model_field *model_key(int i)
{
    return i < 0 ? NULL : glia_model_field_any(GLIA_MODEL_COMMON_FIELDS + i);
}

const char *glia_train_config_key(int i, int *is_bool, const char **help)
{
    if (i < 0)
        return NULL;
    if (i >= NKEYS) {
        const glia_model_field *f = model_key(i - NKEYS);
        if (f && is_bool)
            *is_bool = f->type == GLIA_MODEL_FIELD_BOOL;
        if (f && help)
            *help = f->help;
        return f ? f->key : NULL;
    }
    if (is_bool)
        *is_bool = keys[i].kind == K_BOOL;
    if (help)
        *help = keys[i].help;
    return keys[i].name;
}

/* A model option by key: the current model's, or another model's (kept only
 * at this model's default; see glia_model_field_find). NULL for the channels. */
static const glia_model_field *find_model_key(const glia_train_config *c, const char *name)
{
    const glia_model_field *f = glia_model_field_find(c->model.arch, name);
    for (int i = 0; f && i < GLIA_MODEL_COMMON_FIELDS; i++)
        if (f == glia_model_field_at(c->model.arch, i))
            return NULL;
    return f;
}

static const key *find_key(const char *name)
{
    char norm[64];
    size_t n = strlen(name);
    if (n >= sizeof norm)
        return NULL;
    for (size_t i = 0; i <= n; i++)
        norm[i] = name[i] == '-' ? '_' : name[i];
    for (int i = 0; i < NKEYS; i++)
        if (strcmp(keys[i].name, norm) == 0)
            return &keys[i];
    return NULL;
}

static glia_status bad(const key *k, const char *value, const char *want)
{
    return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "%s: '%s' is not %s", k->name, value, want);
}

/* A number in [lo, hi] (whole if integral); 0 if malformed. */
static int parse_num(const char *v, double lo, double hi, int integral, double *out)
{
    char *end = NULL;
    double x = strtod(v, &end);
    if (!*v || *end || !isfinite(x) || x < lo || x > hi || (integral && x != floor(x)))
        return 0;
    *out = x;
    return 1;
}

/* Up to max comma-separated numbers; the count, or -1. */
static int parse_list(const char *v, double lo, double hi, int integral, double *out, int max)
{
    int n = 0;
    char buf[256];
    if (strlen(v) >= sizeof buf)
        return -1;
    snprintf(buf, sizeof buf, "%s", v);
    for (char *save = NULL, *tok = strtok_r(buf, ",x", &save); tok; tok = strtok_r(NULL, ",x", &save)) {
        while (*tok == ' ')
            tok++;
        if (n == max || !parse_num(tok, lo, hi, integral, &out[n]))
            return -1;
        n++;
    }
    return n;
}

static glia_status set_special(glia_train_config *c, const key *k, const char *v)
{
    const char *n = k->name;
    int i;
    if (strcmp(n, "layout") == 0)
        return glia_layout_parse(v, &c->layout) == GLIA_STATUS_OK ? GLIA_STATUS_OK : bad(k, v, "a layout name");
    if (strcmp(n, "target") == 0) {
        if (strcmp(v, "auto") == 0) {
            c->target = GLIA_TARGET_AUTO;
            return GLIA_STATUS_OK;
        }
        return glia_target_parse_(v, &c->target) == GLIA_STATUS_OK ? GLIA_STATUS_OK
                                                                    : bad(k, v, "auto, regions, wt or labels");
    }
    if (strcmp(n, "folds") == 0) {
        double x;
        if (strcmp(v, "auto") == 0)
            c->folds = GLIA_FOLDS_AUTO;
        else if (parse_num(v, k->lo, k->hi, 1, &x))
            c->folds = (int)x;
        else
            return bad(k, v, "auto or a whole number from 0 to 100");
        return GLIA_STATUS_OK;
    }
    if (strcmp(n, "model") == 0) {
        glia_model_arch a;
        glia_status s = glia_model_arch_from_name(v, &a);
        return s == GLIA_STATUS_OK ? glia_model_config_default(a, &c->model) : s;
    }
    if (strcmp(n, "optimizer") == 0) {
        if ((i = find_name(optim_names, 3, v)) < 0)
            return bad(k, v, "sgd, adam or adamw");
        c->optim.kind = (glia_optim_kind)i;
        return GLIA_STATUS_OK;
    }
    if (strcmp(n, "schedule") == 0) {
        if ((i = find_name(sched_names, 4, v)) < 0)
            return bad(k, v, "constant, step, cosine or poly");
        c->sched.kind = (glia_sched_kind)i;
        return GLIA_STATUS_OK;
    }
    if (strcmp(n, "schedule_unit") == 0) {
        if (strcmp(v, "epoch") && strcmp(v, "step"))
            return bad(k, v, "epoch or step");
        c->sched_per_step = strcmp(v, "step") == 0;
        return GLIA_STATUS_OK;
    }
    if (strcmp(n, "loss") == 0)
        return glia_loss_kind_parse(v, &c->loss);
    if (strcmp(n, "then_loss") == 0)
        return glia_loss_kind_parse(v, &c->then_loss);
    /* clip */
    double x[2];
    if (parse_list(v, 0, 100, 0, x, 2) != 2 || x[0] > x[1])
        return bad(k, v, "two percentiles LO,HI with 0 <= LO <= HI <= 100");
    c->pre.clip_lo = (float)x[0];
    c->pre.clip_hi = (float)x[1];
    return GLIA_STATUS_OK;
}

glia_status glia_train_config_set(glia_train_config *c, const char *name, const char *v)
{
    if (!c || !name || !v)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_train_config_set: NULL argument");
    const key *k = find_key(name);
    const glia_model_field *mf = k ? NULL : find_model_key(c, name);
    if (mf)
        return glia_model_field_set(&c->model, mf, v);
    if (!k)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "unknown training option '%s'", name);
    char *p = (char *)c + k->off;
    double x[3];
    switch (k->kind) {
    case K_STR:
        if (strlen(v) >= k->len)
            return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "%s: %zu bytes is too long (the limit is %zu)", k->name,
                               strlen(v), k->len - 1);
        memcpy(p, v, strlen(v) + 1);
        return GLIA_STATUS_OK;
    case K_BOOL:
        if (strcmp(v, "true") && strcmp(v, "false") && strcmp(v, "1") && strcmp(v, "0"))
            return bad(k, v, "true or false");
        *(int *)p = !strcmp(v, "true") || !strcmp(v, "1");
        return GLIA_STATUS_OK;
    case K_SIZE3:
    case K_DOUBLE3: {
        int n = parse_list(v, k->lo, k->hi, k->kind == K_SIZE3, x, 3);
        if (n < 1)
            return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "%s: '%s' is not 1 to 3 numbers from %g to %g (i,j,k)",
                               k->name, v, k->lo, k->hi);
        for (int a = 0; a < 3; a++) {
            double e = a < n ? x[a] : n == 1 && strcmp(k->name, "size") == 0 ? x[0] : 0;
            if (k->kind == K_SIZE3)
                ((int64_t *)p)[a] = (int64_t)e;
            else
                ((double *)p)[a] = e;
        }
        return GLIA_STATUS_OK;
    }
    case K_SPECIAL: return set_special(c, k, v);
    default: break;
    }
    if (!parse_num(v, k->lo, k->hi, k->kind == K_INT || k->kind == K_U64 || k->kind == K_I64, x))
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "%s: '%s' is not a %s from %g to %g", k->name, v,
                           k->kind == K_FLOAT || k->kind == K_DOUBLE ? "number" : "whole number", k->lo, k->hi);
    switch (k->kind) {
    case K_INT: *(int *)p = (int)x[0]; break;
    case K_U64: *(uint64_t *)p = (uint64_t)x[0]; break;
    case K_I64: *(int64_t *)p = (int64_t)x[0]; break;
    case K_FLOAT: *(float *)p = (float)x[0]; break;
    default: *(double *)p = x[0]; break;
    }
    return GLIA_STATUS_OK;
}

/* ---- JSON ------------------------------------------------------------------ */
/* The shortest decimal that reads back as the same float (0.33, not 0.33000001311302185). */
static double float_value(float f)
{
    char buf[32];
    for (int digits = 6; digits <= 9; digits++) {
        snprintf(buf, sizeof buf, "%.*g", digits, (double)f);
        if ((float)strtod(buf, NULL) == f)
            break;
    }
    return strtod(buf, NULL);
}

static cJSON *number_array(const double *x, int n)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; a && i < n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateNumber(x[i]));
    return a;
}

static cJSON *special_json(const glia_train_config *c, const key *k)
{
    const char *n = k->name;
    if (strcmp(n, "layout") == 0)
        return cJSON_CreateString(glia_layout_name(c->layout));
    if (strcmp(n, "target") == 0)
        return cJSON_CreateString(c->target == GLIA_TARGET_AUTO ? "auto" : glia_target_name_(c->target));
    if (strcmp(n, "folds") == 0)
        return c->folds == GLIA_FOLDS_AUTO ? cJSON_CreateString("auto") : cJSON_CreateNumber(c->folds);
    if (strcmp(n, "model") == 0)
        return cJSON_CreateString(glia_model_arch_name(c->model.arch));
    if (strcmp(n, "optimizer") == 0)
        return cJSON_CreateString(optim_names[c->optim.kind]);
    if (strcmp(n, "schedule") == 0)
        return cJSON_CreateString(sched_names[c->sched.kind]);
    if (strcmp(n, "schedule_unit") == 0)
        return cJSON_CreateString(c->sched_per_step ? "step" : "epoch");
    if (strcmp(n, "loss") == 0)
        return cJSON_CreateString(glia_loss_kind_name(c->loss));
    if (strcmp(n, "then_loss") == 0)
        return cJSON_CreateString(glia_loss_kind_name(c->then_loss));
    /* clip */
    double x[2] = {float_value(c->pre.clip_lo), float_value(c->pre.clip_hi)};
    return number_array(x, 2);
}

/* The current model's options (not the channels, which come from the data). */
static void add_model_json(cJSON *o, const glia_model_config *m)
{
    const glia_model_field *f;
    for (int i = GLIA_MODEL_COMMON_FIELDS; (f = glia_model_field_at(m->arch, i)); i++) {
        int v[64];
        double x[64];
        int n = glia_model_field_get(m, f, v, 64);
        for (int j = 0; j < n; j++)
            x[j] = v[j];
        cJSON_AddItemToObject(o, f->key, f->type == GLIA_MODEL_FIELD_BOOL ? cJSON_CreateBool(v[0])
                                         : f->type == GLIA_MODEL_FIELD_INT ? cJSON_CreateNumber(x[0])
                                                                           : number_array(x, n));
    }
}

glia_status glia_train_config_to_json(const glia_train_config *c, char **json)
{
    if (!c || !json)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_train_config_to_json: NULL argument");
    cJSON *o = cJSON_CreateObject();
    for (int i = 0; o && i < NKEYS; i++) {
        const key *k = &keys[i];
        const char *p = (const char *)c + k->off;
        double x[3];
        cJSON *v = NULL;
        switch (k->kind) {
        case K_STR: v = cJSON_CreateString(p); break;
        case K_INT: v = cJSON_CreateNumber(*(const int *)p); break;
        case K_U64: v = cJSON_CreateNumber((double)*(const uint64_t *)p); break;
        case K_I64: v = cJSON_CreateNumber((double)*(const int64_t *)p); break;
        case K_FLOAT: v = cJSON_CreateNumber(float_value(*(const float *)p)); break;
        case K_DOUBLE: v = cJSON_CreateNumber(*(const double *)p); break;
        case K_BOOL: v = cJSON_CreateBool(*(const int *)p); break;
        case K_SIZE3:
            for (int a = 0; a < 3; a++)
                x[a] = (double)((const int64_t *)p)[a];
            v = number_array(x, 3);
            break;
        case K_DOUBLE3: v = number_array((const double *)p, 3); break;
        case K_SPECIAL: v = special_json(c, k); break;
        }
        cJSON_AddItemToObject(o, k->name, v);
        if (o && k->off == offsetof(glia_train_config, model.arch))
            add_model_json(o, &c->model); /* right after "model", as a reader wants them */
    }
    *json = o ? cJSON_Print(o) : NULL;
    cJSON_Delete(o);
    return *json ? GLIA_STATUS_OK : glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "glia_train_config_to_json");
}

/* x as the shortest %g text that reads back as x: 0.33, not 0.33000000000000002. */
static int number_text(double x, char *buf, size_t len)
{
    static const int digits[] = {6, 9, 17};
    int n = 0;
    for (int i = 0; i < 3; i++) {
        n = snprintf(buf, len, "%.*g", digits[i], x);
        if (n >= 0 && (size_t)n < len && strtod(buf, NULL) == x)
            break;
    }
    return n;
}

/* A JSON value as the text glia_train_config_set takes. 0 if it has no such form. */
static int value_text(const cJSON *v, char *buf, size_t len)
{
    if (cJSON_IsString(v))
        return snprintf(buf, len, "%s", v->valuestring) < (int)len;
    if (cJSON_IsBool(v))
        return snprintf(buf, len, "%s", cJSON_IsTrue(v) ? "true" : "false") < (int)len;
    if (cJSON_IsNumber(v))
        return number_text(v->valuedouble, buf, len) < (int)len;
    if (!cJSON_IsArray(v) || !v->child)
        return 0;
    size_t n = 0;
    for (const cJSON *e = v->child; e; e = e->next) {
        if (!cJSON_IsNumber(e) || n >= len)
            return 0;
        if (n)
            buf[n++] = ',';
        n += n < len ? (size_t)number_text(e->valuedouble, buf + n, len - n) : 0;
    }
    return n < len;
}

static glia_status apply_item(glia_train_config *c, const cJSON *item)
{
    /* a string goes as it is, whatever its length: glia_train_config_set names
     * the limit of a string that does not fit (copied, it would read as no
     * string at all) */
    if (cJSON_IsString(item))
        return glia_train_config_set(c, item->string, item->valuestring);
    char text[GLIA_PATH_MAX + 8];
    if (!value_text(item, text, sizeof text))
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "%s: a string, number, boolean or list of numbers is needed",
                           item->string);
    return glia_train_config_set(c, item->string, text);
}

glia_status glia_train_config_apply_json(glia_train_config *c, const char *json)
{
    if (!c || !json)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_train_config_apply_json: NULL argument");
    cJSON *o = cJSON_Parse(json);
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "the training configuration is not a JSON object");
    }
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(o, "model");
    glia_status s = model ? apply_item(c, model) : GLIA_STATUS_OK;
    for (const cJSON *e = o->child; e && s == GLIA_STATUS_OK; e = e->next)
        if (e != model && strcmp(e->string, GLIA_RUN_ID_KEY_) != 0) /* the trainer's, not a setting */
            s = apply_item(c, e);
    cJSON_Delete(o);
    return s;
}

glia_status glia_train_config_load(glia_train_config *c, const char *path)
{
    if (!c || !path)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_train_config_load: NULL argument");
    char *text = NULL;
    glia_status s = glia_read_text_(path, 1 << 20, &text);
    if (s == GLIA_STATUS_OK && (s = glia_train_config_apply_json(c, text)) != GLIA_STATUS_OK)
        s = glia_seterr(s, "%s: %s", path, glia_last_error());
    free(text);
    return s;
}

/* ---- checks ------------------------------------------------------------------- */
static int softmax_loss(glia_loss_kind k) { return k == GLIA_LOSS_CE || k == GLIA_LOSS_DICE_CE; }
static int sigmoid_only_loss(glia_loss_kind k) { return k == GLIA_LOSS_BCE || k == GLIA_LOSS_DICE_BCE; }

static glia_status check_loss(const glia_train_config *c, glia_loss_kind k, const char *key)
{
    int labels = c->target == GLIA_TARGET_LABELS;
    if (c->target == GLIA_TARGET_AUTO)
        return GLIA_STATUS_OK; /* checked again once the dataset has chosen (src/train/defaults.c) */
    if (softmax_loss(k) && !labels)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "%s %s needs the labels target (softmax over classes)", key,
                           glia_loss_kind_name(k));
    if (sigmoid_only_loss(k) && labels)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT,
                           "%s %s is for the regions and wt targets; with labels use ce, dice+ce or dice", key,
                           glia_loss_kind_name(k));
    return GLIA_STATUS_OK;
}

glia_status glia_train_config_check(const glia_train_config *c)
{
    if (!c)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_train_config_check: NULL configuration");
    if (!c->data[0])
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "no dataset: set data (--data DIR)");
    if (c->folds == 1 || (c->folds > 0 && c->fold >= c->folds) || c->folds < GLIA_FOLDS_AUTO)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "folds %d, fold %d: need folds >= 2 (or 0) and fold < folds",
                           c->folds, c->fold);
    glia_model_config m = c->model;
    if (m.in_channels < 1)
        m.in_channels = 1;
    if (m.out_channels < 1)
        m.out_channels = 1;
    glia_status s = glia_model_config_check(&m);
    if (s != GLIA_STATUS_OK)
        return s;
    int nsp = glia_model_config_spatial_dims(&m);
    int64_t mult = (int64_t)1 << glia_model_config_pool_levels(&m);
    for (int a = 0; a < nsp; a++)
        if (c->size[a] % mult)
            return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT,
                               "size %lld along axis %d is not a multiple of %lld, which %s with %d poolings needs",
                               (long long)c->size[a], a, (long long)mult, glia_model_arch_name(m.arch),
                               glia_model_config_pool_levels(&m));
    if (c->epochs < 1 || c->batch < 1)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "epochs %d and batch %d must be >= 1", c->epochs, c->batch);
    if (!(c->optim.lr > 0))
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "lr must be > 0");
    if (c->optim.nesterov && (c->optim.kind != GLIA_OPTIM_SGD || !(c->optim.momentum > 0) || c->optim.dampening != 0))
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "nesterov needs the sgd optimizer, momentum > 0 and dampening 0");
    glia_schedule sc = c->sched;
    sc.base_lr = c->optim.lr;
    if ((s = glia_schedule_check(&sc)) != GLIA_STATUS_OK)
        return s;
    if ((s = check_loss(c, c->loss, "loss")) != GLIA_STATUS_OK)
        return s;
    if (c->switch_epoch > 0 && (s = check_loss(c, c->then_loss, "then_loss")) != GLIA_STATUS_OK)
        return s;
    return GLIA_STATUS_OK;
}

glia_status glia_train_config_get(const glia_train_config *c, const char *key, char *buf, size_t len)
{
    if (!c || !key || !buf || len == 0)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_train_config_get: NULL argument");
    char name[64], *json = NULL;
    snprintf(name, sizeof name, "%s", key);
    for (char *p = name; *p; p++)
        *p = *p == '-' ? '_' : *p;
    /* through the JSON form, so every key reads as config.json writes it */
    glia_status s = glia_train_config_to_json(c, &json);
    cJSON *o = s == GLIA_STATUS_OK ? cJSON_Parse(json) : NULL;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (s == GLIA_STATUS_OK && !v)
        s = glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "no configuration key '%s' for model %s", key,
                        glia_model_arch_name(c->model.arch));
    if (s == GLIA_STATUS_OK && !value_text(v, buf, len))
        s = glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "key '%s': its value does not fit %zu bytes", key, len);
    cJSON_Delete(o);
    free(json);
    return s;
}
