/* glia — datasets: layouts (BraTS, Decathlon, LGG, generic pairs), per-case
 * loading and checks, patient-level splits, preprocessing, augmentation, the
 * threaded batch loader, and synthetic brain-MRI phantoms.
 *
 * A case is one patient scan: C modality channels on an (i, j, k) grid in
 * NIfTI index order (i fastest), plus an optional label map. Labels are kept
 * as class indices 0..nclasses-1 (BraTS 2020/21's 4 becomes 3); targets are
 * made from them per layout. All randomness is seeded and counter-based: the
 * same seed gives the same batches whatever the thread count. */
#ifndef GLIA_DATA_H
#define GLIA_DATA_H

#include <stddef.h>
#include <stdint.h>
#include "image.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Progress of a long call: done of total items (cases, slices, windows). */
typedef void (*glia_progress_fn)(void *user, int64_t done, int64_t total);

typedef enum glia_layout {
    GLIA_LAYOUT_AUTO = 0,    /* detect from the folder */
    GLIA_LAYOUT_BRATS2020,   /* BraTS20_Training_001/BraTS20_Training_001_{t1,t1ce,t2,flair,seg}.nii[.gz] */
    GLIA_LAYOUT_BRATS2021,   /* BraTS2021_00000/BraTS2021_00000_{t1,t1ce,t2,flair,seg}.nii.gz */
    GLIA_LAYOUT_BRATS2023,   /* BraTS-GLI-00000-000/BraTS-GLI-00000-000-{t1n,t1c,t2w,t2f,seg}.nii.gz */
    GLIA_LAYOUT_DECATHLON,   /* Task01_BrainTumour: dataset.json, 4-D imagesTr/, labelsTr/ */
    GLIA_LAYOUT_LGG,         /* kaggle_3m: TCGA_* folders of <case>_<n>.tif and <case>_<n>_mask.tif */
    GLIA_LAYOUT_GENERIC,     /* image/mask pairs (PNG, TIFF, NIfTI) named by a pattern */
    GLIA_LAYOUT_NNUNET,      /* nnU-Net v2 raw: dataset.json, imagesTr/CASE_0000.nii.gz, labelsTr/CASE.nii.gz */
    GLIA_LAYOUT_COUNT_
} glia_layout;

/* "auto", "brats2020", "brats2021", "brats2023", "msd", "lgg", "generic", "nnunet". */
const char *glia_layout_name(glia_layout l);
/* The layout of that name (also accepts "decathlon"); INVALID_ARGUMENT if none. */
glia_status glia_layout_parse(const char *name, glia_layout *out);

/* ---- datasets ------------------------------------------------------------- */
typedef struct glia_dataset glia_dataset;

typedef struct glia_dataset_options {
    glia_layout layout;        /* AUTO: detect */
    const char *mask_pattern;  /* generic: mask name for image stem S, '*' standing for S; NULL = "*_mask" */
} glia_dataset_options;

/* Scan a dataset folder (file names only; no volume is decoded). Fails with a
 * message naming the folder, the case and what was expected when the folder
 * is empty, the layout cannot be detected, or a case lacks a modality. A case
 * without a label file is kept (inference) and skipped by training. */
glia_status glia_dataset_open(const char *dir, const glia_dataset_options *opts, glia_dataset **out);
void glia_dataset_free(glia_dataset *ds);

glia_layout glia_dataset_layout(const glia_dataset *ds);
int glia_dataset_count(const glia_dataset *ds);
/* Input channels (modalities) and their names ("t1", "t1ce", "t2", "flair" for
 * every BraTS edition and the Decathlon, in that order). */
int glia_dataset_channels(const glia_dataset *ds);
const char *glia_dataset_modality(const glia_dataset *ds, int c);
/* Number of label classes including background (BraTS: 4, LGG/generic: 2;
 * nnU-Net: its dataset.json's label values, at most 8). */
int glia_dataset_classes(const glia_dataset *ds);
/* The raw label value of class c as stored in files (BraTS 2020: 0, 1, 2, 4). */
int glia_dataset_label_value(const glia_dataset *ds, int c);
/* Case i's identifier (folder or file stem) and its patient (the unit of splits). */
const char *glia_dataset_case_id(const glia_dataset *ds, int i);
const char *glia_dataset_case_patient(const glia_dataset *ds, int i);
int glia_dataset_case_labelled(const glia_dataset *ds, int i);
/* The files of case i: the first modality's path (the geometry reference). */
const char *glia_dataset_case_ref_path(const glia_dataset *ds, int i);
/* Why case i cannot be used (a missing modality or mask file), or NULL. */
const char *glia_dataset_case_problem(const glia_dataset *ds, int i);
/* Patients with at least one labelled, usable case: what a k-fold split divides. */
int glia_dataset_patients(const glia_dataset *ds);

