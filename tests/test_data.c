/* Data pipeline: every layout detected from a small generated tree, bad input
 * rejected with the case and the reason, patient-level splits, preprocessing
 * and its inverse, augmentation keeping image and mask aligned, and a loader
 * whose batches do not depend on the thread count. */
#include <math.h>
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

static void synth(const char *dir, glia_layout layout, int cases, int unlabelled)
{
    glia_synth_options o = {.layout = layout, .cases = cases, .seed = 11, .size = {32, 32, 16}, .unlabelled = unlabelled,
                            .p_no_tumour = 0, .threads = 2};
    if (layout == GLIA_LAYOUT_LGG)
        o.size[2] = 6;
    glia_status s = glia_synth_write(dir, &o);
    if (s != GLIA_STATUS_OK)
        fail_msg("synth %s: %s", dir, glia_last_error());
}

static glia_dataset *open_ds(const char *dir, glia_layout layout)
{
    glia_dataset *ds = NULL;
    glia_dataset_options o = {.layout = layout};
    glia_status s = glia_dataset_open(dir, &o, &ds);
    if (s != GLIA_STATUS_OK)
        fail_msg("open %s: %s", dir, glia_last_error());
    return ds;
}

static void test_brats_layouts(void **state)
{
    (void)state;
    const glia_layout ls[3] = {GLIA_LAYOUT_BRATS2020, GLIA_LAYOUT_BRATS2021, GLIA_LAYOUT_BRATS2023};
    const char *first[3] = {"BraTS20_Training_001", "BraTS2021_00000", "BraTS-GLI-00000-000"};
    for (int i = 0; i < 3; i++) {
        const char *dir = path("%s", glia_layout_name(ls[i]));
        synth(dir, ls[i], 3, 1);
        glia_dataset *ds = open_ds(dir, GLIA_LAYOUT_AUTO);
        assert_int_equal(glia_dataset_layout(ds), ls[i]);
        assert_int_equal(glia_dataset_count(ds), 3);
        assert_int_equal(glia_dataset_channels(ds), 4);
        assert_string_equal(glia_dataset_modality(ds, 1), "t1ce");
        assert_string_equal(glia_dataset_case_id(ds, 0), first[i]);
        assert_true(glia_dataset_case_labelled(ds, 0));
        assert_false(glia_dataset_case_labelled(ds, 2)); /* a validation-style case */
        assert_int_equal(glia_dataset_label_value(ds, 3), ls[i] == GLIA_LAYOUT_BRATS2023 ? 3 : 4);
        glia_case *c = NULL;
        assert_int_equal(glia_dataset_load(ds, 0, &c), GLIA_STATUS_OK);
        assert_int_equal(c->dim[0], 32);
        assert_int_equal(c->dim[2], 16);
        assert_non_null(c->label);
        glia_case_free(c);
        assert_int_equal(glia_dataset_load(ds, 2, &c), GLIA_STATUS_OK);
        assert_null(c->label);
        glia_case_free(c);
        glia_dataset_free(ds);
    }
}

/* The phantom's tissues have the relative contrasts of real scans. */
static void test_phantom_contrast(void **state)
{
    (void)state;
    glia_synth_options o = {.layout = GLIA_LAYOUT_BRATS2021, .cases = 1, .seed = 3, .size = {64, 64, 40}, .p_no_tumour = 0};
    float *img = NULL, *img2 = NULL;
    uint8_t *lab = NULL, *lab2 = NULL;
    assert_int_equal(glia_synth_case(&o, 0, &img, &lab), GLIA_STATUS_OK);
    assert_int_equal(glia_synth_case(&o, 0, &img2, &lab2), GLIA_STATUS_OK);
    size_t n = 64 * 64 * 40;
    assert_memory_equal(img, img2, 4 * n * sizeof *img); /* deterministic per seed */
    double sum[4][5] = {{0}}, cnt[5] = {0};
    for (size_t v = 0; v < n; v++) {
        int c = lab[v] == 4 ? 3 : lab[v];
        if (c == 0 && img[v] == 0)
            continue;
        cnt[c]++;
        for (int m = 0; m < 4; m++)
            sum[m][c] += img[(size_t)m * n + v];
    }
    assert_true(cnt[2] > 0 && cnt[3] > 0);
    double mean[4][4];
    for (int m = 0; m < 4; m++)
        for (int c = 0; c < 4; c++)
            mean[m][c] = cnt[c] > 0 ? sum[m][c] / cnt[c] : 0;
    assert_true(mean[3][2] > 1.3 * mean[3][0]); /* oedema bright on FLAIR */
    assert_true(mean[1][3] > 1.3 * mean[1][2]); /* enhancing tumour bright on T1ce */
    assert_true(mean[1][3] > 1.5 * mean[0][3]); /* ... and it is the contrast agent */
    assert_true(mean[2][2] > mean[2][0]);       /* oedema bright on T2 */
    free(img);
    free(img2);
    free(lab);
    free(lab2);
}

