/* Defaults that follow the dataset: a configuration's target and folds "auto"
 * become what the dataset allows, so `glia train --data DIR --out R` trains
 * on any layout without flags. The run tells the user what was chosen and
 * config.json records it, so a resumed run is unchanged. */
#include <stdio.h>
#include "train/train_priv.h"

/* The k-fold split used when not told: 5 folds, fewer with fewer patients,
 * none (train on all) with a single one. */
enum { DEFAULT_FOLDS = 5 };

static void note(const glia_run_ *r, const char *text)
{
    if (r->o.on_note && r->rank == 0)
        r->o.on_note(r->o.user, text);
}

/* The sigmoid losses have no meaning for softmax classes: their labels-target counterpart. */
static glia_loss_kind softmax_counterpart(glia_loss_kind k)
{
    return k == GLIA_LOSS_BCE ? GLIA_LOSS_CE : k == GLIA_LOSS_DICE_BCE ? GLIA_LOSS_DICE_CE : k;
}

static void resolve_target(glia_run_ *r)
{
    glia_train_config *c = &r->cfg;
    /* a softmax loss asked for says labels; else what the dataset holds */
    int softmax = c->loss == GLIA_LOSS_CE || c->loss == GLIA_LOSS_DICE_CE;
    c->target = softmax ? GLIA_TARGET_LABELS : glia_dataset_default_target(r->ds);
    char text[320];
    int n = softmax ? snprintf(text, sizeof text, "target auto: labels (loss %s is for softmax classes; choose "
                               "with --target)", glia_loss_kind_name(c->loss))
                    : snprintf(text, sizeof text, "target auto: %s (the %s dataset has %s; choose with --target)",
                               glia_target_name_(c->target), glia_layout_name(glia_dataset_layout(r->ds)),
                               c->target == GLIA_TARGET_REGIONS ? "tumour regions"
                               : c->target == GLIA_TARGET_WT    ? "one tumour class"
                                                                : "several classes and no regions");
    if (c->target == GLIA_TARGET_LABELS) {
        glia_loss_kind loss = softmax_counterpart(c->loss), then = softmax_counterpart(c->then_loss);
        if ((loss != c->loss || then != c->then_loss) && n > 0 && (size_t)n < sizeof text)
            snprintf(text + n, sizeof text - (size_t)n, "; loss %s for softmax classes", glia_loss_kind_name(loss));
        c->loss = loss;
        c->then_loss = then;
    }
    note(r, text);
}

static glia_status resolve_folds(glia_run_ *r)
{
    glia_train_config *c = &r->cfg;
    int patients = glia_dataset_patients(r->ds);
    c->folds = patients >= DEFAULT_FOLDS ? DEFAULT_FOLDS : patients >= 2 ? patients : 0;
    if (c->split[0])
        return GLIA_STATUS_OK; /* a saved split decides; nothing to tell */
    if (c->folds && c->fold >= c->folds)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "fold %d: %d labelled patients make only %d folds (set --folds)",
                           c->fold, patients, c->folds);
    char text[256];
    if (c->folds)
        snprintf(text, sizeof text, "folds auto: %d (%d labelled patients); validating on fold %d", c->folds, patients,
                 c->fold);
    else
        snprintf(text, sizeof text, "folds auto: no validation (%d labelled patient%s; a split needs 2)", patients,
                 patients == 1 ? "" : "s");
    note(r, text);
    return GLIA_STATUS_OK;
}

glia_status glia_run_resolve_defaults_(glia_run_ *r)
{
    if (r->cfg.target == GLIA_TARGET_AUTO)
        resolve_target(r);
    if (r->cfg.folds == GLIA_FOLDS_AUTO) {
        glia_status s = resolve_folds(r);
        if (s != GLIA_STATUS_OK)
            return s;
    }
    return glia_train_config_check(&r->cfg); /* the loss against the target now known */
}
