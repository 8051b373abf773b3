/* A case's inference outputs: the mask in the input's geometry (label
 * values), probability maps, overlays, and the volume report (JSON and text),
 * optionally against a prior mask. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cJSON.h"
#include "infer/infer_priv.h"

static int from_nifti(const glia_case *c) { return c->ref && c->ref->nifti_version > 0; }

/* One 2-D picture in (PNG/TIFF): its mask is a picture too. A stack of
 * pictures (an LGG case) gets a NIfTI volume. */
static int picture(const glia_case *c) { return !from_nifti(c) && c->dim[2] == 1; }

/* A new volume on the case's grid, with its geometry when it came from NIfTI
 * (else its voxel spacing). ndim 2 only for a picture. */
static glia_status like_case(const glia_case *c, int ndim, int64_t extra, glia_dtype t, glia_volume **out)
{
    int64_t d[4] = {c->dim[0], c->dim[1], c->dim[2], extra};
    if (picture(c) && ndim == 3) /* (w, h) */
        ndim = 2;
    glia_status s = glia_volume_new(ndim, d, t, out);
    if (s == GLIA_STATUS_OK && !from_nifti(c))
        for (int a = 0; a < 3; a++)
            (*out)->geom.pixdim[a + 1] = c->spacing[a];
    if (s == GLIA_STATUS_OK && from_nifti(c) && (s = glia_volume_copy_geometry(*out, c->ref)) != GLIA_STATUS_OK) {
        glia_volume_free(*out);
        *out = NULL;
    }
    return s;
}

static glia_status write_mask(const glia_label_info *li, const glia_case *c, const uint8_t *cls, const char *path)
{
    int image2d = picture(c), wide = 0;
    for (int k = 0; k < li->classes; k++)
        wide |= li->label_values[k] > 255;
    glia_volume *v = NULL;
    glia_status s = like_case(c, 3, 0, wide ? GLIA_DTYPE_INT16 : GLIA_DTYPE_UINT8, &v);
    size_t n = (size_t)(c->dim[0] * c->dim[1] * c->dim[2]);
    for (size_t i = 0; s == GLIA_STATUS_OK && i < n; i++) {
        /* a binary mask as a picture is 0/255, as the LGG masks are */
        int value = image2d && li->classes == 2 ? (cls[i] ? 255 : 0) : li->label_values[cls[i]];
        if (wide)
            ((int16_t *)v->data)[i] = (int16_t)value;
        else
            ((uint8_t *)v->data)[i] = (uint8_t)value;
    }
    if (s == GLIA_STATUS_OK)
        s = glia_volume_write(v, path, NULL);
    glia_volume_free(v);
    return s;
}

static glia_status write_probabilities(const glia_case *c, const float *prob, int channels, const char *path)
{
    glia_volume *v = NULL;
    glia_status s = like_case(c, 4, channels, GLIA_DTYPE_FLOAT32, &v);
    if (s == GLIA_STATUS_OK) {
        v->ndim = 4;
        v->dim[3] = channels;
        memcpy(v->data, prob, (size_t)glia_volume_numel(v) * sizeof *prob);
        s = glia_volume_write(v, path, NULL);
    }
    glia_volume_free(v);
    return s;
}

/* mL of every region of the report (classes in its bitmask) in a class map. */
static void volumes(const glia_label_info *li, const uint8_t *cls, size_t n, double voxel_ml, glia_volume_report *r,
                    double *ml)
{
    for (int k = 0; k < r->regions; k++) {
        int64_t count = 0;
        unsigned m = li->region_classes[r->channel[k]];
        for (size_t i = 0; i < n; i++)
            count += (m >> cls[i]) & 1u;
        ml[k] = (double)count * voxel_ml;
    }
}

static glia_status prior_volumes(const glia_label_info *li, const glia_case *c, const char *path, double voxel_ml,
                                 glia_volume_report *r)
{
    glia_volume *v = NULL;
    uint8_t *cls = NULL;
    size_t n = (size_t)(c->dim[0] * c->dim[1] * c->dim[2]);
    glia_status s = glia_volume_read(path, &v);
    if (s == GLIA_STATUS_OK && (v->dim[0] != c->dim[0] || v->dim[1] != c->dim[1] || (size_t)glia_volume_numel(v) != n))
        s = glia_seterr(GLIA_STATUS_SHAPE_MISMATCH, "--compare %s is %lldx%lldx%lld, the input %lldx%lldx%lld", path,
                        (long long)v->dim[0], (long long)v->dim[1], (long long)(v->ndim > 2 ? v->dim[2] : 1),
                        (long long)c->dim[0], (long long)c->dim[1], (long long)c->dim[2]);
    if (s == GLIA_STATUS_OK && (s = glia_labels_to_classes(v, li, &cls)) != GLIA_STATUS_OK)
        s = glia_seterr(s, "--compare %s: %s", path, glia_last_error());
    if (s == GLIA_STATUS_OK)
        volumes(li, cls, n, voxel_ml, r, r->prior_ml);
    free(cls);
    glia_volume_free(v);
    return s;
}

