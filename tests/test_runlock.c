/* A run folder holds one run: a second run or resume on a folder in use is
 * turned away at once (naming the holder), a run that never reached its
 * first checkpoint can be resumed or started over, killed writers' temporary
 * files go at the next run, and names of up to NAME_MAX bytes are writable
 * (the temporary name no longer grows with the target's). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include "product_util.h"

static char *root, *data;
static glia_device *dev;

static int setup(void **state) { return pu_fixture_open("runlock", 2, 1, &root, &data, &dev); }

static int teardown(void **state) { return pu_fixture_close(root, data, dev); }

#define check pu_check

/* A tiny 2-D run: one epoch of 2 steps, no validation. */
static void tiny_config(glia_train_config *c)
{
    glia_train_config_default(c);
    snprintf(c->data, sizeof c->data, "%s", data);
    check(glia_train_config_set(c, "model", "unet2d"));
    check(glia_train_config_set(c, "features", "4,8"));
    check(glia_train_config_set(c, "target", "wt"));
    check(glia_train_config_set(c, "folds", "0"));
    check(glia_train_config_set(c, "size", "32,32"));
    check(glia_train_config_set(c, "epochs", "1"));
    check(glia_train_config_set(c, "steps-per-epoch", "2"));
    check(glia_train_config_set(c, "batch", "2"));
    check(glia_train_config_set(c, "loader-threads", "1"));
}

static int exists(const char *dir, const char *name) { return access(pu_path(dir, name), F_OK) == 0; }

static void touch(const char *dir, const char *name)
{
    FILE *f = fopen(pu_path(dir, name), "w");
    assert_non_null(f);
    fclose(f);
}

/* The PID of a process that has ended. */
static long dead_pid(void)
{
    pid_t p = fork();
    assert_true(p >= 0);
    if (p == 0)
        _exit(0);
    assert_int_equal(waitpid(p, NULL, 0), p);
    return (long)p;
}

/* A run's callback tries a second run and a resume on the folder it trains in. */
typedef struct intruder {
    const char *dir;
    int tried;
    glia_status run, resume;
    char run_msg[1024], resume_msg[1024];
} intruder;

static void intrude(void *user, const glia_train_progress *p)
{
    intruder *in = user;
    if (in->tried || p->step != 1)
        return;
    in->tried = 1;
    glia_train_config c;
    tiny_config(&c);
    check(glia_train_config_set(&c, "lr", "0.5")); /* another configuration, which must not land in the folder */
    glia_train_options o = {.device = dev};
    glia_train_result r;
    in->run = glia_train_run(&c, in->dir, &o, &r);
    snprintf(in->run_msg, sizeof in->run_msg, "%s", glia_last_error());
    in->resume = glia_train_resume(in->dir, 0, NULL, &o, &r);
    snprintf(in->resume_msg, sizeof in->resume_msg, "%s", glia_last_error());
}

static void busy_folder_turns_away(void **state)
{
    (void)state;
    glia_train_config c;
    tiny_config(&c);
    const char *dir = strdup(pu_path(root, "busy"));
    intruder in = {.dir = dir};
    glia_train_options o = {.device = dev, .on_progress = intrude, .user = &in};
    glia_train_result r;
    check(glia_train_run(&c, dir, &o, &r));
    assert_int_equal(in.tried, 1);
    char pid[32];
    snprintf(pid, sizeof pid, "PID %ld", (long)getpid());
    assert_int_equal(in.run, GLIA_STATUS_INVALID_ARGUMENT);
    assert_non_null(strstr(in.run_msg, "in use"));
    assert_non_null(strstr(in.run_msg, pid));
    assert_int_equal(in.resume, GLIA_STATUS_INVALID_ARGUMENT);
    assert_non_null(strstr(in.resume_msg, pid));
    /* the first run finished with its own configuration */
    assert_int_equal(r.epochs_done, 1);
    glia_train_config saved;
    glia_train_config_default(&saved);
    check(glia_train_config_load(&saved, pu_path(dir, "config.json")));
    assert_true(saved.optim.lr == c.optim.lr);
    /* the lock went with the run: the folder resumes */
    glia_train_options plain = {.device = dev};
    check(glia_train_resume(dir, 2, NULL, &plain, &r));
    assert_int_equal(r.epochs_done, 2);
    free((void *)dir);
}

