/* glia — evaluation of segmentations: overlap, 95th-percentile Hausdorff
 * distance and volumes per region, per case and averaged, as a table that
 * prints and saves as CSV and JSON.
 *
 * Masks are uint8 arrays (non-zero = inside) on an (i, j, k) grid, i fastest;
 * spacing is the voxel size in mm along i, j, k. */
#ifndef GLIA_EVAL_H
#define GLIA_EVAL_H

#include <stdio.h>
#include "infer.h"
#include "dist.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct glia_seg_metrics {
    double dice, iou;             /* 1 when both masks are empty */
    double sensitivity;           /* TP / (TP + FN); 1 when the reference is empty */
    double specificity;           /* TN / (TN + FP); 1 when everything is inside the reference */
    double hd95;                  /* mm (see glia_hd95); NaN when not computed */
    double pred_ml, ref_ml;       /* volumes in mL (voxels x voxel volume / 1000) */
    double volume_diff_ml;        /* pred_ml - ref_ml */
    int64_t tp, fp, fn, tn;
} glia_seg_metrics;

/* 95th-percentile Hausdorff distance in mm, as MONAI's
 * compute_hausdorff_distance(percentile=95) on its mask edges: the surface of
 * a mask is its voxels with a 6-neighbour outside it (or on the grid's
 * border); for each surface voxel of one mask the Euclidean distance (with
 * spacing) to the nearest surface voxel of the other; the 95th percentile
 * (linear interpolation, as numpy's) of each direction; the larger of the two.
 * Both masks empty: 0. Exactly one empty: the grid's diagonal in mm (the
 * largest distance the grid holds), so means stay finite. */
glia_status glia_hd95(const uint8_t *a, const uint8_t *b, const int64_t dim[3], const double spacing[3], double *out);

/* Every metric of pred against ref; with_hd95 0 leaves hd95 NaN (cheaper). */
glia_status glia_seg_metrics_compute(const uint8_t *pred, const uint8_t *ref, const int64_t dim[3],
                                     const double spacing[3], int with_hd95, glia_seg_metrics *out);

/* ---- tables ---------------------------------------------------------------- */
typedef struct glia_eval_table glia_eval_table;

/* A table over the regions of li: its output channels, without the
 * background channel of a softmax target. */
glia_status glia_eval_table_create(const glia_label_info *li, int with_hd95, glia_eval_table **out);
void glia_eval_table_free(glia_eval_table *t);
/* Add one case from class-index maps of prediction and reference. */
glia_status glia_eval_table_add(glia_eval_table *t, const char *id, const uint8_t *pred_classes,
                                const uint8_t *ref_classes, const int64_t dim[3], const double spacing[3]);
/* Add one case from its metrics already computed, one per region (the rows
 * of another table: how ranks that evaluated different cases merge). */
glia_status glia_eval_table_add_metrics(glia_eval_table *t, const char *id, const glia_seg_metrics *m);
/* A data-parallel job's tables merged (a collective): rank r of N evaluated
 * cases r, r + N, r + 2N, ... of n into mine, in that order, with one value
 * each in extra (may be NULL). Every rank adds all n cases to out (empty, same
 * regions) in case order, named ids[0..n), and their values to all_extra[n]
 * (may be NULL). */
glia_status glia_eval_table_gather(glia_dist *d, const glia_eval_table *mine, int n, const char *const *ids,
                                   const double *extra, glia_eval_table *out, double *all_extra);
int glia_eval_table_cases(const glia_eval_table *t);
int glia_eval_table_regions(const glia_eval_table *t);
const char *glia_eval_table_region(const glia_eval_table *t, int r);
const char *glia_eval_table_case(const glia_eval_table *t, int i);
/* Metrics of case i and region r; i = -1: the mean over cases. NULL if out of range. */
const glia_seg_metrics *glia_eval_table_get(const glia_eval_table *t, int i, int r);
/* Mean Dice over regions of case i (-1: of the means). */
double glia_eval_table_mean_dice(const glia_eval_table *t, int i);

/* A fixed-width table (one line per case and region, then the means). */
void glia_eval_table_print(const glia_eval_table *t, FILE *f);
/* CSV: case,region,dice,iou,sensitivity,specificity,hd95_mm,pred_ml,ref_ml,volume_diff_ml
 * with "mean" rows last. JSON: {"regions": [...], "cases": [{"id", "metrics": {region: {...}}}], "mean": {...}}. */
glia_status glia_eval_table_write_csv(const glia_eval_table *t, const char *path);
glia_status glia_eval_table_write_json(const glia_eval_table *t, const char *path);

/* ---- a dataset ------------------------------------------------------------------ */
typedef struct glia_eval_options {
    const char *pred_dir;            /* predicted masks <id>_seg.nii.gz or <id>.nii[.gz] (PNG/TIFF for 2-D), or */
    glia_predictor *predictor;       /* a predictor run on each case */
    const glia_predict_options *predict; /* its options; NULL = defaults */
    int with_hd95;
    float threshold;                 /* probabilities above it are inside; 0 = 0.5 */
    void (*on_case)(void *user, int i, int n, const char *id); /* after each case; may be NULL */
    void *user;
    glia_dist *dist;                 /* a data-parallel job: rank q evaluates cases q, q + N, ...;
                                      * every rank gets the whole table (NULL: a job of one) */
} glia_eval_options;

/* Evaluate cases[0..n-1] of ds (labelled ones; unlabelled cases are an error)
 * over the regions of li (for predictions from files: their label values). */
glia_status glia_eval_dataset(const glia_dataset *ds, const int *cases, int n, const glia_label_info *li,
                              const glia_eval_options *o, glia_eval_table **out);

#ifdef __cplusplus
}
#endif
#endif