/* What a model is trained to predict. */
typedef enum glia_target {
    GLIA_TARGET_REGIONS = 0,  /* BraTS regions as 3 channels: whole tumour, tumour core, enhancing tumour */
    GLIA_TARGET_WT,           /* whole tumour only, 1 channel (binary; the BraTS study's setting) */
    GLIA_TARGET_LABELS,       /* one-hot classes, glia_dataset_classes channels (for softmax) */
    GLIA_TARGET_AUTO          /* a training configuration's "auto": glia_dataset_default_target */
} glia_target;
/* Channels of a target for this dataset; 0 (and a message) if the layout has no such target.
 * The regions target has 3 channels for BraTS layouts, an nnU-Net dataset's region count for it. */
int glia_dataset_target_channels(const glia_dataset *ds, glia_target t);
/* Bitmask over class indices making target channel ch (bit c = class c counts). */
unsigned glia_dataset_region_classes(const glia_dataset *ds, glia_target t, int ch);
/* The dataset's own name of target channel ch (an nnU-Net dataset.json's
 * region or label name), or NULL when the layout names none. */
const char *glia_dataset_target_name(const glia_dataset *ds, glia_target t, int ch);
/* What to train when not told: regions where the dataset has them (BraTS,
 * Decathlon, nnU-Net region datasets), else wt for a single foreground class
 * (LGG, generic masks), else labels. */
glia_target glia_dataset_default_target(const glia_dataset *ds);

/* One decoded case. image: channels x dim[2] x dim[1] x dim[0] floats (i
 * fastest); label: dim product class indices or NULL when unlabelled. */
typedef struct glia_case {
    int channels;
    int64_t dim[3];
    double spacing[3];
    float *image;
    uint8_t *label;
    glia_volume *ref;      /* the first modality's header (no data): geometry for predictions */
    /* what preprocessing did, to map a prediction back (glia_case_restore) */
    int64_t orig_dim[3], box_lo[3], box_dim[3], resized[3], offset[3];
} glia_case;

/* Decode case i as stored (no preprocessing). Checks that every modality and
 * the label share one grid, that label values are ones the layout allows, and
 * names the case and the file in any error. */
glia_status glia_dataset_load(const glia_dataset *ds, int i, glia_case **out);
void glia_case_free(glia_case *c);

/* What `glia dataset` reports for one case. */
typedef struct glia_case_report {
    int ok;                    /* 0: the case is unusable (message says why) */
    char message[320];
    int64_t dim[3];
    double spacing[3];
    int labelled;
    int64_t label_counts[256]; /* voxels of each raw label value */
} glia_case_report;
/* Load and check every case with `threads` threads (0 = all cores). */
glia_status glia_dataset_inspect(const glia_dataset *ds, int threads, glia_case_report *reports);
/* The same, telling on_progress (may be NULL) after each case: done of total, one call at a time. */
glia_status glia_dataset_inspect_progress(const glia_dataset *ds, int threads, glia_case_report *reports,
                                          glia_progress_fn on_progress, void *user);

/* ---- splits (by patient, never by slice) ----------------------------------- */
typedef struct glia_split {
    int folds, fold;
    uint64_t seed;
    int ntrain, nval;
    int *train, *val;          /* case indices; only labelled cases */
} glia_split;

/* k-fold split of the labelled cases' patients, shuffled by seed; fold f is
 * validation. folds >= 2, 0 <= fold < folds. */
glia_status glia_split_make(const glia_dataset *ds, int folds, int fold, uint64_t seed, glia_split *out);
/* Save as JSON (case ids per part) / load and match against ds's ids. */
glia_status glia_split_save(const glia_dataset *ds, const glia_split *s, const char *path);
glia_status glia_split_load(const glia_dataset *ds, const char *path, glia_split *out);
void glia_split_free(glia_split *s);

/* ---- preprocessing ----------------------------------------------------------- */
typedef struct glia_preprocess {
    int zscore;             /* per-channel z-score over non-zero (brain) voxels; background stays 0 */
    float clip_lo, clip_hi; /* percentiles (0..100) of non-zero voxels to clip to first; both 0 = none */
    int crop_nonzero;       /* crop to the bounding box of voxels non-zero in any channel */
    double spacing[3];      /* resample to this spacing in mm (0 = keep that axis) */
    int64_t resize[3];      /* then resize to this size (0 = keep that axis) */
    int64_t crop[3];        /* then centre crop or zero-pad to this size (0 = keep) */
} glia_preprocess;

/* The BraTS study's 2-D preprocessing: z-score, in-plane 240->256 resize, 224 centre crop. */
void glia_preprocess_brats2d(glia_preprocess *p);

/* Apply p to c in place (image linear, labels nearest), recording what was done. */
glia_status glia_case_preprocess(glia_case *c, const glia_preprocess *p);

/* Map a prediction on c's preprocessed grid (channels x c->dim, i fastest) back
 * to the original grid (channels x orig_dim), linear interpolation, zero
 * outside the cropped box. *out is malloc'd. */
glia_status glia_case_restore(const glia_case *c, const float *pred, int channels, float **out);

