/* glia infer: slice-wise prediction equals a forward pass per slice,
 * sliding windows equal a whole-volume pass where the window covers it and an
 * independent blending of window passes otherwise, flip TTA commutes with
 * flips, ensembles average, outputs keep the input's shape and affine, the
 * volume report and --compare agree with direct counts, case folders load. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <cmocka.h>
#include "product_util.h"

static glia_device *dev;
static char *root;
static const char *glia_bin; /* the glia command, for the end-to-end checks */

static char *no_data;   /* the fixture makes no dataset here */

static int setup(void **state) { return pu_fixture_open("infer", 0, 2, &root, &no_data, &dev); }

static int teardown(void **state) { return pu_fixture_close(root, no_data, dev); }

#define check pu_check

static glia_model *tiny(glia_model_arch arch, int in, int out, uint64_t seed)
{
    glia_model_config c;
    check(glia_model_config_default(arch, &c));
    c.in_channels = in;
    c.out_channels = out;
    c.levels = 2;
    c.features[0] = 4;
    c.features[1] = 8;
    glia_model *m = NULL;
    check(glia_model_create(dev, &c, seed, &m));
    /* batch norm in eval mode with non-trivial statistics: one training-mode pass */
    int64_t shape[5] = {2, in, 8, 8, 8};
    int nd = arch == GLIA_MODEL_UNET3D ? 5 : 4;
    size_t n = (size_t)(2 * in * 8 * 8 * (nd == 5 ? 8 : 1));
    float *x = malloc(n * sizeof *x);
    for (size_t i = 0; i < n; i++)
        x[i] = sinf((float)i * 0.37f + (float)seed);
    glia_tensor *t = NULL, *y = NULL;
    int mode = glia_grad_mode(dev, 0);
    check(glia_tensor_from_host(dev, nd, shape, x, &t));
    check(glia_model_forward(m, t, 1, &y));
    glia_grad_mode(dev, mode);
    glia_tensor_free(t);
    glia_tensor_free(y);
    free(x);
    return m;
}

static float *volume(int c, const int64_t *d, float phase)
{
    size_t n = (size_t)(c * d[0] * d[1] * d[2]);
    float *x = malloc(n * sizeof *x);
    for (size_t i = 0; i < n; i++)
        x[i] = sinf((float)i * 0.11f + phase) + 0.3f * cosf((float)(i % 17) + phase);
    return x;
}

/* Sigmoid of the logits of one forward pass on a host block (ndim 4 or 5). */
static float *forward_probs(glia_model *m, const float *x, int nd, const int64_t *shape)
{
    glia_tensor *t = NULL, *y = NULL;
    int mode = glia_grad_mode(dev, 0);
    check(glia_tensor_from_host(dev, nd, shape, x, &t));
    check(glia_model_forward(m, t, 0, &y));
    glia_grad_mode(dev, mode);
    size_t n = (size_t)glia_tensor_numel(y);
    float *p = malloc(n * sizeof *p);
    check(glia_tensor_read(y, p, n));
    for (size_t i = 0; i < n; i++)
        p[i] = 1.0f / (1.0f + expf(-p[i]));
    glia_tensor_free(t);
    glia_tensor_free(y);
    return p;
}

