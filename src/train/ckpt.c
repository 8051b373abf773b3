/* A run's checkpoints. last.safetensors holds the weights, the optimizer
 * state and, as metadata, everything an exact resume needs: the configuration,
 * the progress counters (epoch, step, global step, the epoch's running loss),
 * the best Dice so far and the epoch records. Batches need no saved state:
 * batch b of epoch e is a pure function of (seed, e, b). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cJSON.h"
#include "train/train_priv.h"

/* Metadata every checkpoint of a run carries: how it was trained (the whole
 * configuration, for resume and the record), and what inference needs: what
 * the outputs mean and how inputs are prepared. */
/* path's last component in place: a checkpoint is shared beyond its author's
 * machine, so it names its data, --init and split files by name only (the
 * run folder's config.json keeps the whole paths that resuming needs). */
static void base_name(char *path)
{
    const char *slash = strrchr(path, '/');
    if (slash && slash[1])
        memmove(path, slash + 1, strlen(slash + 1) + 1);
}

static glia_status common_meta(const glia_run_ *r, glia_meta **out)
{
    char *cfg = NULL, *labels = NULL, *pre = NULL;
    glia_train_config shared = r->cfg;
    base_name(shared.data);
    base_name(shared.init);
    base_name(shared.split);
    glia_status s = glia_meta_create(out);
    if (s == GLIA_STATUS_OK && (s = glia_train_config_to_json(&shared, &cfg)) == GLIA_STATUS_OK &&
        (s = glia_label_info_to_json(&r->li, &labels)) == GLIA_STATUS_OK &&
        (s = glia_preprocess_record_to_json_(&r->cfg.pre, r->cfg.size, &pre)) == GLIA_STATUS_OK &&
        (s = glia_meta_set(*out, "glia_train", cfg)) == GLIA_STATUS_OK &&
        (s = glia_meta_set(*out, "labels", labels)) == GLIA_STATUS_OK &&
        (s = glia_meta_set(*out, GLIA_META_PREPROCESS_, pre)) == GLIA_STATUS_OK && r->run_id[0])
        s = glia_meta_set(*out, GLIA_RUN_ID_KEY_, r->run_id);
    free(cfg);
    free(labels);
    free(pre);
    return s;
}

static char *progress_json(const glia_run_ *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "epoch", r->epoch);
    cJSON_AddNumberToObject(o, "step", (double)r->step);
    cJSON_AddNumberToObject(o, "global_step", (double)r->global_step);
    cJSON_AddNumberToObject(o, "steps_per_epoch", r->spe);
    cJSON_AddNumberToObject(o, "samples", (double)r->samples);
    cJSON_AddNumberToObject(o, "loss_sum", r->loss_sum);
    cJSON_AddNumberToObject(o, "seconds", r->seconds);
    cJSON_AddNumberToObject(o, "lr", r->lr);
    cJSON_AddNumberToObject(o, "best_epoch", r->best_epoch);
    cJSON_AddNumberToObject(o, "best_dice", isfinite(r->best_dice) ? r->best_dice : -1.0);
    cJSON_AddNumberToObject(o, "ranks", r->ranks);
    char *t = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return t;
}

static char *run_path(const glia_run_ *r, const char *name) { return glia_strfmt_("%s/%s", r->dir, name); }

/* ---- the run's identity ------------------------------------------------------
 * Without it, a checkpoint copied from another run with the same model would
 * resume, and the next save would overwrite this run's best checkpoint and
 * log with the other run's model. */
void glia_run_new_id_(glia_run_ *r)
{
    uint64_t v = 0;
    FILE *f = fopen("/dev/urandom", "rb");
    if (!f || fread(&v, sizeof v, 1, f) != 1) {
        /* no urandom: the time, the clock and the folder, mixed (FNV-1a), still differ between runs */
        v = 1469598103934665603ULL;
        char seed[GLIA_PATH_MAX + 64];
        snprintf(seed, sizeof seed, "%lld %lld %s", (long long)time(NULL), (long long)clock(), r->dir);
        for (const char *c = seed; *c; c++)
            v = (v ^ (unsigned char)*c) * 1099511628211ULL;
    }
    if (f)
        fclose(f);
    snprintf(r->run_id, sizeof r->run_id, "%016llx", (unsigned long long)v);
}

