/* Epoch records of a run: JSON (in the checkpoint and log.json), CSV, curves. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cJSON.h"
#include "train/train_priv.h"

glia_status glia_history_push_(glia_history *h, const glia_epoch_log *e)
{
    if (h->n == h->cap) {
        int cap = h->cap ? 2 * h->cap : 32;
        glia_epoch_log *n = realloc(h->e, (size_t)cap * sizeof *n);
        if (!n)
            return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "training history of %d epochs", cap);
        h->e = n;
        h->cap = cap;
    }
    h->e[h->n++] = *e;
    return GLIA_STATUS_OK;
}

void glia_history_free_(glia_history *h)
{
    free(h->e);
    memset(h, 0, sizeof *h);
}

/* JSON has no NaN: a missing value (no validation) is null. */
static void add_num(cJSON *o, const char *k, double v)
{
    if (isfinite(v))
        cJSON_AddNumberToObject(o, k, v);
    else
        cJSON_AddNullToObject(o, k);
}

static cJSON *record_json(const glia_epoch_log *e)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "epoch", e->epoch);
    add_num(o, "train_loss", e->train_loss);
    add_num(o, "val_loss", e->val_loss);
    cJSON *d = cJSON_AddObjectToObject(o, "dice");
    for (int r = 0; d && r < e->regions; r++)
        add_num(d, e->region[r], e->dice[r]);
    add_num(o, "mean_dice", e->mean_dice);
    add_num(o, "lr", e->lr);
    add_num(o, "images_per_s", e->images_per_s);
    add_num(o, "seconds", e->seconds);
    return o;
}

char *glia_history_to_json_(const glia_history *h)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; a && i < h->n; i++)
        cJSON_AddItemToArray(a, record_json(&h->e[i]));
    char *text = a ? cJSON_PrintUnformatted(a) : NULL;
    cJSON_Delete(a);
    return text;
}

static double num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

glia_status glia_history_from_json_(const char *json, glia_history *h)
{
    memset(h, 0, sizeof *h);
    cJSON *a = cJSON_Parse(json);
    glia_status s = cJSON_IsArray(a) ? GLIA_STATUS_OK
                                     : glia_seterr(GLIA_STATUS_FORMAT_ERROR, "checkpoint: malformed training history");
    for (const cJSON *o = a ? a->child : NULL; o && s == GLIA_STATUS_OK; o = o->next) {
        glia_epoch_log e = {.epoch = (int)num(o, "epoch"), .train_loss = num(o, "train_loss"),
                            .val_loss = num(o, "val_loss"), .mean_dice = num(o, "mean_dice"), .lr = num(o, "lr"),
                            .images_per_s = num(o, "images_per_s"), .seconds = num(o, "seconds")};
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(o, "dice");
        for (const cJSON *r = cJSON_IsObject(d) ? d->child : NULL; r && e.regions < GLIA_METRICS_MAX_CHANNELS;
             r = r->next) {
            snprintf(e.region[e.regions], sizeof e.region[0], "%s", r->string);
            e.dice[e.regions++] = cJSON_IsNumber(r) ? r->valuedouble : NAN;
        }
        s = glia_history_push_(h, &e);
    }
    cJSON_Delete(a);
    if (s != GLIA_STATUS_OK)
        glia_history_free_(h);
    return s;
}

static char *csv_text(const glia_history *h)
{
    size_t cap = 512 + (size_t)h->n * 512, n = 0;
    char *b = malloc(cap);
    if (!b)
        return NULL;
    const glia_epoch_log *f = h->n ? &h->e[0] : NULL;
    n += (size_t)snprintf(b + n, cap - n, "epoch,train_loss,val_loss");
    for (int r = 0; f && r < f->regions; r++)
        n += (size_t)snprintf(b + n, cap - n, ",dice_%s", f->region[r]);
    n += (size_t)snprintf(b + n, cap - n, ",mean_dice,lr,images_per_s,seconds\n");
    for (int i = 0; i < h->n && n < cap; i++) {
        const glia_epoch_log *e = &h->e[i];
        n += (size_t)snprintf(b + n, cap - n, "%d,%.6f,%.6f", e->epoch, e->train_loss, e->val_loss);
        for (int r = 0; r < e->regions && n < cap; r++)
            n += (size_t)snprintf(b + n, cap - n, ",%.6f", e->dice[r]);
        if (n < cap)
            n += (size_t)snprintf(b + n, cap - n, ",%.6f,%.8g,%.2f,%.2f\n", e->mean_dice, e->lr, e->images_per_s,
                                  e->seconds);
    }
    return b;
}

glia_status glia_history_write_(const glia_history *h, const char *dir)
{
    char *csv = csv_text(h), *json = glia_history_to_json_(h);
    char *csv_path = glia_strfmt_("%s/log.csv", dir), *json_path = glia_strfmt_("%s/log.json", dir);
    char *png_path = glia_strfmt_("%s/curves.png", dir);
    char *doc = json ? glia_strfmt_("{\"epochs\": %s}\n", json) : NULL;
    glia_status s = csv && doc && csv_path && json_path && png_path
                        ? GLIA_STATUS_OK
                        : glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "writing the training logs");
    if (s == GLIA_STATUS_OK)
        s = glia_write_text_(csv_path, csv);
    if (s == GLIA_STATUS_OK)
        s = glia_write_text_(json_path, doc);
    if (s == GLIA_STATUS_OK && h->n > 0)
        s = glia_plot_curves_(h, png_path);
    free(csv);
    cJSON_free(json);
    free(doc);
    free(csv_path);
    free(json_path);
    free(png_path);
    return s;
}
