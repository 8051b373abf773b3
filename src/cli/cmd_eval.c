/* glia eval: Dice, IoU, sensitivity, specificity, HD95 and volumes per case and region. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"

static void on_case(void *user, int i, int n, const char *id)
{
    glia_cli_progress_step(user, i + 1, n);   /* only on a terminal */
}

typedef struct eval_args {
    const char *data, *pred, *run, *split, *target, *out, *device, *cases;
    const char *channels, *modalities, *window;   /* what weights without glia's metadata mean */
    long threads, batch;
    double overlap;
    int no_hd95, tta;
} eval_args;

/* The cases to evaluate: a split's part (--split, or the run's split.json), else every labelled case. */
static int pick_cases(const glia_dataset *ds, const eval_args *a, int **cases, int *n)
{
    char path[GLIA_PATH_MAX + 16];
    const char *split = a->split;
    if (!split && a->run) {
        snprintf(path, sizeof path, "%s/split.json", a->run);
        split = path;
    }
    const char *part = a->cases ? a->cases : split ? "val" : "all";
    if (strcmp(part, "all") && strcmp(part, "val") && strcmp(part, "train"))
        return glia_cli_usage_error("eval: --cases needs all, val or train, got '%s'", part);
    *cases = malloc(((size_t)glia_dataset_count(ds) + 1) * sizeof **cases);
    *n = 0;
    if (!*cases)
        return glia_cli_usage_error("eval: out of memory");
    if (strcmp(part, "all") == 0) {
        for (int i = 0; i < glia_dataset_count(ds); i++)
            if (glia_dataset_case_labelled(ds, i))
                (*cases)[(*n)++] = i;
        return 0;
    }
    if (!split)
        return glia_cli_usage_error("eval: --cases %s needs a split (--split FILE or --run RUNDIR)", part);
    glia_split s;
    glia_status st = glia_split_load(ds, split, &s);
    if (st != GLIA_STATUS_OK)
        return glia_cli_lib_error("eval: split", st);
    int val = strcmp(part, "val") == 0, cnt = val ? s.nval : s.ntrain;
    memcpy(*cases, val ? s.val : s.train, (size_t)cnt * sizeof **cases);
    *n = cnt;
    glia_split_free(&s);
    return 0;
}

static int write_outputs(const glia_eval_table *t, const char *out)
{
    char csv[GLIA_PATH_MAX + 16], json[GLIA_PATH_MAX + 16];
    snprintf(csv, sizeof csv, "%s/eval.csv", out);
    snprintf(json, sizeof json, "%s/eval.json", out);
    glia_status s;
    if ((s = glia_eval_table_write_csv(t, csv)) != GLIA_STATUS_OK || (s = glia_eval_table_write_json(t, json)))
        return glia_cli_lib_error("eval", s);
    printf("mean Dice %.4f over %d cases; wrote %s and %s\n", glia_eval_table_mean_dice(t, -1),
           glia_eval_table_cases(t), csv, json);
    return 0;
}

