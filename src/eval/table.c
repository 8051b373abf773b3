/* The evaluation table: metrics per case and region, their means, and the
 * printed, CSV and JSON forms. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cJSON.h"
#include "eval/eval_priv.h"

struct glia_eval_table {
    int regions, with_hd95;
    char names[GLIA_METRICS_MAX_CHANNELS][16];
    unsigned classes[GLIA_METRICS_MAX_CHANNELS];
    int ncases, cap;
    char **ids;
    glia_seg_metrics *m;                      /* ncases x regions */
    glia_seg_metrics mean[GLIA_METRICS_MAX_CHANNELS];
};

glia_status glia_eval_table_create(const glia_label_info *li, int with_hd95, glia_eval_table **out)
{
    if (!li || !out)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_eval_table_create: NULL argument");
    *out = NULL;
    glia_eval_table *t = calloc(1, sizeof *t);
    if (!t)
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "glia_eval_table_create");
    t->with_hd95 = with_hd95;
    for (int c = 0; c < li->channels && c < GLIA_METRICS_MAX_CHANNELS; c++) {
        if (li->region_classes[c] & 1u)
            continue; /* a softmax target's background channel is no region */
        memcpy(t->names[t->regions], li->names[c], sizeof t->names[0]);
        t->classes[t->regions++] = li->region_classes[c];
    }
    if (t->regions == 0) {
        free(t);
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_eval_table_create: the label info names no region");
    }
    *out = t;
    return GLIA_STATUS_OK;
}

void glia_eval_table_free(glia_eval_table *t)
{
    if (!t)
        return;
    for (int i = 0; i < t->ncases; i++)
        free(t->ids[i]);
    free(t->ids);
    free(t->m);
    free(t);
}

static void update_means(glia_eval_table *t)
{
    for (int r = 0; r < t->regions; r++) {
        glia_seg_metrics *a = &t->mean[r];
        memset(a, 0, sizeof *a);
        for (int i = 0; i < t->ncases; i++) {
            const glia_seg_metrics *x = &t->m[(size_t)i * t->regions + r];
            a->dice += x->dice;
            a->iou += x->iou;
            a->sensitivity += x->sensitivity;
            a->specificity += x->specificity;
            a->hd95 += x->hd95;
            a->pred_ml += x->pred_ml;
            a->ref_ml += x->ref_ml;
            a->volume_diff_ml += x->volume_diff_ml;
            a->tp += x->tp;
            a->fp += x->fp;
            a->fn += x->fn;
            a->tn += x->tn;
        }
        double k = t->ncases ? 1.0 / t->ncases : NAN;
        a->dice *= k;
        a->iou *= k;
        a->sensitivity *= k;
        a->specificity *= k;
        a->hd95 *= k;
        a->pred_ml *= k;
        a->ref_ml *= k;
        a->volume_diff_ml *= k;
    }
}

/* Room for one more case. */
static glia_status grow(glia_eval_table *t)
{
    if (t->ncases < t->cap)
        return GLIA_STATUS_OK;
    int cap = t->cap ? 2 * t->cap : 16;
    char **ids = realloc(t->ids, (size_t)cap * sizeof *ids);
    if (ids)
        t->ids = ids;
    glia_seg_metrics *m = ids ? realloc(t->m, (size_t)cap * t->regions * sizeof *m) : NULL;
    if (!m)
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "evaluation table: %d cases", cap);
    t->m = m;
    t->cap = cap;
    return GLIA_STATUS_OK;
}