static void slicewise_equals_per_slice_forward(void **state)
{
    (void)state;
    glia_model *m = tiny(GLIA_MODEL_UNET2D, 2, 3, 1);
    int64_t d[3] = {11, 9, 5}; /* not multiples of 4: padded to 12 x 12 and cut back */
    float *x = volume(2, d, 0.5f), *prob = malloc(3 * 11 * 9 * 5 * sizeof *prob);
    glia_predict_options o = {.activation = GLIA_DICE_SIGMOID, .batch = 2};
    check(glia_predict(&m, 1, x, 2, d, &o, prob));
    size_t n = (size_t)(d[0] * d[1] * d[2]);
    for (int64_t k = 0; k < d[2]; k++) {
        float slice[2 * 12 * 12] = {0};
        for (int c = 0; c < 2; c++)
            for (int64_t j = 0; j < d[1]; j++)
                for (int64_t i = 0; i < d[0]; i++)
                    slice[(c * 12 + j) * 12 + i] = x[c * n + (k * d[1] + j) * d[0] + i];
        int64_t shape[4] = {1, 2, 12, 12};
        float *p = forward_probs(m, slice, 4, shape);
        for (int c = 0; c < 3; c++)
            for (int64_t j = 0; j < d[1]; j++)
                for (int64_t i = 0; i < d[0]; i++)
                    assert_true(p[(c * 12 + j) * 12 + i] == prob[c * n + (k * d[1] + j) * d[0] + i]);
        free(p);
    }
    free(x);
    free(prob);
    glia_model_free(m);
}

static void window_covering_volume_equals_whole_pass(void **state)
{
    (void)state;
    glia_model *m = tiny(GLIA_MODEL_UNET3D, 2, 2, 2);
    int64_t d[3] = {16, 12, 8};
    size_t n = 16 * 12 * 8;
    float *x = volume(2, d, 1.0f), *a = malloc(2 * n * sizeof *a), *b = malloc(2 * n * sizeof *b);
    int64_t shape[5] = {1, 2, 8, 12, 16};
    float *whole = forward_probs(m, x, 5, shape);
    glia_predict_options o = {.activation = GLIA_DICE_SIGMOID};
    check(glia_predict(&m, 1, x, 2, d, &o, a)); /* window 0: the whole padded volume */
    memcpy(o.window, d, sizeof o.window);
    o.blend = GLIA_BLEND_GAUSSIAN;
    check(glia_predict(&m, 1, x, 2, d, &o, b));
    assert_memory_equal(a, whole, 2 * n * sizeof *a);
    assert_memory_equal(b, whole, 2 * n * sizeof *b);
    free(whole);
    free(x);
    free(a);
    free(b);
    glia_model_free(m);
}

/* Windows of 8^3 with half overlap over 16 x 12 x 8, blended with nnU-Net's
 * Gaussian, recomputed here window by window. */
static void sliding_windows_blend(void **state)
{
    (void)state;
    glia_model *m = tiny(GLIA_MODEL_UNET3D, 1, 1, 3);
    int64_t d[3] = {16, 12, 8}, w = 8;
    size_t n = 16 * 12 * 8;
    float *x = volume(1, d, 2.0f), *got = malloc(n * sizeof *got);
    glia_predict_options o = {.activation = GLIA_DICE_SIGMOID, .window = {8, 8, 8}, .overlap = 0.5f, .batch = 3};
    check(glia_predict(&m, 1, x, 1, d, &o, got));
    double *acc = calloc(n, sizeof *acc), *wsum = calloc(n, sizeof *wsum), g[512];
    for (int z = 0; z < 8; z++)
        for (int y = 0; y < 8; y++)
            for (int xx = 0; xx < 8; xx++) {
                double s = 8 * 0.125, e = ((xx - 4) * (xx - 4) + (y - 4) * (y - 4) + (z - 4) * (z - 4)) / (2 * s * s);
                g[(z * 8 + y) * 8 + xx] = fmax(exp(-e), 1e-8); /* the documented floor */
            }
    /* starts: i 0,4,8; j 0,4; k 0 (step 4, spread evenly to size - window) */
    const int64_t si[] = {0, 4, 8}, sj[] = {0, 4};
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 2; b++) {
            float win[512];
            for (int z = 0; z < 8; z++)
                for (int y = 0; y < 8; y++)
                    for (int xx = 0; xx < 8; xx++)
                        win[(z * 8 + y) * 8 + xx] = x[(z * d[1] + sj[b] + y) * d[0] + si[a] + xx];
            int64_t shape[5] = {1, 1, w, w, w};
            float *p = forward_probs(m, win, 5, shape);
            for (int z = 0; z < 8; z++)
                for (int y = 0; y < 8; y++)
                    for (int xx = 0; xx < 8; xx++) {
                        size_t v = (size_t)((z * d[1] + sj[b] + y) * d[0] + si[a] + xx);
                        acc[v] += (double)p[(z * 8 + y) * 8 + xx] * g[(z * 8 + y) * 8 + xx];
                        wsum[v] += g[(z * 8 + y) * 8 + xx];
                    }
            free(p);
        }
    for (size_t v = 0; v < n; v++)
        assert_true(fabs(got[v] - acc[v] / wsum[v]) < 1e-6);
    free(acc);
    free(wsum);
    free(x);
    free(got);
    glia_model_free(m);
}