/* A Decathlon tree built from a BraTS one: 4-D images in FLAIR, T1w, t1gd, T2w order, labels 1/2/3. */
static void test_decathlon_layout(void **state)
{
    (void)state;
    const char *src = path("brats2021");
    glia_dataset *b = open_ds(src, GLIA_LAYOUT_AUTO);
    const char *dir = path("msd");
    mkdir(dir, 0777);
    mkdir(path("msd/imagesTr"), 0777);
    mkdir(path("msd/labelsTr"), 0777);
    FILE *f = fopen(path("msd/dataset.json"), "w");
    assert_non_null(f);
    fputs("{\"name\": \"BRATS\", \"modality\": {\"0\": \"FLAIR\", \"1\": \"T1w\", \"2\": \"t1gd\", \"3\": \"T2w\"},\n"
          " \"training\": [{\"image\": \"./imagesTr/BRATS_001.nii.gz\", \"label\": \"./labelsTr/BRATS_001.nii.gz\"}],\n"
          " \"test\": [\"./imagesTs/BRATS_485.nii.gz\"]}\n", f);
    fclose(f);
    glia_case *c = NULL;
    assert_int_equal(glia_dataset_load(b, 0, &c), GLIA_STATUS_OK);
    size_t n = 32 * 32 * 16;
    int64_t d4[4] = {32, 32, 16, 4};
    glia_volume *v = NULL, *l = NULL;
    assert_int_equal(glia_volume_new(4, d4, GLIA_DTYPE_FLOAT32, &v), GLIA_STATUS_OK);
    const int order[4] = {3, 0, 1, 2}; /* file channel q holds canonical modality order[q] */
    for (int q = 0; q < 4; q++)
        memcpy((float *)v->data + q * n, c->image + (size_t)order[q] * n, n * sizeof(float));
    assert_int_equal(glia_volume_write(v, path("msd/imagesTr/BRATS_001.nii.gz"), NULL), GLIA_STATUS_OK);
    assert_int_equal(glia_volume_new(3, d4, GLIA_DTYPE_UINT8, &l), GLIA_STATUS_OK);
    /* BraTS 1 necrosis, 2 oedema, 3(4) enhancing -> Decathlon 2 non-enhancing, 1 oedema, 3 enhancing */
    const uint8_t to_msd[4] = {0, 2, 1, 3};
    for (size_t i = 0; i < n; i++)
        ((uint8_t *)l->data)[i] = to_msd[c->label[i]];
    assert_int_equal(glia_volume_write(l, path("msd/labelsTr/BRATS_001.nii.gz"), NULL), GLIA_STATUS_OK);
    glia_dataset *m = open_ds(dir, GLIA_LAYOUT_AUTO);
    assert_int_equal(glia_dataset_layout(m), GLIA_LAYOUT_DECATHLON);
    assert_int_equal(glia_dataset_count(m), 2);
    assert_string_equal(glia_dataset_case_id(m, 0), "BRATS_001");
    assert_false(glia_dataset_case_labelled(m, 1));
    glia_case *mc = NULL;
    assert_int_equal(glia_dataset_load(m, 0, &mc), GLIA_STATUS_OK);
    assert_memory_equal(mc->image, c->image, 4 * n * sizeof(float));
    /* the same tumour regions from either convention */
    for (int r = 0; r < 3; r++) {
        unsigned bm = glia_dataset_region_classes(b, GLIA_TARGET_REGIONS, r);
        unsigned mm = glia_dataset_region_classes(m, GLIA_TARGET_REGIONS, r);
        for (size_t i = 0; i < n; i++)
            assert_int_equal((bm >> c->label[i]) & 1, (mm >> mc->label[i]) & 1);
    }
    /* the listed test case is missing on disk: a named problem, not a crash */
    glia_case *missing = NULL;
    assert_int_equal(glia_dataset_load(m, 1, &missing), GLIA_STATUS_FORMAT_ERROR);
    assert_non_null(strstr(glia_last_error(), "BRATS_485"));
    glia_case_free(mc);
    glia_case_free(c);
    glia_volume_free(v);
    glia_volume_free(l);
    glia_dataset_free(m);
    glia_dataset_free(b);
}

