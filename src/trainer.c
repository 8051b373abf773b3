/* The training loop: setup (device, dataset, split, model, optimizer), then
 * per epoch a loader seeded by (seed, epoch), one optimizer step per batch,
 * validation, logs and checkpoints. An interruption (the stop flag) saves the
 * exact position; a non-finite loss stops before anything is saved. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <unistd.h>
#include "train/train_priv.h"

glia_status glia_run_loss_(const glia_run_ *r, glia_loss_kind k, glia_tensor *logits, glia_tensor *target,
                           glia_tensor **out)
{
    glia_dice_options d = {.activation = r->li.target == GLIA_TARGET_LABELS ? GLIA_DICE_SOFTMAX : GLIA_DICE_SIGMOID,
                           .penalty = k == GLIA_LOSS_PENALTY_DICE ? r->cfg.penalty : 1.0f};
    switch (k) {
    case GLIA_LOSS_BCE: return glia_loss_bce_logits(logits, target, out);
    case GLIA_LOSS_DICE:
    case GLIA_LOSS_PENALTY_DICE: return glia_loss_dice(logits, target, &d, out);
    case GLIA_LOSS_DICE_BCE: return glia_loss_dice_bce(logits, target, &d, 1.0f, 1.0f, out);
    case GLIA_LOSS_CE: return glia_loss_softmax_ce(logits, target, out);
    case GLIA_LOSS_DICE_CE: return glia_loss_dice_ce(logits, target, &d, 1.0f, 1.0f, out);
    default: return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "unknown loss kind %d", (int)k);
    }
}

static void run_free(glia_run_ *r)
{
    if (!r)
        return;
    glia_run_free_val_(r);
    glia_reducer_free(r->red);
    glia_optim_free(r->opt);
    glia_model_free(r->m);
    if (r->have_split)
        glia_split_free(&r->split);
    glia_dataset_free(r->ds);
    glia_history_free_(&r->hist);
    if (r->own_dev)
        glia_device_close(r->dev);
    glia_run_unlock_(r); /* last: every file of the run is written */
    free(r);
}

/* A run of folder rundir (not yet set up); every failure leaves *out NULL. */
static glia_status run_new(const char *rundir, const glia_train_options *opts, glia_run_ **out)
{
    glia_run_ *r = *out = calloc(1, sizeof *r);
    if (!r)
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "%s: a training run", rundir);
    r->lock_fd = -1;
    if (opts)
        r->o = *opts;
    r->rank = glia_dist_rank(r->o.dist);
    r->ranks = glia_dist_size(r->o.dist);
    r->best_dice = NAN;
    if (strlen(rundir) < sizeof r->dir) {
        snprintf(r->dir, sizeof r->dir, "%s", rundir);
        return GLIA_STATUS_OK;
    }
    glia_status s = glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "run folder name longer than %zu bytes", sizeof r->dir - 1);
    free(r);
    *out = NULL;
    return s;
}

static char *run_path(const glia_run_ *r, const char *name) { return glia_strfmt_("%s/%s", r->dir, name); }

/* Every labelled case for training, none for validation (folds = 0). */
static glia_status split_all(glia_run_ *r)
{
    int n = glia_dataset_count(r->ds);
    glia_split *s = &r->split;
    memset(s, 0, sizeof *s);
    s->train = malloc((size_t)n * sizeof(int) + 1);
    s->val = malloc(1);
    if (!s->train || !s->val)
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "split of %d cases", n);
    for (int i = 0; i < n; i++)
        if (glia_dataset_case_labelled(r->ds, i))
            s->train[s->ntrain++] = i;
    return GLIA_STATUS_OK;
}

static glia_status make_split(glia_run_ *r, int resume)
{
    char *saved = run_path(r, "split.json");
    glia_status s;
    if (!saved)
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "split");
    if (resume)
        s = glia_split_load(r->ds, saved, &r->split);
    else if (r->cfg.split[0])
        s = glia_split_load(r->ds, r->cfg.split, &r->split);
    else if (r->cfg.folds >= 2)
        s = glia_split_make(r->ds, r->cfg.folds, r->cfg.fold, r->cfg.seed, &r->split);
    else
        s = split_all(r);
    r->have_split = s == GLIA_STATUS_OK;
    if (s == GLIA_STATUS_OK && r->split.ntrain == 0)
        s = glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "%s: no labelled case to train on", r->cfg.data);
    if (s == GLIA_STATUS_OK && !resume && r->rank == 0)
        s = glia_split_save(r->ds, &r->split, saved);
    free(saved);
    return s;
}

