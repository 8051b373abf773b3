/* Folder layouts of NIfTI datasets: BraTS 2020 / 2021 / 2023+ case folders and
 * the Medical Segmentation Decathlon's Task01_BrainTumour (dataset.json). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cJSON.h>
#include "data/data_priv.h"

/* dir/name/name<sep><suffix>.nii.gz or .nii, whichever exists; NULL if neither. */
static char *find_volume(const char *dir, const char *name, const char *sep, const char *suffix)
{
    static const char *const ext[] = {".nii.gz", ".nii"};
    for (int e = 0; e < 2; e++) {
        char *p = glia_strfmt_("%s/%s/%s%s%s%s", dir, name, name, sep, suffix, ext[e]);
        if (!p || glia_is_file_(p))
            return p;
        free(p);
    }
    return NULL;
}

static int ends_with_ci(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

/* BraTS 2020 ships one case whose label is named like "W39_1998.09.19_Segm.nii". */
static char *find_odd_seg(const char *dir, const char *name)
{
    char *sub = glia_path_join_(dir, name);
    int n = 0;
    char **files = sub ? glia_list_dir_(sub, 0, &n) : NULL;
    char *found = NULL;
    for (int i = 0; i < n && !found; i++)
        if (ends_with_ci(files[i], "seg.nii") || ends_with_ci(files[i], "seg.nii.gz") ||
            ends_with_ci(files[i], "segm.nii") || ends_with_ci(files[i], "segm.nii.gz"))
            found = glia_path_join_(sub, files[i]);
    glia_free_list_(files, n);
    free(sub);
    return found;
}

glia_status glia_scan_brats_(glia_dataset *ds)
{
    int v23 = ds->layout == GLIA_LAYOUT_BRATS2023;
    static const char *const suf20[4] = {"t1", "t1ce", "t2", "flair"};
    static const char *const suf23[4] = {"t1n", "t1c", "t2w", "t2f"};
    const char *const *suf = v23 ? suf23 : suf20;
    const char *sep = v23 ? "-" : "_";
    int n = 0;
    char **subs = glia_list_dir_(ds->dir, 1, &n);
    glia_status s = GLIA_STATUS_OK;
    for (int i = 0; i < n && s == GLIA_STATUS_OK; i++) {
        ds_case *c = glia_add_case_(ds);
        if (!c || !(c->id = glia_strdup_(subs[i])) || !(c->patient = glia_strdup_(subs[i]))) {
            s = glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "%s: scanning cases", ds->dir);
            break;
        }
        if (v23) {
            /* BraTS-GLI-00000-000: the last field is the time point of one patient */
            char *dash = strrchr(c->patient, '-');
            if (dash && dash > c->patient && strlen(dash) == 4 && isdigit((unsigned char)dash[1]))
                *dash = '\0';
        }
        for (int m = 0; m < 4; m++) {
            c->files[m] = find_volume(ds->dir, subs[i], sep, suf[m]);
            if (!c->files[m] && !c->problem)
                c->problem = glia_strfmt_("missing modality %s: expected %s/%s%s%s.nii.gz", suf[m], subs[i], subs[i],
                                          sep, suf[m]);
        }
        c->label = find_volume(ds->dir, subs[i], sep, "seg");
        if (!c->label)
            c->label = find_odd_seg(ds->dir, subs[i]);
    }
    glia_free_list_(subs, n);
    return s;
}

/* "./imagesTr/BRATS_001.nii.gz" -> dir/imagesTr/BRATS_001.nii.gz; the stem becomes the id. */
static glia_status add_msd_case(glia_dataset *ds, const char *image, const char *label)
{
    ds_case *c = glia_add_case_(ds);
    const char *rel = strncmp(image, "./", 2) == 0 ? image + 2 : image;
    const char *base = strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel;
    if (!c || !(c->files[0] = glia_path_join_(ds->dir, rel)) || !(c->id = glia_strdup_(base)))
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "%s: scanning dataset.json", ds->dir);
    char *dot = strstr(c->id, ".nii");
    if (dot)
        *dot = '\0';
    if (!(c->patient = glia_strdup_(c->id)))
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "%s: scanning dataset.json", ds->dir);
    if (!glia_is_file_(c->files[0]))
        c->problem = glia_strfmt_("missing image: dataset.json lists %s", image);
    if (label) {
        const char *lrel = strncmp(label, "./", 2) == 0 ? label + 2 : label;
        if (!(c->label = glia_path_join_(ds->dir, lrel)))
            return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "%s: scanning dataset.json", ds->dir);
        if (!glia_is_file_(c->label) && !c->problem)
            c->problem = glia_strfmt_("missing label: dataset.json lists %s", label);
    }
    return GLIA_STATUS_OK;
}

