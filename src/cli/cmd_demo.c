/* glia demo: synthesise a small BraTS-format set, train a small 2-D U-Net on
 * the 'auto' device, evaluate it on held-out cases, segment one, and say where
 * everything is. No download; a few minutes on two CPU cores. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "cli.h"

static volatile sig_atomic_t demo_stop;

static void on_sigint(int sig)
{
    (void)sig;
    demo_stop = 1;
    signal(SIGINT, SIG_DFL);
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int set_all(glia_train_config *c, const char *const (*kv)[2], int n)
{
    for (int i = 0; i < n; i++)
        if (glia_train_config_set(c, kv[i][0], kv[i][1]) != GLIA_STATUS_OK)
            return glia_cli_lib_error("demo", GLIA_STATUS_INTERNAL);
    return 0;
}

/* Train the run folder's model; 0 on success, 130 when interrupted. */
static int train(const char *data, const char *run, const char *device, long threads, glia_device **dev)
{
    static const char *const kv[][2] = {
        {"model", "unet2d"}, {"features", "8,16,32,64"}, {"target", "regions"}, {"folds", "4"},
        {"epochs", "10"},    {"steps_per_epoch", "50"},  {"batch", "8"},        {"optimizer", "adam"},
        {"lr", "0.003"},     {"loss", "dice+bce"},       {"drop_empty", "0.7"}, {"seed", "0"},
    };
    glia_train_config cfg;
    glia_train_config_default(&cfg);
    snprintf(cfg.data, sizeof cfg.data, "%.1000s", data);
    snprintf(cfg.device, sizeof cfg.device, "%s", device);
    cfg.threads = (int)threads;
    if (set_all(&cfg, kv, sizeof kv / sizeof kv[0]))
        return 1;
    if (!glia_cli_open_device(device, threads, dev))
        return 1;
    const glia_device_info *di = glia_device_get_info(*dev);
    printf("[2/4] training a 2-D U-Net (features 8,16,32,64; WT/TC/ET) on %s:%d (%s) into %s\n", di->backend, di->index,
           di->name, run);
    fflush(stdout);
    glia_cli_reporter rep = {.tty = isatty(2)};
    glia_train_options o = {.device = *dev, .on_progress = glia_cli_train_progress,
                            .on_epoch = glia_cli_train_epoch, .user = &rep, .stop = &demo_stop};
    glia_train_result res;
    glia_status s = glia_train_run(&cfg, run, &o, &res);
    if (rep.bar_shown)
        fputs("\r\033[K", stderr);
    if (s != GLIA_STATUS_OK)
        return glia_cli_lib_error("demo: train", s);
    if (res.interrupted) {
        fprintf(stderr, "interrupted: continue the training with: glia train --resume %s\n", run);
        return 130;
    }
    return 0;
}

static int evaluate(glia_device *dev, const char *data, const char *run, const char *outdir, char *case_id,
                    size_t len, double *dice, char (*names)[16], int *regions)
{
    char best[4096], split[4096];
    snprintf(best, sizeof best, "%.4000s/best.safetensors", run);
    snprintf(split, sizeof split, "%.4000s/split.json", run);
    glia_dataset *ds = NULL;
    glia_predictor *p = NULL;
    glia_eval_table *t = NULL;
    glia_split sp = {0};
    const char *w = best;
    glia_status s = glia_dataset_open(data, NULL, &ds);
    if (s == GLIA_STATUS_OK)
        s = glia_split_load(ds, split, &sp);
    if (s == GLIA_STATUS_OK)
        s = glia_predictor_open(dev, &w, 1, &p);
    if (s == GLIA_STATUS_OK) {
        printf("[3/4] evaluating %s on the %d held-out cases\n", best, sp.nval);
        glia_eval_options eo = {.predictor = p, .with_hd95 = 1};
        s = glia_eval_dataset(ds, sp.val, sp.nval, &glia_predictor_get_info(p)->labels, &eo, &t);
    }
    char csv[4200], json[4200];
    snprintf(csv, sizeof csv, "%s/eval.csv", outdir);
    snprintf(json, sizeof json, "%s/eval.json", outdir);
    if (s == GLIA_STATUS_OK && !glia_cli_mkdir("demo", outdir) &&
        (s = glia_eval_table_write_csv(t, csv)) == GLIA_STATUS_OK && (s = glia_eval_table_write_json(t, json)) == GLIA_STATUS_OK) {
        glia_eval_table_print(t, stdout);
        *regions = glia_eval_table_regions(t);
        for (int r = 0; r < *regions && r < GLIA_METRICS_MAX_CHANNELS; r++) {
            dice[r] = glia_eval_table_get(t, -1, r)->dice;
            snprintf(names[r], sizeof names[r], "%s", glia_eval_table_region(t, r));
        }
        /* the held-out case folder to segment next */
        snprintf(case_id, len, "%s/%s", data, glia_dataset_case_id(ds, sp.val[0]));
    }
    int rc = s == GLIA_STATUS_OK ? 0 : glia_cli_lib_error("demo: eval", s);
    glia_eval_table_free(t);
    glia_predictor_free(p);
    glia_split_free(&sp);
    glia_dataset_free(ds);
    return rc;
}

