/* Private parts of the trainer (src/train). */
#ifndef GLIA_TRAIN_PRIV_H
#define GLIA_TRAIN_PRIV_H

#include "app/app_priv.h"
#include "glia/eval.h"
#include "glia/train.h"

/* The epoch records of a run: kept in the checkpoint (so a resumed run's logs
 * are whole) and written as log.csv, log.json and curves.png. */
typedef struct glia_history {
    int n, cap;
    glia_epoch_log *e;
} glia_history;

glia_status glia_history_push_(glia_history *h, const glia_epoch_log *e);
void glia_history_free_(glia_history *h);
/* The records as a JSON array (malloc'd) and back. */
char *glia_history_to_json_(const glia_history *h);
glia_status glia_history_from_json_(const char *json, glia_history *h);
/* log.csv, log.json and curves.png in dir. */
glia_status glia_history_write_(const glia_history *h, const char *dir);

/* One training run: what setup builds and the loop advances. */
typedef struct glia_run_ {
    glia_train_config cfg;
    glia_train_options o;
    char dir[GLIA_PATH_MAX];
    int lock_fd;                  /* the run folder's lock (rank 0), or -1 */
    glia_device *dev;
    int own_dev;
    glia_dataset *ds;
    glia_split split;
    int have_split;
    glia_label_info li;
    glia_model *m;
    glia_optimizer *opt;
    glia_augment aug;
    int nsp, spe;                 /* spatial axes; steps per epoch */
    int rank, ranks;              /* this process in the data-parallel job (o.dist) */
    int saved_ranks;              /* a resumed run: the ranks that wrote last.safetensors */
    char run_id[24];              /* the run's identity (config.json, every checkpoint); "" for older runs */
    glia_reducer *red;            /* gradient averaging; NULL for a job of one */
    int drift_noted;              /* told the user once that mixed devices drift apart */
    /* progress: epochs complete, steps into the next one */
    int epoch;
    int64_t step, global_step, samples;
    double loss_sum, seconds, lr;
    int best_epoch;
    double best_dice;
    glia_history hist;
    /* preprocessed validation cases kept between epochs (NULL: reload) */
    glia_case **val;
} glia_run_;

/* Target and folds "auto" resolved from r->ds, told through on_note (src/train/defaults.c). */
glia_status glia_run_resolve_defaults_(glia_run_ *r);
/* The loss of a configuration's kind on logits against targets. */
glia_status glia_run_loss_(const glia_run_ *r, glia_loss_kind k, glia_tensor *logits, glia_tensor *target,
                           glia_tensor **out);
/* Validate on the split's validation cases: loss, Dice per region into e.
 * Sets *stopped (and returns OK) when the stop flag interrupts it. */
glia_status glia_run_validate_(glia_run_ *r, glia_loss_kind k, glia_epoch_log *e, int *stopped);
void glia_run_free_val_(glia_run_ *r);
/* The key of the run's identity in config.json and in checkpoint metadata:
 * resume takes last.safetensors only from the run that wrote config.json. */
#define GLIA_RUN_ID_KEY_ "run_id"
/* A fresh identity into r->run_id (random: two runs never share one). */
void glia_run_new_id_(glia_run_ *r);
/* config.json's text: the configuration and the run's identity (malloc'd). */
glia_status glia_run_config_json_(const glia_run_ *r, char **json);
/* The identity config.json (at path) records into r->run_id; "" if none. */
glia_status glia_run_read_id_(glia_run_ *r, const char *path);
/* last.safetensors with everything resume needs; best.safetensors (weights). */
glia_status glia_run_save_last_(glia_run_ *r);
glia_status glia_run_save_best_(glia_run_ *r);
/* Restore model, optimizer state and progress from last.safetensors. */
glia_status glia_run_load_last_(glia_run_ *r);

/* Lock the run folder r->dir for this process (rank 0) until glia_run_unlock_;
 * a folder another run holds fails at once, naming its PID. Then removes the
 * temporary files of killed writes there. */
glia_status glia_run_lock_(glia_run_ *r);
void glia_run_unlock_(glia_run_ *r);

/* Loss and Dice curves of the records as a PNG. */
glia_status glia_plot_curves_(const glia_history *h, const char *path);

#endif
