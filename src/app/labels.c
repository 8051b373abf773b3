/* What a model's output channels mean: regions or classes, their names, the
 * label values files use; saved with a training checkpoint so inference needs
 * no dataset. Training, evaluation and inference all speak it, so it lives
 * below the three. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cJSON.h"
#include "app/app_priv.h"

static const char *const target_names[] = {"regions", "wt", "labels"};

const char *glia_target_name_(glia_target t)
{
    return (unsigned)t < sizeof target_names / sizeof *target_names ? target_names[t] : "unknown";
}

glia_status glia_target_parse_(const char *name, glia_target *out)
{
    for (int i = 0; name && i < 3; i++)
        if (strcmp(name, target_names[i]) == 0) {
            *out = (glia_target)i;
            return GLIA_STATUS_OK;
        }
    return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "unknown target '%s' (known: regions, wt, labels)",
                       name ? name : "(null)");
}

glia_status glia_label_info_from_dataset(const glia_dataset *ds, glia_target t, glia_label_info *out)
{
    if (!ds || !out)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_label_info_from_dataset: NULL argument");
    memset(out, 0, sizeof *out);
    int ch = glia_dataset_target_channels(ds, t);
    if (ch <= 0)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "%s", glia_last_error());
    if (ch > GLIA_METRICS_MAX_CHANNELS || glia_dataset_classes(ds) > GLIA_METRICS_MAX_CHANNELS)
        return glia_seterr(GLIA_STATUS_UNSUPPORTED, "at most %d classes and channels", GLIA_METRICS_MAX_CHANNELS);
    out->target = t;
    out->channels = ch;
    out->classes = glia_dataset_classes(ds);
    for (int c = 0; c < out->classes; c++)
        out->label_values[c] = glia_dataset_label_value(ds, c);
    out->modalities = glia_dataset_channels(ds) < 4 ? glia_dataset_channels(ds) : 4;
    for (int m = 0; m < out->modalities; m++)
        snprintf(out->modality[m], sizeof out->modality[m], "%s", glia_dataset_modality(ds, m));
    int brats = out->classes == 4, msd = glia_dataset_layout(ds) == GLIA_LAYOUT_DECATHLON;
    static const char *const regions[3] = {"WT", "TC", "ET"};
    static const char *const brats_classes[4] = {"BG", "NCR", "ED", "ET"}, *const msd_classes[4] = {"BG", "ED", "NET", "ET"};
    for (int c = 0; c < ch; c++) {
        out->region_classes[c] = glia_dataset_region_classes(ds, t, c);
        const char *name = glia_dataset_target_name(ds, t, c); /* the dataset's own (nnU-Net), else the usual */
        char buf[16];
        if (!name && t == GLIA_TARGET_LABELS)
            name = brats ? (msd ? msd_classes[c] : brats_classes[c]) : c == 0 ? "BG" : out->classes == 2 ? "tumour" : NULL;
        else if (!name)
            name = brats && c < 3 ? regions[c] : "tumour";
        if (!name) {
            snprintf(buf, sizeof buf, "class%d", c % 100);
            name = buf;
        }
        snprintf(out->names[c], sizeof out->names[c], "%.15s", name);
    }
    return GLIA_STATUS_OK;
}

/* Entries of a comma list into names (at most max), or -1 when one is empty or too long. */
static int split_list(const char *list, int max, char (*names)[16])
{
    int n = 0;
    for (const char *p = list; p && *p && n <= max; n++) {
        size_t len = strcspn(p, ",");
        if (len == 0 || len >= 16 || n == max)
            return -1;
        memcpy(names[n], p, len);
        names[n][len] = '\0';
        p += len + (p[len] == ',');
    }
    return n;
}

