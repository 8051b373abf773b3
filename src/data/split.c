/* Patient-level k-fold splits, saved as JSON in a run so they can be reused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cJSON.h>
#include "glia/tensor.h"
#include "data/data_priv.h"
#include "io/io_priv.h"

void glia_split_free(glia_split *s)
{
    if (!s)
        return;
    free(s->train);
    free(s->val);
    memset(s, 0, sizeof *s);
}

static int usable(const glia_dataset *ds, int i)
{
    return glia_dataset_case_labelled(ds, i) && !glia_dataset_case_problem(ds, i);
}

/* Number the patients of usable cases in case order (a patient's cases share
 * its number; -1 for the rest) into patient_of[ncases]; the count. */
static int number_patients(const glia_dataset *ds, int *patient_of)
{
    int np = 0;
    for (int i = 0; i < ds->ncases; i++) {
        patient_of[i] = -1;
        if (!usable(ds, i))
            continue;
        for (int j = 0; j < i && patient_of[i] < 0; j++)
            if (patient_of[j] >= 0 && strcmp(ds->cases[j].patient, ds->cases[i].patient) == 0)
                patient_of[i] = patient_of[j];
        if (patient_of[i] < 0)
            patient_of[i] = np++;
    }
    return np;
}

int glia_dataset_patients(const glia_dataset *ds)
{
    int *patient_of = ds ? malloc((size_t)ds->ncases * sizeof(int) + 1) : NULL;
    int np = patient_of ? number_patients(ds, patient_of) : 0;
    free(patient_of);
    return np;
}

glia_status glia_split_make(const glia_dataset *ds, int folds, int fold, uint64_t seed, glia_split *out)
{
    if (!ds || !out || folds < 2 || fold < 0 || fold >= folds)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_split_make: need folds >= 2 and 0 <= fold < folds (got "
                           "%d of %d)", fold, folds);
    memset(out, 0, sizeof *out);
    int n = ds->ncases;
    int *patient_of = malloc((size_t)n * sizeof(int) + 1), *order = malloc((size_t)n * sizeof(int) + 1);
    out->train = malloc((size_t)n * sizeof(int) + 1);
    out->val = malloc((size_t)n * sizeof(int) + 1);
    if (!patient_of || !order || !out->train || !out->val) {
        free(patient_of);
        free(order);
        glia_split_free(out);
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "glia_split_make: %d cases", n);
    }
    int np = number_patients(ds, patient_of);
    if (np < folds) {
        free(patient_of);
        free(order);
        glia_split_free(out);
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "%s: %d labelled patients cannot make %d folds", ds->dir, np,
                           folds);
    }
    /* order[p] = the position of patient p after a seeded Fisher-Yates shuffle */
    int *perm = order;
    for (int p = 0; p < np; p++)
        perm[p] = p;
    glia_rng rng;
    glia_rng_init(&rng, seed);
    for (int p = np - 1; p > 0; p--) {
        int q = (int)(glia_rng_u32(&rng) % (uint32_t)(p + 1));
        int t = perm[p];
        perm[p] = perm[q];
        perm[q] = t;
    }
    int *fold_of = malloc((size_t)np * sizeof(int));
    if (fold_of)
        for (int pos = 0; pos < np; pos++)
            fold_of[perm[pos]] = pos % folds;
    for (int i = 0; fold_of && i < n; i++) {
        if (patient_of[i] < 0)
            continue;
        if (fold_of[patient_of[i]] == fold)
            out->val[out->nval++] = i;
        else
            out->train[out->ntrain++] = i;
    }
    free(fold_of);
    free(patient_of);
    free(order);
    if (!fold_of) {
        glia_split_free(out);
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "glia_split_make: %d patients", np);
    }
    out->folds = folds;
    out->fold = fold;
    out->seed = seed;
    return GLIA_STATUS_OK;
}