static void collect(void *user, const char *note)
{
    snprintf(user, 1024, "%s", note);
}

static void no_checkpoint_restarts(void **state)
{
    (void)state;
    glia_train_config c;
    tiny_config(&c);
    const char *dir = strdup(pu_path(root, "nockpt"));
    char note[1024] = "";
    glia_train_options o = {.device = dev, .on_note = collect, .user = note};
    glia_train_result r;
    check(glia_train_run(&c, dir, &o, &r));
    /* as a run killed (or stopped by a NaN loss) before its first save leaves it */
    assert_int_equal(unlink(pu_path(dir, "last.safetensors")), 0);
    check(glia_train_resume(dir, 0, NULL, &o, &r));
    assert_int_equal(r.epochs_done, 1);
    assert_true(exists(dir, "last.safetensors"));
    assert_non_null(strstr(note, "from the beginning"));
    /* and a new run may take such a folder over, with settings of its own */
    assert_int_equal(unlink(pu_path(dir, "last.safetensors")), 0);
    check(glia_train_config_set(&c, "epochs", "2"));
    check(glia_train_run(&c, dir, &o, &r));
    assert_int_equal(r.epochs_done, 2);
    assert_non_null(strstr(note, "starting it over"));
    /* one with a checkpoint is not */
    assert_int_equal(glia_train_run(&c, dir, &o, &r), GLIA_STATUS_INVALID_ARGUMENT);
    assert_non_null(strstr(glia_last_error(), "--resume"));
    free((void *)dir);
}

static void stale_temps_removed(void **state)
{
    (void)state;
    glia_train_config c;
    tiny_config(&c);
    const char *dir = strdup(pu_path(root, "stale"));
    assert_int_equal(mkdir(dir, 0777), 0);
    long dead = dead_pid(), live = (long)getppid();
    char d1[64], d2[96], l1[64], l2[96];
    snprintf(d1, sizeof d1, ".glia-tmp-%ld-0", dead);
    snprintf(d2, sizeof d2, "last.safetensors.tmp.%ld.3", dead); /* as earlier versions named them */
    snprintf(l1, sizeof l1, ".glia-tmp-%ld-0", live);
    snprintf(l2, sizeof l2, "config.json.tmp.%ld.1", live);
    const char *names[] = {d1, d2, l1, l2, "notes.tmp.txt"};
    for (int i = 0; i < 5; i++)
        touch(dir, names[i]);
    glia_train_options o = {.device = dev};
    glia_train_result r;
    check(glia_train_run(&c, dir, &o, &r));
    assert_false(exists(dir, d1));
    assert_false(exists(dir, d2));
    assert_true(exists(dir, l1));
    assert_true(exists(dir, l2));
    assert_true(exists(dir, "notes.tmp.txt"));
    /* and at a resume */
    touch(dir, d1);
    check(glia_train_resume(dir, 2, NULL, &o, &r));
    assert_false(exists(dir, d1));
    assert_true(exists(dir, l1));
    free((void *)dir);
}

/* 250 bytes: within NAME_MAX (255), too long for a temporary name that appends to it. */
static void long_names_write(void **state)
{
    (void)state;
    char name[251];
    memset(name, 'n', 250);
    name[250] = '\0';
    memcpy(name + 250 - 4, ".npy", 4);
    const float x[4] = {1, 2, 3, 4};
    const int64_t shape[1] = {4};
    check(glia_npy_write_f32(pu_path(root, name), 1, shape, x));
    assert_true(exists(root, name));
    memcpy(name + 250 - 7, ".nii.gz", 7);
    glia_volume *v = NULL;
    const int64_t dim[3] = {2, 2, 2};
    check(glia_volume_new(3, dim, GLIA_DTYPE_FLOAT32, &v));
    check(glia_volume_write(v, pu_path(root, name), NULL));
    glia_volume_free(v);
    assert_true(exists(root, name));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(long_names_write),
        cmocka_unit_test(busy_folder_turns_away),
        cmocka_unit_test(no_checkpoint_restarts),
        cmocka_unit_test(stale_temps_removed),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