/* One pass over the training data: slices (2-D, from the first case's depth) or cases (3-D), per batch. */
static glia_status steps_per_epoch(glia_run_ *r)
{
    if (r->cfg.steps_per_epoch > 0) {
        r->spe = r->cfg.steps_per_epoch;
        return GLIA_STATUS_OK;
    }
    int64_t samples = r->split.ntrain;
    if (r->nsp == 2) {
        glia_case *c = NULL;
        glia_status s = glia_dataset_load(r->ds, r->split.train[0], &c);
        if (s == GLIA_STATUS_OK)
            s = glia_case_preprocess(c, &r->cfg.pre);
        if (s == GLIA_STATUS_OK)
            samples *= c->dim[2];
        glia_case_free(c);
        if (s != GLIA_STATUS_OK)
            return s;
    }
    int64_t global = (int64_t)r->cfg.batch * r->ranks;   /* one step takes a global batch */
    int64_t spe = (samples + global - 1) / global;
    r->spe = (int)(spe < 1 ? 1 : spe > 1000000000 ? 1000000000 : spe);
    return GLIA_STATUS_OK;
}

/* Device, dataset, label info, channels, split: what a new and a resumed run share. */
static glia_status setup(glia_run_ *r, int resume)
{
    glia_status s = glia_train_config_check(&r->cfg);
    if (s != GLIA_STATUS_OK)
        return s;
    glia_augment_defaults(&r->aug);
    r->nsp = glia_model_config_spatial_dims(&r->cfg.model);
    if (r->o.device) {
        r->dev = r->o.device;
    } else {
        /* ranks on one machine share its cores unless told otherwise */
        glia_device_options dopt = {.threads = r->cfg.threads ? r->cfg.threads : glia_dist_default_threads(r->o.dist)};
        char spec[sizeof r->cfg.device];
        if ((s = glia_dist_device(r->o.dist, r->cfg.device, spec, sizeof spec)) != GLIA_STATUS_OK ||
            (s = glia_device_open(spec, &dopt, &r->dev)) != GLIA_STATUS_OK)
            return s;
        r->own_dev = 1;
    }
    glia_dataset_options dso = {.layout = r->cfg.layout};
    if ((s = glia_dataset_open(r->cfg.data, &dso, &r->ds)) != GLIA_STATUS_OK ||
        (s = glia_run_resolve_defaults_(r)) != GLIA_STATUS_OK ||
        (s = glia_label_info_from_dataset(r->ds, r->cfg.target, &r->li)) != GLIA_STATUS_OK)
        return s;
    /* the channels come from the data (a resumed run's checkpoint is checked against them) */
    r->cfg.model.in_channels = glia_dataset_channels(r->ds);
    r->cfg.model.out_channels = r->li.channels;
    if ((s = glia_model_config_check(&r->cfg.model)) != GLIA_STATUS_OK)
        return s;
    return make_split(r, resume);
}

/* A run from its beginning: the model (seeded, or --init weights), the optimizer. */
static glia_status init_model(glia_run_ *r)
{
    glia_status s = glia_model_create(r->dev, &r->cfg.model, r->cfg.seed, &r->m);
    if (s == GLIA_STATUS_OK && r->cfg.init[0]) {
        glia_safetensors *st = NULL;
        char report[1024] = "";
        glia_st_load_options lo = {.strict = 1, .exclude = GLIA_CHECKPOINT_OPTIM_PREFIX, .report = report,
                                   .report_len = sizeof report};
        if ((s = glia_safetensors_open(r->cfg.init, &st)) == GLIA_STATUS_OK)
            s = glia_safetensors_load(st, glia_model_params(r->m), &lo);
        glia_safetensors_close(st);
        if (s != GLIA_STATUS_OK)
            s = glia_seterr(s, "--init %s: %s", r->cfg.init, glia_last_error());
    }
    if (s == GLIA_STATUS_OK)
        s = glia_optim_create(glia_model_params(r->m), &r->cfg.optim, &r->opt);
    if (s == GLIA_STATUS_OK)
        s = steps_per_epoch(r);
    return s;
}