glia_status glia_split_save(const glia_dataset *ds, const glia_split *s, const char *path)
{
    if (!ds || !s || !path)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_split_save: NULL argument");
    cJSON *root = cJSON_CreateObject();
    cJSON *train = cJSON_CreateArray(), *val = cJSON_CreateArray();
    char seed[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)s->seed);
    if (root && train && val) {
        cJSON_AddStringToObject(root, "layout", glia_layout_name(ds->layout));
        cJSON_AddNumberToObject(root, "folds", s->folds);
        cJSON_AddNumberToObject(root, "fold", s->fold);
        cJSON_AddStringToObject(root, "seed", seed); /* a string: JSON numbers lose 64-bit seeds */
        for (int i = 0; i < s->ntrain; i++)
            cJSON_AddItemToArray(train, cJSON_CreateString(glia_dataset_case_id(ds, s->train[i])));
        for (int i = 0; i < s->nval; i++)
            cJSON_AddItemToArray(val, cJSON_CreateString(glia_dataset_case_id(ds, s->val[i])));
        cJSON_AddItemToObject(root, "train", train);
        cJSON_AddItemToObject(root, "val", val);
        train = val = NULL;
    }
    char *text = root ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    cJSON_Delete(train);
    cJSON_Delete(val);
    if (!text)
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "%s: building split JSON", path);
    /* atomically, under a name of its own: two writers never share a temporary file */
    glia_afile a;
    glia_status st = glia_afile_open(&a, path);
    if (st == GLIA_STATUS_OK) {
        if ((st = glia_afile_write(&a, text, strlen(text))) == GLIA_STATUS_OK &&
            (st = glia_afile_write(&a, "\n", 1)) == GLIA_STATUS_OK)
            st = glia_afile_commit(&a);
        else
            glia_afile_abort(&a);
    }
    free(text);
    return st;
}

static glia_status read_ids(const glia_dataset *ds, const cJSON *arr, const char *path, const char *part, int **out,
                            int *n)
{
    if (!cJSON_IsArray(arr))
        return glia_seterr(GLIA_STATUS_FORMAT_ERROR, "%s: no \"%s\" list", path, part);
    int cnt = cJSON_GetArraySize(arr);
    *out = malloc((size_t)cnt * sizeof(int) + 1);
    if (!*out)
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "%s: %d ids", path, cnt);
    *n = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, arr)
    {
        if (!cJSON_IsString(e))
            return glia_seterr(GLIA_STATUS_FORMAT_ERROR, "%s: \"%s\" holds a non-string", path, part);
        int found = -1;
        for (int i = 0; i < ds->ncases && found < 0; i++)
            if (strcmp(ds->cases[i].id, e->valuestring) == 0)
                found = i;
        if (found < 0)
            return glia_seterr(GLIA_STATUS_FORMAT_ERROR, "%s: case %s is not in the dataset %s", path, e->valuestring,
                               ds->dir);
        (*out)[(*n)++] = found;
    }
    return GLIA_STATUS_OK;
}

glia_status glia_split_load(const glia_dataset *ds, const char *path, glia_split *out)
{
    if (!ds || !path || !out)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_split_load: NULL argument");
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f)
        return glia_seterr(GLIA_STATUS_IO_ERROR, "%s: cannot open", path);
    size_t cap = 64u << 20;
    char *text = malloc(cap + 1);
    size_t n = text ? fread(text, 1, cap, f) : 0;
    fclose(f);
    if (!text)
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "%s", path);
    text[n] = '\0';
    cJSON *root = cJSON_Parse(text);
    free(text);
    if (!root)
        return glia_seterr(GLIA_STATUS_FORMAT_ERROR, "%s: not valid JSON", path);
    glia_status s = read_ids(ds, cJSON_GetObjectItemCaseSensitive(root, "train"), path, "train", &out->train,
                             &out->ntrain);
    if (s == GLIA_STATUS_OK)
        s = read_ids(ds, cJSON_GetObjectItemCaseSensitive(root, "val"), path, "val", &out->val, &out->nval);
    const cJSON *fo = cJSON_GetObjectItemCaseSensitive(root, "folds"), *fd = cJSON_GetObjectItemCaseSensitive(root, "fold");
    const cJSON *sd = cJSON_GetObjectItemCaseSensitive(root, "seed");
    out->folds = cJSON_IsNumber(fo) ? fo->valueint : 0;
    out->fold = cJSON_IsNumber(fd) ? fd->valueint : 0;
    out->seed = cJSON_IsString(sd) ? strtoull(sd->valuestring, NULL, 10) : 0;
    cJSON_Delete(root);
    if (s != GLIA_STATUS_OK)
        glia_split_free(out);
    return s;
}
