/* glia — segmentation metrics on thresholded predictions.
 * Counts accumulate over batches per channel; ratios come from the counts. */
#ifndef GLIA_METRICS_H
#define GLIA_METRICS_H

#include "tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

#define GLIA_METRICS_MAX_CHANNELS 16

typedef struct glia_confusion {
    int channels;
    double tp[GLIA_METRICS_MAX_CHANNELS], fp[GLIA_METRICS_MAX_CHANNELS];
    double fn[GLIA_METRICS_MAX_CHANNELS], tn[GLIA_METRICS_MAX_CHANNELS];
} glia_confusion;

typedef struct glia_metrics {
    double dice, iou, accuracy, sensitivity, specificity;
} glia_metrics;

/* Zero the counts for `channels` channels (1 to GLIA_METRICS_MAX_CHANNELS). */
glia_status glia_confusion_init(glia_confusion *c, int channels);
/* Add the counts of pred > threshold against target > 0.5, per channel
 * (dimension 1). pred and target share a shape N, C, spatial... Reads to host. */
glia_status glia_confusion_update(glia_confusion *c, glia_tensor *pred, glia_tensor *target, float threshold);
/* Metrics of one channel, or of all channels pooled if channel < 0. Where a
 * ratio is 0/0 (no positives anywhere) it is 1: an empty prediction of an empty
 * target is perfect, as in the BraTS evaluation. */
glia_metrics glia_metrics_from_confusion(const glia_confusion *c, int channel);

#ifdef __cplusplus
}
#endif
#endif