/* A new run: its model and optimizer, and config.json. */
static glia_status start(glia_run_ *r)
{
    glia_status s = init_model(r);
    char *json = NULL, *path = run_path(r, "config.json");
    glia_run_new_id_(r);
    if (s == GLIA_STATUS_OK && r->rank == 0 && (s = glia_run_config_json_(r, &json)) == GLIA_STATUS_OK)
        s = path ? glia_write_text_(path, json) : glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "config.json");
    free(json);
    free(path);
    return s;
}

/* The files of a run that stopped before its first checkpoint, which a run
 * started over in its folder replaces: none of them may outlive it. */
static void forget_run(const glia_run_ *r)
{
    static const char *const names[] = {"best.safetensors", "log.csv", "log.json", "curves.png"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char *p = run_path(r, names[i]);
        if (p)
            unlink(p);
        free(p);
    }
}

static int run_has(const glia_run_ *r, const char *name)
{
    char *p = run_path(r, name);
    int has = p && access(p, F_OK) == 0;
    free(p);
    return has;
}

static void tell(const glia_run_ *r, const char *text)
{
    if (r->rank == 0 && r->o.on_note)
        r->o.on_note(r->o.user, text);
}

/* Rank 0 makes and locks the folder of a new run. A folder that holds a run
 * with a checkpoint is turned away; one whose run never reached a checkpoint
 * (killed, a NaN loss or a full disk before the first save) is started over. */
static glia_status claim(glia_run_ *r)
{
    glia_status s = glia_mkdirs_(r->dir);
    if (s == GLIA_STATUS_OK)
        s = glia_run_lock_(r);
    if (s != GLIA_STATUS_OK || !run_has(r, "config.json"))
        return s;
    if (run_has(r, "last.safetensors"))
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT,
                           "%s holds a run already: continue it with --resume %s, or choose another --out", r->dir,
                           r->dir);
    forget_run(r);
    char text[GLIA_PATH_MAX + 128];
    snprintf(text, sizeof text, "%s holds a run that stopped before its first checkpoint: starting it over", r->dir);
    tell(r, text);
    return GLIA_STATUS_OK;
}

/* The step's backward: this rank's alone, or averaged over the job (a rank
 * whose forward failed passes no loss and still joins the collectives). */
static glia_status backward(glia_run_ *r, glia_tensor *l, glia_status s)
{
    if (r->red) {
        glia_status b = glia_reducer_backward(r->red, s == GLIA_STATUS_OK ? l : NULL);
        return s != GLIA_STATUS_OK ? s : b;
    }
    return s == GLIA_STATUS_OK ? glia_backward(l) : s;
}

/* What the ranks agree on after each step: every rank succeeded, the mean
 * loss over ranks (the loss of the global batch) and whether any was asked to
 * stop. A job of one keeps its own. */
static glia_status agree_step(glia_run_ *r, glia_status s, float *loss, int *stop)
{
    *stop = r->o.stop && *r->o.stop;
    if (r->ranks == 1)
        return s;
    if ((s = glia_dist_agree(r->o.dist, s)) != GLIA_STATUS_OK)
        return s;
    double v[2] = {*loss, *stop};
    if ((s = glia_dist_allreduce_f64(r->o.dist, v, 2, GLIA_DIST_SUM)) == GLIA_STATUS_OK) {
        *loss = (float)(v[0] / r->ranks);
        *stop = v[1] > 0;
    }
    return s;
}