glia_status glia_eval_table_add(glia_eval_table *t, const char *id, const uint8_t *pred_classes,
                                const uint8_t *ref_classes, const int64_t dim[3], const double spacing[3])
{
    if (!t || !id || !pred_classes || !ref_classes || !dim || !spacing)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_eval_table_add: NULL argument");
    glia_status s = grow(t);
    if (s != GLIA_STATUS_OK)
        return s;
    size_t n = (size_t)(dim[0] * dim[1] * dim[2]);
    uint8_t *pm = malloc(n + 1), *rm = malloc(n + 1);
    char *copy = glia_strdup_(id);
    s = pm && rm && copy ? GLIA_STATUS_OK : glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "glia_eval_table_add: %zu voxels", n);
    glia_seg_metrics *row = &t->m[(size_t)t->ncases * t->regions];
    for (int r = 0; r < t->regions && s == GLIA_STATUS_OK; r++) {
        for (size_t v = 0; v < n; v++) {
            pm[v] = (uint8_t)((t->classes[r] >> pred_classes[v]) & 1u);
            rm[v] = (uint8_t)((t->classes[r] >> ref_classes[v]) & 1u);
        }
        s = glia_seg_metrics_compute(pm, rm, dim, spacing, t->with_hd95, &row[r]);
        if (s != GLIA_STATUS_OK)
            s = glia_seterr(s, "case %s, region %s: %s", id, t->names[r], glia_last_error());
    }
    free(pm);
    free(rm);
    if (s != GLIA_STATUS_OK) {
        free(copy);
        return s;
    }
    t->ids[t->ncases++] = copy;
    update_means(t);
    return GLIA_STATUS_OK;
}

glia_status glia_eval_table_add_metrics(glia_eval_table *t, const char *id, const glia_seg_metrics *m)
{
    if (!t || !id || !m)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_eval_table_add_metrics: NULL argument");
    glia_status s = grow(t);
    char *copy = s == GLIA_STATUS_OK ? glia_strdup_(id) : NULL;
    if (s == GLIA_STATUS_OK && !copy)
        s = glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "glia_eval_table_add_metrics");
    if (s != GLIA_STATUS_OK)
        return s;
    memcpy(&t->m[(size_t)t->ncases * t->regions], m, (size_t)t->regions * sizeof *m);
    t->ids[t->ncases++] = copy;
    update_means(t);
    return GLIA_STATUS_OK;
}

int glia_eval_table_cases(const glia_eval_table *t) { return t ? t->ncases : 0; }
int glia_eval_table_regions(const glia_eval_table *t) { return t ? t->regions : 0; }

const char *glia_eval_table_region(const glia_eval_table *t, int r)
{
    return t && r >= 0 && r < t->regions ? t->names[r] : NULL;
}

const char *glia_eval_table_case(const glia_eval_table *t, int i)
{
    return t && i >= 0 && i < t->ncases ? t->ids[i] : NULL;
}

const glia_seg_metrics *glia_eval_table_get(const glia_eval_table *t, int i, int r)
{
    if (!t || r < 0 || r >= t->regions || i < -1 || i >= t->ncases)
        return NULL;
    return i < 0 ? &t->mean[r] : &t->m[(size_t)i * t->regions + r];
}

double glia_eval_table_mean_dice(const glia_eval_table *t, int i)
{
    double sum = 0;
    int n = glia_eval_table_regions(t);
    for (int r = 0; r < n; r++) {
        const glia_seg_metrics *m = glia_eval_table_get(t, i, r);
        sum += m ? m->dice : NAN;
    }
    return n ? sum / n : NAN;
}

void glia_eval_table_print(const glia_eval_table *t, FILE *f)
{
    if (!t || !f)
        return;
    fprintf(f, "%-28s %-7s %7s %7s %7s %7s %9s %10s %10s %10s\n", "case", "region", "dice", "iou", "sens", "spec",
            "hd95_mm", "pred_ml", "ref_ml", "diff_ml");
    for (int i = 0; i <= t->ncases; i++) {
        int row = i < t->ncases ? i : -1; /* cases first, the mean last */
        for (int r = 0; r < t->regions; r++) {
            const glia_seg_metrics *m = glia_eval_table_get(t, row, r);
            fprintf(f, "%-28.28s %-7s %7.4f %7.4f %7.4f %7.4f %9.2f %10.3f %10.3f %+10.3f\n",
                    row < 0 ? "mean" : t->ids[row], t->names[r], m->dice, m->iou, m->sensitivity, m->specificity,
                    m->hd95, m->pred_ml, m->ref_ml, m->volume_diff_ml);
        }
    }
}