static void flip_all(const float *src, float *dst, int c, const int64_t *d)
{
    size_t n = (size_t)(d[0] * d[1] * d[2]);
    for (int ch = 0; ch < c; ch++)
        for (int64_t k = 0; k < d[2]; k++)
            for (int64_t j = 0; j < d[1]; j++)
                for (int64_t i = 0; i < d[0]; i++)
                    dst[ch * n + (k * d[1] + j) * d[0] + i] =
                        src[ch * n + ((d[2] - 1 - k) * d[1] + d[1] - 1 - j) * d[0] + d[0] - 1 - i];
}

static void tta_commutes_with_flips_and_ensembles_average(void **state)
{
    (void)state;
    glia_model *m[2] = {tiny(GLIA_MODEL_UNET3D, 1, 1, 4), tiny(GLIA_MODEL_UNET3D, 1, 1, 5)};
    int64_t d[3] = {8, 8, 8};
    size_t n = 512;
    float *x = volume(1, d, 3.0f), *fx = malloc(n * sizeof *fx), *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    float *fb = malloc(n * sizeof *fb);
    glia_predict_options o = {.activation = GLIA_DICE_SIGMOID, .tta = 1};
    flip_all(x, fx, 1, d);
    check(glia_predict(m, 1, x, 1, d, &o, a));
    check(glia_predict(m, 1, fx, 1, d, &o, b));
    flip_all(b, fb, 1, d);
    for (size_t v = 0; v < n; v++)
        assert_true(fabs(a[v] - fb[v]) < 1e-6);
    /* without TTA the flip of the input is not the flip of the output: TTA did something */
    o.tta = 0;
    check(glia_predict(m, 1, fx, 1, d, &o, b));
    flip_all(b, fb, 1, d);
    double diff = 0;
    for (size_t v = 0; v < n; v++)
        diff += fabs(a[v] - fb[v]);
    assert_true(diff > 1e-3);
    /* an ensemble of two is the mean of the two */
    float *p0 = malloc(n * sizeof *p0), *p1 = malloc(n * sizeof *p1);
    check(glia_predict(&m[0], 1, x, 1, d, &o, p0));
    check(glia_predict(&m[1], 1, x, 1, d, &o, p1));
    check(glia_predict(m, 2, x, 1, d, &o, a));
    for (size_t v = 0; v < n; v++)
        assert_true(fabs(a[v] - (p0[v] + p1[v]) / 2) < 1e-7);
    /* rejection: channels, window sides */
    assert_int_equal(glia_predict(m, 2, x, 3, d, &o, a), GLIA_STATUS_SHAPE_MISMATCH);
    o.window[0] = 6;
    assert_int_equal(glia_predict(m, 1, x, 1, d, &o, a), GLIA_STATUS_INVALID_ARGUMENT);
    free(p0);
    free(p1);
    free(x);
    free(fx);
    free(a);
    free(b);
    free(fb);
    glia_model_free(m[0]);
    glia_model_free(m[1]);
}

