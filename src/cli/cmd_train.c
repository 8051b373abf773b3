/* glia train: a training run from flags, a preset and/or a JSON config; resume; Ctrl-C saves and exits. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"

static volatile sig_atomic_t stop_flag;

static void on_sigint(int sig)
{
    (void)sig;
    stop_flag = 1;
    /* a second Ctrl-C ends the process at once */
    signal(sig, SIG_DFL);
}


void glia_cli_train_progress(void *user, const glia_train_progress *p)
{
    glia_cli_reporter *r = user;
    if (!r->tty)
        return;
    char bar[25], eta[32], run_eta[32];
    glia_cli_bar(bar, 24, p->step, p->steps);
    glia_cli_clock_text(p->eta, eta, sizeof eta);
    /* the run's rest: this epoch's, then the epochs to come at this epoch's pace */
    glia_cli_clock_text(p->eta + (p->epochs - p->epoch) * (p->elapsed + p->eta), run_eta, sizeof run_eta);
    if (p->validating)
        fprintf(stderr, "\r\033[Kepoch %d/%d validating [%s] %lld/%lld cases  loss %.4f  ETA %s", p->epoch, p->epochs,
                bar, (long long)p->step, (long long)p->steps, p->mean_loss, eta);
    else
        fprintf(stderr, "\r\033[Kepoch %d/%d [%s] %lld/%lld  loss %.4f  lr %.2e  %.1f img/s  ETA %s (run %s)",
                p->epoch, p->epochs, bar, (long long)p->step, (long long)p->steps, p->mean_loss, p->lr,
                p->images_per_s, eta, run_eta);
    r->bar_shown = 1;
}

void glia_cli_train_epoch(void *user, const glia_epoch_log *e)
{
    glia_cli_reporter *r = user;
    if (r->bar_shown)
        fputs("\r\033[K", stderr);
    r->bar_shown = 0;
    printf("epoch %3d  train %.4f", e->epoch, e->train_loss);
    if (e->val_loss == e->val_loss) {
        printf("  val %.4f  dice", e->val_loss);
        for (int i = 0; i < e->regions; i++)
            printf(" %s %.4f", e->region[i], e->dice[i]);
        if (e->regions > 1)
            printf(" mean %.4f", e->mean_dice);
    } else {
        printf("  (no validation)");
    }
    printf("  lr %.3g  %.1f img/s  %.1f s\n", e->lr, e->images_per_s, e->seconds);
    fflush(stdout);
}

/* Preset and --config first (whatever their place), then the other flags in order. */
static int apply_args(glia_train_config *cfg, int argc, char **argv, const char **out, const char **resume,
                      int *epochs_given)
{
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        int has_val = i + 1 < argc;
        if (strcmp(a, "--preset") == 0 && has_val) {
            if (glia_train_preset(argv[++i], cfg) != GLIA_STATUS_OK)
                return glia_cli_usage_error("train: %s", glia_last_error());
        }
    }
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc &&
            glia_train_config_load(cfg, argv[++i]) != GLIA_STATUS_OK)
            return glia_cli_usage_error("train: --config %s", glia_last_error());
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0 && strcmp(a, "-o") != 0)
            return glia_cli_usage_error("train: unexpected argument '%s' (see 'glia help train')", a);
        int is_bool = 0, known = 0;
        const char *name = a + 2;
        int negated = strncmp(name, "no-", 3) == 0;
        for (int k = 0; glia_train_config_key(k, NULL, NULL); k++) {
            const char *key = glia_train_config_key(k, &is_bool, NULL);
            char flag[64];
            snprintf(flag, sizeof flag, "%s", key);
            for (char *c = flag; *c; c++)
                *c = *c == '_' ? '-' : *c;
            if (strcmp(flag, negated ? name + 3 : name) == 0 && (!negated || is_bool)) {
                known = 1;
                break;
            }
        }
        if (known && is_bool) {
            if (glia_train_config_set(cfg, negated ? name + 3 : name, negated ? "false" : "true") != GLIA_STATUS_OK)
                return glia_cli_usage_error("train: %s", glia_last_error());
            continue;
        }
        if (i + 1 >= argc)
            return glia_cli_usage_error("train: option %s needs a value", a);
        const char *v = argv[++i];
        if (strcmp(a, "--out") == 0 || strcmp(a, "-o") == 0)
            *out = v;
        else if (strcmp(a, "--resume") == 0)
            *resume = v;
        else if (strcmp(a, "--preset") == 0 || strcmp(a, "--config") == 0)
            continue;
        else if (!known)
            return glia_cli_usage_error("train: unknown option '%s' (see 'glia help train')", a);
        else if (glia_train_config_set(cfg, name, v) != GLIA_STATUS_OK)
            return glia_cli_usage_error("train: %s", glia_last_error());
        if (strcmp(a, "--epochs") == 0)
            *epochs_given = 1;
    }
    return 0;
}

static void note(void *user, const char *text) { fprintf(stderr, "glia: train: note: %s\n", text); }

/* How gradient averaging went: what rank 0 saw. */
static void comm_report(const glia_reducer_stats *c, int ranks)
{
    double steps = c->steps ? (double)c->steps : 1;
    fprintf(stderr,
            "data parallel: %d ranks over %s; gradients %.1f MB per step in %d bucket(s); per step: backward with "
            "allreduce %.1f ms, of which waiting after backward %.1f ms (%.0f%%) and host staging %.1f ms\n",
            ranks, glia_dist_library(glia_cli_dist), (double)c->bytes / 1e6, c->buckets,
            1e3 * c->backward_seconds / steps, 1e3 * c->wait_seconds / steps,
            c->backward_seconds > 0 ? 100 * c->wait_seconds / c->backward_seconds : 0, 1e3 * c->stage_seconds / steps);
}