static char *csv_text(const glia_eval_table *t)
{
    size_t cap = 256 + (size_t)(t->ncases + 1) * t->regions * 200, n = 0;
    char *buf = malloc(cap);
    if (!buf)
        return NULL;
    n += (size_t)snprintf(buf, cap, "case,region,dice,iou,sensitivity,specificity,hd95_mm,pred_ml,ref_ml,volume_diff_ml\n");
    for (int i = 0; i <= t->ncases; i++) {
        int row = i < t->ncases ? i : -1;
        for (int r = 0; r < t->regions && n < cap; r++) {
            const glia_seg_metrics *m = glia_eval_table_get(t, row, r);
            n += (size_t)snprintf(buf + n, cap - n, "%s,%s,%.6f,%.6f,%.6f,%.6f,%.4f,%.4f,%.4f,%.4f\n",
                                  row < 0 ? "mean" : t->ids[row], t->names[r], m->dice, m->iou, m->sensitivity,
                                  m->specificity, m->hd95, m->pred_ml, m->ref_ml, m->volume_diff_ml);
        }
    }
    return buf;
}

glia_status glia_eval_table_write_csv(const glia_eval_table *t, const char *path)
{
    if (!t || !path)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_eval_table_write_csv: NULL argument");
    char *text = csv_text(t);
    if (!text)
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "glia_eval_table_write_csv");
    glia_status s = glia_write_text_(path, text);
    free(text);
    return s;
}

/* NaN (hd95 not computed) becomes null: JSON has no NaN. */
static void add_number(cJSON *o, const char *k, double v)
{
    if (isfinite(v))
        cJSON_AddNumberToObject(o, k, v);
    else
        cJSON_AddNullToObject(o, k);
}

static cJSON *metrics_json(const glia_eval_table *t, int row)
{
    cJSON *o = cJSON_CreateObject();
    for (int r = 0; o && r < t->regions; r++) {
        const glia_seg_metrics *m = glia_eval_table_get(t, row, r);
        cJSON *x = cJSON_AddObjectToObject(o, t->names[r]);
        if (!x)
            break;
        add_number(x, "dice", m->dice);
        add_number(x, "iou", m->iou);
        add_number(x, "sensitivity", m->sensitivity);
        add_number(x, "specificity", m->specificity);
        add_number(x, "hd95_mm", m->hd95);
        add_number(x, "pred_ml", m->pred_ml);
        add_number(x, "ref_ml", m->ref_ml);
        add_number(x, "volume_diff_ml", m->volume_diff_ml);
    }
    return o;
}

glia_status glia_eval_table_write_json(const glia_eval_table *t, const char *path)
{
    if (!t || !path)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_eval_table_write_json: NULL argument");
    cJSON *root = cJSON_CreateObject(), *regions = cJSON_AddArrayToObject(root, "regions");
    cJSON *cases = cJSON_AddArrayToObject(root, "cases");
    for (int r = 0; regions && r < t->regions; r++)
        cJSON_AddItemToArray(regions, cJSON_CreateString(t->names[r]));
    for (int i = 0; cases && i < t->ncases; i++) {
        cJSON *c = cJSON_CreateObject();
        cJSON_AddItemToArray(cases, c);
        cJSON_AddStringToObject(c, "id", t->ids[i]);
        cJSON_AddItemToObject(c, "metrics", metrics_json(t, i));
    }
    cJSON_AddItemToObject(root, "mean", metrics_json(t, -1));
    add_number(root, "mean_dice", glia_eval_table_mean_dice(t, -1));
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text)
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "glia_eval_table_write_json");
    glia_status s = glia_write_text_(path, text);
    cJSON_free(text);
    return s;
}
