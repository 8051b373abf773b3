/* Evaluation of a dataset's cases against predictions from files or a predictor. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "eval/eval_priv.h"

/* The predicted mask file of a case in dir, or NULL. */
static char *find_prediction(const char *dir, const char *id)
{
    static const char *const forms[] = {"%s/%s_seg.nii.gz", "%s/%s_seg.nii", "%s/%s.nii.gz", "%s/%s.nii",
                                        "%s/%s_seg.png",    "%s/%s.png",     "%s/%s_seg.tif", "%s/%s.tif"};
    for (size_t i = 0; i < sizeof forms / sizeof *forms; i++) {
        char *p = glia_strfmt_(forms[i], dir, id);
        if (p && glia_is_file_(p))
            return p;
        free(p);
    }
    return NULL;
}

static glia_status predicted_classes(const glia_dataset *ds, int ci, glia_case *c, const glia_label_info *li,
                                     const glia_eval_options *o, uint8_t **classes)
{
    const char *id = glia_dataset_case_id(ds, ci);
    size_t n = (size_t)(c->dim[0] * c->dim[1] * c->dim[2]);
    if (o->predictor) {
        float *prob = NULL;
        glia_status s = glia_predictor_run(o->predictor, c, o->predict, &prob);
        if (s == GLIA_STATUS_OK && !(*classes = malloc(n + 1)))
            s = glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "case %s: %zu voxels", id, n);
        if (s == GLIA_STATUS_OK)
            glia_label_info_classes(&glia_predictor_get_info(o->predictor)->labels, prob, n,
                                    o->threshold > 0 ? o->threshold : 0.5f, *classes);
        free(prob);
        return s;
    }
    char *path = find_prediction(o->pred_dir, id);
    if (!path)
        return glia_seterr(GLIA_STATUS_IO_ERROR, "case %s: no prediction in %s (expected %s_seg.nii.gz or %s.nii.gz)",
                           id, o->pred_dir, id, id);
    glia_volume *v = NULL;
    glia_status s = glia_volume_read(path, &v);
    if (s == GLIA_STATUS_OK && (size_t)glia_volume_numel(v) != n)
        s = glia_seterr(GLIA_STATUS_SHAPE_MISMATCH, "%s has %lld voxels, case %s has %lldx%lldx%lld", path,
                        (long long)glia_volume_numel(v), id, (long long)c->dim[0], (long long)c->dim[1],
                        (long long)c->dim[2]);
    if (s == GLIA_STATUS_OK && (s = glia_labels_to_classes(v, li, classes)) != GLIA_STATUS_OK)
        s = glia_seterr(s, "%s: %s", path, glia_last_error());
    glia_volume_free(v);
    free(path);
    return s;
}

/* The ranks' tables as one, in case order: *t is replaced. */
static glia_status merge(glia_dist *d, glia_eval_table *mine, const glia_dataset *ds, const int *cases, int n,
                         const glia_label_info *li, int with_hd95, glia_eval_table **t)
{
    const char **ids = malloc((size_t)n * sizeof *ids + 1);
    glia_eval_table *all = NULL;
    glia_status s = ids ? glia_eval_table_create(li, with_hd95, &all)
                        : glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "merging %d cases", n);
    for (int i = 0; s == GLIA_STATUS_OK && i < n; i++)
        ids[i] = glia_dataset_case_id(ds, cases[i]);
    if (s == GLIA_STATUS_OK)
        s = glia_eval_table_gather(d, mine, n, ids, NULL, all, NULL);
    free(ids);
    if (s != GLIA_STATUS_OK) {
        glia_eval_table_free(all);
        return s;
    }
    glia_eval_table_free(mine);
    *t = all;
    return GLIA_STATUS_OK;
}

glia_status glia_eval_dataset(const glia_dataset *ds, const int *cases, int n, const glia_label_info *li,
                              const glia_eval_options *o, glia_eval_table **out)
{
    if (!ds || !cases || n < 0 || !li || !o || !out || (!o->pred_dir == !o->predictor))
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT,
                           "glia_eval_dataset: NULL argument, or not exactly one of pred_dir and predictor");
    *out = NULL;
    glia_eval_table *t = NULL;
    glia_status s = glia_eval_table_create(li, o->with_hd95, &t);
    /* rank q of N evaluates cases q, q + N, ... */
    int N = glia_dist_size(o->dist);
    for (int i = glia_dist_rank(o->dist); i < n && s == GLIA_STATUS_OK; i += N) {
        const char *id = glia_dataset_case_id(ds, cases[i]);
        glia_case *c = NULL;
        uint8_t *pred = NULL;
        if ((s = glia_dataset_load(ds, cases[i], &c)) == GLIA_STATUS_OK && !c->label)
            s = glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "case %s has no labels to evaluate against", id);
        if (s == GLIA_STATUS_OK && o->predictor) /* the modalities in the order the model takes them */
            s = glia_case_order_modalities(c, ds, &glia_predictor_get_info(o->predictor)->labels);
        if (s == GLIA_STATUS_OK && (s = predicted_classes(ds, cases[i], c, li, o, &pred)) == GLIA_STATUS_OK)
            s = glia_eval_table_add(t, id, pred, c->label, c->dim, c->spacing);
        free(pred);
        glia_case_free(c);
        if (s == GLIA_STATUS_OK && o->on_case)
            o->on_case(o->user, i, n, id);
    }
    if (N > 1 && (s = glia_dist_agree(o->dist, s)) == GLIA_STATUS_OK)
        s = merge(o->dist, t, ds, cases, n, li, o->with_hd95, &t);
    if (s != GLIA_STATUS_OK) {
        glia_eval_table_free(t);
        return s;
    }
    *out = t;
    return GLIA_STATUS_OK;
}