static void labels_from_probabilities(void **state)
{
    (void)state;
    glia_label_info li = {.target = GLIA_TARGET_REGIONS, .channels = 3, .region_classes = {0xe, 0xa, 0x8},
                          .classes = 4, .label_values = {0, 1, 2, 4}};
    /* voxels: nothing, WT only, WT+TC, WT+TC+ET */
    const float prob[12] = {0.1f, 0.9f, 0.9f, 0.9f, 0.2f, 0.3f, 0.8f, 0.7f, 0.1f, 0.4f, 0.2f, 0.6f};
    uint8_t cls[4];
    glia_label_info_classes(&li, prob, 4, 0.5f, cls);
    assert_int_equal(cls[0], 0);
    assert_int_equal(cls[1], 2); /* oedema */
    assert_int_equal(cls[2], 1); /* necrosis */
    assert_int_equal(cls[3], 3); /* enhancing */
    /* MONAI's channel order, TC, WT, ET, named for weights without glia's metadata: the same voxels
     * (channels permuted) give the same classes, and the names carry the BraTS 2021 label values */
    glia_label_info monai = {.channels = 3};
    check(glia_label_info_set_regions(&monai, "TC,WT,ET"));
    assert_int_equal(monai.target, GLIA_TARGET_REGIONS);
    assert_memory_equal(monai.label_values, li.label_values, 4 * sizeof *li.label_values);
    const float tc_wt_et[12] = {0.2f, 0.3f, 0.8f, 0.7f, 0.1f, 0.9f, 0.9f, 0.9f, 0.1f, 0.4f, 0.2f, 0.6f};
    uint8_t cls2[4];
    glia_label_info_classes(&monai, tc_wt_et, 4, 0.5f, cls2);
    assert_memory_equal(cls2, cls, 4);
    assert_int_equal(glia_label_info_set_regions(&monai, "TC,WT"), GLIA_STATUS_INVALID_ARGUMENT); /* 3 outputs */
    assert_int_equal(glia_label_info_set_regions(&monai, "TC,TC,ET"), GLIA_STATUS_INVALID_ARGUMENT);
    assert_non_null(strstr(glia_last_error(), "named twice"));
    assert_int_equal(glia_label_info_set_regions(&monai, "TC,WT,XX"), GLIA_STATUS_INVALID_ARGUMENT);
    check(glia_label_info_set_modalities(&monai, "flair,t1ce,t1,t2"));
    assert_int_equal(monai.modalities, 4);
    assert_string_equal(monai.modality[0], "flair");
    assert_int_equal(glia_label_info_set_modalities(&monai, "flair,,t1"), GLIA_STATUS_INVALID_ARGUMENT);
    assert_int_equal(glia_label_info_set_modalities(&monai, "t1,t1"), GLIA_STATUS_INVALID_ARGUMENT);
    assert_int_equal(glia_label_info_set_modalities(&monai, "t1,t2,t1ce,flair,t1"), GLIA_STATUS_INVALID_ARGUMENT);
    glia_label_info sm = {.target = GLIA_TARGET_LABELS, .channels = 3, .region_classes = {1, 2, 4}, .classes = 3};
    const float p2[6] = {0.2f, 0.5f, 0.3f, 0.1f, 0.5f, 0.4f}; /* channels x 2 voxels */
    glia_label_info_classes(&sm, p2, 2, 0.5f, cls);
    assert_int_equal(cls[0], 2);
    assert_int_equal(cls[1], 0);
    char *json = NULL;
    check(glia_label_info_to_json(&li, &json));
    glia_label_info back;
    check(glia_label_info_from_json(json, &back));
    free(json);
    assert_memory_equal(back.region_classes, li.region_classes, sizeof li.region_classes);
    assert_memory_equal(back.label_values, li.label_values, sizeof li.label_values);
    assert_int_equal(glia_label_info_from_json("{\"target\": \"x\"}", &back), GLIA_STATUS_FORMAT_ERROR);
}

