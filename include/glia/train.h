/* glia — training runs: a configuration (plain data, with JSON and presets),
 * and the trainer, which owns a run directory:
 *
 *   RUNDIR/config.json        the whole configuration (what --config reads back)
 *   RUNDIR/split.json         the train/validation cases by id
 *   RUNDIR/last.safetensors   weights, optimizer state and progress: what --resume needs
 *   RUNDIR/best.safetensors   the weights of the epoch with the best validation Dice
 *   RUNDIR/log.csv, log.json  one record per epoch
 *   RUNDIR/curves.png         loss and Dice per epoch
 *
 * Every file is written to a temporary name and renamed, so an interrupted or
 * failed run never leaves a partial file or damages a checkpoint already there.
 * A run is reproducible: batch b of epoch e comes from a loader seeded by
 * (seed, e), and every other random choice derives from the seed, so a run
 * resumed from last.safetensors ends with the same weights as one that never
 * stopped (on the same device and thread count). */
#ifndef GLIA_TRAIN_H
#define GLIA_TRAIN_H

#include <signal.h>
#include "data.h"
#include "io.h"
#include "loss.h"
#include "infer.h"
#include "dist.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum glia_loss_kind {
    GLIA_LOSS_BCE = 0,        /* "bce": BCE with logits (sigmoid targets) */
    GLIA_LOSS_DICE,           /* "dice": soft Dice (sigmoid, or softmax for the labels target) */
    GLIA_LOSS_PENALTY_DICE,   /* "penalty-dice": soft Dice with the penalty p of the BraTS study */
    GLIA_LOSS_DICE_BCE,       /* "dice+bce" */
    GLIA_LOSS_CE,             /* "ce": softmax cross-entropy (labels target) */
    GLIA_LOSS_DICE_CE,        /* "dice+ce" (labels target) */
    GLIA_LOSS_COUNT_
} glia_loss_kind;

const char *glia_loss_kind_name(glia_loss_kind k);
glia_status glia_loss_kind_parse(const char *name, glia_loss_kind *out);

/* Everything a run needs. Start from glia_train_config_default (or a preset),
 * then change fields directly or by key with glia_train_config_set. */
typedef struct glia_train_config {
    /* data */
    char data[GLIA_PATH_MAX];      /* "data": dataset folder (any layout glia_dataset_open reads) */
    glia_layout layout;            /* "layout" */
    glia_target target;            /* "target": auto (GLIA_TARGET_AUTO), regions, wt, labels */
    int folds, fold;               /* "folds", "fold": validation = fold `fold` of a k-fold patient split;
                                    * folds GLIA_FOLDS_AUTO ("auto"): min(5, patients), 0 for one patient */
    char split[GLIA_PATH_MAX];     /* "split": a saved split (JSON) instead; "" = make one */
    glia_preprocess pre;           /* "zscore", "clip", "crop_nonzero", "spacing", "resize", "crop" */
    int64_t size[3];               /* "size": 2-D crop (i, j) or 3-D patch (i, j, k); 0 = whole axis */
    float drop_empty;              /* "drop_empty": 2-D, drop empty-mask slices with this probability */
    float fg_fraction;             /* "fg_fraction": 3-D, share of patches centred on tumour */
    int augment;                   /* "augment": nnU-Net-like augmentation (glia_augment_defaults) */
    /* model */
    glia_model_config model;       /* "model", "features", "batchnorm", "t"; channels come from the data */
    char init[GLIA_PATH_MAX];      /* "init": start from these weights (transfer) */
    /* optimisation */
    int epochs;                    /* "epochs" */
    int steps_per_epoch;           /* "steps_per_epoch": 0 = one pass (2-D: slices / batch; 3-D: cases / batch) */
    int batch;                     /* "batch" */
    glia_optim_options optim;      /* "optimizer", "lr", "momentum", "nesterov", "weight_decay", "beta1", ... */
    glia_schedule sched;           /* "schedule", "t_max", "eta_min", "step_size", "gamma", "power", "warmup", ... */
    int sched_per_step;            /* "schedule_unit": 0 "epoch" (the count is epochs), 1 "step" */
    glia_loss_kind loss;           /* "loss" */
    float penalty;                 /* "penalty": p of penalty-dice */
    glia_loss_kind then_loss;      /* "then_loss": the loss from epoch switch_epoch on */
    int switch_epoch;              /* "switch_epoch": 0 = never switch */
    /* run */
    uint64_t seed;                 /* "seed" */
    char device[64];               /* "device": cpu, opencl:N, vulkan:N, auto */
    int threads;                   /* "threads": CPU backend threads; 0 = all cores */
    int loader_threads;            /* "loader_threads": 0 = cores - 1 */
    int val_batch;                 /* "val_batch": slices or windows per forward in validation; 0 = batch */
    int tta;                       /* "tta": flip test-time augmentation in validation */
    /* data parallelism (glia_train_options.dist) */
    int sync_bn;                   /* "sync_bn": batch-norm statistics over every rank's batch */
    double bucket_mb;              /* "bucket_mb": gradient allreduce bucket (default 25 MB, DDP's) */
} glia_train_config;

/* "folds": auto. */
#define GLIA_FOLDS_AUTO (-1)

/* Defaults: unet2d, target and folds auto, fold 0, 10 epochs, batch 4, Adam
 * lr 1e-3, constant schedule, dice+bce, z-score, seed 0, device auto. A run
 * resolves auto from its dataset (target: glia_dataset_default_target, with
 * dice+ce for a labels target left on a sigmoid loss; folds: 5, or the
 * patient count when fewer, or no validation for one patient), tells
 * glia_train_options.on_note, and records the resolved values in
 * config.json. */
