/* nnU-Net v2 raw datasets: DatasetXXX_Name/ with dataset.json, one file per
 * channel in imagesTr/CASE_0000.nii.gz, CASE_0001.nii.gz, ..., the label map
 * in labelsTr/CASE.nii.gz and unlabelled cases in imagesTs/. dataset.json's
 * channel_names name the channels, its labels are either classes
 * ({"background": 0, "tumour": 1}) or nested regions ({"whole tumor": [1, 2, 3],
 * ...}), which become glia's labels/wt or regions targets. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cJSON.h>
#include "data/data_priv.h"

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* "CASE_0003<ending>" -> 3 with *stem = strlen("CASE"); -1 for any other name. */
static int channel_of(const char *name, const char *ending, size_t *stem)
{
    size_t n = strlen(name), e = strlen(ending);
    if (n < e + 6 || !ends_with(name, ending))
        return -1;
    const char *p = name + n - e - 5;
    if (p[0] != '_' || strspn(p + 1, "0123456789") < 4)
        return -1;
    *stem = (size_t)(p - name);
    return atoi(p + 1);
}

/* imagesTr/ holding CASE_0000 files: the mark of an nnU-Net folder without a readable dataset.json. */
static int has_channel_files(const char *dir, const char *ending)
{
    int n = 0, found = 0;
    char **names = glia_list_dir_(dir, 0, &n);
    size_t stem;
    for (int i = 0; i < n && !found; i++)
        found = channel_of(names[i], ending, &stem) == 0;
    glia_free_list_(names, n);
    return found;
}

int glia_is_nnunet_dir_(const char *dir)
{
    char *json = glia_path_join_(dir, "dataset.json");
    int v2 = 0, v1 = 0;
    if (json && glia_is_file_(json)) {
        cJSON *root = NULL;
        char *path = NULL;
        if (glia_read_dataset_json_(dir, &root, &path) == GLIA_STATUS_OK) {
            v2 = cJSON_HasObjectItem(root, "channel_names") || cJSON_HasObjectItem(root, "file_ending");
            v1 = cJSON_HasObjectItem(root, "training"); /* a Decathlon (v1) list of 4-D images */
        }
        cJSON_Delete(root);
        free(path);
    }
    free(json);
    if (v2 || v1)
        return v2;
    char *tr = glia_path_join_(dir, "imagesTr"), *lb = glia_path_join_(dir, "labelsTr");
    int yes = tr && lb && glia_is_dir_(tr) && glia_is_dir_(lb) &&
              (has_channel_files(tr, ".nii.gz") || has_channel_files(tr, ".nii"));
    free(tr);
    free(lb);
    return yes;
}

/* channel_names (v1's "modality" is still read by nnU-Net v2): "0".."n-1", at most the 4 glia models take. */
static glia_status parse_channels(glia_dataset *ds, const cJSON *root, const char *path)
{
    const cJSON *cn = cJSON_GetObjectItemCaseSensitive(root, "channel_names");
    const char *key = "channel_names";
    if (!cn) {
        cn = cJSON_GetObjectItemCaseSensitive(root, "modality");
        key = "modality";
    }
    if (!cJSON_IsObject(cn))
        return glia_seterr(GLIA_STATUS_FORMAT_ERROR, "%s: no \"channel_names\" object (e.g. {\"0\": \"T2\"})", path);
    int n = cJSON_GetArraySize(cn);
    if (n < 1 || n > 4)
        return glia_seterr(GLIA_STATUS_UNSUPPORTED, "%s: \"%s\" lists %d channels; glia reads 1 to 4", path, key, n);
    unsigned seen = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, cn)
    {
        char *end = NULL;
        long c = strtol(e->string, &end, 10);
        if (!e->string[0] || *end || c < 0 || c >= n || (seen >> c & 1u) || !cJSON_IsString(e) || !e->valuestring[0])
            return glia_seterr(GLIA_STATUS_FORMAT_ERROR, "%s: \"%s\" entry \"%s\" needs a key from \"0\" to \"%d\", "
                               "each once, and a name", path, key, e->string, n - 1);
        seen |= 1u << c;
        snprintf(ds->modality[c], sizeof ds->modality[c], "%.15s", e->valuestring);
    }
    ds->channels = n;
    return GLIA_STATUS_OK;
}

/* A label value (0..255, whole) or -1. */
static int label_value(const cJSON *v)
{
    return cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble <= 255 && v->valuedouble == floor(v->valuedouble)
               ? (int)v->valuedouble
               : -1;
}

/* The values an entry of "labels" lists (a number or an array of them) as bits; 0 if malformed. */
static uint64_t entry_values(const cJSON *e, uint64_t bits[4])
{
    memset(bits, 0, 4 * sizeof *bits);
    int n = 0;
    const cJSON *v = cJSON_IsArray(e) ? e->child : e;
    for (; v; v = cJSON_IsArray(e) ? v->next : NULL, n++) {
        int x = label_value(v);
        if (x < 0)
            return 0;
        bits[x >> 6] |= 1ull << (x & 63);
    }
    return n > 0;
}