static char *report_json(const glia_volume_report *r, const char *id, int models, double voxel_ml)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "case", id);
    cJSON_AddStringToObject(o, "mask", r->mask_path);
    cJSON_AddNumberToObject(o, "models", models);
    cJSON_AddNumberToObject(o, "voxel_ml", voxel_ml);
    cJSON *regs = cJSON_AddObjectToObject(o, "regions");
    for (int k = 0; regs && k < r->regions; k++) {
        cJSON *x = cJSON_AddObjectToObject(regs, r->names[k]);
        cJSON_AddNumberToObject(x, "ml", r->ml[k]);
        if (isfinite(r->prior_ml[k])) {
            cJSON_AddNumberToObject(x, "prior_ml", r->prior_ml[k]);
            cJSON_AddNumberToObject(x, "change_ml", r->ml[k] - r->prior_ml[k]);
            if (r->prior_ml[k] > 0)
                cJSON_AddNumberToObject(x, "change_percent", 100.0 * (r->ml[k] - r->prior_ml[k]) / r->prior_ml[k]);
        }
    }
    cJSON_AddNumberToObject(o, "overlays", r->overlays);
    char *t = cJSON_Print(o);
    cJSON_Delete(o);
    return t;
}

static char *report_text(const glia_volume_report *r, const char *id)
{
    size_t cap = 512 + 160 * (size_t)r->regions, n = 0;
    char *b = malloc(cap);
    if (!b)
        return NULL;
    n += (size_t)snprintf(b, cap, "case %s\nmask %s\ntumour volume per region:\n", id, r->mask_path);
    for (int k = 0; k < r->regions && n < cap; k++) {
        n += (size_t)snprintf(b + n, cap - n, "  %-8s %10.3f mL", r->names[k], r->ml[k]);
        if (isfinite(r->prior_ml[k]) && n < cap)
            n += (size_t)snprintf(b + n, cap - n, "   prior %10.3f mL   change %+10.3f mL", r->prior_ml[k],
                                  r->ml[k] - r->prior_ml[k]);
        if (n < cap)
            n += (size_t)snprintf(b + n, cap - n, "\n");
    }
    return b;
}

glia_status glia_infer_write(const glia_predictor *p, const glia_case *c, const float *prob, const char *dir,
                             const char *id, const glia_infer_outputs *opts, glia_volume_report *r)
{
    if (!p || !c || !prob || !dir || !id || !r)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_infer_write: NULL argument");
    glia_infer_outputs o = opts ? *opts : (glia_infer_outputs){0};
    const glia_predictor_info *info = glia_predictor_get_info(p);
    const glia_label_info *li = &info->labels;
    memset(r, 0, sizeof *r);
    for (int ch = 0; ch < li->channels; ch++)
        if (!(li->region_classes[ch] & 1u)) { /* not a background channel */
            r->channel[r->regions] = ch;
            snprintf(r->names[r->regions], sizeof r->names[0], "%s", li->names[ch]);
            r->prior_ml[r->regions++] = NAN;
        }
    size_t n = (size_t)(c->dim[0] * c->dim[1] * c->dim[2]);
    double voxel_ml = c->spacing[0] * c->spacing[1] * c->spacing[2] / 1000.0;
    uint8_t *cls = malloc(n + 1);
    if (!cls)
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "glia_infer_write: %zu voxels", n);
    glia_label_info_classes(li, prob, n, o.threshold > 0 ? o.threshold : 0.5f, cls);
    volumes(li, cls, n, voxel_ml, r, r->ml);
    int image2d = picture(c);
    snprintf(r->mask_path, sizeof r->mask_path, "%s/%s_seg.%s", dir, id, image2d ? "png" : "nii.gz");
    glia_status s = write_mask(li, c, cls, r->mask_path);
    char *path = NULL;
    if (s == GLIA_STATUS_OK && o.probabilities) {
        path = glia_strfmt_("%s/%s_prob.nii.gz", dir, id);
        s = path ? write_probabilities(c, prob, li->channels, path) : GLIA_STATUS_OUT_OF_MEMORY;
        free(path);
    }
    if (s == GLIA_STATUS_OK && o.compare)
        s = prior_volumes(li, c, o.compare, voxel_ml, r);
    if (s == GLIA_STATUS_OK && o.overlays > 0)
        s = glia_write_overlays_(li, c, cls, o.overlays, dir, id, &r->overlays);
    char *json = s == GLIA_STATUS_OK ? report_json(r, id, info->models, voxel_ml) : NULL;
    char *text = s == GLIA_STATUS_OK ? report_text(r, id) : NULL;
    if (s == GLIA_STATUS_OK && (!json || !text))
        s = glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "glia_infer_write: report");
    if (s == GLIA_STATUS_OK && (path = glia_strfmt_("%s/%s_report.json", dir, id))) {
        s = glia_write_text_(path, json);
        free(path);
    }
    if (s == GLIA_STATUS_OK && (path = glia_strfmt_("%s/%s_report.txt", dir, id))) {
        s = glia_write_text_(path, text);
        free(path);
    }
    free(json);
    free(text);
    free(cls);
    return s;
}
