/* Inputs of inference that are not a whole dataset: explicit modality files,
 * a 2-D image, or a single case folder of any layout. */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "infer/infer_priv.h"

/* The spatial grid of a volume and how many channels its extra axis holds.
 * NIfTI: (i, j, k[, c]); PNG/TIFF: (w, h[, c]) on one slice. 0 if it has more axes. */
static int grid_of(const glia_volume *v, int64_t g[3], int64_t *channels)
{
    int image2d = v->nifti_version == 0;
    int sp = image2d ? 2 : 3;
    for (int a = 0; a < 3; a++)
        g[a] = a < sp && a < v->ndim ? v->dim[a] : 1;
    *channels = v->ndim > sp ? v->dim[sp] : 1;
    for (int a = sp + 1; a < v->ndim; a++)
        if (v->dim[a] != 1)
            return 0;
    return 1;
}

glia_status glia_case_from_files(const char *const *paths, int n, glia_case **out)
{
    if (!paths || n < 1 || n > 16 || !out)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_case_from_files: 1 to 16 files are needed");
    *out = NULL;
    glia_case *c = calloc(1, sizeof *c);
    if (!c)
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "glia_case_from_files");
    glia_status s = GLIA_STATUS_OK;
    size_t nv = 0;
    for (int f = 0; f < n && s == GLIA_STATUS_OK; f++) {
        glia_volume *v = NULL;
        if ((s = glia_volume_read(paths[f], &v)) != GLIA_STATUS_OK)
            break;
        int64_t g[3], ch;
        float *x = NULL;
        if (!grid_of(v, g, &ch) || ch > 16 || (n > 1 && ch != 1))
            s = glia_seterr(GLIA_STATUS_SHAPE_MISMATCH, "%s: %d dimensions%s; expected %s", paths[f], v->ndim,
                            n > 1 ? " with more than one channel" : "",
                            n > 1 ? "one 3-D volume per modality" : "a 3-D volume, a 4-D one of channels or a 2-D image");
        else if (f == 0) {
            memcpy(c->dim, g, sizeof g);
            c->channels = (int)(n > 1 ? n : ch);
            nv = (size_t)(g[0] * g[1] * g[2]);
            c->image = malloc(nv * (size_t)c->channels * sizeof *c->image + 1);
            if (!c->image)
                s = glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "%s: %zu voxels", paths[f], nv);
        } else if (memcmp(g, c->dim, sizeof g) != 0) {
            s = glia_seterr(GLIA_STATUS_SHAPE_MISMATCH, "%s is %lldx%lldx%lld but %s is %lldx%lldx%lld", paths[f],
                            (long long)g[0], (long long)g[1], (long long)g[2], paths[0], (long long)c->dim[0],
                            (long long)c->dim[1], (long long)c->dim[2]);
        }
        if (s == GLIA_STATUS_OK && (s = glia_image_floats_(v, &x)) != GLIA_STATUS_OK)
            s = glia_seterr(s, "%s: %s", paths[f], glia_last_error());
        if (s == GLIA_STATUS_OK)
            memcpy(c->image + (size_t)f * nv, x, nv * (size_t)(n > 1 ? 1 : c->channels) * sizeof *x);
        free(x);
        if (s == GLIA_STATUS_OK && f == 0) { /* keep the header: the geometry of the outputs */
            free(v->data);
            v->data = NULL;
            c->ref = v;
        } else {
            glia_volume_free(v);
        }
    }
    if (s != GLIA_STATUS_OK) {
        glia_case_free(c);
        return s;
    }
    for (int a = 0; a < 3; a++) {
        double sp = c->ref->nifti_version ? c->ref->geom.pixdim[a + 1] : 1.0;
        c->spacing[a] = sp > 0 ? sp : 1.0;
        c->orig_dim[a] = c->box_dim[a] = c->resized[a] = c->dim[a];
    }
    *out = c;
    return GLIA_STATUS_OK;
}

/* BraTS 2023 names the modalities differently. */
static const char *alias(const char *m)
{
    static const char *const pairs[][2] = {{"t1", "t1n"}, {"t1ce", "t1c"}, {"t2", "t2w"}, {"flair", "t2f"}};
    for (int i = 0; i < 4; i++)
        if (strcmp(m, pairs[i][0]) == 0)
            return pairs[i][1];
    return m;
}

