/* Overlap and volume metrics of one region, and label values to class indices. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "eval/util_priv.h"

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

glia_status glia_labels_to_classes(const glia_volume *v, const glia_label_info *li, uint8_t **classes)
{
    if (!v || !li || !classes)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_labels_to_classes: NULL argument");
    *classes = NULL;
    float *f = NULL;
    glia_status s = glia_volume_to_float(v, &f);
    if (s != GLIA_STATUS_OK)
        return s;
    size_t n = (size_t)glia_volume_numel(v);
    uint8_t *c = malloc(n + 1);
    if (!c) {
        free(f);
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "glia_labels_to_classes: %zu voxels", n);
    }
    for (size_t i = 0; i < n && s == GLIA_STATUS_OK; i++) {
        int k = -1;
        for (int q = 0; q < li->classes && k < 0; q++)
            if (f[i] == (float)li->label_values[q])
                k = q;
        if (k < 0 && li->classes == 2 && f[i] == 255.0f)
            k = 1;
        if (k < 0)
            s = glia_seterr(GLIA_STATUS_FORMAT_ERROR, "label value %g at voxel %zu is none of the %d classes' values",
                            (double)f[i], i, li->classes);
        c[i] = (uint8_t)(k < 0 ? 0 : k);
    }
    free(f);
    if (s != GLIA_STATUS_OK) {
        free(c);
        return s;
    }
    *classes = c;
    return GLIA_STATUS_OK;
}
