/* glia eval: HD95 against a brute-force implementation on small masks, the
 * overlap and volume metrics against direct counts, tables (CSV, JSON, means),
 * and evaluating a dataset's predicted masks. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "product_util.h"

static void check(glia_status s)
{
    if (s != GLIA_STATUS_OK)
        fail_msg("%s: %s", glia_status_str(s), glia_last_error());
}

static uint64_t rng_state = 88172645463325252ull;
static double urand(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}

/* A union of a few random balls. */
static void blobs(uint8_t *m, const int64_t *d, int count)
{
    memset(m, 0, (size_t)(d[0] * d[1] * d[2]));
    for (int b = 0; b < count; b++) {
        double c[3], r = 1 + urand() * 3;
        for (int a = 0; a < 3; a++)
            c[a] = urand() * (double)d[a];
        for (int64_t z = 0; z < d[2]; z++)
            for (int64_t y = 0; y < d[1]; y++)
                for (int64_t x = 0; x < d[0]; x++) {
                    double dx = x - c[0], dy = y - c[1], dz = d[2] > 1 ? z - c[2] : 0;
                    if (dx * dx + dy * dy + dz * dz <= r * r)
                        m[(z * d[1] + y) * d[0] + x] = 1;
                }
    }
}

/* Surface voxels, written independently of the library: inside, and a face
 * neighbour outside or beyond the border (axes of size 1 ignored). */