/* The file in names[] whose stem ends with _m or -m (m or its alias). */
static const char *find_modality(char **names, int n, const char *m)
{
    for (int i = 0; i < n; i++) {
        char stem[512];
        snprintf(stem, sizeof stem, "%s", names[i]);
        char *dot = strstr(stem, ".nii");
        if (!dot)
            continue;
        *dot = '\0';
        size_t len = strlen(stem);
        for (int k = 0; k < 2; k++) {
            const char *want = k ? alias(m) : m;
            size_t wl = strlen(want);
            if (len > wl && strcmp(stem + len - wl, want) == 0 && (stem[len - wl - 1] == '_' || stem[len - wl - 1] == '-'))
                return names[i];
        }
    }
    return NULL;
}

glia_status glia_case_order_modalities(glia_case *c, const glia_dataset *ds, const glia_label_info *li)
{
    if (!c || !ds || !li)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_case_order_modalities: NULL argument");
    if (li->modalities == 0)
        return GLIA_STATUS_OK;
    int from[4], same = li->modalities == c->channels;
    for (int m = 0; m < li->modalities; m++) {
        from[m] = -1;
        for (int k = 0; k < glia_dataset_channels(ds) && k < c->channels && from[m] < 0; k++) {
            const char *have = glia_dataset_modality(ds, k);
            if (strcmp(have, li->modality[m]) == 0 || strcmp(have, alias(li->modality[m])) == 0)
                from[m] = k;
        }
        if (from[m] < 0)
            return glia_seterr(GLIA_STATUS_FORMAT_ERROR, "the model takes %s, which the dataset lacks", li->modality[m]);
        same = same && from[m] == m;
    }
    if (same)
        return GLIA_STATUS_OK;
    size_t plane = (size_t)(c->dim[0] * c->dim[1] * c->dim[2]);
    float *img = malloc((size_t)li->modalities * plane * sizeof *img);
    if (!img)
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "reordering modalities: %zu voxels", plane);
    for (int m = 0; m < li->modalities; m++)
        memcpy(img + (size_t)m * plane, c->image + (size_t)from[m] * plane, plane * sizeof *img);
    free(c->image);
    c->image = img;
    c->channels = li->modalities;
    return GLIA_STATUS_OK;
}

/* The folder as one case of its parent's dataset (every layout glia reads),
 * its modalities in li's order. 0 when the parent is no dataset holding it;
 * else 1, with the load's status in *s. */
static int from_parent_dataset(const char *dir, const glia_label_info *li, glia_case **out, glia_status *s)
{
    char *a = glia_strdup_(dir), *b = glia_strdup_(dir);
    glia_dataset *ds = NULL;
    int found = 0;
    if (a && b) {
        size_t len = strlen(b);
        while (len > 1 && b[len - 1] == '/')
            b[--len] = '\0';
        const char *parent = dirname(a), *base = basename(b);
        if (glia_dataset_open(parent, NULL, &ds) == GLIA_STATUS_OK)
            for (int i = 0; i < glia_dataset_count(ds) && !found; i++)
                if (strcmp(glia_dataset_case_id(ds, i), base) == 0) {
                    found = 1;
                    if ((*s = glia_dataset_load(ds, i, out)) == GLIA_STATUS_OK && li &&
                        (*s = glia_case_order_modalities(*out, ds, li)) != GLIA_STATUS_OK) {
                        glia_case_free(*out);
                        *out = NULL;
                    }
                }
    }
    glia_dataset_free(ds);
    free(a);
    free(b);
    return found;
}

glia_status glia_case_from_folder(const char *dir, const glia_label_info *li, glia_case **out)
{
    if (!dir || !out)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_case_from_folder: NULL argument");
    *out = NULL;
    if (!glia_is_dir_(dir))
        return glia_seterr(GLIA_STATUS_IO_ERROR, "%s: not a folder", dir);
    glia_status s = GLIA_STATUS_OK;
    if (from_parent_dataset(dir, li, out, &s))
        return s;
    static const char *const brats[4] = {"t1", "t1ce", "t2", "flair"};
    int nm = li && li->modalities > 0 ? li->modalities : 4, n = 0;
    char **names = glia_list_dir_(dir, 0, &n);
    char *paths[4] = {NULL, NULL, NULL, NULL};
    for (int m = 0; m < nm && s == GLIA_STATUS_OK; m++) {
        const char *want = li && li->modalities > 0 ? li->modality[m] : brats[m];
        const char *f = find_modality(names, n, want);
        if (!f)
            s = glia_seterr(GLIA_STATUS_FORMAT_ERROR, "%s: no %s file (a name ending in _%s.nii[.gz] or -%s.nii[.gz])",
                            dir, want, want, alias(want));
        else if (!(paths[m] = glia_path_join_(dir, f)))
            s = glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "%s", dir);
    }
    if (s == GLIA_STATUS_OK)
        s = glia_case_from_files((const char *const *)paths, nm, out);
    for (int m = 0; m < 4; m++)
        free(paths[m]);
    glia_free_list_(names, n);
    return s;
}