static void test_lgg_and_generic_layouts(void **state)
{
    (void)state;
    const char *dir = path("lgg");
    synth(dir, GLIA_LAYOUT_LGG, 2, 0);
    glia_dataset *ds = open_ds(dir, GLIA_LAYOUT_AUTO);
    assert_int_equal(glia_dataset_layout(ds), GLIA_LAYOUT_LGG);
    assert_int_equal(glia_dataset_channels(ds), 3);
    glia_case *c = NULL;
    assert_int_equal(glia_dataset_load(ds, 0, &c), GLIA_STATUS_OK);
    assert_int_equal(c->dim[2], 6);
    int64_t fg = 0;
    for (int i = 0; i < 32 * 32 * 6; i++)
        fg += c->label[i];
    assert_true(fg > 0);
    /* regions need BraTS labels */
    assert_int_equal(glia_dataset_target_channels(ds, GLIA_TARGET_REGIONS), 0);
    assert_int_equal(glia_dataset_target_channels(ds, GLIA_TARGET_WT), 1);
    /* generic: PNG pairs made from the LGG slices */
    const char *gdir = path("generic");
    mkdir(gdir, 0777);
    for (int k = 0; k < 3; k++) {
        int64_t d[3] = {32, 32, 3};
        glia_volume *img = NULL, *msk = NULL;
        assert_int_equal(glia_volume_new(3, d, GLIA_DTYPE_UINT8, &img), GLIA_STATUS_OK);
        assert_int_equal(glia_volume_new(2, d, GLIA_DTYPE_UINT8, &msk), GLIA_STATUS_OK);
        for (int q = 0; q < 3; q++)
            for (int i = 0; i < 32 * 32; i++)
                ((uint8_t *)img->data)[q * 1024 + i] = (uint8_t)c->image[(size_t)q * 32 * 32 * 6 + (size_t)k * 1024 + (size_t)i];
        for (int i = 0; i < 1024; i++)
            ((uint8_t *)msk->data)[i] = c->label[k * 1024 + i] ? 255 : 0;
        assert_int_equal(glia_volume_write(img, path("generic/slice%d.png", k), NULL), GLIA_STATUS_OK);
        assert_int_equal(glia_volume_write(msk, path("generic/slice%d_mask.png", k), NULL), GLIA_STATUS_OK);
        glia_volume_free(img);
        glia_volume_free(msk);
    }
    glia_dataset *g = open_ds(gdir, GLIA_LAYOUT_AUTO);
    assert_int_equal(glia_dataset_layout(g), GLIA_LAYOUT_GENERIC);
    assert_int_equal(glia_dataset_count(g), 3);
    assert_int_equal(glia_dataset_channels(g), 3);
    glia_case *gc = NULL;
    assert_int_equal(glia_dataset_load(g, 1, &gc), GLIA_STATUS_OK);
    for (int i = 0; i < 1024; i++) {
        assert_int_equal(gc->label[i], c->label[1024 + i]);
        assert_true(gc->image[i] == c->image[1024 + i]);
    }
    glia_case_free(gc);
    glia_case_free(c);
    glia_dataset_free(g);
    glia_dataset_free(ds);
}

