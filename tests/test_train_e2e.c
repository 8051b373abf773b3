/* glia train end to end on small synthetic BraTS data: every model learns,
 * an interrupted and resumed run ends with the uninterrupted run's weights
 * and optimizer state bit for bit, SIGINT leaves a loadable checkpoint, a NaN
 * loss stops with a clear error, configurations round-trip through JSON. */
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include "product_util.h"

static char *root, *data;
static const char *glia_bin;
static glia_device *dev;

static int setup(void **state) { return pu_fixture_open("train", 6, 2, &root, &data, &dev); }

static int teardown(void **state) { return pu_fixture_close(root, data, dev); }

#define check pu_check

/* A small 2-D run: 32x32 slices, 8,16 features, 4 epochs of 12 steps. */
static void small_config(glia_train_config *c, const char *model)
{
    glia_train_config_default(c);
    snprintf(c->data, sizeof c->data, "%s", data);
    check(glia_train_config_set(c, "model", model));
    check(glia_train_config_set(c, "features", strcmp(model, "unet3d") == 0 ? "4,8" : "8,16"));
    check(glia_train_config_set(c, "target", "wt"));
    check(glia_train_config_set(c, "folds", "3"));
    check(glia_train_config_set(c, "epochs", "4"));
    check(glia_train_config_set(c, "steps-per-epoch", "12"));
    check(glia_train_config_set(c, "batch", "8"));
    check(glia_train_config_set(c, "lr", "0.01"));
    check(glia_train_config_set(c, "drop-empty", "0.5"));
    check(glia_train_config_set(c, "loader-threads", "1"));
    check(glia_train_config_set(c, "seed", "5"));
}

static void run(const glia_train_config *c, const char *name, glia_train_result *res)
{
    glia_train_options o = {.device = dev};
    check(glia_train_run(c, pu_path(root, name), &o, res));
}

static void learns(const char *model, double min_dice)
{
    glia_train_config c;
    small_config(&c, model);
    if (strcmp(model, "unet3d") == 0) {
        check(glia_train_config_set(&c, "size", "16,16,16"));
        check(glia_train_config_set(&c, "batch", "2"));
        check(glia_train_config_set(&c, "fg-fraction", "0.7"));
    }
    glia_train_result res;
    run(&c, model, &res);
    assert_int_equal(res.epochs_done, 4);
    /* the records glia wrote: the loss falls, validation finds the tumour */
    glia_safetensors *st = NULL;
    check(glia_safetensors_open(pu_path(pu_path(root, model), "last.safetensors"), &st));
    const char *hist = glia_meta_get(glia_safetensors_meta(st), "history");
    assert_non_null(hist);
    /* inference reads how inputs were prepared from this record, not from the training configuration */
    const char *pre = glia_meta_get(glia_safetensors_meta(st), "preprocess");
    assert_non_null(pre);
    assert_non_null(strstr(pre, "\"zscore\":true"));
    if (strcmp(model, "unet3d") == 0)
        assert_non_null(strstr(pre, "\"size\":[16,16,16]"));
    /* a shared checkpoint names the data by its folder name, not the author's whole path */
    const char *how = glia_meta_get(glia_safetensors_meta(st), "glia_train");
    assert_non_null(how);
    assert_null(strstr(how, c.data));
    assert_non_null(strstr(how, strrchr(c.data, '/') + 1));
    glia_safetensors_close(st);
    FILE *f = fopen(pu_path(pu_path(root, model), "log.csv"), "r");
    assert_non_null(f);
    char line[512];
    double first = NAN, last = NAN;
    assert_non_null(fgets(line, sizeof line, f)); /* header */
    while (fgets(line, sizeof line, f)) {
        double loss = strtod(strchr(line, ',') + 1, NULL);
        if (isnan(first))
            first = loss;
        last = loss;
    }
    fclose(f);
    print_message("%s: train loss %.4f -> %.4f, validation Dice %.4f\n", model, first, last, res.last.mean_dice);
    assert_true(last < 0.9 * first);
    assert_true(res.last.mean_dice > min_dice);
    assert_int_equal(access(pu_path(pu_path(root, model), "curves.png"), R_OK), 0);
    assert_int_equal(access(pu_path(pu_path(root, model), "best.safetensors"), R_OK), 0);
}

static void unet2d_learns(void **state)
{
    (void)state;
    learns("unet2d", 0.3);
}

static void r2unet_learns(void **state)
{
    (void)state;
    learns("r2unet", 0.1);
}

static void unet3d_learns(void **state)
{
    (void)state;
    learns("unet3d", 0.05);
}

