/* Learning-rate schedules as pure functions of the step count (PyTorch's
 * closed forms), so a resumed run needs only the count. */
#include <math.h>
#include "core/core.h"
#include "glia/optim.h"

glia_status glia_schedule_check(const glia_schedule *s)
{
    if (!s)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "schedule is NULL");
    if (!(s->base_lr >= 0) || !isfinite(s->base_lr))
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "schedule: learning rate %g must be >= 0", s->base_lr);
    if (s->warmup < 0 || (s->warmup > 0 && !(s->warmup_start >= 0 && s->warmup_start <= 1)))
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "schedule: warm-up %lld steps from factor %g (0..1)",
                           (long long)s->warmup, s->warmup_start);
    switch (s->kind) {
    case GLIA_SCHED_CONSTANT:
        return GLIA_STATUS_OK;
    case GLIA_SCHED_STEP:
        if (s->step_size < 1 || !(s->gamma > 0))
            return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "step schedule: step size %lld >= 1, gamma %g > 0",
                               (long long)s->step_size, s->gamma);
        return GLIA_STATUS_OK;
    case GLIA_SCHED_COSINE:
        if (s->t_max < 1 || !(s->eta_min >= 0))
            return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "cosine schedule: T_max %lld >= 1, eta_min %g >= 0",
                               (long long)s->t_max, s->eta_min);
        return GLIA_STATUS_OK;
    case GLIA_SCHED_POLY:
        if (s->total < 1 || !(s->power > 0))
            return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "poly schedule: total %lld >= 1, power %g > 0",
                               (long long)s->total, s->power);
        return GLIA_STATUS_OK;
    }
    return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "schedule: unknown kind %d", (int)s->kind);
}

double glia_schedule_lr(const glia_schedule *s, int64_t t)
{
    if (!s || t < 0)
        return 0.0;
    if (t < s->warmup)
        return s->base_lr * (s->warmup_start + (1.0 - s->warmup_start) * (double)t / (double)s->warmup);
    t -= s->warmup;
    switch (s->kind) {
    case GLIA_SCHED_STEP:
        return s->step_size > 0 ? s->base_lr * pow(s->gamma, (double)(t / s->step_size)) : s->base_lr;
    case GLIA_SCHED_COSINE:
        if (s->t_max < 1)
            return s->base_lr;
        return s->eta_min + (s->base_lr - s->eta_min) * (1.0 + cos(M_PI * (double)t / (double)s->t_max)) / 2.0;
    case GLIA_SCHED_POLY: {
        if (s->total < 1)
            return s->base_lr;
        double f = 1.0 - (double)(t < s->total ? t : s->total) / (double)s->total;
        return s->base_lr * pow(f, s->power);
    }
    case GLIA_SCHED_CONSTANT:
    default:
        return s->base_lr;
    }
}
