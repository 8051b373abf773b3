/* Confusion counts per channel and the metrics derived from them. */
#include <stdlib.h>
#include <string.h>
#include "core/core.h"
#include "glia/metrics.h"

glia_status glia_confusion_init(glia_confusion *c, int channels)
{
    if (!c)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_confusion_init: confusion is NULL");
    if (channels < 1 || channels > GLIA_METRICS_MAX_CHANNELS)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_confusion_init: %d channels (1 to %d allowed)", channels,
                           GLIA_METRICS_MAX_CHANNELS);
    memset(c, 0, sizeof *c);
    c->channels = channels;
    return GLIA_STATUS_OK;
}

glia_status glia_confusion_update(glia_confusion *c, glia_tensor *pred, glia_tensor *target, float threshold)
{
    glia_status s;
    if (!c)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_confusion_update: confusion is NULL");
    if (c->channels < 1 || c->channels > GLIA_METRICS_MAX_CHANNELS)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT,
                           "glia_confusion_update: confusion has %d channels (not initialised? 1 to %d allowed)",
                           c->channels, GLIA_METRICS_MAX_CHANNELS);
    if ((s = glia_check_tensor(pred, "glia_confusion_update: pred")) != GLIA_STATUS_OK ||
        (s = glia_check_tensor(target, "glia_confusion_update: target")) != GLIA_STATUS_OK ||
        (s = glia_check_same_shape(pred, target, "glia_confusion_update")) != GLIA_STATUS_OK)
        return s;
    if (pred->ndim < 2 || pred->shape[1] != c->channels)
        return glia_seterr(GLIA_STATUS_SHAPE_MISMATCH, "glia_confusion_update: prediction has %lld channels, counts have %d",
                           (long long)(pred->ndim >= 2 ? pred->shape[1] : 0), c->channels);
    size_t n = (size_t)pred->numel;
    float *p = malloc(n * sizeof *p), *t = malloc(n * sizeof *t);
    if (!p || !t) {
        free(p);
        free(t);
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "glia_confusion_update: no host memory for %zu floats", 2 * n);
    }
    if ((s = glia_tensor_read(pred, p, n)) == GLIA_STATUS_OK && (s = glia_tensor_read(target, t, n)) == GLIA_STATUS_OK) {
        size_t inner = n / (size_t)(pred->shape[0] * pred->shape[1]);
        for (size_t i = 0; i < n; i++) {
            int ch = (int)((i / inner) % (size_t)c->channels);
            int yp = p[i] > threshold, yt = t[i] > 0.5f;
            c->tp[ch] += yp && yt;
            c->fp[ch] += yp && !yt;
            c->fn[ch] += !yp && yt;
            c->tn[ch] += !yp && !yt;
        }
    }
    free(p);
    free(t);
    return s;
}

static double ratio(double num, double den) { return den > 0 ? num / den : 1.0; }

glia_metrics glia_metrics_from_confusion(const glia_confusion *c, int channel)
{
    glia_metrics m = {0};
    if (!c || channel >= c->channels || c->channels > GLIA_METRICS_MAX_CHANNELS)
        return m;
    double tp = 0, fp = 0, fn = 0, tn = 0;
    for (int ch = 0; ch < c->channels; ch++) {
        if (channel >= 0 && ch != channel)
            continue;
        tp += c->tp[ch], fp += c->fp[ch], fn += c->fn[ch], tn += c->tn[ch];
    }
    m.dice = ratio(2 * tp, 2 * tp + fp + fn);
    m.iou = ratio(tp, tp + fp + fn);
    m.accuracy = ratio(tp + tn, tp + tn + fp + fn);
    m.sensitivity = ratio(tp, tp + fn);
    m.specificity = ratio(tn, tn + fp);
    return m;
}