/* Every tensor of two checkpoints (weights, buffers, counters, optimizer state) byte for byte. */
static void same_tensors(const char *a, const char *b)
{
    glia_safetensors *sa = NULL, *sb = NULL;
    check(glia_safetensors_open(a, &sa));
    check(glia_safetensors_open(b, &sb));
    assert_int_equal(glia_safetensors_count(sa), glia_safetensors_count(sb));
    for (int i = 0; i < glia_safetensors_count(sa); i++) {
        const glia_st_entry *ea = glia_safetensors_entry(sa, i), *eb = glia_safetensors_find(sb, ea->name);
        assert_non_null(eb);
        assert_int_equal(ea->bytes, eb->bytes);
        char *x = malloc(ea->bytes + 1), *y = malloc(eb->bytes + 1);
        check(glia_safetensors_read(sa, ea, x, ea->bytes));
        check(glia_safetensors_read(sb, eb, y, eb->bytes));
        if (memcmp(x, y, ea->bytes) != 0)
            fail_msg("%s differs between %s and %s", ea->name, a, b);
        free(x);
        free(y);
    }
    glia_safetensors_close(sa);
    glia_safetensors_close(sb);
}

typedef struct stopper {
    volatile sig_atomic_t flag;
    int at_epoch, at_step, validating;
} stopper;

static void stop_at(void *user, const glia_train_progress *p)
{
    stopper *s = user;
    if (p->epoch == s->at_epoch && p->step == s->at_step && p->validating == s->validating)
        s->flag = 1;
}

static void resume_is_exact(void **state)
{
    (void)state;
    glia_train_config c;
    small_config(&c, "unet2d");
    check(glia_train_config_set(&c, "epochs", "3"));
    check(glia_train_config_set(&c, "steps-per-epoch", "5"));
    check(glia_train_config_set(&c, "optimizer", "sgd"));
    check(glia_train_config_set(&c, "momentum", "0.9"));
    check(glia_train_config_set(&c, "nesterov", "true"));
    check(glia_train_config_set(&c, "schedule", "cosine"));
    check(glia_train_config_set(&c, "t-max", "3"));
    check(glia_train_config_set(&c, "augment", "true"));
    glia_train_result a, b;
    run(&c, "whole", &a);

    /* stopped in the middle of epoch 2, then while validating epoch 3, resumed each time */
    const char *dir = pu_path(root, "pieces");
    stopper st = {.at_epoch = 2, .at_step = 3};
    glia_train_options o = {.device = dev, .on_progress = stop_at, .user = &st, .stop = &st.flag};
    check(glia_train_run(&c, dir, &o, &b));
    assert_int_equal(b.interrupted, 1);
    assert_int_equal(b.epochs_done, 1);
    st = (stopper){.at_epoch = 3, .at_step = 1, .validating = 1};
    check(glia_train_resume(dir, 0, NULL, &o, &b));
    assert_int_equal(b.interrupted, 1);
    assert_int_equal(b.epochs_done, 2);
    st = (stopper){0};
    check(glia_train_resume(dir, 0, NULL, &o, &b));
    assert_int_equal(b.interrupted, 0);
    assert_int_equal(b.epochs_done, 3);
    same_tensors(pu_path(pu_path(root, "whole"), "last.safetensors"), pu_path(dir, "last.safetensors"));
    assert_true(a.last.train_loss == b.last.train_loss);
    assert_true(a.last.val_loss == b.last.val_loss);
    assert_true(a.last.mean_dice == b.last.mean_dice);
    assert_int_equal(a.best_epoch, b.best_epoch);

    /* resume extends a finished run; a folder holding a run is not started over */
    check(glia_train_resume(dir, 4, NULL, &o, &b));
    assert_int_equal(b.epochs_done, 4);
    assert_int_equal(glia_train_run(&c, dir, &o, &b), GLIA_STATUS_INVALID_ARGUMENT);
    assert_non_null(strstr(glia_last_error(), "--resume"));
    assert_int_equal(glia_train_resume(pu_path(root, "nothing"), 0, NULL, &o, &b), GLIA_STATUS_IO_ERROR);
}

static void init_from_checkpoint(void **state)
{
    (void)state;
    glia_train_config c;
    small_config(&c, "unet2d");
    check(glia_train_config_set(&c, "epochs", "1"));
    check(glia_train_config_set(&c, "steps-per-epoch", "2"));
    snprintf(c.init, sizeof c.init, "%s", pu_path(pu_path(root, "unet2d"), "best.safetensors"));
    glia_train_result r;
    run(&c, "init", &r);
    /* transferred weights start where the first run ended: validation is already good */
    assert_true(r.last.mean_dice > 0.3);
    check(glia_train_config_set(&c, "features", "4,8"));
    glia_train_options o = {.device = dev};
    assert_int_equal(glia_train_run(&c, pu_path(root, "init-bad"), &o, &r), GLIA_STATUS_SHAPE_MISMATCH);
    assert_non_null(strstr(glia_last_error(), "--init"));
}