static void expect_problem(const glia_dataset *ds, int i, glia_status st, const char *words)
{
    glia_case *c = NULL;
    glia_status s = glia_dataset_load(ds, i, &c);
    if (s != st)
        fail_msg("case %d: got %s (%s)", i, glia_status_str(s), glia_last_error());
    assert_null(c);
    if (!strstr(glia_last_error(), words) || !strstr(glia_last_error(), glia_dataset_case_id(ds, i)))
        fail_msg("message '%s' lacks '%s' or the case id", glia_last_error(), words);
    glia_case_report r[4];
    assert_int_equal(glia_dataset_inspect(ds, 2, r), GLIA_STATUS_OK);
    assert_false(r[i].ok);
    assert_non_null(strstr(r[i].message, words));
}

static void test_bad_cases(void **state)
{
    (void)state;
    const char *dir = path("bad");
    synth(dir, GLIA_LAYOUT_BRATS2021, 3, 0);
    /* a missing modality */
    assert_int_equal(unlink(path("bad/BraTS2021_00000/BraTS2021_00000_t1ce.nii.gz")), 0);
    /* shapes that disagree */
    int64_t d[3] = {32, 30, 16};
    glia_volume *v = NULL;
    assert_int_equal(glia_volume_new(3, d, GLIA_DTYPE_INT16, &v), GLIA_STATUS_OK);
    assert_int_equal(glia_volume_write(v, path("bad/BraTS2021_00001/BraTS2021_00001_t2.nii.gz"), NULL), GLIA_STATUS_OK);
    glia_volume_free(v);
    /* a label value BraTS 2021 does not have */
    glia_volume *seg = NULL;
    assert_int_equal(glia_volume_read(path("bad/BraTS2021_00002/BraTS2021_00002_seg.nii.gz"), &seg), GLIA_STATUS_OK);
    ((uint8_t *)seg->data)[100] = 3;
    assert_int_equal(glia_volume_write(seg, path("bad/BraTS2021_00002/BraTS2021_00002_seg.nii.gz"), NULL),
                     GLIA_STATUS_OK);
    glia_volume_free(seg);
    glia_dataset *ds = open_ds(dir, GLIA_LAYOUT_AUTO);
    assert_non_null(glia_dataset_case_problem(ds, 0));
    expect_problem(ds, 0, GLIA_STATUS_FORMAT_ERROR, "missing modality t1ce");
    expect_problem(ds, 1, GLIA_STATUS_SHAPE_MISMATCH, "shapes disagree");
    expect_problem(ds, 2, GLIA_STATUS_FORMAT_ERROR, "label value 3");
    /* a loader over a bad case fails with that case's message */
    int bad[1] = {1};
    glia_loader_options lo = {.dims = 2, .threads = 1, .target = GLIA_TARGET_WT};
    glia_loader *ld = NULL;
    assert_int_equal(glia_loader_new(ds, bad, 1, &lo, &ld), GLIA_STATUS_SHAPE_MISMATCH);
    assert_non_null(strstr(glia_last_error(), "BraTS2021_00001"));
    glia_dataset_free(ds);
    /* an empty folder, and a folder of unrelated files */
    mkdir(path("empty"), 0777);
    glia_dataset *e = NULL;
    assert_int_equal(glia_dataset_open(path("empty"), NULL, &e), GLIA_STATUS_FORMAT_ERROR);
    assert_non_null(strstr(glia_last_error(), "no dataset found"));
    glia_dataset_options bo = {.layout = GLIA_LAYOUT_BRATS2021};
    assert_int_equal(glia_dataset_open(path("empty"), &bo, &e), GLIA_STATUS_FORMAT_ERROR);
    assert_non_null(strstr(glia_last_error(), "no brats2021 cases"));
    assert_int_equal(glia_dataset_open(path("nonexistent"), NULL, &e), GLIA_STATUS_IO_ERROR);
    glia_layout l;
    assert_int_equal(glia_layout_parse("brats2019", &l), GLIA_STATUS_INVALID_ARGUMENT);
}