glia_status glia_label_info_set_regions(glia_label_info *li, const char *list)
{
    /* BraTS 2021's classes BG, NCR (1), ED (2), ET (4), and the regions over them */
    static const struct {
        const char *name;
        unsigned classes;
    } known[3] = {{"WT", 0xEu}, {"TC", 0xAu}, {"ET", 0x8u}};
    static const int values[4] = {0, 1, 2, 4};
    char names[GLIA_METRICS_MAX_CHANNELS][16];
    if (!li || !list)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_label_info_set_regions: NULL argument");
    int n = split_list(list, GLIA_METRICS_MAX_CHANNELS, names);
    if (n != li->channels)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "channels '%s': the model has %d output channels, "
                           "name each (WT, TC or ET, comma-separated)", list, li->channels);
    unsigned seen = 0;
    for (int c = 0; c < n; c++) {
        int k = 0;
        while (k < 3 && strcmp(names[c], known[k].name) != 0)
            k++;
        if (k == 3 || (seen & 1u << k))
            return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "channels '%s': '%s' is %s (WT, TC, ET, each once)",
                               list, names[c], k == 3 ? "no region" : "named twice");
        seen |= 1u << k;
        li->region_classes[c] = known[k].classes;
        snprintf(li->names[c], sizeof li->names[c], "%s", known[k].name);
    }
    li->target = GLIA_TARGET_REGIONS;
    li->classes = 4;
    memcpy(li->label_values, values, sizeof values);
    return GLIA_STATUS_OK;
}

glia_status glia_label_info_set_modalities(glia_label_info *li, const char *list)
{
    static const char *const known[4] = {"t1", "t1ce", "t2", "flair"};
    char names[4][16];
    if (!li || !list)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_label_info_set_modalities: NULL argument");
    int n = split_list(list, 4, names);
    for (int m = 0; m < n; m++) {
        int k = 0, twice = 0;
        while (k < 4 && strcmp(names[m], known[k]) != 0)
            k++;
        for (int j = 0; j < m; j++)
            twice |= strcmp(names[j], names[m]) == 0;
        if (k == 4 || twice)
            n = -1;
    }
    if (n < 1)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT,
                           "modalities '%s': 1 to 4 of t1, t1ce, t2, flair, each once, comma-separated", list);
    li->modalities = n;
    memcpy(li->modality, names, sizeof names);
    return GLIA_STATUS_OK;
}

glia_status glia_label_info_to_json(const glia_label_info *li, char **json)
{
    if (!li || !json)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_label_info_to_json: NULL argument");
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "target", glia_target_name_(li->target));
    cJSON *rc = cJSON_AddArrayToObject(o, "region_classes"), *names = cJSON_AddArrayToObject(o, "names");
    for (int c = 0; rc && names && c < li->channels; c++) {
        cJSON_AddItemToArray(rc, cJSON_CreateNumber(li->region_classes[c]));
        cJSON_AddItemToArray(names, cJSON_CreateString(li->names[c]));
    }
    cJSON *lv = cJSON_AddArrayToObject(o, "label_values"), *mod = cJSON_AddArrayToObject(o, "modalities");
    for (int c = 0; lv && c < li->classes; c++)
        cJSON_AddItemToArray(lv, cJSON_CreateNumber(li->label_values[c]));
    for (int m = 0; mod && m < li->modalities; m++)
        cJSON_AddItemToArray(mod, cJSON_CreateString(li->modality[m]));
    *json = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return *json ? GLIA_STATUS_OK : glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "glia_label_info_to_json");
}

/* Entries of a JSON array into out (numbers) or names (strings); the count, or -1 if malformed. */
static int json_list(const cJSON *a, int max, int *nums, char (*names)[16])
{
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) > max)
        return -1;
    int n = 0;
    for (const cJSON *e = a->child; e; e = e->next, n++) {
        if (nums && cJSON_IsNumber(e) && e->valuedouble >= 0 && e->valuedouble <= 65535)
            nums[n] = (int)e->valuedouble;
        else if (names && cJSON_IsString(e))
            snprintf(names[n], sizeof names[n], "%s", e->valuestring);
        else
            return -1;
    }
    return n;
}

