/* Overlap and volume metrics of one region. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "eval/eval_priv.h"

/* a / b, or 1 when b is 0 (nothing to find and nothing found: perfect). */
static double ratio(double a, double b) { return b > 0 ? a / b : 1.0; }

glia_status glia_seg_metrics_compute(const uint8_t *pred, const uint8_t *ref, const int64_t dim[3],
                                     const double spacing[3], int with_hd95, glia_seg_metrics *out)
{
    if (!pred || !ref || !dim || !spacing || !out)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_seg_metrics_compute: NULL argument");
    memset(out, 0, sizeof *out);
    size_t n = (size_t)(dim[0] * dim[1] * dim[2]);
    int64_t tp = 0, fp = 0, fn = 0;
    for (size_t v = 0; v < n; v++) {
        int p = pred[v] != 0, r = ref[v] != 0;
        tp += p & r;
        fp += p & (!r);
        fn += (!p) & r;
    }
    out->tp = tp;
    out->fp = fp;
    out->fn = fn;
    out->tn = (int64_t)n - tp - fp - fn;
    out->dice = ratio(2.0 * (double)tp, 2.0 * (double)tp + (double)fp + (double)fn);
    out->iou = ratio((double)tp, (double)(tp + fp + fn));
    out->sensitivity = ratio((double)tp, (double)(tp + fn));
    out->specificity = ratio((double)out->tn, (double)(out->tn + fp));
    double ml = spacing[0] * spacing[1] * spacing[2] / 1000.0;
    out->pred_ml = (double)(tp + fp) * ml;
    out->ref_ml = (double)(tp + fn) * ml;
    out->volume_diff_ml = out->pred_ml - out->ref_ml;
    out->hd95 = NAN;
    if (with_hd95)
        return glia_hd95(pred, ref, dim, spacing, &out->hd95);
    return GLIA_STATUS_OK;
}