static void test_splits(void **state)
{
    (void)state;
    const char *dir = path("split");
    synth(dir, GLIA_LAYOUT_BRATS2023, 8, 1);
    /* case 1 becomes a second time point of patient 0 */
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && mv BraTS-GLI-00001-000 BraTS-GLI-00000-001 && cd BraTS-GLI-00000-001 && "
             "for f in *; do mv \"$f\" \"$(echo $f | sed s/00001-000/00000-001/)\"; done",
             dir);
    assert_int_equal(system(cmd), 0);
    glia_dataset *ds = open_ds(dir, GLIA_LAYOUT_AUTO);
    assert_string_equal(glia_dataset_case_patient(ds, 0), glia_dataset_case_patient(ds, 1));
    for (uint64_t seed = 0; seed < 6; seed++) {
        int seen[8] = {0};
        for (int f = 0; f < 3; f++) {
            glia_split sp, again;
            assert_int_equal(glia_split_make(ds, 3, f, seed, &sp), GLIA_STATUS_OK);
            assert_int_equal(glia_split_make(ds, 3, f, seed, &again), GLIA_STATUS_OK);
            assert_int_equal(sp.ntrain + sp.nval, 7); /* the unlabelled case is in neither part */
            assert_int_equal(sp.nval, again.nval);
            assert_memory_equal(sp.val, again.val, (size_t)sp.nval * sizeof(int));
            int zero_val = 0, one_val = 0;
            for (int i = 0; i < sp.nval; i++) {
                seen[sp.val[i]]++;
                zero_val |= sp.val[i] == 0;
                one_val |= sp.val[i] == 1;
            }
            assert_int_equal(zero_val, one_val); /* one patient's cases stay together */
            glia_split_free(&sp);
            glia_split_free(&again);
        }
        for (int i = 0; i < 7; i++)
            assert_int_equal(seen[i], 1); /* every labelled case validates in exactly one fold */
    }
    glia_split sp, back;
    assert_int_equal(glia_split_make(ds, 4, 1, 99, &sp), GLIA_STATUS_OK);
    assert_int_equal(glia_split_save(ds, &sp, path("split.json")), GLIA_STATUS_OK);
    assert_int_equal(glia_split_load(ds, path("split.json"), &back), GLIA_STATUS_OK);
    assert_int_equal(back.ntrain, sp.ntrain);
    assert_int_equal(back.nval, sp.nval);
    assert_memory_equal(back.train, sp.train, (size_t)sp.ntrain * sizeof(int));
    assert_memory_equal(back.val, sp.val, (size_t)sp.nval * sizeof(int));
    assert_true(back.seed == 99 && back.folds == 4 && back.fold == 1);
    glia_split_free(&sp);
    glia_split_free(&back);
    glia_dataset_free(ds);
}