/* With --resume only --epochs, --device and --threads may accompany it: config.json holds the rest. */
static int resume_args_ok(int argc, char **argv)
{
    for (int i = 0; i < argc; i += 2)
        if (strcmp(argv[i], "--resume") && strcmp(argv[i], "--epochs") && strcmp(argv[i], "--device") &&
            strcmp(argv[i], "--threads"))
            return glia_cli_usage_error("train: with --resume only --epochs, --device and --threads may be given "
                                        "(the run's config.json holds the rest), not %s",
                                        argv[i]);
    return 0;
}

int glia_cmd_train(int argc, char **argv)
{
    glia_train_config cfg;
    glia_train_config_default(&cfg);
    const char *out = NULL, *resume = NULL;
    int epochs_given = 0;
    int rc = apply_args(&cfg, argc, argv, &out, &resume, &epochs_given);
    if (rc)
        return rc;
    if (resume && (rc = resume_args_ok(argc, argv)))
        return rc;
    if (!resume && !out)
        return glia_cli_usage_error("train: name the run folder with --out RUNDIR (or continue one with --resume RUNDIR)");
    if (!resume && glia_train_config_check(&cfg) != GLIA_STATUS_OK)
        return glia_cli_usage_error("train: %s", glia_last_error());
    const char *device = cfg.device;
    int device_given = 0;
    for (int i = 0; i + 1 < argc; i++)
        device_given |= strcmp(argv[i], "--device") == 0;
    if (resume && !device_given) { /* the run's own device, as config.json names it */
        glia_train_config saved;
        glia_train_config_default(&saved);
        char path[GLIA_PATH_MAX + 16];
        snprintf(path, sizeof path, "%s/config.json", resume);
        glia_status ls = glia_train_config_load(&saved, path);
        if (ls == GLIA_STATUS_IO_ERROR) {
            fprintf(stderr, "glia: train: %s holds no run to resume (no readable config.json)\n", resume);
            return 1;
        }
        if (ls != GLIA_STATUS_OK)
            return glia_cli_lib_error("train: --resume", ls);
        snprintf(cfg.device, sizeof cfg.device, "%s", saved.device);
        cfg.threads = saved.threads;
    }
    glia_device *dev = NULL;
    char spec[sizeof cfg.device];
    long threads = cfg.threads;
    if (!glia_cli_rank_device("train", device, &threads, spec, sizeof spec) ||
        !glia_cli_open_device(spec, threads, &dev))
        return 1;
    const glia_device_info *di = glia_device_get_info(dev);
    int rank = glia_dist_rank(glia_cli_dist), ranks = glia_dist_size(glia_cli_dist);
    glia_cli_reporter rep = {.tty = isatty(2)};
    /* rank 0 reports for the job */
    glia_train_options o = {.device = dev, .on_progress = rank ? NULL : glia_cli_train_progress,
                            .on_epoch = rank ? NULL : glia_cli_train_epoch, .user = &rep, .stop = &stop_flag,
                            .dist = glia_cli_dist, .on_note = note};
    char who[48] = "";
    if (ranks > 1)
        snprintf(who, sizeof who, "rank %d of %d: ", rank, ranks);
    /* Ctrl-C, or the SIGTERM mpirun and batch schedulers send, saves and stops (all ranks at the same step) */
    struct sigaction sa = {.sa_handler = on_sigint}, old, old_term;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old);
    sigaction(SIGTERM, &sa, &old_term);
    glia_train_result res;
    glia_status s;
    if (resume) {
        fprintf(stderr, "%sresuming %s on %s:%d (%s)\n", who, resume, di->backend, di->index, di->name);
        s = glia_train_resume(resume, epochs_given ? cfg.epochs : 0, device, &o, &res);
        out = resume;
    } else {
        fprintf(stderr, "%straining %s on %s:%d (%s) into %s\n", who, glia_model_arch_name(cfg.model.arch),
                di->backend, di->index, di->name, out);
        s = glia_train_run(&cfg, out, &o, &res);
    }
    sigaction(SIGINT, &old, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (rep.bar_shown)
        fputs("\r\033[K", stderr);
    glia_device_close(dev);
    if (s != GLIA_STATUS_OK)
        return glia_cli_lib_error("train", s);
    if (rank != 0)
        return res.interrupted ? 130 : 0;
    if (ranks > 1)
        comm_report(&res.comm, ranks);
    if (res.interrupted) {
        fprintf(stderr, "interrupted: %s saved after %d complete epochs; continue with: glia train --resume %s\n",
                res.last_path, res.epochs_done, out);
        return 130;
    }
    if (res.best_epoch > 0 && res.best_dice == res.best_dice)
        printf("best: epoch %d, validation Dice %.4f -> %s\n", res.best_epoch, res.best_dice, res.best_path);
    else if (res.best_epoch > 0)
        printf("no validation cases: %s holds the last epoch's weights\n", res.best_path);
    printf("run folder: %s (last.safetensors, best.safetensors, log.csv, log.json, curves.png)\n", out);
    return 0;
}
