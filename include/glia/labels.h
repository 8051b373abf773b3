/* glia — what a segmentation model's output channels mean: the target
 * (nested regions or softmax classes), region names, the label values files
 * use and the input modalities. Training records it in its checkpoints,
 * inference reads it back and evaluation scores against it, so it sits below
 * all three (src/app). */
#ifndef GLIA_LABELS_H
#define GLIA_LABELS_H

#include "data.h"
#include "io.h"
#include "metrics.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct glia_label_info {
    glia_target target;
    int channels;                                    /* model output channels */
    unsigned region_classes[GLIA_METRICS_MAX_CHANNELS]; /* bitmask over classes of each channel */
    char names[GLIA_METRICS_MAX_CHANNELS][16];       /* "WT", "TC", "ET", "tumour", ... */
    int classes;                                     /* label classes incl. background */
    int label_values[GLIA_METRICS_MAX_CHANNELS];     /* file value of each class (BraTS 2021: 0 1 2 4) */
    int modalities;
    char modality[4][16];                            /* input channel names ("t1", "t1ce", "t2", "flair") */
} glia_label_info;

/* The label info of a dataset for a target. */
glia_status glia_label_info_from_dataset(const glia_dataset *ds, glia_target t, glia_label_info *out);
/* For weights without glia's metadata (a MONAI export): name each output
 * channel, "TC,WT,ET" for MONAI's BraTS models, making them sigmoid regions
 * over BraTS 2021's labels (NCR 1, ED 2, ET 4); the count must be
 * li->channels. */
glia_status glia_label_info_set_regions(glia_label_info *li, const char *list);
/* The input modalities in the model's order, 1 to 4 of t1, t1ce, t2, flair
 * (MONAI's BraTS 2021 models: "flair,t1ce,t1,t2"). */
glia_status glia_label_info_set_modalities(glia_label_info *li, const char *list);
/* As JSON (malloc'd; free() it) and back. */
glia_status glia_label_info_to_json(const glia_label_info *li, char **json);
glia_status glia_label_info_from_json(const char *json, glia_label_info *out);
/* Class index map from probabilities (channels x n): softmax targets take the
 * arg-max; region targets (nested, e.g. WT > TC > ET) label a voxel with the
 * class of the innermost region above threshold; a single region gets its
 * lowest class. */
void glia_label_info_classes(const glia_label_info *li, const float *prob, size_t n, float threshold,
                             uint8_t *classes);

/* Class indices (0..classes-1) of a label volume's values (li->label_values;
 * 255 is taken as class 1 of a binary layout). *classes is malloc'd; an
 * unknown value is FORMAT_ERROR naming it. */
glia_status glia_labels_to_classes(const glia_volume *v, const glia_label_info *li, uint8_t **classes);

#ifdef __cplusplus
}
#endif
#endif