static int surface_points(const uint8_t *m, const int64_t *d, int64_t (*pts)[3])
{
    int n = 0;
    for (int64_t z = 0; z < d[2]; z++)
        for (int64_t y = 0; y < d[1]; y++)
            for (int64_t x = 0; x < d[0]; x++) {
                if (!m[(z * d[1] + y) * d[0] + x])
                    continue;
                int64_t p[3] = {x, y, z};
                int edge = 0;
                for (int a = 0; a < 3 && !edge; a++) {
                    if (d[a] == 1)
                        continue;
                    for (int s = -1; s <= 1; s += 2) {
                        int64_t q[3] = {x, y, z};
                        q[a] += s;
                        if (q[a] < 0 || q[a] >= d[a] || !m[(q[2] * d[1] + q[1]) * d[0] + q[0]])
                            edge = 1;
                    }
                }
                if (edge) {
                    memcpy(pts[n], p, sizeof p);
                    n++;
                }
            }
    return n;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double p95(double *x, int n)
{
    qsort(x, (size_t)n, sizeof *x, cmp);
    double pos = 0.95 * (n - 1);
    int lo = (int)floor(pos);
    return lo + 1 < n ? x[lo] + (pos - lo) * (x[lo + 1] - x[lo]) : x[n - 1];
}

static double directed_brute(int64_t (*a)[3], int na, int64_t (*b)[3], int nb, const double *sp)
{
    double *d = malloc((size_t)na * sizeof *d);
    for (int i = 0; i < na; i++) {
        double best = INFINITY;
        for (int j = 0; j < nb; j++) {
            double s = 0;
            for (int k = 0; k < 3; k++) {
                double t = (double)(a[i][k] - b[j][k]) * sp[k];
                s += t * t;
            }
            best = s < best ? s : best;
        }
        d[i] = sqrt(best);
    }
    double r = p95(d, na);
    free(d);
    return r;
}

static double hd95_brute(const uint8_t *a, const uint8_t *b, const int64_t *d, const double *sp)
{
    size_t n = (size_t)(d[0] * d[1] * d[2]);
    int64_t(*pa)[3] = malloc(n * sizeof *pa), (*pb)[3] = malloc(n * sizeof *pb);
    int na = surface_points(a, d, pa), nb = surface_points(b, d, pb);
    double r;
    if (!na || !nb) {
        r = na == nb ? 0 : sqrt(pow(d[0] * sp[0], 2) + pow(d[1] * sp[1], 2) + pow(d[2] * sp[2], 2));
    } else {
        double x = directed_brute(pa, na, pb, nb, sp), y = directed_brute(pb, nb, pa, na, sp);
        r = x > y ? x : y;
    }
    free(pa);
    free(pb);
    return r;
}

static void hd95_matches_brute_force(void **state)
{
    (void)state;
    const int64_t sizes[][3] = {{12, 10, 7}, {16, 16, 1}, {9, 13, 11}, {20, 6, 5}};
    const double spacings[][3] = {{1, 1, 1}, {0.8, 1.2, 1}, {1, 0.5, 2.5}, {0.9375, 0.9375, 3}};
    int cases = 0;
    for (int s = 0; s < 4; s++)
        for (int trial = 0; trial < 6; trial++) {
            const int64_t *d = sizes[s];
            size_t n = (size_t)(d[0] * d[1] * d[2]);
            uint8_t *a = malloc(n), *b = malloc(n);
            blobs(a, d, 1 + trial % 3);
            blobs(b, d, 1 + (trial + 1) % 3);
            if (trial == 5)
                memset(b, 0, n); /* exactly one empty: the grid's diagonal */
            double got = -1, want = hd95_brute(a, b, d, spacings[s]);
            check(glia_hd95(a, b, d, spacings[s], &got));
            if (fabs(got - want) > 1e-9 * (1 + want))
                fail_msg("size %lldx%lldx%lld trial %d: glia %.12g, brute force %.12g", (long long)d[0], (long long)d[1],
                         (long long)d[2], trial, got, want);
            check(glia_hd95(a, a, d, spacings[s], &got));
            assert_true(got == 0);
            memset(a, 0, n);
            memset(b, 0, n);
            check(glia_hd95(a, b, d, spacings[s], &got));
            assert_true(got == 0);
            free(a);
            free(b);
            cases++;
        }
    assert_int_equal(cases, 24);
    uint8_t m = 1;
    int64_t d[3] = {1, 1, 1};
    double sp[3] = {1, 0, 1}, out;
    assert_int_equal(glia_hd95(&m, &m, d, sp, &out), GLIA_STATUS_INVALID_ARGUMENT);
    assert_int_equal(glia_hd95(NULL, &m, d, sp, &out), GLIA_STATUS_INVALID_ARGUMENT);
}

static void overlap_metrics(void **state)
{
    (void)state;
    int64_t d[3] = {10, 9, 8};
    double sp[3] = {1, 2, 0.5};
    size_t n = 720;
    uint8_t *p = malloc(n), *r = malloc(n);
    blobs(p, d, 2);
    blobs(r, d, 2);
    long tp = 0, fp = 0, fn = 0, tn = 0;
    for (size_t i = 0; i < n; i++) {
        tp += p[i] && r[i];
        fp += p[i] && !r[i];
        fn += !p[i] && r[i];
        tn += !p[i] && !r[i];
    }
    glia_seg_metrics m;
    check(glia_seg_metrics_compute(p, r, d, sp, 1, &m));
    assert_int_equal(m.tp, tp);
    assert_int_equal(m.fp, fp);
    assert_int_equal(m.fn, fn);
    assert_int_equal(m.tn, tn);
    assert_true(fabs(m.dice - 2.0 * tp / (2.0 * tp + fp + fn)) < 1e-12);
    assert_true(fabs(m.iou - (double)tp / (tp + fp + fn)) < 1e-12);
    assert_true(fabs(m.sensitivity - (double)tp / (tp + fn)) < 1e-12);
    assert_true(fabs(m.specificity - (double)tn / (tn + fp)) < 1e-12);
    assert_true(fabs(m.pred_ml - (tp + fp) * 1e-3) < 1e-12); /* 1 x 2 x 0.5 mm = 1 uL per voxel */
    assert_true(fabs(m.volume_diff_ml - (fp - fn) * 1e-3) < 1e-12);
    assert_true(fabs(m.hd95 - hd95_brute(p, r, d, sp)) < 1e-9);
    /* empty against empty is perfect */
    memset(p, 0, n);
    memset(r, 0, n);
    check(glia_seg_metrics_compute(p, r, d, sp, 0, &m));
    assert_true(m.dice == 1 && m.iou == 1 && m.sensitivity == 1 && m.specificity == 1 && isnan(m.hd95));
    free(p);
    free(r);
}

static glia_label_info brats_regions(void)
{
    glia_label_info li = {.target = GLIA_TARGET_REGIONS, .channels = 3, .region_classes = {0xe, 0xa, 0x8},
                          .names = {"WT", "TC", "ET"}, .classes = 4, .label_values = {0, 1, 2, 4}};
    return li;
}

static void tables(void **state)
{
    (void)state;
    glia_label_info li = brats_regions();
    glia_eval_table *t = NULL;
    check(glia_eval_table_create(&li, 1, &t));
    int64_t d[3] = {8, 8, 4};
    double sp[3] = {1, 1, 1};
    uint8_t pred[256], ref[256];
    double dice_wt[2];
    for (int c = 0; c < 2; c++) {
        for (int i = 0; i < 256; i++) {
            ref[i] = (uint8_t)(i % 7 == 0 ? 3 : i % 5 == 0 ? 1 : i % 3 == 0 ? 2 : 0);
            pred[i] = (uint8_t)((i + c) % 7 == 0 ? 3 : i % 3 == 0 ? 2 : 0);
        }
        long tp = 0, fp = 0, fn = 0;
        for (int i = 0; i < 256; i++) {
            tp += pred[i] && ref[i];
            fp += pred[i] && !ref[i];
            fn += !pred[i] && ref[i];
        }
        dice_wt[c] = 2.0 * tp / (2.0 * tp + fp + fn);
        check(glia_eval_table_add(t, c ? "b" : "a", pred, ref, d, sp));
    }
    assert_int_equal(glia_eval_table_cases(t), 2);
    assert_int_equal(glia_eval_table_regions(t), 3);
    assert_string_equal(glia_eval_table_region(t, 2), "ET");
    assert_true(fabs(glia_eval_table_get(t, 0, 0)->dice - dice_wt[0]) < 1e-12);
    assert_true(fabs(glia_eval_table_get(t, -1, 0)->dice - (dice_wt[0] + dice_wt[1]) / 2) < 1e-12);
    assert_null(glia_eval_table_get(t, 2, 0));
    char *dir = pu_tempdir("evaltab");
    check(glia_eval_table_write_csv(t, pu_path(dir, "e.csv")));
    check(glia_eval_table_write_json(t, pu_path(dir, "e.json")));
    FILE *f = fopen(pu_path(dir, "e.csv"), "r");
    char line[512];
    int rows = 0;
    while (fgets(line, sizeof line, f))
        rows++;
    fclose(f);
    assert_int_equal(rows, 1 + 3 * 3); /* header, 2 cases and the mean, 3 regions each */
    f = fopen(pu_path(dir, "e.json"), "r");
    size_t got = fread(line, 1, sizeof line - 1, f);
    line[got] = '\0';
    fclose(f);
    assert_non_null(strstr(line, "\"regions\""));
    pu_rmtree(dir);
    free(dir);
    glia_eval_table_free(t);
}

/* A dataset's masks scored from files: the reference itself is perfect; a copy with one label
 * changed scores what a direct count says. */
static void dataset_from_files(void **state)
{
    (void)state;
    char *dir = pu_tempdir("evalds");
    char data[4096], pred[4096];
    snprintf(data, sizeof data, "%s/data", dir);
    snprintf(pred, sizeof pred, "%s/pred", dir);
    pu_synth(data, 2, 24, 24, 12, 9);
    assert_int_equal(system(NULL) != 0, 1);
    glia_dataset *ds = NULL;
    check(glia_dataset_open(data, NULL, &ds));
    char mk[4200];
    snprintf(mk, sizeof mk, "mkdir -p '%s'", pred);
    assert_int_equal(system(mk), 0);
    int cases[2] = {0, 1};
    double want_wt = 0;
    for (int i = 0; i < 2; i++) {
        glia_case *c = NULL;
        check(glia_dataset_load(ds, i, &c));
        size_t n = (size_t)(c->dim[0] * c->dim[1] * c->dim[2]);
        glia_volume *v = NULL;
        check(glia_volume_new(3, c->dim, GLIA_DTYPE_UINT8, &v));
        uint8_t *x = v->data;
        long tp = 0, fp = 0, fn = 0;
        for (size_t k = 0; k < n; k++) {
            int cls = c->label[k];
            if (i == 1 && k % 2 == 0)
                cls = cls ? 0 : (k % 8 == 0 ? 2 : 0); /* drop half the tumour, add some oedema */
            x[k] = (uint8_t)glia_dataset_label_value(ds, cls);
            tp += cls && c->label[k];
            fp += cls && !c->label[k];
            fn += !cls && c->label[k];
        }
        if (i == 1)
            want_wt = 2.0 * tp / (2.0 * tp + fp + fn);
        char name[512];
        snprintf(name, sizeof name, "%s_seg.nii.gz", glia_dataset_case_id(ds, i));
        check(glia_volume_write(v, pu_path(pred, name), NULL));
        glia_volume_free(v);
        glia_case_free(c);
    }
    glia_label_info li;
    check(glia_label_info_from_dataset(ds, GLIA_TARGET_REGIONS, &li));
    glia_eval_options o = {.pred_dir = pred, .with_hd95 = 1};
    glia_eval_table *t = NULL;
    check(glia_eval_dataset(ds, cases, 2, &li, &o, &t));
    for (int r = 0; r < 3; r++) {
        assert_true(glia_eval_table_get(t, 0, r)->dice == 1.0);
        assert_true(glia_eval_table_get(t, 0, r)->hd95 == 0.0);
    }
    assert_true(fabs(glia_eval_table_get(t, 1, 0)->dice - want_wt) < 1e-12);
    glia_eval_table_free(t);
    /* no prediction for a case: one clear error naming it */
    o.pred_dir = data;
    assert_int_equal(glia_eval_dataset(ds, cases, 2, &li, &o, &t), GLIA_STATUS_IO_ERROR);
    assert_non_null(strstr(glia_last_error(), glia_dataset_case_id(ds, 0)));
    /* a label value the dataset does not have */
    glia_volume *v = NULL;
    int64_t d[3] = {2, 2, 1};
    check(glia_volume_new(3, d, GLIA_DTYPE_UINT8, &v));
    ((uint8_t *)v->data)[1] = 3;
    uint8_t *cls = NULL;
    assert_int_equal(glia_labels_to_classes(v, &li, &cls), GLIA_STATUS_FORMAT_ERROR);
    glia_volume_free(v);
    glia_dataset_free(ds);
    pu_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hd95_matches_brute_force),
        cmocka_unit_test(overlap_metrics),
        cmocka_unit_test(tables),
        cmocka_unit_test(dataset_from_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