/* ---- augmentation ----------------------------------------------------------- */
typedef struct glia_augment {
    float p_flip;              /* per axis */
    float p_rot90;             /* in-plane multiple of 90 degrees (square planes only) */
    float p_affine;            /* small in-plane rotation and scaling */
    float max_rotate_deg, scale_lo, scale_hi;
    float p_intensity;         /* per channel: x * U(1-s, 1+s) + U(-t, t) */
    float intensity_scale, intensity_shift;
    float p_gamma, gamma_lo, gamma_hi;
    float p_noise, noise_std;  /* Gaussian noise with std U(0, noise_std) */
    float p_blur, blur_sigma_lo, blur_sigma_hi;
} glia_augment;

/* nnU-Net-like defaults. */
void glia_augment_defaults(glia_augment *a);
/* Augment one sample in place: image channels x d x h x w, labels d x h x w
 * class indices (may be NULL). Geometric transforms are identical for both
 * (nearest for labels). Draws from rng only. */
glia_status glia_augment_apply(const glia_augment *a, uint64_t seed, float *image, int channels, uint8_t *labels,
                               int64_t d, int64_t h, int64_t w);

/* ---- loader ---------------------------------------------------------------- */
typedef struct glia_loader glia_loader;

typedef struct glia_loader_options {
    int dims;                 /* 2: axial slices (h = j, w = i); 3: patches */
    int batch;                /* samples per batch; 0 = 8 */
    int64_t patch[3];         /* 3-D patch (i, j, k); 0 = whole axis */
    float drop_empty;         /* 2-D: drop slices with an empty mask with this probability */
    float fg_fraction;        /* 3-D: share of patches centred on a foreground voxel */
    glia_target target;
    glia_preprocess pre;
    const glia_augment *aug;  /* NULL = no augmentation */
    uint64_t seed;
    int threads;              /* decoding threads; 0 = cores - 1 (at least 1) */
    int queue;                /* batches made ahead; 0 = 2 * threads + 1 */
    size_t cache_bytes;       /* decoded-case cache budget; 0 = 1 GiB */
    int sequential;           /* 1: each slice (2-D) or whole case (3-D, batch 1) once, in order, no drop */
    int sample_offset;        /* random batches: sample i of batch b is sample offset + i of a larger
                               * batch b (a data-parallel rank's share of the global batch) */
} glia_loader_options;

typedef struct glia_batch {
    int n;                    /* samples in this batch; 0 at the end of a sequential pass */
    int channels, targets;
    int64_t shape[3];         /* d, h, w of each sample (d = 1 for 2-D) */
    const float *image;       /* n x channels x d x h x w */
    const float *target;      /* n x targets x d x h x w */
    const int *case_index;    /* n entries */
    const int *slice;         /* n entries: the axial slice (2-D) or patch start k (3-D) */
    int64_t index;            /* 0, 1, 2, ... */
} glia_batch;

/* Start worker threads over cases[0..ncases-1] (unlabelled ones are skipped).
 * The dataset must outlive the loader. */
glia_status glia_loader_new(const glia_dataset *ds, const int *cases, int ncases, const glia_loader_options *o,
                            glia_loader **out);
/* The next batch; its buffers stay valid until the next call or the free. */
glia_status glia_loader_next(glia_loader *l, glia_batch *b);
void glia_loader_free(glia_loader *l);

typedef struct glia_loader_stats {
    int64_t batches;
    double wait_seconds;      /* time next() blocked, after the first batch */
    int64_t waits;            /* calls that blocked more than 1 ms, after the first batch */
    int64_t cache_hits, cache_misses;
} glia_loader_stats;
void glia_loader_get_stats(const glia_loader *l, glia_loader_stats *s);

/* ---- synthetic phantoms ---------------------------------------------------- */
typedef struct glia_synth_options {
    glia_layout layout;       /* BRATS2020, BRATS2021, BRATS2023, LGG or NNUNET */
    int cases;
    uint64_t seed;
    int64_t size[3];          /* i, j, k; 0 = 240 x 240 x 155 (LGG: 256 x 256 x 24) */
    float p_no_tumour;        /* share of cases without tumour; < 0 = 0.1 */
    int unlabelled;           /* the last this many cases get no seg file (a validation set) */
    const char *template_t1;  /* optional real T1 volume used as the anatomy */
    int skull_strip;          /* 1: zero scalp and skull, as BraTS images are */
    int threads;              /* writer threads; 0 = all cores */
    int plain_labels;         /* NNUNET: dataset.json names the classes, not BraTS regions */
    glia_progress_fn on_progress; /* after each case written: done of total (one call at a time); may be NULL */
    void *user;
} glia_synth_options;

/* Write cases into dir (created if missing) in the layout's naming. NNUNET:
 * a v2 raw dataset (channels T1, T1ce, T2, FLAIR; labels 0..3; unlabelled
 * cases in imagesTs/) with its dataset.json. */
glia_status glia_synth_write(const char *dir, const glia_synth_options *o);

/* One phantom in memory: 4 modalities (t1, t1ce, t2, flair) and BraTS 2021
 * labels (0, 1, 2, 4); *image is 4 x size, *label size, both malloc'd. */
glia_status glia_synth_case(const glia_synth_options *o, int index, float **image, uint8_t **label);

#ifdef __cplusplus
}
#endif
#endif