/* Weights holding NaN (a broken --init): the first step's loss is NaN and the run stops, saving nothing. */
static void nan_loss_stops(void **state)
{
    (void)state;
    glia_train_config c;
    small_config(&c, "unet2d");
    glia_model_config mc = c.model;
    mc.in_channels = 4;
    mc.out_channels = 1;
    glia_model *m = NULL;
    check(glia_model_create(dev, &mc, 0, &m));
    check(glia_tensor_fill(glia_params_find(glia_model_params(m), "head.bias"), NAN));
    const char *init = pu_path(root, "nan.safetensors");
    check(glia_model_save(m, init, NULL));
    glia_model_free(m);
    snprintf(c.init, sizeof c.init, "%s", init);
    glia_train_result r;
    glia_train_options o = {.device = dev};
    assert_int_equal(glia_train_run(&c, pu_path(root, "nan-run"), &o, &r), GLIA_STATUS_NUMERIC_ERROR);
    print_message("%s\n", glia_last_error());
    assert_non_null(strstr(glia_last_error(), "NaN"));
    assert_int_not_equal(access(pu_path(pu_path(root, "nan-run"), "last.safetensors"), F_OK), 0);
}

/* The CLI under SIGINT: exit status 130 and a checkpoint that loads. */
static void sigint_leaves_checkpoint(void **state)
{
    (void)state;
    if (!glia_bin)
        skip();
    const char *dir = pu_path(root, "sigint");
    char run_dir[4096];
    snprintf(run_dir, sizeof run_dir, "%s", dir);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        freopen("/dev/null", "w", stdout);
        execl(glia_bin, "glia", "train", "--data", data, "--model", "unet2d", "--features", "8,16", "--target", "wt",
              "--epochs", "1000", "--steps-per-epoch", "4", "--batch", "4", "--device", "cpu", "--threads", "2",
              "--out", run_dir, (char *)NULL);
        _exit(127);
    }
    /* wait for the first epoch's checkpoint, then interrupt in the middle of a later one */
    for (int i = 0; i < 600 && access(pu_path(run_dir, "log.csv"), F_OK) != 0; i++)
        usleep(50000);
    usleep(200000);
    kill(pid, SIGINT);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 130);
    glia_model *m = NULL;
    check(glia_model_load_file(pu_path(run_dir, "last.safetensors"), dev, &m));
    glia_model_free(m);
    glia_safetensors *st = NULL;
    check(glia_safetensors_open(pu_path(run_dir, "last.safetensors"), &st));
    assert_non_null(strstr(glia_meta_get(glia_safetensors_meta(st), "progress"), "\"global_step\""));
    glia_safetensors_close(st);
}