/* The file channel of each canonical modality from dataset.json's "modality". */
static glia_status map_modalities(glia_dataset *ds, const cJSON *mod, const char *path)
{
    static const char *const names[4][3] = {
        {"t1", "t1w", "t1n"}, {"t1gd", "t1ce", "t1c"}, {"t2", "t2w", "t2w"}, {"flair", "t2f", "flair"}};
    int n = cJSON_GetArraySize(mod);
    if (n != 4)
        return glia_seterr(GLIA_STATUS_FORMAT_ERROR, "%s: \"modality\" lists %d channels, expected 4 (FLAIR, T1w, "
                           "t1gd, T2w)", path, n);
    for (int c = 0; c < 4; c++)
        ds->channel_map[c] = -1;
    const cJSON *e;
    cJSON_ArrayForEach(e, mod)
    {
        int ch = e->string ? atoi(e->string) : -1;
        for (int c = 0; c < 4 && cJSON_IsString(e); c++)
            for (int k = 0; k < 3; k++)
                if (strcasecmp(e->valuestring, names[c][k]) == 0 && ch >= 0 && ch < 4)
                    ds->channel_map[c] = ch;
    }
    for (int c = 0; c < 4; c++)
        if (ds->channel_map[c] < 0)
            return glia_seterr(GLIA_STATUS_FORMAT_ERROR, "%s: \"modality\" lacks %s", path, ds->modality[c]);
    return GLIA_STATUS_OK;
}

glia_status glia_scan_decathlon_(glia_dataset *ds)
{
    cJSON *root = NULL;
    char *path = NULL;
    glia_status s = glia_read_dataset_json_(ds->dir, &root, &path);
    if (s != GLIA_STATUS_OK) {
        free(path);
        return s;
    }
    const cJSON *train = root ? cJSON_GetObjectItemCaseSensitive(root, "training") : NULL;
    const cJSON *test = root ? cJSON_GetObjectItemCaseSensitive(root, "test") : NULL;
    const cJSON *mod = root ? cJSON_GetObjectItemCaseSensitive(root, "modality") : NULL;
    if (!cJSON_IsArray(train))
        s = glia_seterr(GLIA_STATUS_FORMAT_ERROR, "%s: not JSON with a \"training\" list", path);
    else if (mod)
        s = map_modalities(ds, mod, path);
    else
        for (int c = 0; c < 4; c++)
            ds->channel_map[c] = (c + 1) % 4; /* Task01's order: FLAIR, T1w, t1gd, T2w */
    const cJSON *e;
    if (s == GLIA_STATUS_OK) {
        cJSON_ArrayForEach(e, train)
        {
            const cJSON *im = cJSON_GetObjectItemCaseSensitive(e, "image");
            const cJSON *lb = cJSON_GetObjectItemCaseSensitive(e, "label");
            if (!cJSON_IsString(im) || !cJSON_IsString(lb)) {
                s = glia_seterr(GLIA_STATUS_FORMAT_ERROR, "%s: a \"training\" entry lacks \"image\" or \"label\"", path);
                break;
            }
            if ((s = add_msd_case(ds, im->valuestring, lb->valuestring)) != GLIA_STATUS_OK)
                break;
        }
    }
    if (s == GLIA_STATUS_OK && cJSON_IsArray(test)) {
        cJSON_ArrayForEach(e, test)
        {
            if (cJSON_IsString(e) && (s = add_msd_case(ds, e->valuestring, NULL)) != GLIA_STATUS_OK)
                break;
        }
    }
    cJSON_Delete(root);
    free(path);
    return s;
}