void glia_train_config_default(glia_train_config *c);

/* A study's recipe: "brats-unet2d", "brats-unet3d", "lgg-unet", "lgg-r2unet".
 * Overwrites c with the defaults and the preset; data and device are kept. */
glia_status glia_train_preset(const char *name, glia_train_config *c);
/* Preset i's name (NULL past the end) and a one-line description. */
const char *glia_train_preset_name(int i, const char **description);

/* Set one field by its key (the names above; '-' may stand for '_') from text:
 * numbers, "true"/"false", names, comma-separated lists ("8,16,32").
 * INVALID_ARGUMENT names the key and the accepted values. */
glia_status glia_train_config_set(glia_train_config *c, const char *key, const char *value);
/* Key i (NULL past the end), its kind of value and a one-line help. Boolean
 * keys take no value on a command line ("--nesterov", "--no-augment"). */
const char *glia_train_config_key(int i, int *is_bool, const char **help);

/* The value of one key as glia_train_config_set takes it ("0.001", "true",
 * "8,16,32", "adam") into buf; INVALID_ARGUMENT for an unknown key. */
glia_status glia_train_config_get(const glia_train_config *c, const char *key, char *buf, size_t len);
/* The configuration as a JSON object (malloc'd text; free() it). */
glia_status glia_train_config_to_json(const glia_train_config *c, char **json);
/* Apply a JSON object's keys on top of c ("model" first, so "features" and
 * the like refine it). An unknown key or a bad value is INVALID_ARGUMENT
 * naming it. "run_id", the run's identity that a run folder's config.json
 * holds for resume, is skipped, so that file also serves as --config. */
glia_status glia_train_config_apply_json(glia_train_config *c, const char *json);
/* glia_train_config_apply_json on a file's content. */
glia_status glia_train_config_load(glia_train_config *c, const char *path);
/* Check the whole configuration; INVALID_ARGUMENT names the bad field. */
glia_status glia_train_config_check(const glia_train_config *c);

/* ---- the trainer -------------------------------------------------------- */
typedef struct glia_epoch_log {
    int epoch;                                   /* 1, 2, ... */
    double train_loss, val_loss;                 /* val_loss NaN without validation */
    int regions;
    char region[GLIA_METRICS_MAX_CHANNELS][16];  /* "WT", "TC", "ET", ... */
    double dice[GLIA_METRICS_MAX_CHANNELS];      /* validation Dice per region, mean over cases */
    double mean_dice;
    double lr;                                   /* learning rate of the epoch's last step */
    double images_per_s, seconds;
} glia_epoch_log;

typedef struct glia_train_progress {
    int epoch, epochs;             /* epoch running (1-based) */
    int64_t step, steps;           /* step within the epoch (1-based) */
    double loss, mean_loss, lr;    /* this step's loss, the epoch's running mean */
    double images_per_s;           /* over the epoch so far */
    double elapsed, eta;           /* seconds in the epoch, estimate of the rest of the epoch */
    int validating;                /* 1 while validating (step/steps count cases) */
} glia_train_progress;

typedef struct glia_train_options {
    glia_device *device;           /* NULL: open config.device (closed at the end) */
    /* called after every training step and validation case / after each epoch; may be NULL */
    void (*on_progress)(void *user, const glia_train_progress *p);
    void (*on_epoch)(void *user, const glia_epoch_log *e);
    void *user;
    /* when *stop becomes non-zero (a SIGINT handler), the run writes
     * last.safetensors after the current step and returns OK with
     * result.interrupted = 1; may be NULL */
    const volatile sig_atomic_t *stop;
    /* the data-parallel job (glia/dist.h); NULL: a job of one. Every rank
     * calls glia_train_run/resume with the same configuration; config.batch
     * is per rank, rank r trains on the r-th share of each global batch, rank
     * 0 alone writes the run folder, and *stop on any rank stops all. */
    glia_dist *dist;
    /* notes for the user (e.g. a resumed run's rank count changed); may be NULL */
    void (*on_note)(void *user, const char *text);
} glia_train_options;

typedef struct glia_train_result {
    int epochs_done;
    int interrupted;
    int best_epoch;                /* 0: none yet */
    double best_dice;
    glia_epoch_log last;           /* the last complete epoch */
    char last_path[GLIA_PATH_MAX + 32], best_path[GLIA_PATH_MAX + 32];
    glia_reducer_stats comm;       /* gradient averaging of this session (zero for a job of one) */
} glia_train_result;

/* Start a run in rundir (created; a folder holding a run with a checkpoint
 * is refused: resume it instead; one whose run stopped before its first
 * checkpoint is started over). opts may be NULL. A NaN or Inf loss stops the
 * run with NUMERIC_ERROR, keeping the last good checkpoint; device
 * out-of-memory is DEVICE_OOM naming the step's batch shape, the bytes asked
 * and the device's memory.
 * The run (rank 0 of a job) holds an exclusive lock on rundir/.lock from
 * before its first write to its end: a second run or resume of a folder in
 * use fails at once with INVALID_ARGUMENT naming the holder's PID. Taking it
 * removes the temporary files that killed writers left in rundir. */
glia_status glia_train_run(const glia_train_config *cfg, const char *rundir, const glia_train_options *opts,
                           glia_train_result *result);
/* Continue the run in rundir from last.safetensors with its config.json
 * (under the folder's lock, as glia_train_run); a run that stopped before
 * its first checkpoint trains from the beginning. epochs > 0 changes the number of epochs (to extend a finished run); device
 * non-NULL overrides the saved device spec. */
glia_status glia_train_resume(const char *rundir, int epochs, const char *device, const glia_train_options *opts,
                              glia_train_result *result);

#ifdef __cplusplus
}
#endif
#endif