/* Write text to file name (in the test folder); its path. */
static const char *write_file(const char *name, const char *text)
{
    const char *p = path("%s", name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    assert_true(fputs(text, f) >= 0);
    assert_int_equal(fclose(f), 0);
    return p;
}

/* A hostile or hand-edited split file is refused with the case and the file
 * named: a case listed twice (weighted twice), in both lists (validated on its
 * training data), not in the dataset, or lists longer than the dataset (refused
 * before they are allocated); failures to read or write say why. */
static void test_split_files(void **state)
{
    (void)state;
    char dir[512]; /* path() reuses its buffers */
    snprintf(dir, sizeof dir, "%s", path("split-files"));
    synth(dir, GLIA_LAYOUT_BRATS2023, 4, 0);
    glia_dataset *ds = open_ds(dir, GLIA_LAYOUT_AUTO);
    const char *a = glia_dataset_case_id(ds, 0), *b = glia_dataset_case_id(ds, 1);
    char text[8192], want[2048];
    const struct {
        const char *train, *val, *why; /* why: after "FILE: case ID " */
    } bad[] = {
        {"\"%s\", \"%s\", \"%s\"", "\"%s\"", "is listed twice in \"train\""},
        {"\"%s\"", "\"%s\", \"%s\"", "is in both \"train\" and \"val\""},
    };
    for (size_t t = 0; t < sizeof bad / sizeof bad[0]; t++) {
        char train[256], val[256];
        snprintf(train, sizeof train, bad[t].train, a, b, a);
        snprintf(val, sizeof val, bad[t].val, t == 0 ? b : a, b);
        snprintf(text, sizeof text, "{\"train\": [%s], \"val\": [%s]}", train, val);
        const char *file = write_file("bad-split.json", text);
        glia_split sp;
        assert_int_equal(glia_split_load(ds, file, &sp), GLIA_STATUS_FORMAT_ERROR);
        snprintf(want, sizeof want, "%s: case %s %s", file, a, bad[t].why);
        assert_string_equal(glia_last_error(), want);
        assert_null(sp.train);
        assert_null(sp.val);
    }
    glia_split sp;
    const char *file = write_file("unknown-split.json", "{\"train\": [\"nobody\"], \"val\": []}");
    assert_int_equal(glia_split_load(ds, file, &sp), GLIA_STATUS_FORMAT_ERROR);
    assert_non_null(strstr(glia_last_error(), "case nobody is not in the dataset"));
    /* one case a thousand times: the security review's file */
    size_t n = (size_t)snprintf(text, sizeof text, "{\"val\": [], \"train\": [");
    for (int i = 0; i < 1000 && n < sizeof text; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, "%s\"%s\"", i ? "," : "", "x");
    assert_true(n + 3 < sizeof text);
    strcat(text, "]}");
    file = write_file("long-split.json", text);
    assert_int_equal(glia_split_load(ds, file, &sp), GLIA_STATUS_FORMAT_ERROR);
    snprintf(want, sizeof want, "%s: \"train\" lists 1000 cases, the dataset %s has 4", file, dir);
    assert_string_equal(glia_last_error(), want);
    assert_int_equal(glia_split_load(ds, path("no-such-split.json"), &sp), GLIA_STATUS_IO_ERROR);
    assert_non_null(strstr(glia_last_error(), "no-such-split.json: No such file or directory"));
    /* writing into a missing folder: the reason, not just "cannot write" */
    assert_int_equal(glia_split_make(ds, 2, 0, 1, &sp), GLIA_STATUS_OK);
    assert_int_equal(glia_split_save(ds, &sp, path("no-such-folder/split.json")), GLIA_STATUS_IO_ERROR);
    assert_non_null(strstr(glia_last_error(), "No such file or directory"));
    glia_split_free(&sp);
    glia_dataset_free(ds);
}

static void test_preprocess(void **state)
{
    (void)state;
    glia_dataset *ds = open_ds(path("brats2021"), GLIA_LAYOUT_AUTO);
    glia_case *raw = NULL, *c = NULL;
    assert_int_equal(glia_dataset_load(ds, 0, &raw), GLIA_STATUS_OK);
    assert_int_equal(glia_dataset_load(ds, 0, &c), GLIA_STATUS_OK);
    glia_preprocess p = {.zscore = 1, .crop_nonzero = 1};
    assert_int_equal(glia_case_preprocess(c, &p), GLIA_STATUS_OK);
    size_t n = (size_t)(c->dim[0] * c->dim[1] * c->dim[2]);
    for (int ch = 0; ch < 4; ch++) {
        double s = 0, sq = 0, m = 0;
        for (size_t v = 0; v < n; v++)
            if (c->image[ch * n + v] != 0) {
                s += c->image[ch * n + v];
                sq += c->image[ch * n + v] * (double)c->image[ch * n + v];
                m++;
            }
        assert_true(fabs(s / m) < 1e-3);
        assert_true(fabs(sq / m - 1) < 1e-3);
    }
    /* the crop removed only empty border: the label survives whole */
    int64_t fg0 = 0, fg1 = 0;
    for (size_t v = 0; v < (size_t)(32 * 32 * 16); v++)
        fg0 += raw->label[v] != 0;
    for (size_t v = 0; v < n; v++)
        fg1 += c->label[v] != 0;
    assert_int_equal(fg0, fg1);
    assert_true(c->dim[0] < 32 && c->dim[1] < 32);
    /* then resize and centre crop, and map the one-hot label back to the original grid */
    glia_case_free(c);
    assert_int_equal(glia_dataset_load(ds, 0, &c), GLIA_STATUS_OK);
    glia_preprocess q = {.crop_nonzero = 1, .resize = {40, 40, 0}, .crop = {36, 36, 0}};
    assert_int_equal(glia_case_preprocess(c, &q), GLIA_STATUS_OK);
    assert_int_equal(c->dim[0], 36);
    size_t pn = (size_t)(c->dim[0] * c->dim[1] * c->dim[2]);
    float *onehot = malloc(pn * sizeof *onehot), *back = NULL;
    for (size_t v = 0; v < pn; v++)
        onehot[v] = c->label[v] != 0;
    assert_int_equal(glia_case_restore(c, onehot, 1, &back), GLIA_STATUS_OK);
    int64_t agree = 0, total = 32 * 32 * 16;
    for (int64_t v = 0; v < total; v++)
        agree += (back[v] > 0.5f) == (raw->label[v] != 0);
    assert_true(agree > total * 995 / 1000);
    free(onehot);
    free(back);
    glia_case_free(raw);
    glia_case_free(c);
    glia_dataset_free(ds);
}

static void test_augment_alignment(void **state)
{
    (void)state;
    enum { H = 40, W = 40, D = 3 };
    uint8_t *lab = malloc(D * H * W);
    float *img = malloc(2 * D * H * W * sizeof *img);
    for (int seed = 0; seed < 40; seed++) {
        /* an off-centre blob; the image's first channel is the mask itself */
        for (int z = 0; z < D; z++)
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++) {
                    int in = (x - 14) * (x - 14) + (y - 22) * (y - 22) * 2 < 60 + 10 * z;
                    lab[(z * H + y) * W + x] = (uint8_t)in;
                    img[(z * H + y) * W + x] = (float)in;
                    img[D * H * W + (z * H + y) * W + x] = (float)(x + 100 * y);
                }
        glia_augment a;
        glia_augment_defaults(&a);
        a.p_flip = 0.5f;
        a.p_rot90 = 0.5f;
        int exact = seed < 20;
        a.p_affine = exact ? 0 : 1;
        a.p_intensity = a.p_gamma = a.p_noise = a.p_blur = 0;
        assert_int_equal(glia_augment_apply(&a, (uint64_t)seed, img, 2, lab, D, H, W), GLIA_STATUS_OK);
        int64_t agree = 0, fg = 0;
        for (int v = 0; v < D * H * W; v++) {
            if (exact)
                assert_true(img[v] == (float)lab[v]); /* flips and quarter turns move whole pixels */
            agree += (img[v] > 0.5f) == (lab[v] != 0);
            fg += lab[v];
        }
        assert_true(fg > 0);
        assert_true(agree >= D * H * W * 98 / 100);
    }
    free(lab);
    free(img);
}

