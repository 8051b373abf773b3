/* A predictor: one checkpoint or an ensemble, with what training recorded in
 * them (target, label values, preprocessing, patch), applied to cases. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "infer/infer_priv.h"

struct glia_predictor {
    glia_model **models;
    int n;
    glia_predictor_info info;
};

/* Without glia's training metadata (a PyTorch export): one output is a binary
 * sigmoid mask, several are softmax classes (glia_predictor_set_labels
 * names them otherwise); inputs are z-scored. */
static void default_info(const glia_model_config *mc, glia_predictor_info *info)
{
    glia_label_info *li = &info->labels;
    memset(info, 0, sizeof *info);
    info->pre.zscore = 1;
    li->channels = mc->out_channels < GLIA_METRICS_MAX_CHANNELS ? mc->out_channels : GLIA_METRICS_MAX_CHANNELS;
    li->target = li->channels == 1 ? GLIA_TARGET_WT : GLIA_TARGET_LABELS;
    li->classes = li->channels == 1 ? 2 : li->channels;
    for (int c = 0; c < li->classes; c++)
        li->label_values[c] = c;
    for (int c = 0; c < li->channels; c++) {
        li->region_classes[c] = li->channels == 1 ? 2u : 1u << c;
        snprintf(li->names[c], sizeof li->names[c], li->channels == 1 ? "tumour" : "class%d", c);
    }
}

/* What training recorded: the preprocessing record (app_priv.h) and the
 * label metadata. Checkpoints written before the record existed carry the
 * same keys inside the whole training configuration ("glia_train"); the
 * record's reader takes them from there and ignores the rest. */
static glia_status read_info(const glia_safetensors *st, const glia_model_config *mc, glia_predictor_info *info)
{
    const glia_meta *meta = glia_safetensors_meta(st);
    const char *pre = glia_meta_get(meta, GLIA_META_PREPROCESS_), *labels = glia_meta_get(meta, "labels");
    if (!pre)
        pre = glia_meta_get(meta, "glia_train");
    default_info(mc, info);
    glia_status s = GLIA_STATUS_OK;
    if (pre)
        s = glia_preprocess_record_from_json_(pre, &info->pre, info->size);
    if (s == GLIA_STATUS_OK && labels)
        s = glia_label_info_from_json(labels, &info->labels);
    if (s == GLIA_STATUS_OK && info->labels.channels != mc->out_channels)
        s = glia_seterr(GLIA_STATUS_FORMAT_ERROR, "its labels name %d channels, the model gives %d",
                        info->labels.channels, mc->out_channels);
    if (s != GLIA_STATUS_OK)
        return glia_seterr(s, "%s: training metadata: %s", glia_safetensors_path(st), glia_last_error());
    info->spatial_dims = glia_model_config_spatial_dims(mc);
    return GLIA_STATUS_OK;
}

void glia_predictor_free(glia_predictor *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->n; i++)
        glia_model_free(p->models[i]);
    free(p->models);
    free(p);
}

glia_status glia_predictor_open(glia_device *dev, const char *const *paths, int n, glia_predictor **out)
{
    if (!dev || !paths || n < 1 || n > 64 || !out)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_predictor_open: a device and 1 to 64 checkpoints");
    *out = NULL;
    glia_predictor *p = calloc(1, sizeof *p);
    if (!p || !(p->models = calloc((size_t)n, sizeof *p->models))) {
        free(p);
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "glia_predictor_open");
    }
    glia_status s = GLIA_STATUS_OK;
    for (int i = 0; i < n && s == GLIA_STATUS_OK; i++) {
        glia_safetensors *st = NULL;
        glia_predictor_info info;
        if ((s = glia_safetensors_open(paths[i], &st)) == GLIA_STATUS_OK &&
            (s = glia_model_load(st, dev, &p->models[i])) == GLIA_STATUS_OK) {
            p->n++;
            s = read_info(st, glia_model_get_config(p->models[i]), &info);
        }
        glia_safetensors_close(st);
        if (s != GLIA_STATUS_OK)
            break;
        const glia_model_config *a = glia_model_get_config(p->models[0]), *b = glia_model_get_config(p->models[i]);
        if (i == 0)
            p->info = info;
        else if (a->in_channels != b->in_channels || a->out_channels != b->out_channels ||
                 info.spatial_dims != p->info.spatial_dims || info.labels.target != p->info.labels.target ||
                 memcmp(&info.pre, &p->info.pre, sizeof info.pre) != 0)
            s = glia_seterr(GLIA_STATUS_INVALID_ARGUMENT,
                            "%s cannot join an ensemble with %s: channels, 2-D/3-D, target or preprocessing differ",
                            paths[i], paths[0]);
    }
    p->info.models = p->n;
    if (s != GLIA_STATUS_OK) {
        glia_predictor_free(p);
        return s;
    }
    *out = p;
    return GLIA_STATUS_OK;
}

