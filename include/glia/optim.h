/* glia — optimizers and learning-rate schedules, with PyTorch's formulas so
 * runs can be compared step by step. */
#ifndef GLIA_OPTIM_H
#define GLIA_OPTIM_H

#include "params.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum glia_optim_kind { GLIA_OPTIM_SGD = 0, GLIA_OPTIM_ADAM, GLIA_OPTIM_ADAMW } glia_optim_kind;

typedef struct glia_optim_options {
    glia_optim_kind kind;
    float lr;
    float momentum, dampening;  /* SGD */
    int nesterov;               /* SGD; needs momentum > 0 and dampening 0 */
    float beta1, beta2, eps;    /* Adam/AdamW; both betas 0 = (0.9, 0.999); eps 0 = 1e-8 */
    float weight_decay;         /* taken literally (PyTorch's AdamW default is 0.01: pass it) */
} glia_optim_options;

typedef struct glia_optimizer glia_optimizer;

/* An optimizer over the trainable entries of params (which must outlive it).
 * State (momentum buffers, moments) is created lazily on the first step, as
 * in PyTorch. */
glia_status glia_optim_create(glia_params *params, const glia_optim_options *opts, glia_optimizer **out);
void glia_optim_free(glia_optimizer *opt);
/* One update of every trainable parameter that has a gradient, at the current lr. */
glia_status glia_optim_step(glia_optimizer *opt);
void glia_optim_set_lr(glia_optimizer *opt, float lr);
float glia_optim_lr(const glia_optimizer *opt);
/* Steps taken so far (Adam's t). */
int64_t glia_optim_steps(const glia_optimizer *opt);
/* State for checkpoints: the state tensors as named entries
 * ("<param>.momentum_buffer", "<param>.exp_avg", "<param>.exp_avg_sq") plus the
 * step count. export adds references into `state` (created by the caller);
 * import copies values from a set with the same names and shapes. */
glia_status glia_optim_export(glia_optimizer *opt, glia_params *state, int64_t *steps);
glia_status glia_optim_import(glia_optimizer *opt, const glia_params *state, int64_t steps);

/* ---- schedules ------------------------------------------------------------- */
typedef enum glia_sched_kind {
    GLIA_SCHED_CONSTANT = 0,
    GLIA_SCHED_STEP,        /* lr * gamma^floor(t / step_size)              (StepLR) */
    GLIA_SCHED_COSINE,      /* eta_min + (lr - eta_min)(1 + cos(pi t / t_max))/2 (CosineAnnealingLR) */
    GLIA_SCHED_POLY         /* lr * (1 - min(t, total)/total)^power        (PolynomialLR) */
} glia_sched_kind;

/* A schedule is plain data: the lr is a pure function of the step (or epoch)
 * count, so resuming needs only the count. */
typedef struct glia_schedule {
    glia_sched_kind kind;
    double base_lr;
    int64_t step_size;      /* STEP */
    double gamma;           /* STEP */
    int64_t t_max;          /* COSINE */
    double eta_min;         /* COSINE */
    int64_t total;          /* POLY */
    double power;           /* POLY; PyTorch's default 1 */
    int64_t warmup;         /* linear warm-up steps in front (0 = none) */
    double warmup_start;    /* warm-up starts at base_lr * warmup_start (LinearLR start_factor) */
} glia_schedule;

/* Check a schedule's fields; INVALID_ARGUMENT names the bad one. */
glia_status glia_schedule_check(const glia_schedule *s);
/* Learning rate at step t >= 0. During warm-up (t < warmup) it rises linearly
 * from base_lr*warmup_start to base_lr; afterwards the main schedule runs at
 * t - warmup. */
double glia_schedule_lr(const glia_schedule *s, int64_t t);

#ifdef __cplusplus
}
#endif
#endif