glia_status glia_label_info_from_json(const char *json, glia_label_info *out)
{
    if (!json || !out)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_label_info_from_json: NULL argument");
    memset(out, 0, sizeof *out);
    cJSON *o = cJSON_Parse(json);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "target");
    int rc[GLIA_METRICS_MAX_CHANNELS];
    int ok = cJSON_IsString(t) && glia_target_parse_(t->valuestring, &out->target) == GLIA_STATUS_OK;
    int n = ok ? json_list(cJSON_GetObjectItemCaseSensitive(o, "region_classes"), GLIA_METRICS_MAX_CHANNELS, rc, NULL)
               : -1;
    int nn = json_list(cJSON_GetObjectItemCaseSensitive(o, "names"), GLIA_METRICS_MAX_CHANNELS, NULL, out->names);
    out->classes = json_list(cJSON_GetObjectItemCaseSensitive(o, "label_values"), GLIA_METRICS_MAX_CHANNELS,
                             out->label_values, NULL);
    out->modalities = json_list(cJSON_GetObjectItemCaseSensitive(o, "modalities"), 4, NULL, out->modality);
    cJSON_Delete(o);
    ok = ok && n >= 1 && nn == n && out->classes >= 2 && out->modalities >= 0;
    for (int c = 0; ok && c < n; c++) {
        out->region_classes[c] = (unsigned)rc[c];
        ok = rc[c] > 0 && rc[c] < (1 << out->classes);
    }
    out->channels = ok ? n : 0;
    return ok ? GLIA_STATUS_OK : glia_seterr(GLIA_STATUS_FORMAT_ERROR, "malformed label metadata: %.80s", json);
}

static int lowest_bit(unsigned m)
{
    for (int b = 0; b < 32; b++)
        if (m >> b & 1u)
            return b;
    return 0;
}

void glia_label_info_classes(const glia_label_info *li, const float *prob, size_t n, float threshold,
                             uint8_t *classes)
{
    int C = li->channels;
    if (li->target == GLIA_TARGET_LABELS) {
        for (size_t v = 0; v < n; v++) {
            int best = 0;
            for (int c = 1; c < C; c++)
                if (prob[(size_t)c * n + v] > prob[(size_t)best * n + v])
                    best = c;
            classes[v] = (uint8_t)lowest_bit(li->region_classes[best]);
        }
        return;
    }
    /* nested regions in any channel order (MONAI's is TC, WT, ET): a region's own class is what it
     * holds beyond the regions inside it, and a voxel takes the innermost region above threshold */
    uint8_t own[GLIA_METRICS_MAX_CHANNELS];
    int size[GLIA_METRICS_MAX_CHANNELS];
    for (int c = 0; c < C; c++) {
        unsigned m = li->region_classes[c], rest = m;
        size[c] = __builtin_popcount(m);
        for (int d = 0; d < C; d++)
            if (d != c && (li->region_classes[d] & ~m) == 0 && li->region_classes[d] != m)
                rest &= ~li->region_classes[d];
        own[c] = (uint8_t)lowest_bit(rest ? rest : m);
    }
    for (size_t v = 0; v < n; v++) {
        int inner = -1;
        for (int c = 0; c < C; c++)
            if (prob[(size_t)c * n + v] > threshold && (inner < 0 || size[c] < size[inner]))
                inner = c;
        classes[v] = inner < 0 ? 0 : own[inner];
    }
}

glia_status glia_labels_to_classes(const glia_volume *v, const glia_label_info *li, uint8_t **classes)
{
    if (!v || !li || !classes)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_labels_to_classes: NULL argument");
    *classes = NULL;
    float *f = NULL;
    glia_status s = glia_volume_to_float(v, &f);
    if (s != GLIA_STATUS_OK)
        return s;
    size_t n = (size_t)glia_volume_numel(v);
    uint8_t *c = malloc(n + 1);
    if (!c) {
        free(f);
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "glia_labels_to_classes: %zu voxels", n);
    }
    for (size_t i = 0; i < n && s == GLIA_STATUS_OK; i++) {
        int k = -1;
        for (int q = 0; q < li->classes && k < 0; q++)
            if (f[i] == (float)li->label_values[q])
                k = q;
        if (k < 0 && li->classes == 2 && f[i] == 255.0f)
            k = 1;
        if (k < 0)
            s = glia_seterr(GLIA_STATUS_FORMAT_ERROR, "label value %g at voxel %zu is none of the %d classes' values",
                            (double)f[i], i, li->classes);
        c[i] = (uint8_t)(k < 0 ? 0 : k);
    }
    free(f);
    if (s != GLIA_STATUS_OK) {
        free(c);
        return s;
    }
    *classes = c;
    return GLIA_STATUS_OK;
}