const glia_predictor_info *glia_predictor_get_info(const glia_predictor *p) { return p ? &p->info : NULL; }

glia_status glia_predictor_set_labels(glia_predictor *p, const glia_label_info *li)
{
    if (!p || !li)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_predictor_set_labels: NULL argument");
    const glia_model_config *mc = glia_model_get_config(p->models[0]);
    if (li->channels != mc->out_channels || (li->modalities && li->modalities != mc->in_channels))
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT,
                           "the model has %d input and %d output channels; %d modalities and %d outputs were named",
                           mc->in_channels, mc->out_channels, li->modalities, li->channels);
    p->info.labels = *li;
    return GLIA_STATUS_OK;
}

glia_status glia_predictor_run(glia_predictor *p, glia_case *c, const glia_predict_options *o, float **prob)
{
    if (!p || !c || !c->image || !prob)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_predictor_run: NULL argument");
    *prob = NULL;
    const glia_model_config *mc = glia_model_get_config(p->models[0]);
    if (c->channels != mc->in_channels) {
        const glia_label_info *li = &p->info.labels;
        char names[80] = "";
        for (int m = 0; m < li->modalities; m++)
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", m ? ", " : " (", li->modality[m]);
        if (li->modalities)
            snprintf(names + strlen(names), sizeof names - strlen(names), ")");
        return glia_seterr(GLIA_STATUS_SHAPE_MISMATCH, "the input has %d channels; the model takes %d%s", c->channels,
                           mc->in_channels, names);
    }
    /* work on a copy: the caller keeps the case as it was (its image for overlays) */
    glia_case w = *c;
    size_t n = (size_t)(c->dim[0] * c->dim[1] * c->dim[2]);
    w.label = NULL;
    w.image = malloc(n * (size_t)c->channels * sizeof *w.image + 1);
    if (!w.image)
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "glia_predictor_run: %zu voxels", n);
    memcpy(w.image, c->image, n * (size_t)c->channels * sizeof *w.image);
    glia_status s = glia_case_preprocess(&w, &p->info.pre);
    glia_predict_options po = o ? *o : (glia_predict_options){0};
    po.activation = p->info.labels.target == GLIA_TARGET_LABELS ? GLIA_DICE_SOFTMAX : GLIA_DICE_SIGMOID;
    if (p->info.spatial_dims == 3 && !po.window[0] && !po.window[1] && !po.window[2])
        memcpy(po.window, p->info.size, sizeof po.window);
    size_t wn = (size_t)(w.dim[0] * w.dim[1] * w.dim[2]);
    float *pp = s == GLIA_STATUS_OK ? malloc(wn * (size_t)mc->out_channels * sizeof *pp + 1) : NULL;
    if (s == GLIA_STATUS_OK && !pp)
        s = glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "glia_predictor_run: probabilities of %zu voxels", wn);
    if (s == GLIA_STATUS_OK)
        s = glia_predict(p->models, p->n, w.image, w.channels, w.dim, &po, pp);
    if (s == GLIA_STATUS_OK)
        s = glia_case_restore(&w, pp, mc->out_channels, prob);
    free(pp);
    free(w.image);
    free(w.label);
    return s;
}