static int class_of(const glia_dataset *ds, int value)
{
    for (int k = 0; k < ds->nclasses; k++)
        if (ds->label_values[k] == value)
            return k;
    return -1;
}

/* "labels": the classes are every value listed, in increasing order; arrays make regions. */
static glia_status parse_labels(glia_dataset *ds, const cJSON *root, const char *path)
{
    const cJSON *labels = cJSON_GetObjectItemCaseSensitive(root, "labels"), *e;
    if (!cJSON_IsObject(labels) || !labels->child)
        return glia_seterr(GLIA_STATUS_FORMAT_ERROR, "%s: no \"labels\" object (e.g. {\"background\": 0, \"tumour\": 1})",
                           path);
    uint64_t all[4] = {0}, bits[4];
    int regions = cJSON_HasObjectItem(root, "regions_class_order");
    cJSON_ArrayForEach(e, labels)
    {
        if (strcmp(e->string, "ignore") == 0)
            return glia_seterr(GLIA_STATUS_UNSUPPORTED, "%s: the \"ignore\" label (sparse annotation) is not supported",
                               path);
        if (!entry_values(e, bits))
            return glia_seterr(GLIA_STATUS_FORMAT_ERROR, "%s: label \"%s\" needs a value 0..255 or a list of them", path,
                               e->string);
        for (int w = 0; w < 4; w++)
            all[w] |= bits[w];
        regions |= cJSON_IsArray(e);
    }
    ds->nclasses = 0;
    for (int x = 0; x < 256; x++) {
        if (!(all[x >> 6] >> (x & 63) & 1u))
            continue;
        if (ds->nclasses == GLIA_DS_MAX_CLASSES)
            return glia_seterr(GLIA_STATUS_UNSUPPORTED, "%s: \"labels\" uses more than %d values; glia trains at most %d "
                               "classes", path, GLIA_DS_MAX_CLASSES, GLIA_DS_MAX_CLASSES);
        ds->label_values[ds->nclasses++] = x;
    }
    if (ds->nclasses < 2 || ds->label_values[0] != 0)
        return glia_seterr(GLIA_STATUS_FORMAT_ERROR, "%s: \"labels\" needs background 0 and at least one other value",
                           path);
    ds->foreground = ((1u << ds->nclasses) - 1) & ~1u;
    int plain_seen = 0;
    cJSON_ArrayForEach(e, labels)
    {
        entry_values(e, bits);
        unsigned mask = 0;
        for (int k = 0; k < ds->nclasses; k++)
            if (bits[ds->label_values[k] >> 6] >> (ds->label_values[k] & 63) & 1u)
                mask |= 1u << k;
        if (!regions) { /* one value per class: the class takes the label's name */
            int k = class_of(ds, label_value(e));
            if (plain_seen >> k & 1)
                return glia_seterr(GLIA_STATUS_FORMAT_ERROR, "%s: label value %d is listed twice", path, label_value(e));
            plain_seen |= 1 << k;
            snprintf(ds->class_name[k], sizeof ds->class_name[k], "%.15s", e->string);
        } else if (mask != 1u) { /* a region; background (just 0) is none */
            if (mask & 1u)
                return glia_seterr(GLIA_STATUS_FORMAT_ERROR, "%s: region \"%s\" includes background 0", path, e->string);
            if (ds->nregions == GLIA_DS_MAX_CLASSES)
                return glia_seterr(GLIA_STATUS_UNSUPPORTED, "%s: more than %d regions", path, GLIA_DS_MAX_CLASSES);
            ds->regions[ds->nregions] = mask;
            snprintf(ds->region_name[ds->nregions++], sizeof ds->region_name[0], "%.15s", e->string);
        }
    }
    if (regions && ds->nregions == 0)
        return glia_seterr(GLIA_STATUS_FORMAT_ERROR, "%s: region-based \"labels\" list no region", path);
    const cJSON *order = cJSON_GetObjectItemCaseSensitive(root, "regions_class_order");
    if (order && (!cJSON_IsArray(order) || cJSON_GetArraySize(order) != ds->nregions))
        return glia_seterr(GLIA_STATUS_FORMAT_ERROR, "%s: \"regions_class_order\" needs one label value per region (%d)",
                           path, ds->nregions);
    cJSON_ArrayForEach(e, order)
    {
        if (class_of(ds, label_value(e)) <= 0)
            return glia_seterr(GLIA_STATUS_FORMAT_ERROR, "%s: \"regions_class_order\" names a value that no region "
                               "holds", path);
    }
    return GLIA_STATUS_OK;
}

/* A case of folder `sub` (imagesTr or imagesTs): its channel files, and its label when labelled. */
static glia_status add_case(glia_dataset *ds, const char *sub, const char *id, const char *ending, int labelled)
{
    ds_case *c = glia_add_case_(ds);
    if (!c || !(c->id = glia_strdup_(id)) || !(c->patient = glia_strdup_(id)) ||
        (labelled && !(c->label = glia_strfmt_("%s/labelsTr/%s%s", ds->dir, id, ending))))
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "%s: scanning cases", ds->dir);
    for (int ch = 0; ch < ds->channels; ch++) {
        if (!(c->files[ch] = glia_strfmt_("%s/%s/%s_%04d%s", ds->dir, sub, id, ch, ending)))
            return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "%s: scanning cases", ds->dir);
        if (!c->problem && !glia_is_file_(c->files[ch]))
            c->problem = glia_strfmt_("missing channel %d (%s): expected %s/%s_%04d%s", ch, ds->modality[ch], sub, id,
                                      ch, ending);
    }
    return GLIA_STATUS_OK;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The cases of images folder `sub` whose channel-0 file exists; in imagesTr those without a labelsTr file. */
