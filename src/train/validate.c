/* Validation after each epoch: every validation case whole, predicted as
 * inference predicts it (slice by slice or by sliding windows), its Dice per
 * region from the label map inference would write, and its loss: the
 * training loss of the whole case's probabilities taken as one sample. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "train/train_priv.h"

/* Preprocessed cases are kept between epochs up to this many bytes. */
#define VAL_CACHE_BYTES ((size_t)1 << 30)

void glia_run_free_val_(glia_run_ *r)
{
    for (int i = 0; r->val && i < r->split.nval; i++)
        glia_case_free(r->val[i]);
    free(r->val);
    r->val = NULL;
}

static size_t case_bytes(const glia_case *c)
{
    return (size_t)(c->dim[0] * c->dim[1] * c->dim[2]) * ((size_t)c->channels * sizeof(float) + 1);
}

/* Validation case i, preprocessed; *own = 1 when the caller frees it. */
static glia_status val_case(glia_run_ *r, int i, size_t *cached, glia_case **c, int *own)
{
    *own = 0;
    if (r->val && r->val[i]) {
        *c = r->val[i];
        return GLIA_STATUS_OK;
    }
    glia_status s = glia_dataset_load(r->ds, r->split.val[i], c);
    if (s == GLIA_STATUS_OK && (s = glia_case_preprocess(*c, &r->cfg.pre)) != GLIA_STATUS_OK) {
        glia_case_free(*c);
        *c = NULL;
    }
    if (s != GLIA_STATUS_OK)
        return s;
    if (!r->val)
        r->val = calloc((size_t)r->split.nval, sizeof *r->val);
    if (r->val && *cached + case_bytes(*c) <= VAL_CACHE_BYTES) {
        r->val[i] = *c;
        *cached += case_bytes(*c);
    } else {
        *own = 1;
    }
    return GLIA_STATUS_OK;
}

/* The configured loss of probabilities against a label map, as one sample of shape 1, C, k, j, i. */
static glia_status case_loss(glia_run_ *r, glia_loss_kind k, const float *prob, const glia_case *c, double *out)
{
    int C = r->li.channels;
    size_t n = (size_t)(c->dim[0] * c->dim[1] * c->dim[2]);
    float *logit = malloc(n * C * sizeof *logit), *tgt = malloc(n * C * sizeof *tgt);
    glia_tensor *x = NULL, *y = NULL, *l = NULL;
    glia_status s = logit && tgt ? GLIA_STATUS_OK : glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "validation loss");
    int softmax = r->li.target == GLIA_TARGET_LABELS;
    for (int ch = 0; s == GLIA_STATUS_OK && ch < C; ch++)
        for (size_t v = 0; v < n; v++) {
            /* back to logits, so the loss applies its own activation: log p is softmax's
             * inverse up to a constant it ignores; log(p / (1 - p)) is the sigmoid's */
            float p = prob[ch * n + v];
            p = p < 1e-7f ? 1e-7f : p > 1.0f - 1e-7f ? 1.0f - 1e-7f : p;
            logit[ch * n + v] = softmax ? logf(p) : logf(p) - log1pf(-p);
            tgt[ch * n + v] = (float)((r->li.region_classes[ch] >> c->label[v]) & 1u);
        }
    int64_t shape[5] = {1, C, c->dim[2], c->dim[1], c->dim[0]};
    float v = NAN;
    int mode = glia_grad_mode(r->dev, 0);
    if (s == GLIA_STATUS_OK && (s = glia_tensor_from_host(r->dev, 5, shape, logit, &x)) == GLIA_STATUS_OK &&
        (s = glia_tensor_from_host(r->dev, 5, shape, tgt, &y)) == GLIA_STATUS_OK &&
        (s = glia_run_loss_(r, k, x, y, &l)) == GLIA_STATUS_OK)
        s = glia_tensor_read(l, &v, 1);
    glia_grad_mode(r->dev, mode);
    *out = v;
    glia_tensor_free(x);
    glia_tensor_free(y);
    glia_tensor_free(l);
    free(logit);
    free(tgt);
    return s;
}

/* The whole validation table and mean loss from every rank's cases. */
static glia_status merge(glia_run_ *r, const glia_eval_table *mine, const double *loss, glia_eval_table *t,
                         double *loss_sum)
{
    int n = r->split.nval;
    const char **ids = malloc((size_t)n * sizeof *ids + 1);
    double *all = malloc((size_t)n * sizeof *all + 1);
    glia_status s = ids && all ? GLIA_STATUS_OK : glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "validation of %d cases", n);
    for (int i = 0; s == GLIA_STATUS_OK && i < n; i++)
        ids[i] = glia_dataset_case_id(r->ds, r->split.val[i]);
    if (s == GLIA_STATUS_OK)
        s = glia_eval_table_gather(r->o.dist, mine, n, ids, loss, t, all);
    *loss_sum = 0;
    for (int i = 0; s == GLIA_STATUS_OK && i < n; i++)
        *loss_sum += all[i];
    free(ids);
    free(all);
    return s;
}