static glia_status train_step(glia_run_ *r, const glia_batch *b, glia_loss_kind k, float *loss, int *stop)
{
    int64_t shape[5] = {b->n, b->channels, b->shape[0], b->shape[1], b->shape[2]};
    int64_t tshape[5] = {b->n, b->targets, b->shape[0], b->shape[1], b->shape[2]};
    if (r->nsp == 2) { /* d = 1: N, C, H, W */
        shape[2] = tshape[2] = b->shape[1];
        shape[3] = tshape[3] = b->shape[2];
    }
    int nd = r->nsp + 2;
    glia_tensor *x = NULL, *y = NULL, *logits = NULL, *l = NULL;
    glia_params_zero_grad(glia_model_params(r->m));
    glia_status s = glia_tensor_from_host(r->dev, nd, shape, b->image, &x);
    if (s == GLIA_STATUS_OK)
        s = glia_tensor_from_host(r->dev, nd, tshape, b->target, &y);
    if (s == GLIA_STATUS_OK)
        s = glia_model_forward(r->m, x, 1, &logits);
    if (s == GLIA_STATUS_OK)
        s = glia_run_loss_(r, k, logits, y, &l);
    s = backward(r, l, s);
    if (s == GLIA_STATUS_OK)
        s = glia_tensor_read(l, loss, 1);
    if (s != GLIA_STATUS_OK) {
        glia_tape_clear(r->dev);
        s = glia_seterr(s, "training step %lld (batch %lld x %lld x %lldx%lldx%lld, %s): %s",
                        (long long)r->global_step + 1, (long long)shape[0], (long long)shape[1], (long long)b->shape[0],
                        (long long)b->shape[1], (long long)b->shape[2], glia_model_arch_name(r->cfg.model.arch),
                        glia_last_error());
    }
    s = agree_step(r, s, loss, stop);
    if (s == GLIA_STATUS_OK && isfinite(*loss))
        s = glia_optim_step(r->opt);
    glia_tensor *all[] = {x, y, logits, l};
    for (int i = 0; i < 4; i++)
        glia_tensor_free(all[i]);
    return s;
}

static glia_status epoch_loader(glia_run_ *r, glia_loader **l)
{
    glia_loader_options lo = {.dims = r->nsp, .batch = r->cfg.batch, .drop_empty = r->cfg.drop_empty,
                              .fg_fraction = r->cfg.fg_fraction, .target = r->cfg.target, .pre = r->cfg.pre,
                              .aug = r->cfg.augment ? &r->aug : NULL,
                              .seed = glia_mix_seed_(r->cfg.seed, 0x6c6f61646572 /* "loader" */, (uint64_t)r->epoch),
                              .threads = r->cfg.loader_threads, .sample_offset = r->rank * r->cfg.batch};
    if (!lo.threads && glia_dist_local_size(r->o.dist) > 1) /* a share of the cores, as the device threads */
        lo.threads = glia_dist_default_threads(r->o.dist) > 1 ? glia_dist_default_threads(r->o.dist) - 1 : 1;
    lo.patch[0] = r->cfg.size[0];
    lo.patch[1] = r->cfg.size[1];
    lo.patch[2] = r->nsp == 3 ? r->cfg.size[2] : 0;
    glia_status s = glia_loader_new(r->ds, r->split.train, r->split.ntrain, &lo, l);
    glia_batch b;
    /* a resumed epoch: the batches already trained on, skipped */
    for (int64_t i = 0; i < r->step && s == GLIA_STATUS_OK; i++)
        s = glia_loader_next(*l, &b);
    return s;
}

static double schedule_lr(const glia_run_ *r)
{
    glia_schedule sc = r->cfg.sched;
    sc.base_lr = r->cfg.optim.lr;
    return glia_schedule_lr(&sc, r->cfg.sched_per_step ? r->global_step : r->epoch);
}