/* Modality files with an oblique affine: the written mask has their shape and affine. */
static void outputs_keep_geometry(void **state)
{
    (void)state;
    int64_t d[3] = {12, 10, 6};
    const char *names[2] = {"scan_t1.nii.gz", "scan_flair.nii.gz"};
    const char *paths[2];
    double A[4][4] = {{0.9, 0.1, 0, -30}, {-0.1, 0.95, 0.05, 12.5}, {0, -0.04, 2.5, 7}, {0, 0, 0, 1}};
    for (int f = 0; f < 2; f++) {
        glia_volume *v = NULL;
        check(glia_volume_new(3, d, GLIA_DTYPE_FLOAT32, &v));
        float *x = volume(1, d, (float)f);
        memcpy(v->data, x, 720 * sizeof *x);
        free(x);
        glia_geom_set_affine(&v->geom, A, 1);
        paths[f] = strdup(pu_path(root, names[f]));
        check(glia_volume_write(v, paths[f], NULL));
        glia_volume_free(v);
    }
    glia_model *m = tiny(GLIA_MODEL_UNET2D, 2, 1, 6);
    const char *ck = pu_path(root, "tiny2d.safetensors");
    check(glia_model_save(m, ck, NULL));
    glia_model_free(m);
    glia_predictor *p = NULL;
    check(glia_predictor_open(dev, &ck, 1, &p));
    glia_case *c = NULL;
    check(glia_case_from_files(paths, 2, &c));
    float *prob = NULL;
    check(glia_predictor_run(p, c, NULL, &prob));
    char *out = strdup(pu_path(root, "out"));
    char mk[4200];
    snprintf(mk, sizeof mk, "mkdir -p '%s'", out);
    assert_int_equal(system(mk), 0);
    glia_infer_outputs o = {.probabilities = 1, .overlays = 2};
    glia_volume_report r;
    check(glia_infer_write(p, c, prob, out, "scan", &o, &r));
    glia_volume *in = NULL, *mask = NULL, *pm = NULL;
    check(glia_volume_read(paths[0], &in));
    check(glia_volume_read(r.mask_path, &mask));
    check(glia_volume_read(pu_path(out, "scan_prob.nii.gz"), &pm));
    assert_int_equal(mask->ndim, 3);
    for (int a = 0; a < 3; a++) {
        assert_int_equal(mask->dim[a], d[a]);
        assert_int_equal(pm->dim[a], d[a]);
    }
    double ai[4][4], am[4][4], ap[4][4];
    glia_geom_affine(&in->geom, ai);
    glia_geom_affine(&mask->geom, am);
    glia_geom_affine(&pm->geom, ap);
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) {
            assert_true(am[i][j] == ai[i][j]);
            assert_true(ap[i][j] == ai[i][j]);
        }
    /* the report's volume is the mask's voxel count times the voxel volume */
    float *mv = NULL;
    check(glia_volume_to_float(mask, &mv));
    long count = 0;
    for (int i = 0; i < 720; i++)
        count += mv[i] != 0;
    free(mv);
    double voxel_ml = in->geom.pixdim[1] * in->geom.pixdim[2] * in->geom.pixdim[3] / 1000.0;
    assert_int_equal(r.regions, 1);
    assert_true(fabs(r.ml[0] - count * voxel_ml) < 1e-9);
    assert_true(r.overlays >= 1);
    /* comparing against itself: no change */
    o.compare = r.mask_path;
    o.overlays = 0;
    glia_volume_report r2;
    check(glia_infer_write(p, c, prob, out, "again", &o, &r2));
    assert_true(r2.prior_ml[0] == r.ml[0]);
    glia_volume_free(in);
    glia_volume_free(mask);
    glia_volume_free(pm);
    free(prob);
    glia_case_free(c);
    glia_predictor_free(p);
    free(out);
    free((void *)paths[0]);
    free((void *)paths[1]);
}