glia_status glia_run_config_json_(const glia_run_ *r, char **json)
{
    char *text = NULL;
    glia_status s = glia_train_config_to_json(&r->cfg, &text);
    cJSON *o = s == GLIA_STATUS_OK ? cJSON_Parse(text) : NULL;
    free(text);
    *json = NULL;
    if (s == GLIA_STATUS_OK && (!o || !cJSON_AddStringToObject(o, GLIA_RUN_ID_KEY_, r->run_id) ||
                                !(*json = cJSON_Print(o))))
        s = glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "config.json");
    cJSON_Delete(o);
    return s;
}

glia_status glia_run_read_id_(glia_run_ *r, const char *path)
{
    char *text = NULL;
    glia_status s = glia_read_text_(path, 1 << 20, &text);
    cJSON *o = s == GLIA_STATUS_OK ? cJSON_Parse(text) : NULL;
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, GLIA_RUN_ID_KEY_);
    r->run_id[0] = '\0'; /* a run from before identities: resume compares the model alone */
    if (s == GLIA_STATUS_OK && id && (!cJSON_IsString(id) || strlen(id->valuestring) >= sizeof r->run_id))
        s = glia_seterr(GLIA_STATUS_FORMAT_ERROR, "%s: malformed %s", path, GLIA_RUN_ID_KEY_);
    else if (s == GLIA_STATUS_OK && id)
        snprintf(r->run_id, sizeof r->run_id, "%s", id->valuestring);
    cJSON_Delete(o);
    free(text);
    return s;
}

/* last.safetensors must be this run's: its identity, then its whole model
 * configuration against config.json's (with the channels the dataset gives),
 * checked before anything is built or written. */
static glia_status same_run(const glia_run_ *r, const glia_safetensors *st, const char *path)
{
    const char *id = glia_meta_get(glia_safetensors_meta(st), GLIA_RUN_ID_KEY_);
    if (r->run_id[0] && (!id || strcmp(id, r->run_id) != 0))
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT,
                           "%s is not this run's checkpoint: its run id is %s, config.json's %s; not resuming from it",
                           path, id ? id : "missing", r->run_id);
    glia_model_config mc;
    const glia_model_config *want = &r->cfg.model;
    glia_status s = glia_checkpoint_config(st, &mc);
    if (s == GLIA_STATUS_OK && mc.arch != want->arch)
        s = glia_seterr(GLIA_STATUS_SHAPE_MISMATCH,
                        "%s is not this run's checkpoint: it holds a %s, the run trains a %s", path,
                        glia_model_arch_name(mc.arch), glia_model_arch_name(want->arch));
    const glia_model_field *f;
    char a[160], b[160];
    for (int i = 0; s == GLIA_STATUS_OK && (f = glia_model_field_at(mc.arch, i)); i++)
        if (strcmp(glia_model_field_format(&mc, f, a, sizeof a), glia_model_field_format(want, f, b, sizeof b)) != 0)
            s = glia_seterr(GLIA_STATUS_SHAPE_MISMATCH,
                            "%s is not this run's checkpoint: its model has %s %s, the run's (config.json and the "
                            "dataset) %s %s",
                            path, f->key, a, f->key, b);
    return s;
}

glia_status glia_run_save_last_(glia_run_ *r)
{
    glia_meta *meta = NULL;
    char *prog = progress_json(r), *hist = glia_history_to_json_(&r->hist), *path = run_path(r, "last.safetensors");
    glia_status s = prog && hist && path ? common_meta(r, &meta)
                                         : glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "checkpoint metadata");
    if (s == GLIA_STATUS_OK && (s = glia_meta_set(meta, "progress", prog)) == GLIA_STATUS_OK &&
        (s = glia_meta_set(meta, "history", hist)) == GLIA_STATUS_OK)
        s = glia_checkpoint_save(path, r->m, r->opt, &r->cfg.optim, meta);
    if (s != GLIA_STATUS_OK && s != GLIA_STATUS_OUT_OF_MEMORY)
        s = glia_seterr(s, "saving %s: %s", path ? path : "last.safetensors", glia_last_error());
    glia_meta_free(meta);
    free(prog);
    free(hist);
    free(path);
    return s;
}