/* The rest of the current epoch's steps. *stopped: interrupted. */
static glia_status train_epoch(glia_run_ *r, glia_loss_kind k, int *stopped)
{
    if (r->step >= r->spe)
        return GLIA_STATUS_OK; /* stopped while validating: only validation is left */
    glia_loader *l = NULL;
    glia_status s = epoch_loader(r, &l);
    double t0 = glia_now_(), base_seconds = r->seconds;
    int64_t first = r->step, session_samples = 0;
    while (s == GLIA_STATUS_OK && r->step < r->spe) {
        glia_batch b;
        if ((s = glia_loader_next(l, &b)) != GLIA_STATUS_OK)
            break;
        r->lr = schedule_lr(r);
        glia_optim_set_lr(r->opt, (float)r->lr);
        float loss = NAN;
        int stop = 0;
        if ((s = train_step(r, &b, k, &loss, &stop)) != GLIA_STATUS_OK)
            break;
        if (!isfinite(loss)) {
            glia_dist_set_failure_agreed(r->o.dist, 1);   /* every rank saw the same mean loss */
            char kept[GLIA_PATH_MAX + 128];
            snprintf(kept, sizeof kept,
                     "stopped before the first checkpoint (start it over with other settings: --out %s)", r->dir);
            if (r->epoch > 0)
                snprintf(kept, sizeof kept, "last.safetensors keeps epoch %d", r->epoch);
            s = glia_seterr(GLIA_STATUS_NUMERIC_ERROR,
                            "the training loss is %s at epoch %d, step %lld (lr %.3g): %s (try a lower --lr; check "
                            "the data and any --init weights)",
                            isnan(loss) ? "NaN" : "infinite", r->epoch + 1, (long long)r->step + 1, r->lr, kept);
            break;
        }
        r->step++;
        r->global_step++;
        r->loss_sum += loss;
        r->samples += (int64_t)b.n * r->ranks;
        session_samples += (int64_t)b.n * r->ranks;
        double el = glia_now_() - t0;
        r->seconds = base_seconds + el;
        if (r->o.on_progress) {
            int64_t done = r->step - first;
            glia_train_progress p = {.epoch = r->epoch + 1, .epochs = r->cfg.epochs, .step = r->step, .steps = r->spe,
                                     .loss = loss, .mean_loss = r->loss_sum / (double)r->step, .lr = r->lr,
                                     .images_per_s = el > 0 ? (double)session_samples / el : 0, .elapsed = r->seconds,
                                     .eta = el / (double)done * (double)(r->spe - r->step)};
            r->o.on_progress(r->o.user, &p);
        }
        if (stop && r->step < r->spe) {
            *stopped = 1;
            break;
        }
    }
    glia_loader_free(l);
    return s;
}

/* Ranks on one kind of device compute bit for bit alike; on different vendors'
 * devices they round differently and drift apart, by about 1e-7 of the
 * weights per step. Past this much something else differs (data, a step). */
#define DRIFT_TOL 1e-3

/* Per-rank batch-norm statistics (without --sync-bn) differ between ranks by
 * design: their mean over ranks is what every rank validates and saves. */
static glia_status average_buffers(glia_run_ *r)
{
    if (r->ranks == 1 || r->cfg.sync_bn)
        return GLIA_STATUS_OK;
    return glia_dist_average_buffers(r->o.dist, glia_model_params(r->m));
}

/* Every rank takes rank 0's weights and optimizer state where they differ
 * (glia_dist_sync_params): then they train the same model again. */
static glia_status agree_weights(glia_run_ *r)
{
    double rel = 0, rel_opt = 0;
    glia_params *state = NULL;
    int64_t steps = 0;
    glia_status s = glia_dist_sync_params(r->o.dist, glia_model_params(r->m), DRIFT_TOL, &rel);
    if (s == GLIA_STATUS_OK && r->opt && r->ranks > 1 && (s = glia_params_create(&state)) == GLIA_STATUS_OK &&
        (s = glia_optim_export(r->opt, state, &steps)) == GLIA_STATUS_OK)
        s = glia_dist_sync_params(r->o.dist, state, INFINITY, &rel_opt);
    glia_params_free(state);
    if (s == GLIA_STATUS_OK && rel > 0 && !r->drift_noted && r->rank == 0 && r->o.on_note) {
        char note[256];
        snprintf(note, sizeof note,
                 "the ranks' weights had drifted %.2g of their norm apart (their devices round differently); "
                 "every rank now holds rank 0's, as it will at each checkpoint",
                 rel);
        r->o.on_note(r->o.user, note);
        r->drift_noted = 1;
    }
    return s;
}

/* The ranks check that they hold the same weights (their batch-norm
 * statistics averaged already), then rank 0 writes the checkpoints (and the
 * logs); a failure there stops every rank. */
static glia_status save_point(glia_run_ *r, int best)
{
    glia_status s = agree_weights(r);
    if (s != GLIA_STATUS_OK)
        return s;
    if (r->rank == 0) {
        s = glia_run_save_last_(r);
        if (s == GLIA_STATUS_OK && best)
            s = glia_run_save_best_(r);
        if (s == GLIA_STATUS_OK)
            s = glia_history_write_(&r->hist, r->dir);
    }
    return glia_dist_agree(r->o.dist, s);
}