static glia_status scan_images(glia_dataset *ds, const char *sub, const char *ending, char **labels, int nlabels)
{
    char *dir = glia_path_join_(ds->dir, sub);
    int n = 0;
    char **names = dir ? glia_list_dir_(dir, 0, &n) : NULL;
    glia_status s = dir ? GLIA_STATUS_OK : glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "%s", ds->dir);
    for (int i = 0; i < n && s == GLIA_STATUS_OK; i++) {
        size_t stem;
        if (channel_of(names[i], ending, &stem) != 0)
            continue;
        char *id = glia_strfmt_("%.*s", (int)stem, names[i]), *file = id ? glia_strfmt_("%s%s", id, ending) : NULL;
        if (!file)
            s = glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "%s", ds->dir);
        else if (!nlabels || !bsearch(&file, labels, (size_t)nlabels, sizeof *labels, cmp_str))
            s = add_case(ds, sub, id, ending, 0);
        free(file);
        free(id);
    }
    glia_free_list_(names, n);
    free(dir);
    return s;
}

/* labelsTr/ (labelled cases), then imagesTr/ images without a label and imagesTs/ (unlabelled). */
static glia_status scan_cases(glia_dataset *ds, const char *ending, const char *path, const cJSON *num)
{
    char *lbdir = glia_path_join_(ds->dir, "labelsTr");
    if (!lbdir)
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "%s", ds->dir);
    int n = 0, nl = 0;
    char **names = glia_list_dir_(lbdir, 0, &n);
    free(lbdir);
    glia_status s = GLIA_STATUS_OK;
    for (int i = 0; i < n && s == GLIA_STATUS_OK; i++) {
        char *name = names[i];
        names[i] = NULL;
        if (!ends_with(name, ending)) {
            free(name);
            continue;
        }
        names[nl] = name; /* the label files, still sorted, at the front for scan_images's search */
        char *id = glia_strfmt_("%.*s", (int)(strlen(names[nl]) - strlen(ending)), names[nl]);
        nl++;
        s = id ? add_case(ds, "imagesTr", id, ending, 1) : glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "%s", ds->dir);
        free(id);
    }
    if (s == GLIA_STATUS_OK && num && (!cJSON_IsNumber(num) || !(num->valuedouble >= 0) ||
                                       num->valuedouble != floor(num->valuedouble)))
        s = glia_seterr(GLIA_STATUS_FORMAT_ERROR, "%s: \"numTraining\" is not a count", path);
    else if (s == GLIA_STATUS_OK && num && num->valuedouble != nl)
        s = glia_seterr(GLIA_STATUS_FORMAT_ERROR, "%s: \"numTraining\" is %g but labelsTr/ holds %d *%s label files",
                        path, num->valuedouble, nl, ending);
    if (s == GLIA_STATUS_OK)
        s = scan_images(ds, "imagesTr", ending, names, nl);
    if (s == GLIA_STATUS_OK)
        s = scan_images(ds, "imagesTs", ending, NULL, 0);
    glia_free_list_(names, n);
    return s;
}

glia_status glia_scan_nnunet_(glia_dataset *ds)
{
    cJSON *root = NULL;
    char *path = NULL;
    glia_status s = glia_read_dataset_json_(ds->dir, &root, &path);
    if (s == GLIA_STATUS_IO_ERROR)
        s = glia_seterr(s, "%s: an nnU-Net folder needs its dataset.json (channel_names, labels, file_ending)",
                        path ? path : ds->dir);
    const cJSON *fe = root ? cJSON_GetObjectItemCaseSensitive(root, "file_ending") : NULL;
    const char *ending = cJSON_IsString(fe) ? fe->valuestring : ".nii.gz";
    if (s == GLIA_STATUS_OK && fe && (!cJSON_IsString(fe) || (strcmp(ending, ".nii.gz") && strcmp(ending, ".nii"))))
        s = glia_seterr(GLIA_STATUS_UNSUPPORTED, "%s: \"file_ending\" %s: glia reads nnU-Net datasets of NIfTI files "
                        "(\".nii.gz\" or \".nii\")", path, cJSON_IsString(fe) ? ending : "is not a string");
    if (s == GLIA_STATUS_OK)
        s = parse_channels(ds, root, path);
    if (s == GLIA_STATUS_OK)
        s = parse_labels(ds, root, path);
    if (s == GLIA_STATUS_OK)
        s = scan_cases(ds, ending, path, cJSON_GetObjectItemCaseSensitive(root, "numTraining"));
    cJSON_Delete(root);
    free(path);
    return s;
}