glia_status glia_run_save_best_(glia_run_ *r)
{
    glia_meta *meta = NULL;
    char buf[64], *path = run_path(r, "best.safetensors");
    glia_status s = path ? common_meta(r, &meta) : glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "best checkpoint");
    snprintf(buf, sizeof buf, "%d", r->best_epoch);
    if (s == GLIA_STATUS_OK && (s = glia_meta_set(meta, "epoch", buf)) == GLIA_STATUS_OK) {
        snprintf(buf, sizeof buf, "%.6f", r->best_dice);
        s = glia_meta_set(meta, "val_dice", buf);
    }
    if (s == GLIA_STATUS_OK)
        s = glia_model_save(r->m, path, meta);
    glia_meta_free(meta);
    free(path);
    return s;
}

static int get_num(const cJSON *o, const char *k, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!cJSON_IsNumber(v))
        return 0;
    *out = v->valuedouble;
    return 1;
}

static glia_status parse_progress(glia_run_ *r, const char *text, const char *path)
{
    cJSON *o = cJSON_Parse(text ? text : "");
    double v[10];
    int ok = o && get_num(o, "epoch", &v[0]) && get_num(o, "step", &v[1]) && get_num(o, "global_step", &v[2]) &&
             get_num(o, "steps_per_epoch", &v[3]) && get_num(o, "samples", &v[4]) && get_num(o, "loss_sum", &v[5]) &&
             get_num(o, "seconds", &v[6]) && get_num(o, "lr", &v[7]) && get_num(o, "best_epoch", &v[8]) &&
             get_num(o, "best_dice", &v[9]);
    double ranks = 1; /* checkpoints from before data parallelism: one process */
    if (ok && get_num(o, "ranks", &ranks) && !(ranks >= 1 && ranks <= 1e6))
        ok = 0;
    cJSON_Delete(o);
    if (!ok || v[0] < 0 || v[1] < 0 || v[3] < 1 || v[1] > v[3])
        return glia_seterr(GLIA_STATUS_FORMAT_ERROR, "%s: missing or malformed training progress metadata", path);
    r->epoch = (int)v[0];
    r->step = (int64_t)v[1];
    r->global_step = (int64_t)v[2];
    r->spe = (int)v[3];
    r->samples = (int64_t)v[4];
    r->loss_sum = v[5];
    r->seconds = v[6];
    r->lr = v[7];
    r->best_epoch = (int)v[8];
    r->best_dice = v[9] < 0 ? NAN : v[9];
    r->saved_ranks = (int)ranks;
    return GLIA_STATUS_OK;
}

glia_status glia_run_load_last_(glia_run_ *r)
{
    char *path = run_path(r, "last.safetensors");
    glia_safetensors *st = NULL;
    glia_status s = path ? glia_safetensors_open(path, &st) : glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "resume");
    const glia_meta *meta = st ? glia_safetensors_meta(st) : NULL;
    if (s == GLIA_STATUS_OK)
        s = same_run(r, st, path);
    if (s == GLIA_STATUS_OK)
        s = parse_progress(r, glia_meta_get(meta, "progress"), path);
    if (s == GLIA_STATUS_OK)
        s = glia_history_from_json_(glia_meta_get(meta, "history") ? glia_meta_get(meta, "history") : "[]", &r->hist);
    if (s == GLIA_STATUS_OK)
        s = glia_model_load(st, r->dev, &r->m);
    if (s == GLIA_STATUS_OK && (s = glia_optim_create(glia_model_params(r->m), &r->cfg.optim, &r->opt)) == GLIA_STATUS_OK)
        s = glia_checkpoint_load_optim(st, r->m, r->opt);
    glia_safetensors_close(st);
    free(path);
    return s;
}