static void case_folders(void **state)
{
    (void)state;
    char *data = strdup(pu_path(root, "data"));
    pu_synth(data, 2, 16, 16, 8, 2);
    glia_dataset *ds = NULL;
    check(glia_dataset_open(data, NULL, &ds));
    glia_case *a = NULL, *b = NULL, *e = NULL;
    check(glia_dataset_load(ds, 1, &a));
    /* a case folder of the dataset, found through its parent */
    check(glia_case_from_folder(pu_path(data, glia_dataset_case_id(ds, 1)), NULL, &b));
    assert_int_equal(b->channels, 4);
    assert_memory_equal(a->image, b->image, 4 * 16 * 16 * 8 * sizeof(float));
    glia_case_free(b);
    /* a lone folder named by modality suffixes */
    char *lone = strdup(pu_path(root, "lone"));
    char cmd[8400];
    const char *id = glia_dataset_case_id(ds, 1);
    snprintf(cmd, sizeof cmd,
             "mkdir -p '%s' && for m in t1 t1ce t2 flair; do cp '%s/%s/%s_'$m.nii.gz '%s/p7-'$m.nii.gz; done", lone,
             data, id, id, lone);
    assert_int_equal(system(cmd), 0);
    check(glia_case_from_folder(lone, NULL, &b));
    assert_memory_equal(a->image, b->image, 4 * 16 * 16 * 8 * sizeof(float));
    glia_case_free(b);
    snprintf(cmd, sizeof cmd, "rm '%s/p7-t2.nii.gz'", lone);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(glia_case_from_folder(lone, NULL, &e), GLIA_STATUS_FORMAT_ERROR);
    assert_non_null(strstr(glia_last_error(), "t2"));
    glia_case_free(a);
    glia_dataset_free(ds);
    free(lone);
    free(data);
}