static void config_round_trip(void **state)
{
    (void)state;
    glia_train_config a, b;
    small_config(&a, "r2unet");
    check(glia_train_config_set(&a, "t", "3"));
    check(glia_train_config_set(&a, "clip", "0.5,99.5"));
    check(glia_train_config_set(&a, "spacing", "1,1,1.5"));
    check(glia_train_config_set(&a, "schedule", "poly"));
    check(glia_train_config_set(&a, "schedule-unit", "step"));
    check(glia_train_config_set(&a, "loss", "penalty-dice"));
    check(glia_train_config_set(&a, "penalty", "1.5"));
    check(glia_train_config_set(&a, "seed", "123456789012"));
    check(glia_train_config_set(&a, "weight-decay", "0.0001"));
    char *json = NULL;
    check(glia_train_config_to_json(&a, &json));
    glia_train_config_default(&b);
    check(glia_train_config_apply_json(&b, json));
    free(json);
    assert_memory_equal(&a, &b, sizeof a);
    check(glia_train_config_check(&a));

    /* config.json as glia wrote it before the model field tables listed every
       model option for every model: another model's option at its default reads */
    glia_train_config_default(&b);
    check(glia_train_config_apply_json(&b, "{\"model\": \"unet2d\", \"features\": [4, 8], \"batchnorm\": false, \"t\": 0}"));
    assert_true(b.model.levels == 2 && b.model.batchnorm == 0 && b.model.t == 0);
    check(glia_train_config_apply_json(&b, "{\"model\": \"r2unet\", \"features\": [4, 8], \"batchnorm\": true, \"t\": 3}"));
    assert_true(b.model.levels == 2 && b.model.batchnorm == 1 && b.model.t == 3);
    check(glia_train_config_set(&b, "batchnorm", "false")); /* r2unet has no such option: the check says so */
    snprintf(b.data, sizeof b.data, "somewhere");
    assert_int_equal(glia_train_config_check(&b), GLIA_STATUS_INVALID_ARGUMENT);
    assert_non_null(strstr(glia_last_error(), "batchnorm"));

    assert_int_equal(glia_train_config_set(&a, "bogus", "1"), GLIA_STATUS_INVALID_ARGUMENT);
    assert_non_null(strstr(glia_last_error(), "bogus"));
    assert_int_equal(glia_train_config_set(&a, "lr", "fast"), GLIA_STATUS_INVALID_ARGUMENT);
    assert_int_equal(glia_train_config_set(&a, "loss", "l2"), GLIA_STATUS_INVALID_ARGUMENT);
    assert_int_equal(glia_train_config_apply_json(&a, "{\"epochs\": \"many\"}"), GLIA_STATUS_INVALID_ARGUMENT);
    assert_int_equal(glia_train_config_apply_json(&a, "[1]"), GLIA_STATUS_INVALID_ARGUMENT);
    check(glia_train_config_set(&a, "loss", "ce"));
    assert_int_equal(glia_train_config_check(&a), GLIA_STATUS_INVALID_ARGUMENT); /* ce needs the labels target */
    check(glia_train_config_set(&a, "size", "31,31"));
    check(glia_train_config_set(&a, "loss", "dice"));
    assert_int_equal(glia_train_config_check(&a), GLIA_STATUS_INVALID_ARGUMENT); /* not a multiple of 2^pools */

    const char *desc = NULL;
    for (int i = 0; glia_train_preset_name(i, &desc); i++) {
        glia_train_config p;
        glia_train_config_default(&p);
        snprintf(p.data, sizeof p.data, "somewhere");
        check(glia_train_preset(glia_train_preset_name(i, NULL), &p));
        check(glia_train_config_check(&p));
        assert_string_equal(p.data, "somewhere");
        assert_non_null(desc);
    }
    glia_train_config p;
    check(glia_train_preset("brats-unet2d", &p));
    assert_int_equal(p.size[0], 224);
    assert_int_equal(p.batch, 4);
    assert_int_equal(p.optim.kind, GLIA_OPTIM_SGD);
    assert_true(p.optim.lr == 0.1f);
    assert_int_equal(p.sched.kind, GLIA_SCHED_COSINE);
    assert_int_equal(p.sched.t_max, 100);
    assert_true(p.drop_empty == 0.5f);
    assert_int_equal(p.then_loss, GLIA_LOSS_PENALTY_DICE);
    /* MONAI's BraTS 2021 SwinUNETR recipe; its LinearWarmupCosineAnnealingLR(warmup 50, max 300) after
     * the warm-up is eta_min + (lr - eta_min) (1 + cos(pi (e - 50) / 250)) / 2 (glia's warm-up rises by
     * lr / 50 a epoch where MONAI's rises by lr / 49) */
    check(glia_train_preset("brats-swinunetr", &p));
    assert_int_equal(p.model.arch, GLIA_MODEL_SWINUNETR);
    const glia_model_field *fs = glia_model_field_find(GLIA_MODEL_SWINUNETR, "feature_size");
    char text[32];
    assert_string_equal(glia_model_field_format(&p.model, fs, text, sizeof text), "48");
    assert_int_equal(p.size[0] * p.size[1] * p.size[2], 128 * 128 * 128);
    assert_int_equal(p.batch, 1);
    assert_int_equal(p.optim.kind, GLIA_OPTIM_ADAMW);
    assert_true(p.optim.lr == 1e-4f && p.optim.weight_decay == 1e-5f);
    assert_int_equal(p.loss, GLIA_LOSS_DICE);
    assert_int_equal(p.target, GLIA_TARGET_REGIONS);
    assert_int_equal(p.epochs, 300);
    glia_schedule sc = p.sched;
    sc.base_lr = p.optim.lr;
    assert_true(glia_schedule_lr(&sc, 0) == 0.0);
    for (int e = 50; e < 300; e += 7) {
        double monai = 0.5 * (double)p.optim.lr * (1.0 + cos(M_PI * (e - 50) / 250.0));
        assert_true(fabs(glia_schedule_lr(&sc, e) - monai) <= 1e-12);
    }
    check(glia_train_config_set(&p, "feature_size", "36")); /* the BraTS study's, for memory */
    check(glia_train_config_check(&p));
    assert_int_equal(glia_train_preset("nope", &p), GLIA_STATUS_INVALID_ARGUMENT);
    assert_non_null(strstr(glia_last_error(), "brats-swinunetr"));
}

int main(int argc, char **argv)
{
    glia_bin = argc > 1 ? argv[1] : NULL;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(config_round_trip),
        cmocka_unit_test(unet2d_learns),
        cmocka_unit_test(r2unet_learns),
        cmocka_unit_test(unet3d_learns),
        cmocka_unit_test(resume_is_exact),
        cmocka_unit_test(init_from_checkpoint),
        cmocka_unit_test(nan_loss_stops),
        cmocka_unit_test(sigint_leaves_checkpoint),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