static int segment(glia_device *dev, const char *run, const char *case_dir, const char *outdir, char *report,
                   size_t len)
{
    char best[4096];
    snprintf(best, sizeof best, "%.4000s/best.safetensors", run);
    const char *w = best, *id = strrchr(case_dir, '/') ? strrchr(case_dir, '/') + 1 : case_dir;
    printf("[4/4] segmenting %s\n", id);
    glia_predictor *p = NULL;
    glia_case *c = NULL;
    float *prob = NULL;
    glia_volume_report r;
    glia_infer_outputs o = {.overlays = 3};
    glia_status s = glia_predictor_open(dev, &w, 1, &p);
    if (s == GLIA_STATUS_OK)
        s = glia_case_from_folder(case_dir, &glia_predictor_get_info(p)->labels, &c);
    if (s == GLIA_STATUS_OK)
        s = glia_predictor_run(p, c, NULL, &prob);
    if (s == GLIA_STATUS_OK && !glia_cli_mkdir("demo", outdir))
        s = glia_infer_write(p, c, prob, outdir, id, &o, &r);
    if (s == GLIA_STATUS_OK) {
        for (int k = 0; k < r.regions; k++)
            printf("      %-4s %8.2f mL\n", r.names[k], r.ml[k]);
        snprintf(report, len, "%.2000s/%.200s", outdir, id);
    }
    free(prob);
    glia_case_free(c);
    glia_predictor_free(p);
    return s == GLIA_STATUS_OK ? 0 : glia_cli_lib_error("demo: infer", s);
}

int glia_cmd_demo(int argc, char **argv)
{
    const char *out = "glia-demo", *device = "auto";
    long threads = 0, cases = 16;
    const glia_cli_opt opts[] = {
        GLIA_CLI_OUT(&out),
        GLIA_CLI_DEVICE(&device),
        GLIA_CLI_THREADS(&threads),
        {"--cases", GLIA_CLI_INT, &cases, 8, 1000},
    };
    int rc = glia_cli_parse("demo", opts, sizeof opts / sizeof *opts, argc, argv, NULL, 0, NULL);
    if (rc)
        return rc;
    if (strlen(out) > 900)
        return glia_cli_usage_error("demo: the folder name is longer than 900 bytes");
    char data[4096], run[4096], evald[4096], inferd[4096], probe[4200];
    snprintf(data, sizeof data, "%s/data", out);
    snprintf(run, sizeof run, "%s/run", out);
    snprintf(evald, sizeof evald, "%s/eval", out);
    snprintf(inferd, sizeof inferd, "%s/infer", out);
    snprintf(probe, sizeof probe, "%s/config.json", run);
    if (access(probe, F_OK) == 0)
        return glia_cli_usage_error("demo: %s holds an earlier demo: remove it or choose another folder with -o DIR", out);
    if (glia_cli_mkdir("demo", out))
        return 1;
    double t0 = now();
    printf("[1/4] synthesising %ld BraTS-format cases (64x64x40, 4 modalities, labels 0/1/2/4) into %s\n", cases, data);
    fflush(stdout);
    glia_synth_options so = {.layout = GLIA_LAYOUT_BRATS2021, .cases = (int)cases, .seed = 0, .size = {64, 64, 40},
                             .p_no_tumour = 0};
    glia_status s = glia_synth_write(data, &so);
    if (s != GLIA_STATUS_OK)
        return glia_cli_lib_error("demo: synth", s);
    struct sigaction sa = {.sa_handler = on_sigint}, old;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old);
    glia_device *dev = NULL;
    rc = train(data, run, device, threads, &dev);
    sigaction(SIGINT, &old, NULL);
    char case_dir[4200] = "", report[4300] = "";
    double dice[GLIA_METRICS_MAX_CHANNELS];
    char names[GLIA_METRICS_MAX_CHANNELS][16];
    int regions = 0;
    if (!rc)
        rc = evaluate(dev, data, run, evald, case_dir, sizeof case_dir, dice, names, &regions);
    if (!rc)
        rc = segment(dev, run, case_dir, inferd, report, sizeof report);
    glia_device_close(dev);
    if (rc)
        return rc;
    double t = now() - t0;
    printf("\ndone in %dm%02ds: held-out Dice", (int)(t / 60), (int)t % 60);
    for (int r = 0; r < regions; r++)
        printf(" %s %.3f", names[r], dice[r]);
    printf("\n  training curves  %s/curves.png (log.csv, log.json)\n", run);
    printf("  checkpoints      %s/best.safetensors, last.safetensors\n", run);
    printf("  evaluation       %s/eval.csv, eval.json\n", evald);
    printf("  overlays         %s_overlay_*.png\n", report);
    printf("  report           %s_report.txt (.json), mask %s_seg.nii.gz\n", report, report);
    return 0;
}
