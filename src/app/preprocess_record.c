/* The preprocessing record of a checkpoint (see app_priv.h): how inputs were
 * prepared in training, so inference prepares its inputs the same way from
 * the checkpoint alone. */
#include <math.h>
#include <stdlib.h>
#include "cJSON.h"
#include "app/app_priv.h"

static cJSON *array_of(const double *x, int n)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; a && i < n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateNumber(x[i]));
    return a;
}

static cJSON *array_i64(const int64_t *v)
{
    double x[3] = {(double)v[0], (double)v[1], (double)v[2]};
    return array_of(x, 3);
}

glia_status glia_preprocess_record_to_json_(const glia_preprocess *pre, const int64_t size[3], char **json)
{
    if (!pre || !size || !json)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_preprocess_record_to_json_: NULL argument");
    double clip[2] = {pre->clip_lo, pre->clip_hi};
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "zscore", pre->zscore);
    cJSON_AddItemToObject(o, "clip", array_of(clip, 2));
    cJSON_AddBoolToObject(o, "crop_nonzero", pre->crop_nonzero);
    cJSON_AddItemToObject(o, "spacing", array_of(pre->spacing, 3));
    cJSON_AddItemToObject(o, "resize", array_i64(pre->resize));
    cJSON_AddItemToObject(o, "crop", array_i64(pre->crop));
    cJSON_AddItemToObject(o, "size", array_i64(size));
    *json = o ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    return *json ? GLIA_STATUS_OK : glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "preprocessing record");
}

/* n numbers in [lo, hi] (whole when integral) from a JSON array of exactly n; 0 if malformed. */
static int numbers(const cJSON *a, int n, double lo, double hi, int integral, double *out)
{
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != n)
        return 0;
    int i = 0;
    for (const cJSON *e = a->child; e; e = e->next, i++) {
        double v = e->valuedouble;
        if (!cJSON_IsNumber(e) || !(v >= lo && v <= hi) || (integral && v != floor(v)))
            return 0;
        out[i] = v;
    }
    return 1;
}

/* Readers of one value each; 0 if it is malformed. */
static int read_bool(const cJSON *v, void *dst)
{
    if (!cJSON_IsBool(v))
        return 0;
    *(int *)dst = cJSON_IsTrue(v);
    return 1;
}

static int read_clip(const cJSON *v, void *dst)
{
    glia_preprocess *pre = dst;
    double x[2];
    if (!numbers(v, 2, 0, 100, 0, x) || x[0] > x[1])
        return 0;
    pre->clip_lo = (float)x[0];
    pre->clip_hi = (float)x[1];
    return 1;
}

static int read_spacing(const cJSON *v, void *dst) { return numbers(v, 3, 0, 100, 0, dst); }

static int read_size3(const cJSON *v, void *dst)
{
    double x[3];
    if (!numbers(v, 3, 0, 4096, 1, x))
        return 0;
    for (int a = 0; a < 3; a++)
        ((int64_t *)dst)[a] = (int64_t)x[a];
    return 1;
}

glia_status glia_preprocess_record_from_json_(const char *json, glia_preprocess *pre, int64_t size[3])
{
    if (!json || !pre || !size)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_preprocess_record_from_json_: NULL argument");
    const struct {
        const char *key;
        int (*read)(const cJSON *v, void *dst);
        void *dst;
    } keys[] = {
        {"zscore", read_bool, &pre->zscore},     {"clip", read_clip, pre},
        {"crop_nonzero", read_bool, &pre->crop_nonzero}, {"spacing", read_spacing, pre->spacing},
        {"resize", read_size3, pre->resize},     {"crop", read_size3, pre->crop},
        {"size", read_size3, size},
    };
    cJSON *o = cJSON_Parse(json);
    glia_status s = cJSON_IsObject(o) ? GLIA_STATUS_OK
                                      : glia_seterr(GLIA_STATUS_FORMAT_ERROR, "preprocessing record is not a JSON object");
    for (size_t k = 0; s == GLIA_STATUS_OK && k < sizeof keys / sizeof *keys; k++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, keys[k].key);
        if (v && !keys[k].read(v, keys[k].dst))
            s = glia_seterr(GLIA_STATUS_FORMAT_ERROR, "preprocessing record: bad value of '%s'", keys[k].key);
    }
    cJSON_Delete(o);
    return s;
}