static int loader_batches(const glia_dataset *ds, int dims, int threads, int nb, float **images, float **targets,
                          size_t *target_floats)
{
    int cases[3] = {0, 1, 2};
    glia_augment aug;
    glia_augment_defaults(&aug);
    glia_loader_options o = {.dims = dims, .batch = 3, .drop_empty = 0.5f, .fg_fraction = 0.34f, .seed = 5,
                             .threads = threads, .target = GLIA_TARGET_REGIONS, .aug = &aug,
                             .pre = {.zscore = 1}, .cache_bytes = 1 << 20};
    if (dims == 3) {
        o.patch[0] = o.patch[1] = 16;
        o.patch[2] = 8;
    }
    glia_loader *l = NULL;
    glia_status s = glia_loader_new(ds, cases, 3, &o, &l);
    if (s != GLIA_STATUS_OK)
        fail_msg("loader: %s", glia_last_error());
    size_t per = 0, tper = 0;
    for (int b = 0; b < nb; b++) {
        glia_batch bt;
        assert_int_equal(glia_loader_next(l, &bt), GLIA_STATUS_OK);
        assert_int_equal(bt.n, 3);
        assert_int_equal(bt.index, b);
        per = (size_t)bt.n * bt.channels * (size_t)(bt.shape[0] * bt.shape[1] * bt.shape[2]);
        tper = (size_t)bt.n * bt.targets * (size_t)(bt.shape[0] * bt.shape[1] * bt.shape[2]);
        if (!images[b]) {
            images[b] = malloc(per * sizeof(float));
            targets[b] = malloc(tper * sizeof(float));
        }
        memcpy(images[b], bt.image, per * sizeof(float));
        memcpy(targets[b], bt.target, tper * sizeof(float));
        for (int i = 0; i < bt.n; i++)
            assert_int_not_equal(bt.case_index[i], 2); /* the unlabelled case is never drawn */
    }
    glia_loader_free(l);
    *target_floats = tper;
    return (int)per;
}

