/* nnU-Net v2 raw datasets: detection, channels and cases from the folders,
 * dataset.json's labels as glia's targets (regions or classes), the default
 * target each layout gets, and malformed dataset.json files rejected with a
 * message naming the problem. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "glia/glia.h"
#include "testutil.h"

static char root[256];

#define path(...) gt_path(root, __VA_ARGS__)

/* The same phantoms (seed, size) in any layout: 3 labelled cases and `unlabelled` more. */
static void synth(const char *dir, glia_layout layout, int plain, int unlabelled)
{
    glia_synth_options o = {.layout = layout, .cases = 3 + unlabelled, .seed = 5, .size = {24, 24, 8},
                            .unlabelled = unlabelled, .p_no_tumour = 0, .threads = 2, .plain_labels = plain};
    if (glia_synth_write(dir, &o) != GLIA_STATUS_OK)
        fail_msg("synth %s: %s", dir, glia_last_error());
}

static glia_dataset *open_ds(const char *dir)
{
    glia_dataset *ds = NULL;
    if (glia_dataset_open(dir, NULL, &ds) != GLIA_STATUS_OK)
        fail_msg("open %s: %s", dir, glia_last_error());
    return ds;
}

static void write_file(const char *p, const char *text)
{
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_regions_dataset(void **state)
{
    (void)state;
    synth(path("brats"), GLIA_LAYOUT_BRATS2021, 0, 0);
    synth(path("reg"), GLIA_LAYOUT_NNUNET, 0, 1);
    glia_dataset *b = open_ds(path("brats")), *ds = open_ds(path("reg"));
    assert_int_equal(glia_dataset_layout(ds), GLIA_LAYOUT_NNUNET);
    assert_int_equal(glia_dataset_count(ds), 4);
    assert_int_equal(glia_dataset_channels(ds), 4);
    assert_string_equal(glia_dataset_modality(ds, 0), "T1");
    assert_string_equal(glia_dataset_modality(ds, 3), "FLAIR");
    assert_string_equal(glia_dataset_case_id(ds, 0), "GLIA_000");
    assert_true(glia_dataset_case_labelled(ds, 2));
    assert_false(glia_dataset_case_labelled(ds, 3)); /* imagesTs/ */
    assert_string_equal(glia_dataset_case_id(ds, 3), "GLIA_003");
    assert_int_equal(glia_dataset_classes(ds), 4);
    assert_int_equal(glia_dataset_patients(ds), 3);
    assert_int_equal(glia_dataset_default_target(ds), GLIA_TARGET_REGIONS);
    assert_int_equal(glia_dataset_target_channels(ds, GLIA_TARGET_REGIONS), 3);
    assert_string_equal(glia_dataset_target_name(ds, GLIA_TARGET_REGIONS, 1), "tumor core");
    glia_label_info li;
    assert_int_equal(glia_label_info_from_dataset(ds, GLIA_TARGET_REGIONS, &li), GLIA_STATUS_OK);
    assert_string_equal(li.names[2], "enhancing tumor");
    /* the images are the BraTS phantoms' and the regions cover the same voxels */
    for (int i = 0; i < 3; i++) {
        glia_case *x = NULL, *y = NULL;
        assert_int_equal(glia_dataset_load(b, i, &x), GLIA_STATUS_OK);
        assert_int_equal(glia_dataset_load(ds, i, &y), GLIA_STATUS_OK);
        size_t n = 24 * 24 * 8;
        assert_int_equal(y->channels, 4);
        assert_memory_equal(x->image, y->image, 4 * n * sizeof(float));
        for (int r = 0; r < 3; r++) {
            unsigned bm = glia_dataset_region_classes(b, GLIA_TARGET_REGIONS, r);
            unsigned nm = glia_dataset_region_classes(ds, GLIA_TARGET_REGIONS, r);
            for (size_t v = 0; v < n; v++)
                assert_int_equal((bm >> x->label[v]) & 1, (nm >> y->label[v]) & 1);
        }
        for (size_t v = 0; v < n; v++) /* wt: any foreground */
            assert_int_equal(x->label[v] != 0, (glia_dataset_region_classes(ds, GLIA_TARGET_WT, 0) >> y->label[v]) & 1);
        glia_case_free(x);
        glia_case_free(y);
    }
    glia_case *u = NULL;
    assert_int_equal(glia_dataset_load(ds, 3, &u), GLIA_STATUS_OK);
    assert_null(u->label);
    glia_case_free(u);
    /* a missing channel file is the case's problem, named */
    assert_int_equal(unlink(path("reg/imagesTr/GLIA_001_0002.nii.gz")), 0);
    glia_dataset_free(ds);
    ds = open_ds(path("reg"));
    assert_non_null(glia_dataset_case_problem(ds, 1));
    assert_non_null(strstr(glia_dataset_case_problem(ds, 1), "GLIA_001_0002.nii.gz"));
    assert_int_equal(glia_dataset_patients(ds), 2);
    glia_dataset_free(ds);
    glia_dataset_free(b);
}

static void test_plain_labels_and_defaults(void **state)
{
    (void)state;
    synth(path("plain"), GLIA_LAYOUT_NNUNET, 1, 0);
    glia_dataset *ds = open_ds(path("plain"));
    assert_int_equal(glia_dataset_layout(ds), GLIA_LAYOUT_NNUNET);
    assert_int_equal(glia_dataset_target_channels(ds, GLIA_TARGET_REGIONS), 0);
    assert_int_equal(glia_dataset_target_channels(ds, GLIA_TARGET_LABELS), 4);
    assert_int_equal(glia_dataset_default_target(ds), GLIA_TARGET_LABELS);
    assert_string_equal(glia_dataset_target_name(ds, GLIA_TARGET_LABELS, 1), "edema");
    assert_int_equal(glia_dataset_region_classes(ds, GLIA_TARGET_WT, 0), 0xe);
    glia_dataset_free(ds);
    /* a single foreground class trains wt; without dataset.json's labels, no guessing */
    write_file(path("plain/dataset.json"), "{\"channel_names\": {\"0\": \"T1\", \"1\": \"T1ce\", \"2\": \"T2\", "
                                           "\"3\": \"FLAIR\"}, \"labels\": {\"background\": 0, \"tumour\": 1}, "
                                           "\"numTraining\": 3, \"file_ending\": \".nii.gz\"}");
    ds = open_ds(path("plain"));
    assert_int_equal(glia_dataset_default_target(ds), GLIA_TARGET_WT);
    glia_case *c = NULL; /* the phantoms' labels 2 and 3 are none of its values */
    assert_int_equal(glia_dataset_load(ds, 0, &c), GLIA_STATUS_FORMAT_ERROR);
    assert_non_null(strstr(glia_last_error(), "label value"));
    glia_dataset_free(ds);
    /* the other layouts */
    synth(path("lgg"), GLIA_LAYOUT_LGG, 0, 0);
    ds = open_ds(path("lgg"));
    assert_int_equal(glia_dataset_default_target(ds), GLIA_TARGET_WT);
    glia_dataset_free(ds);
    ds = open_ds(path("reg"));
    assert_int_equal(glia_dataset_default_target(ds), GLIA_TARGET_REGIONS);
    glia_dataset_free(ds);
}

static void test_config_auto(void **state)
{
    (void)state;
    glia_train_config c;
    glia_train_config_default(&c);
    assert_int_equal(c.target, GLIA_TARGET_AUTO);
    assert_int_equal(c.folds, GLIA_FOLDS_AUTO);
    char *json = NULL;
    assert_int_equal(glia_train_config_to_json(&c, &json), GLIA_STATUS_OK);
    assert_non_null(strstr(json, "\"target\":\t\"auto\""));
    assert_non_null(strstr(json, "\"folds\":\t\"auto\""));
    glia_train_config d;
    glia_train_config_default(&d);
    assert_int_equal(glia_train_config_set(&d, "target", "wt"), GLIA_STATUS_OK);
    assert_int_equal(glia_train_config_set(&d, "folds", "3"), GLIA_STATUS_OK);
    assert_int_equal(glia_train_config_apply_json(&d, json), GLIA_STATUS_OK);
    assert_int_equal(d.target, GLIA_TARGET_AUTO);
    assert_int_equal(d.folds, GLIA_FOLDS_AUTO);
    free(json);
    assert_int_equal(glia_train_config_set(&d, "folds", "many"), GLIA_STATUS_INVALID_ARGUMENT);
    assert_int_equal(glia_train_config_set(&d, "target", "tumour"), GLIA_STATUS_INVALID_ARGUMENT);
    assert_non_null(strstr(glia_last_error(), "auto"));
}

/* dataset.json variants that must fail to open, with words of the message. */
static void test_malformed(void **state)
{
    (void)state;
    static const struct {
        const char *json, *words;
    } bad[] = {
        {"{\"channel_names\": {\"0\": \"T1\"", "not a JSON object"},
        {"{\"channel_names\": {\"0\": \"T1\"}, \"file_ending\": \".nii.gz\"}", "no \"labels\""},
        {"{\"channel_names\": {\"0\": \"a\", \"1\": \"b\", \"2\": \"c\", \"3\": \"d\", \"4\": \"e\"}, "
         "\"labels\": {\"background\": 0, \"t\": 1}}", "1 to 4"},
        {"{\"channel_names\": {\"0\": \"T1\", \"0\": \"T2\"}, \"labels\": {\"background\": 0, \"t\": 1}}", "each once"},
        {"{\"channel_names\": {\"1\": \"T1\"}, \"labels\": {\"background\": 0, \"t\": 1}}", "\"0\""},
        {"{\"channel_names\": {\"0\": \"T1\"}, \"labels\": {\"background\": 0, \"t\": 1.5}}", "value 0..255"},
        {"{\"channel_names\": {\"0\": \"T1\"}, \"labels\": {\"background\": 0, \"t\": 1, \"u\": 1}}", "twice"},
        {"{\"channel_names\": {\"0\": \"T1\"}, \"labels\": {\"t\": 1}}", "background 0"},
        {"{\"channel_names\": {\"0\": \"T1\"}, \"labels\": {\"background\": 0, \"ignore\": 2, \"t\": 1}}", "ignore"},
        {"{\"channel_names\": {\"0\": \"T1\"}, \"labels\": {\"background\": 0, \"a\": [1, 2, 3, 4, 5, 6, 7, 8]}}",
         "at most 8"},
        {"{\"channel_names\": {\"0\": \"T1\"}, \"labels\": {\"background\": 0, \"wt\": [1, 2]}, "
         "\"regions_class_order\": [1, 2]}", "one label value per region"},
        {"{\"channel_names\": {\"0\": \"T1\"}, \"labels\": {\"background\": 0, \"t\": 1}, \"file_ending\": \".png\"}",
         "NIfTI"},
        {"{\"channel_names\": {\"0\": \"T1\"}, \"labels\": {\"background\": 0, \"t\": 1}, \"numTraining\": 7}",
         "numTraining\" is 7 but labelsTr/ holds 3"},
        {"{\"channel_names\": {\"0\": \"T1\"}, \"labels\": {\"background\": 0, \"t\": 1}, \"numTraining\": \"3\"}",
         "not a count"},
    };
    synth(path("bad"), GLIA_LAYOUT_NNUNET, 0, 0);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_file(path("bad/dataset.json"), bad[i].json);
        glia_dataset *ds = NULL;
        glia_dataset_options o = {.layout = GLIA_LAYOUT_NNUNET};
        glia_status s = glia_dataset_open(path("bad"), &o, &ds);
        if (s == GLIA_STATUS_OK || !strstr(glia_last_error(), bad[i].words))
            fail_msg("dataset.json %zu: status %d, message '%s' lacks '%s'", i, (int)s,
                     s ? glia_last_error() : "", bad[i].words);
        assert_null(ds);
    }
    /* without dataset.json the folder is still recognised, and the message says what is missing */
    assert_int_equal(unlink(path("bad/dataset.json")), 0);
    glia_dataset *ds = NULL;
    assert_int_equal(glia_dataset_open(path("bad"), NULL, &ds), GLIA_STATUS_IO_ERROR);
    assert_non_null(strstr(glia_last_error(), "needs its dataset.json"));
}

static int setup(void **state) { return gt_tmpdir_make(root, sizeof root, "glia_nnunet"); }

static int teardown(void **state) { return gt_tmpdir_remove(root); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_regions_dataset),
        cmocka_unit_test(test_plain_labels_and_defaults),
        cmocka_unit_test(test_config_auto),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