glia_status glia_run_validate_(glia_run_ *r, glia_loss_kind k, glia_epoch_log *e, int *stopped)
{
    *stopped = 0;
    e->val_loss = NAN;
    e->mean_dice = NAN;
    glia_eval_table *t = NULL, *mine = NULL;
    glia_status s = glia_eval_table_create(&r->li, 0, &t);
    if (s == GLIA_STATUS_OK)
        s = glia_eval_table_create(&r->li, 0, &mine);
    e->regions = glia_eval_table_regions(t);
    for (int i = 0; i < e->regions; i++) {
        snprintf(e->region[i], sizeof e->region[i], "%s", glia_eval_table_region(t, i));
        e->dice[i] = NAN;
    }
    double *losses = s == GLIA_STATUS_OK ? malloc((size_t)r->split.nval * sizeof *losses + 1) : NULL;
    if (s != GLIA_STATUS_OK || r->split.nval == 0 || !losses) {
        glia_eval_table_free(t);
        glia_eval_table_free(mine);
        free(losses);
        return s != GLIA_STATUS_OK || r->split.nval == 0 ? s : glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "validation");
    }
    glia_predict_options po = {.activation = r->li.target == GLIA_TARGET_LABELS ? GLIA_DICE_SOFTMAX : GLIA_DICE_SIGMOID,
                               .batch = r->cfg.val_batch ? r->cfg.val_batch : r->cfg.batch, .tta = r->cfg.tta};
    if (r->nsp == 3)
        memcpy(po.window, r->cfg.size, sizeof po.window);
    size_t cached = 0;
    for (int i = 0; i < r->split.nval; i++)
        cached += r->val && r->val[i] ? case_bytes(r->val[i]) : 0;
    /* rank q of N validates cases q, q + N, ...; a job of one all of them */
    int N = glia_dist_size(r->o.dist), mine_n = 0;
    double loss_sum = 0, t0 = glia_now_();
    for (int i = glia_dist_rank(r->o.dist); i < r->split.nval && s == GLIA_STATUS_OK; i += N) {
        glia_case *c = NULL;
        int own = 0;
        if ((s = val_case(r, i, &cached, &c, &own)) != GLIA_STATUS_OK)
            break;
        size_t n = (size_t)(c->dim[0] * c->dim[1] * c->dim[2]);
        float *prob = malloc(n * r->li.channels * sizeof *prob);
        uint8_t *pred = malloc(n + 1);
        double l = 0;
        if (!prob || !pred)
            s = glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "validation of %zu voxels", n);
        if (s == GLIA_STATUS_OK && !c->label)
            s = glia_seterr(GLIA_STATUS_FORMAT_ERROR, "validation case %s has no labels",
                            glia_dataset_case_id(r->ds, r->split.val[i]));
        if (s == GLIA_STATUS_OK)
            s = glia_predict(&r->m, 1, c->image, c->channels, c->dim, &po, prob);
        if (s == GLIA_STATUS_OK) {
            glia_label_info_classes(&r->li, prob, n, 0.5f, pred);
            s = glia_eval_table_add(mine, glia_dataset_case_id(r->ds, r->split.val[i]), pred, c->label, c->dim,
                                    c->spacing);
        }
        if (s == GLIA_STATUS_OK && (s = case_loss(r, k, prob, c, &l)) == GLIA_STATUS_OK) {
            losses[mine_n++] = l;
            loss_sum += l;
        }
        free(prob);
        free(pred);
        if (own)
            glia_case_free(c);
        if (s == GLIA_STATUS_OK && r->o.on_progress) {
            double el = glia_now_() - t0;
            int done = i + 1, left = r->split.nval - done;
            glia_train_progress p = {.epoch = r->epoch + 1, .epochs = r->cfg.epochs, .step = done,
                                     .steps = r->split.nval, .loss = l, .mean_loss = loss_sum / mine_n, .lr = r->lr,
                                     .elapsed = el, .eta = el / mine_n * left / N, .validating = 1};
            r->o.on_progress(r->o.user, &p);
        }
        /* a job of several ranks stops after validation, together */
        if (N == 1 && r->o.stop && *r->o.stop) {
            *stopped = 1;
            break;
        }
    }
    if (N > 1 && (s = glia_dist_agree(r->o.dist, s)) == GLIA_STATUS_OK) {
        double stop = r->o.stop && *r->o.stop;
        s = glia_dist_allreduce_f64(r->o.dist, &stop, 1, GLIA_DIST_MAX);
        *stopped = stop > 0;
    }
    if (s == GLIA_STATUS_OK && !*stopped)
        s = merge(r, mine, losses, t, &loss_sum);
    if (s == GLIA_STATUS_OK && !*stopped) {
        e->val_loss = loss_sum / r->split.nval;
        for (int i = 0; i < e->regions; i++)
            e->dice[i] = glia_eval_table_get(t, -1, i)->dice;
        e->mean_dice = glia_eval_table_mean_dice(t, -1);
    }
    glia_eval_table_free(t);
    glia_eval_table_free(mine);
    free(losses);
    return s;
}
