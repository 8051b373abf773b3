/* glia — inference: slice-wise prediction for 2-D models, sliding-window
 * prediction with Gaussian blending for 3-D models (bounded memory), flip
 * test-time augmentation, ensembles of checkpoints, and the per-case outputs
 * (mask in the input's geometry, probability maps, overlays, volume report).
 *
 * Volumes are host arrays in NIfTI index order (i fastest), channels
 * outermost: channels x k x j x i, as glia_case holds them. */
#ifndef GLIA_INFER_H
#define GLIA_INFER_H

#include "data.h"
#include "io.h"
#include "loss.h"
#include "labels.h"
#include "metrics.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifndef GLIA_PATH_MAX
#define GLIA_PATH_MAX 1024   /* the longest path glia's fixed-size path fields hold */
#endif

/* ---- prediction ------------------------------------------------------------- */
typedef enum glia_blend { GLIA_BLEND_GAUSSIAN = 0, GLIA_BLEND_CONSTANT } glia_blend;

typedef struct glia_predict_options {
    glia_dice_activation activation; /* SIGMOID (default) or SOFTMAX; NONE = raw logits */
    int batch;                       /* 2-D: slices per forward; 3-D: windows per forward; 0 = 4 */
    int64_t window[3];               /* 3-D window (i, j, k); 0 = the whole padded axis */
    float overlap;                   /* 3-D: share of the window neighbours overlap, [0, 1); 0 = 0.5 */
    glia_blend blend;                /* 3-D: how overlapping windows are weighted */
    float sigma_scale;               /* GAUSSIAN: exp(-d^2 / 2 sigma^2) from the window's centre (side / 2),
                                        sigma = side * this (0 = 1/8, nnU-Net's), floored at 1e-8 */
    int tta;                         /* 1: average over the flips of every spatial axis */
    /* after each batch: done of total slices (2-D) or windows (3-D) of the case; may be NULL */
    glia_progress_fn on_progress;
    void *user;
} glia_predict_options;

/* Probabilities (out_channels x k x j x i) of models[0..n-1] (an ensemble:
 * their probabilities averaged), all built for one input with the same output
 * channels. 2-D models run slice by slice along k, 3-D models by sliding
 * windows. Sides are zero-padded to what the models need and the padding cut
 * off again. Device memory is bounded by one batch of slices or windows; host
 * memory by the output and a weight volume. */
glia_status glia_predict(glia_model *const *models, int n, const float *image, int channels, const int64_t dim[3],
                         const glia_predict_options *o, float *prob);

/* ---- inputs ------------------------------------------------------------------ */
/* A case from explicit files: NIfTI volumes (one per modality, in the model's
 * modality order, on one grid), or one 2-D image (PNG/TIFF; colour planes
 * become channels). The first file gives the geometry. */
glia_status glia_case_from_files(const char *const *paths, int n, glia_case **out);
/* A case folder of any BraTS naming: the modality files are found by their
 * suffixes (_t1, _t1ce, _t2, _flair; -t1n, -t1c, -t2w, -t2f). modality gives
 * the wanted order (NULL: t1, t1ce, t2, flair). */
glia_status glia_case_from_folder(const char *dir, const glia_label_info *li, glia_case **out);
/* A case loaded from a dataset, its channels put in li's modality order (a
 * no-op when li names none). */
glia_status glia_case_order_modalities(glia_case *c, const glia_dataset *ds, const glia_label_info *li);

/* ---- a predictor: checkpoints with what their training recorded ---------------- */
typedef struct glia_predictor glia_predictor;

typedef struct glia_predictor_info {
    glia_label_info labels;
    glia_preprocess pre;             /* the training's preprocessing, applied to inputs */
    int64_t size[3];                 /* the training crop or patch: 3-D models' default window */
    int spatial_dims;                /* 2 or 3 */
    int models;                      /* checkpoints in the ensemble */
} glia_predictor_info;

/* Load checkpoints (an ensemble when n > 1: same architecture family, target
 * and preprocessing). A checkpoint without glia's training metadata (a PyTorch
 * export) is taken as z-scored inputs in glia's modality order (t1, t1ce, t2,
 * flair) and, with one output, a sigmoid mask, with several, softmax classes;
 * glia_predictor_set_labels says otherwise. */
glia_status glia_predictor_open(glia_device *dev, const char *const *paths, int n, glia_predictor **out);
void glia_predictor_free(glia_predictor *p);
const glia_predictor_info *glia_predictor_get_info(const glia_predictor *p);
/* Replace what the outputs and inputs mean (glia_label_info_set_regions /
 * _set_modalities on a copy of the info's labels): channel counts must match. */
glia_status glia_predictor_set_labels(glia_predictor *p, const glia_label_info *li);
/* Predict a decoded case (as glia_dataset_load or glia_case_from_* give it):
 * the case is preprocessed in place and the probabilities are mapped back to
 * its original grid. *prob (channels x original grid, malloc'd) gets them.
 * o may be NULL (window from the training patch, Gaussian blending). */
glia_status glia_predictor_run(glia_predictor *p, glia_case *c, const glia_predict_options *o, float **prob);

/* ---- outputs ------------------------------------------------------------------- */
typedef struct glia_infer_outputs {
    int probabilities;               /* 1: write <id>_prob.nii.gz (channels as a 4th axis) */
    int overlays;                    /* PNG overlays of the most informative slices; 0 = none */
    float threshold;                 /* 0 = 0.5 */
    const char *compare;             /* a prior mask (same grid, label values) to report the change against */
} glia_infer_outputs;

typedef struct glia_volume_report {
    int regions;                                 /* output channels that are regions (not background) */
    int channel[GLIA_METRICS_MAX_CHANNELS];      /* the output channel of each */
    char names[GLIA_METRICS_MAX_CHANNELS][16];
    double ml[GLIA_METRICS_MAX_CHANNELS];        /* tumour volume per region in mL */
    double prior_ml[GLIA_METRICS_MAX_CHANNELS];  /* the --compare mask's volumes (NaN without one) */
    int overlays;
    char mask_path[GLIA_PATH_MAX + 64];
} glia_volume_report;

/* Write a case's outputs into dir: <id>_seg.nii.gz (label values, the input's
 * geometry; PNG for 2-D image inputs), optional probability maps and overlays
 * (<id>_overlay_<k>.png on FLAIR or T1ce), and the report (<id>_report.json,
 * <id>_report.txt). c must be the case prob was predicted from (its ref
 * header gives the geometry); prob is channels x its original grid. */
glia_status glia_infer_write(const glia_predictor *p, const glia_case *c, const float *prob, const char *dir,
                             const char *id, const glia_infer_outputs *o, glia_volume_report *report);

#ifdef __cplusplus
}
#endif
#endif