static void test_loader_determinism(void **state)
{
    (void)state;
    glia_dataset *ds = open_ds(path("brats2021"), GLIA_LAYOUT_AUTO);
    enum { NB = 8 };
    for (int dims = 2; dims <= 3; dims++) {
        float *i1[NB] = {0}, *t1[NB] = {0}, *i3[NB] = {0}, *t3[NB] = {0};
        size_t tper = 0;
        int per = loader_batches(ds, dims, 1, NB, i1, t1, &tper);
        loader_batches(ds, dims, 3, NB, i3, t3, &tper);
        int differ = 0;
        for (int b = 0; b < NB; b++) {
            assert_memory_equal(i1[b], i3[b], (size_t)per * sizeof(float));
            assert_memory_equal(t1[b], t3[b], tper * sizeof(float));
            differ |= b > 0 && memcmp(i1[b], i1[0], (size_t)per * sizeof(float)) != 0;
        }
        for (int b = 0; b < NB; b++) {
            free(i1[b]);
            free(t1[b]);
            free(i3[b]);
            free(t3[b]);
        }
        assert_true(differ);
    }
    /* sequential: each case once, whole, unlabelled ones included */
    int cases[3] = {0, 1, 2};
    glia_loader_options o = {.dims = 2, .sequential = 1, .threads = 2, .target = GLIA_TARGET_WT};
    glia_loader *l = NULL;
    assert_int_equal(glia_loader_new(ds, cases, 3, &o, &l), GLIA_STATUS_OK);
    glia_batch b;
    for (int k = 0; k < 3; k++) {
        assert_int_equal(glia_loader_next(l, &b), GLIA_STATUS_OK);
        assert_int_equal(b.n, 16);
        assert_int_equal(b.case_index[0], k);
        assert_int_equal(b.slice[15], 15);
    }
    assert_int_equal(glia_loader_next(l, &b), GLIA_STATUS_OK);
    assert_int_equal(b.n, 0);
    glia_loader_stats st;
    glia_loader_get_stats(l, &st);
    assert_int_equal(st.batches, 3);
    glia_loader_free(l);
    glia_dataset_free(ds);
}

static int setup(void **state) { return gt_tmpdir_make(root, sizeof root, "glia_data"); }

static int teardown(void **state) { return gt_tmpdir_remove(root); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_brats_layouts),     cmocka_unit_test(test_phantom_contrast),
        cmocka_unit_test(test_decathlon_layout),  cmocka_unit_test(test_lgg_and_generic_layouts),
        cmocka_unit_test(test_bad_cases),         cmocka_unit_test(test_splits),
        cmocka_unit_test(test_preprocess),        cmocka_unit_test(test_augment_alignment),
        cmocka_unit_test(test_loader_determinism), cmocka_unit_test(test_split_files),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