int glia_cmd_eval(int argc, char **argv)
{
    eval_args a = {.device = "auto", .threads = 0};
    const char **weights = NULL;
    int nweights = 0, nrest = 0;
    char **rest = malloc(((size_t)argc + 1) * sizeof *rest);
    if (!rest)
        return glia_cli_usage_error("eval: out of memory");
    int rc = glia_cli_take_list("eval", "--weights", ".safetensors", argc, argv, &weights, &nweights, rest, &nrest);
    const glia_cli_opt opts[] = {
        {"--data", GLIA_CLI_STR, &a.data, 0, 0},       {"--pred", GLIA_CLI_STR, &a.pred, 0, 0},
        {"--run", GLIA_CLI_STR, &a.run, 0, 0},         {"--split", GLIA_CLI_STR, &a.split, 0, 0},
        {"--cases", GLIA_CLI_STR, &a.cases, 0, 0},     {"--target", GLIA_CLI_STR, &a.target, 0, 0},
        GLIA_CLI_OUT(&a.out),                          GLIA_CLI_DEVICE(&a.device),
        GLIA_CLI_THREADS(&a.threads),                  GLIA_CLI_BATCH(&a.batch),
        {"--overlap", GLIA_CLI_FLOAT, &a.overlap, 0, 0.95}, {"--no-hd95", GLIA_CLI_FLAG, &a.no_hd95, 0, 0},
        {"--tta", GLIA_CLI_FLAG, &a.tta, 0, 0},         {"--channels", GLIA_CLI_STR, &a.channels, 0, 0},
        {"--modalities", GLIA_CLI_STR, &a.modalities, 0, 0}, {"--window", GLIA_CLI_STR, &a.window, 0, 0},
    };
    if (!rc)
        rc = glia_cli_parse("eval", opts, sizeof opts / sizeof *opts, nrest, rest, NULL, 0, NULL);
    char best[GLIA_PATH_MAX + 32], outdir[GLIA_PATH_MAX + 16];
    glia_train_config rcfg;
    if (!rc && a.run) { /* a training run supplies the data, the split and its best weights */
        char cfg[GLIA_PATH_MAX + 16];
        snprintf(cfg, sizeof cfg, "%s/config.json", a.run);
        glia_train_config_default(&rcfg);
        glia_status s = glia_train_config_load(&rcfg, cfg);
        if (s != GLIA_STATUS_OK)
            rc = glia_cli_lib_error("eval: --run", s);
        if (!a.data)
            a.data = rcfg.data;
        snprintf(best, sizeof best, "%s/best.safetensors", a.run);
        if (!a.pred && !nweights) {
            weights[0] = best;
            nweights = 1;
        }
        snprintf(outdir, sizeof outdir, "%s/eval", a.run);
        if (!a.out)
            a.out = outdir;
    }
    if (!rc && (!a.data || (!a.pred == !nweights)))
        rc = glia_cli_usage_error("eval: give --data DIR and either --pred DIR or --weights CKPT... (or --run RUNDIR)");
    glia_device *dev = NULL;
    glia_dataset *ds = NULL;
    glia_predictor *p = NULL;
    glia_eval_table *t = NULL;
    int *cases = NULL, ncases = 0;
    glia_status s = GLIA_STATUS_OK;
    if (!rc && (s = glia_dataset_open(a.data, NULL, &ds)) != GLIA_STATUS_OK)
        rc = glia_cli_lib_error("eval: --data", s);
    if (!rc)
        rc = pick_cases(ds, &a, &cases, &ncases);
    if (!rc && ncases == 0)
        rc = glia_cli_usage_error("eval: no labelled case to evaluate in %s", a.data);
    glia_label_info li;
    char spec[64];
    if (!rc && nweights) {
        if (!glia_cli_rank_device("eval", a.device, &a.threads, spec, sizeof spec) ||
            !glia_cli_open_device(spec, a.threads, &dev))
            rc = 1;
        else if ((s = glia_predictor_open(dev, weights, nweights, &p)) != GLIA_STATUS_OK)
            rc = glia_cli_lib_error("eval: --weights", s);
        else if (!(rc = glia_cli_weights_meaning("eval", p, a.channels, a.modalities)))
            li = glia_predictor_get_info(p)->labels;
    } else if (!rc) {
        glia_target target = glia_dataset_default_target(ds);
        if (a.target && !strcmp(a.target, "wt"))
            target = GLIA_TARGET_WT;
        else if (a.target && !strcmp(a.target, "labels"))
            target = GLIA_TARGET_LABELS;
        else if (a.target && strcmp(a.target, "regions"))
            rc = glia_cli_usage_error("eval: --target needs regions, wt or labels, got '%s'", a.target);
        if (!rc && (s = glia_label_info_from_dataset(ds, target, &li)) != GLIA_STATUS_OK)
            rc = glia_cli_lib_error("eval: --target", s);
    }
    glia_cli_progress bar;
    glia_cli_progress_start(&bar, "evaluating");
    glia_predict_options po = {.batch = (int)a.batch, .overlap = (float)a.overlap, .tta = a.tta};
    if (!rc)
        rc = glia_cli_window("eval", a.window, po.window);
    if (!rc) {
        glia_eval_options eo = {.pred_dir = a.pred, .predictor = p, .predict = &po, .with_hd95 = !a.no_hd95,
                                .on_case = on_case, .user = &bar, .dist = glia_cli_dist};
        s = glia_eval_dataset(ds, cases, ncases, &li, &eo, &t);
        glia_cli_progress_end(&bar);
        if (s != GLIA_STATUS_OK)
            rc = glia_cli_lib_error("eval", s);
    }
    if (!rc && glia_dist_rank(glia_cli_dist) == 0) { /* rank 0 reports for the job */
        glia_eval_table_print(t, stdout);
        const char *out = a.out ? a.out : "glia-eval";
        rc = glia_cli_mkdir("eval", out) ? 1 : write_outputs(t, out);
    }
    glia_eval_table_free(t);
    glia_predictor_free(p);
    glia_dataset_free(ds);
    glia_device_close(dev);
    free(cases);
    free(weights);
    free(rest);
    return rc;
}