static glia_status end_epoch(glia_run_ *r, glia_loss_kind k, glia_train_result *res, int *stopped)
{
    double t0 = glia_now_();
    glia_epoch_log e = {.epoch = r->epoch + 1, .train_loss = r->loss_sum / (double)(r->spe ? r->spe : 1), .lr = r->lr};
    double train_seconds = r->seconds;
    e.images_per_s = train_seconds > 0 ? (double)r->samples / train_seconds : 0;
    /* every rank validates the same model */
    glia_status s = average_buffers(r);
    if (s == GLIA_STATUS_OK)
        s = glia_run_validate_(r, k, &e, stopped);
    if (s != GLIA_STATUS_OK || *stopped)
        return s;
    e.seconds = train_seconds + (glia_now_() - t0);
    if ((s = glia_history_push_(&r->hist, &e)) != GLIA_STATUS_OK)
        return s;
    int improved = r->split.nval > 0 ? !(e.mean_dice <= r->best_dice) && isfinite(e.mean_dice) : 1;
    if (improved) {
        r->best_dice = e.mean_dice;
        r->best_epoch = e.epoch;
    }
    r->epoch++;
    r->step = 0;
    r->samples = 0;
    r->loss_sum = 0;
    r->seconds = 0;
    if ((s = save_point(r, improved)) != GLIA_STATUS_OK)
        return s;
    res->last = e;
    if (r->o.on_epoch)
        r->o.on_epoch(r->o.user, &e);
    return GLIA_STATUS_OK;
}

static glia_status dist_sums(void *user, double *buf, size_t n)
{
    return glia_dist_allreduce_f64(user, buf, n, GLIA_DIST_SUM);
}

/* Every rank is ready (s: this one's setup) and holds the same starting weights; the gradient
 * reducer and synchronised batch norm join the model to the job. */
static glia_status join(glia_run_ *r, glia_status s)
{
    s = glia_dist_agree(r->o.dist, s);
    if (s == GLIA_STATUS_OK)
        s = agree_weights(r);
    if (s == GLIA_STATUS_OK && r->ranks > 1) {
        double mb = r->cfg.bucket_mb > 0 ? r->cfg.bucket_mb : 25;
        s = glia_reducer_new(r->o.dist, glia_model_params(r->m), (size_t)(mb * 1e6), &r->red);
        if (r->cfg.sync_bn)
            glia_model_set_sync_bn(r->m, dist_sums, r->o.dist);
    }
    return s;
}

static glia_status loop(glia_run_ *r, glia_train_result *res)
{
    glia_status s = GLIA_STATUS_OK;
    int stopped = 0;
    while (s == GLIA_STATUS_OK && r->epoch < r->cfg.epochs && !stopped) {
        int switched = r->cfg.switch_epoch > 0 && r->epoch + 1 >= r->cfg.switch_epoch;
        glia_loss_kind k = switched ? r->cfg.then_loss : r->cfg.loss;
        s = train_epoch(r, k, &stopped);
        if (s == GLIA_STATUS_OK && !stopped)
            s = end_epoch(r, k, res, &stopped);
    }
    if (s == GLIA_STATUS_OK && stopped) {
        res->interrupted = 1;
        /* stopped mid-epoch: the statistics have not been averaged since its last step */
        if ((s = average_buffers(r)) == GLIA_STATUS_OK)
            s = save_point(r, 0);
    }
    if (r->red)
        res->comm = *glia_reducer_get_stats(r->red);
    if (s == GLIA_STATUS_DEVICE_OOM) {
        const glia_device_info *di = glia_device_get_info(r->dev);
        s = glia_seterr(s, "%s (device %s:%d, %s, %llu MiB)", glia_last_error(), di->backend, di->index, di->name,
                        (unsigned long long)(di->memory_bytes >> 20));
    }
    res->epochs_done = r->epoch;
    res->best_epoch = r->best_epoch;
    res->best_dice = r->best_dice;
    snprintf(res->last_path, sizeof res->last_path, "%s/last.safetensors", r->dir);
    snprintf(res->best_path, sizeof res->best_path, "%s/best.safetensors", r->dir);
    return s;
}