/* Runs the glia command with args (a shell fragment); its output into out. */
static int run_glia(const char *args, char *out, size_t len)
{
    char cmd[17000];
    snprintf(cmd, sizeof cmd, "'%s' %s 2>&1", glia_bin, args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, len - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* NaN and infinite voxels in a modality: every way a case loads refuses it
 * with the file and the counts; `glia dataset` lists it as a problem and
 * `glia infer` fails without writing a mask (it used to give an empty one). */
static void nonfinite_voxels(void **state)
{
    (void)state;
    char *data = strdup(pu_path(root, "nonfinite"));
    pu_synth(data, 2, 16, 16, 8, 4);
    glia_dataset *ds = NULL;
    check(glia_dataset_open(data, NULL, &ds));
    const char *id = glia_dataset_case_id(ds, 0);
    char t1[4200];
    snprintf(t1, sizeof t1, "%s/%s/%s_t1.nii.gz", data, id, id);
    glia_volume *v = NULL;
    check(glia_volume_read(t1, &v));
    check(glia_volume_convert(v, GLIA_DTYPE_FLOAT32));
    float *x = v->data;
    x[10] = NAN, x[500] = NAN, x[700] = INFINITY, x[900] = -INFINITY;
    check(glia_volume_write(v, t1, NULL));
    glia_volume_free(v);

    glia_case *c = NULL;
    assert_int_equal(glia_dataset_load(ds, 0, &c), GLIA_STATUS_NUMERIC_ERROR);
    assert_null(c);
    const char *e = glia_last_error();
    if (!strstr(e, id) || !strstr(e, "_t1.nii.gz") || !strstr(e, "2 NaN and 2 infinite voxels"))
        fail_msg("message '%s' lacks the case, the file or the counts", e);
    glia_case_report r[2];
    check(glia_dataset_inspect(ds, 1, r));
    assert_int_equal(r[0].ok, 0);
    assert_non_null(strstr(r[0].message, "2 NaN and 2 infinite voxels"));
    assert_int_equal(r[1].ok, 1);
    const char *files[1] = {t1};
    assert_int_equal(glia_case_from_files(files, 1, &c), GLIA_STATUS_NUMERIC_ERROR);
    assert_non_null(strstr(glia_last_error(), t1));

    if (glia_bin) {
        char out[16384], args[8400];
        glia_model *m = tiny(GLIA_MODEL_UNET3D, 4, 3, 8);
        char *ck = strdup(pu_path(root, "nonfinite.safetensors"));
        check(glia_model_save(m, ck, NULL));
        glia_model_free(m);
        snprintf(args, sizeof args, "dataset --threads 1 '%s'", data);
        assert_int_equal(run_glia(args, out, sizeof out), 1);
        if (!strstr(out, "problems: 1 unusable case") || !strstr(out, "2 NaN and 2 infinite voxels"))
            fail_msg("glia dataset said:\n%s", out);
        /* the healthy case infers (so the checkpoint and flags are fine), the poisoned one fails */
        for (int k = 1; k >= 0; k--) {
            snprintf(args, sizeof args, "infer --weights '%s' --device cpu --threads 1 -o '%s/pred%d' '%s/%s'", ck,
                     root, k, data, glia_dataset_case_id(ds, k));
            int rc = run_glia(args, out, sizeof out);
            char mask[4200];
            snprintf(mask, sizeof mask, "%s/pred%d/%s_seg.nii.gz", root, k, glia_dataset_case_id(ds, k));
            FILE *f = fopen(mask, "rb");
            if (f)
                fclose(f);
            if (k == 1 && (rc != 0 || !f))
                fail_msg("glia infer on the healthy case: exit %d, mask %s:\n%s", rc, f ? "written" : "missing", out);
            if (k == 0 && (rc == 0 || f || !strstr(out, "2 NaN and 2 infinite voxels")))
                fail_msg("glia infer on NaN input: exit %d, mask %s:\n%s", rc, f ? "written" : "none", out);
        }
        free(ck);
    }
    glia_dataset_free(ds);
    free(data);
}

/* A 2-D picture in gives a picture mask out (0/255), of the picture's size. */
static void pictures(void **state)
{
    (void)state;
    int64_t d[3] = {20, 12, 3};
    glia_volume *v = NULL;
    check(glia_volume_new(3, d, GLIA_DTYPE_UINT8, &v));
    for (int i = 0; i < 20 * 12 * 3; i++)
        ((uint8_t *)v->data)[i] = (uint8_t)(i * 37 % 251);
    const char *png = pu_path(root, "photo.png");
    check(glia_volume_write(v, png, NULL));
    glia_volume_free(v);
    glia_model *m = tiny(GLIA_MODEL_UNET2D, 3, 1, 8);
    const char *ck = pu_path(root, "rgb.safetensors");
    check(glia_model_save(m, ck, NULL));
    glia_model_free(m);
    glia_predictor *p = NULL;
    glia_case *c = NULL;
    float *prob = NULL;
    check(glia_predictor_open(dev, &ck, 1, &p));
    check(glia_case_from_files(&png, 1, &c));
    assert_int_equal(c->channels, 3);
    assert_int_equal(c->dim[2], 1);
    check(glia_predictor_run(p, c, NULL, &prob));
    glia_volume_report r;
    glia_infer_outputs o = {.overlays = 1, .threshold = 0.5f};
    check(glia_infer_write(p, c, prob, root, "photo", &o, &r));
    assert_non_null(strstr(r.mask_path, "photo_seg.png"));
    glia_volume *mask = NULL;
    check(glia_volume_read(r.mask_path, &mask));
    assert_int_equal(mask->ndim, 2);
    assert_int_equal(mask->dim[0], 20);
    assert_int_equal(mask->dim[1], 12);
    long count = 0;
    for (int i = 0; i < 240; i++) {
        uint8_t x = ((uint8_t *)mask->data)[i];
        assert_true(x == 0 || x == 255);
        count += x == 255;
        assert_int_equal(x == 255, prob[i] > 0.5f);
    }
    assert_true(fabs(r.ml[0] - count * 1e-3) < 1e-12);
    glia_volume_free(mask);
    free(prob);
    glia_case_free(c);
    glia_predictor_free(p);
}

/* The predictor takes the preprocessing and patch from the checkpoint's
 * "preprocess" record, and from the whole training configuration
 * ("glia_train", as checkpoints written before the record hold it) when the
 * record is absent; the record wins when both are there. */
static glia_predictor *open_with(const char *name, const char *key1, const char *v1, const char *key2, const char *v2,
                                 glia_status want)
{
    glia_model *m = tiny(GLIA_MODEL_UNET3D, 1, 1, 11);
    glia_meta *meta = NULL;
    check(glia_meta_create(&meta));
    check(glia_meta_set(meta, key1, v1));
    if (key2)
        check(glia_meta_set(meta, key2, v2));
    const char *ck = pu_path(root, name);
    check(glia_model_save(m, ck, meta));
    glia_meta_free(meta);
    glia_model_free(m);
    glia_predictor *p = NULL;
    assert_int_equal(glia_predictor_open(dev, &ck, 1, &p), want);
    return p;
}

static void training_record(void **state)
{
    (void)state;
    /* the configuration record exactly as the trainer wrote it before, key order and all */
    const char *legacy =
        "{\"data\": \"/d\", \"layout\": \"auto\", \"target\": \"regions\", \"folds\": 5, \"fold\": 0, \"split\": \"\","
        " \"zscore\": false, \"clip\": [0.5, 99.5], \"crop_nonzero\": true, \"spacing\": [1, 1, 1],"
        " \"resize\": [0, 0, 0], \"crop\": [0, 0, 0], \"size\": [16, 16, 8], \"drop_empty\": 0,"
        " \"fg_fraction\": 0.33, \"augment\": false, \"model\": \"unet3d\", \"features\": [4, 8],"
        " \"batchnorm\": true, \"t\": 0, \"init\": \"\", \"epochs\": 10, \"lr\": 0.001, \"device\": \"auto\"}";
    glia_predictor *p = open_with("legacy.safetensors", "glia_train", legacy, NULL, NULL, GLIA_STATUS_OK);
    const glia_predictor_info *in = glia_predictor_get_info(p);
    assert_int_equal(in->pre.zscore, 0);
    assert_true(in->pre.clip_lo == 0.5f && in->pre.clip_hi == 99.5f);
    assert_int_equal(in->pre.crop_nonzero, 1);
    assert_true(in->pre.spacing[2] == 1.0);
    assert_true(in->size[0] == 16 && in->size[1] == 16 && in->size[2] == 8);
    glia_predictor_free(p);

    p = open_with("record.safetensors", "preprocess",
                  "{\"zscore\":true,\"clip\":[0,0],\"crop_nonzero\":false,\"spacing\":[0,0,0],\"resize\":[0,0,0],"
                  "\"crop\":[32,32,16],\"size\":[32,32,16]}",
                  "glia_train", legacy, GLIA_STATUS_OK);
    in = glia_predictor_get_info(p);
    assert_int_equal(in->pre.zscore, 1);
    assert_int_equal(in->pre.crop_nonzero, 0);
    assert_true(in->pre.crop[0] == 32 && in->size[2] == 16);
    glia_predictor_free(p);

    assert_null(open_with("bad.safetensors", "preprocess", "{\"size\": [16, 16]}", NULL, NULL,
                          GLIA_STATUS_FORMAT_ERROR));
    assert_non_null(strstr(glia_last_error(), "'size'"));
}

int main(int argc, char **argv)
{
    glia_bin = argc > 1 ? argv[1] : NULL;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(slicewise_equals_per_slice_forward),
        cmocka_unit_test(window_covering_volume_equals_whole_pass),
        cmocka_unit_test(sliding_windows_blend),
        cmocka_unit_test(tta_commutes_with_flips_and_ensembles_average),
        cmocka_unit_test(labels_from_probabilities),
        cmocka_unit_test(outputs_keep_geometry),
        cmocka_unit_test(case_folders),
        cmocka_unit_test(nonfinite_voxels),
        cmocka_unit_test(pictures),
        cmocka_unit_test(training_record),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