glia_status glia_train_run(const glia_train_config *cfg, const char *rundir, const glia_train_options *opts,
                           glia_train_result *result)
{
    if (!cfg || !rundir || !result)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_train_run: NULL configuration, folder or result");
    memset(result, 0, sizeof *result);
    glia_run_ *r = NULL;
    glia_status s = run_new(rundir, opts, &r);
    if (s != GLIA_STATUS_OK)
        return s;
    r->cfg = *cfg;
    s = glia_train_config_check(cfg);
    if (s == GLIA_STATUS_OK && !glia_is_dir_(cfg->data)) /* before the run folder is made */
        s = glia_seterr(GLIA_STATUS_IO_ERROR, "%s: no such dataset folder", cfg->data);
    /* every rank has looked before rank 0 claims the folder; every rank stops if it cannot */
    s = glia_dist_agree(r->o.dist, s);
    if (s == GLIA_STATUS_OK && r->rank == 0)
        s = claim(r);
    s = glia_dist_agree(r->o.dist, s);
    /* config.json names files absolutely, so a run resumes from any working folder */
    char *paths[] = {r->cfg.data, r->cfg.init, r->cfg.split}, abs[4096];
    for (int i = 0; s == GLIA_STATUS_OK && i < 3; i++)
        if (paths[i][0] && realpath(paths[i], abs) && strlen(abs) < sizeof r->cfg.data)
            memcpy(paths[i], abs, strlen(abs) + 1);
    if (s == GLIA_STATUS_OK)
        s = setup(r, 0);
    if (s == GLIA_STATUS_OK)
        s = start(r);
    s = join(r, s);
    if (s == GLIA_STATUS_OK)
        s = loop(r, result);
    run_free(r);
    return s;
}

glia_status glia_train_resume(const char *rundir, int epochs, const char *device, const glia_train_options *opts,
                              glia_train_result *result)
{
    if (!rundir || !result || epochs < 0)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_train_resume: NULL folder or result, or epochs < 0");
    memset(result, 0, sizeof *result);
    glia_run_ *r = NULL;
    glia_status s = run_new(rundir, opts, &r);
    if (s != GLIA_STATUS_OK)
        return s;
    glia_train_config_default(&r->cfg);
    char *cfg_path = run_path(r, "config.json");
    s = cfg_path ? glia_train_config_load(&r->cfg, cfg_path) : glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "glia_train_resume");
    if (s == GLIA_STATUS_IO_ERROR)
        s = glia_seterr(s, "%s holds no run to resume (no config.json)", rundir);
    if (s == GLIA_STATUS_OK)
        s = glia_run_read_id_(r, cfg_path);
    free(cfg_path);
    /* a folder with a run in it (config.json read) is locked before anything is written */
    if (s == GLIA_STATUS_OK && r->rank == 0)
        s = glia_run_lock_(r);
    s = glia_dist_agree(r->o.dist, s);
    if (s == GLIA_STATUS_OK && epochs > 0)
        r->cfg.epochs = epochs;
    if (s == GLIA_STATUS_OK && device) {
        if (strlen(device) >= sizeof r->cfg.device)
            s = glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "device spec '%s' is too long", device);
        else
            snprintf(r->cfg.device, sizeof r->cfg.device, "%s", device);
    }
    if (s == GLIA_STATUS_OK)
        s = setup(r, 1);
    /* a run that stopped before its first checkpoint starts again from its saved configuration */
    int fresh = s == GLIA_STATUS_OK && !run_has(r, "last.safetensors");
    if (fresh) {
        if (r->rank == 0)
            forget_run(r);
        char text[GLIA_PATH_MAX + 128];
        snprintf(text, sizeof text,
                 "%s has no checkpoint (its run stopped before the first): training it from the beginning", rundir);
        tell(r, text);
        s = init_model(r);
    } else if (s == GLIA_STATUS_OK) {
        s = glia_run_load_last_(r);
    }
    if (s == GLIA_STATUS_OK && !fresh && r->saved_ranks != r->ranks) {
        char text[256];
        snprintf(text, sizeof text,
                 "the run was trained on %d rank(s) and resumes on %d: the global batch changes from %d to %d "
                 "samples (epochs keep %d steps), so it will not match an uninterrupted run",
                 r->saved_ranks, r->ranks, r->saved_ranks * r->cfg.batch, r->ranks * r->cfg.batch, r->spe);
        tell(r, text);
    }
    s = join(r, s);
    if (s == GLIA_STATUS_OK)
        s = loop(r, result);
    run_free(r);
    return s;
}
