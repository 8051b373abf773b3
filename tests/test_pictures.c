/* glia's pictures: round axis ticks, training curves without validation,
 * overlays that follow the patient frame (not the voxel order) and carry
 * letters and a legend, bench charts whose texts do not overlap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "bench/bench_priv.h"
#include "glia/glia.h"
#include "infer/infer_priv.h"
#include "plot/plot_priv.h"
#include "train/train_priv.h"

static char root[64];

static const char *path(const char *name)
{
    static char buf[4][256];
    static int i;
    i = (i + 1) % 4;
    snprintf(buf[i], sizeof buf[i], "%s/%s", root, name);
    return buf[i];
}

static void check(glia_status s)
{
    if (s != GLIA_STATUS_OK)
        fail_msg("status %d: %s", (int)s, glia_last_error());
}

/* ---- ticks ------------------------------------------------------------------------------- */

/* Whether x is 1, 2 or 5 times a power of ten. */
static int round_step(double x)
{
    double m = x / pow(10, floor(log10(x)));
    return fabs(m - 1) < 1e-9 || fabs(m - 2) < 1e-9 || fabs(m - 5) < 1e-9 || fabs(m - 10) < 1e-9;
}

static int is_multiple(double x, double step) { return fabs(x / step - round(x / step)) < 1e-6; }

static void ticks_are_round(void **state)
{
    (void)state;
    /* by hand: 0..1 in about 5 steps is 0, 0.2, ..., 1 */
    glia_ticks t = glia_nice_ticks_(0, 1, 5);
    assert_true(fabs(t.step - 0.2) < 1e-12 && t.first == 0 && fabs(t.last - 1) < 1e-12);
    assert_int_equal(t.count, 6);
    assert_int_equal(t.decimals, 1);
    /* 0..0.87 (a loss): raw step 0.174, rounded up to 0.2, so 0..1 */
    t = glia_nice_ticks_(0, 0.87, 5);
    assert_true(fabs(t.step - 0.2) < 1e-12 && fabs(t.last - 1) < 1e-12);
    /* 0..37 in about 5: raw 7.4 becomes 10, 0..40 */
    t = glia_nice_ticks_(0, 37, 5);
    assert_true(t.step == 10 && t.last == 40 && t.count == 5 && t.decimals == 0);
    /* many ranges: the properties every axis relies on */
    double lo[] = {0, 0.013, -3.2, 1, 1e-4, 123.4, 0.5};
    double hi[] = {2.7, 0.0191, 7.9, 1, 3e-4, 9876, 0.5};
    for (size_t i = 0; i < sizeof lo / sizeof *lo; i++)
        for (int want = 2; want <= 10; want += 4) {
            t = glia_nice_ticks_(lo[i], hi[i], want);
            assert_true(round_step(t.step));
            assert_true(t.first <= lo[i] + 1e-12 && t.last >= hi[i] - 1e-12);
            assert_true(is_multiple(t.first, t.step) && is_multiple(t.last, t.step));
            assert_int_equal(t.count, (int)lround((t.last - t.first) / t.step) + 1);
            assert_true(t.count - 1 <= 3 * want && t.count >= 2);
            /* the decimals print every tick exactly: step * 10^decimals is whole */
            assert_true(is_multiple(t.step * pow(10, t.decimals), 1));
        }
}

/* ---- curves ------------------------------------------------------------------------------ */

static glia_history history(int validated)
{
    glia_history h = {0};
    for (int e = 1; e <= 12; e++) {
        glia_epoch_log l = {.epoch = e, .train_loss = 1.0 / e, .val_loss = validated ? 1.2 / e : NAN};
        l.regions = validated ? 3 : 0;
        l.mean_dice = validated ? 0 : NAN;
        for (int r = 0; r < l.regions; r++) {
            snprintf(l.region[r], sizeof l.region[r], "%s", (const char *[]){"WT", "TC", "ET"}[r]);
            l.dice[r] = 0.5 + 0.03 * e - 0.1 * r;
            l.mean_dice += l.dice[r] / 3;
        }
        check(glia_history_push_(&h, &l));
    }
    return h;
}

static long count_colour(const glia_volume *img, const uint8_t rgb[3])
{
    int64_t plane = img->dim[0] * img->dim[1];
    const uint8_t *d = img->data;
    long n = 0;
    for (int64_t i = 0; i < plane; i++)
        n += d[i] == rgb[0] && d[plane + i] == rgb[1] && d[2 * plane + i] == rgb[2];
    return n;
}

static void curves_without_validation_have_one_panel(void **state)
{
    (void)state;
    glia_volume *one = NULL, *two = NULL;
    for (int v = 0; v < 2; v++) {
        glia_history h = history(v);
        check(glia_plot_curves_(&h, path(v ? "val.png" : "noval.png")));
        glia_history_free_(&h);
    }
    check(glia_volume_read(path("noval.png"), &one));
    check(glia_volume_read(path("val.png"), &two));
    assert_int_equal(one->dim[0], two->dim[0]);
    /* one panel: shorter by at least a panel's worth */
    assert_true(one->dim[1] < two->dim[1] * 3 / 4);
    /* the validation loss (orange) and region Dice (green, red) series only where there was validation */
    static const uint8_t orange[3] = {255, 127, 14}, green[3] = {44, 160, 44}, blue[3] = {31, 119, 180};
    assert_int_equal(count_colour(one, orange), 0);
    assert_int_equal(count_colour(one, green), 0);
    assert_true(count_colour(two, orange) > 50 && count_colour(two, green) > 50);
    assert_true(count_colour(one, blue) > 50);
    glia_volume_free(one);
    glia_volume_free(two);
}

/* ---- overlays ---------------------------------------------------------------------------- */

enum { NI = 24, NJ = 18, NK = 5 };

/* BraTS's three nested regions over classes NCR 1, ED 2, ET 3. */
static glia_label_info brats_regions(void)
{
    glia_label_info li = {.target = GLIA_TARGET_REGIONS, .channels = 3, .classes = 4};
    static const char names[3][16] = {"WT", "TC", "ET"};
    unsigned rc[3] = {0xE, 0xA, 0x8};
    int values[4] = {0, 1, 2, 4};
    for (int c = 0; c < 3; c++) {
        li.region_classes[c] = rc[c];
        memcpy(li.names[c], names[c], 16);
    }
    memcpy(li.label_values, values, sizeof values);
    return li;
}

/* A case in RAS+ voxel order (i to the right, j anterior, k superior): an
 * intensity ramp and, in slice 2, a block of class 2 (oedema) in the
 * anterior-right corner around a core of class 1. */
static void ras_scan(float *img, uint8_t *cls)
{
    for (int k = 0; k < NK; k++)
        for (int j = 0; j < NJ; j++)
            for (int i = 0; i < NI; i++) {
                int v = (k * NJ + j) * NI + i;
                img[v] = (float)(i * 3 + j * 5 + k + 1);
                int blob = k == 2 && i >= NI - 8 && i < NI - 2 && j >= NJ - 7 && j < NJ - 2;
                cls[v] = (uint8_t)(blob ? (i == NI - 5 && j == NJ - 4 ? 1 : 2) : 0);
            }
}

/* The same scan stored another way: stored voxel (a, b, k) holds RAS voxel
 * (i, j, k) with i, j from map; its affine takes stored indices to the same
 * world points as the RAS scan's identity affine (plus an offset). */
typedef struct storage {
    int swap, flip_i, flip_j; /* the stored first axis is RAS j when swap; flips reverse the stored axes */
} storage;

static glia_status write_case(storage st, const char *dir, glia_volume **ref_out, glia_case *c, float *img,
                              uint8_t *cls)
{
    float ras_img[NI * NJ * NK];
    uint8_t ras_cls[NI * NJ * NK];
    ras_scan(ras_img, ras_cls);
    int64_t d0 = st.swap ? NJ : NI, d1 = st.swap ? NI : NJ;
    for (int k = 0; k < NK; k++)
        for (int b = 0; b < d1; b++)
            for (int a = 0; a < d0; a++) {
                int aa = st.flip_i ? (int)d0 - 1 - a : a, bb = st.flip_j ? (int)d1 - 1 - b : b;
                int i = st.swap ? bb : aa, j = st.swap ? aa : bb;
                int from = (k * NJ + j) * NI + i, to = (int)((k * d1 + b) * d0 + a);
                img[to] = ras_img[from];
                cls[to] = ras_cls[from];
            }
    /* world = (i, j, k) + offset; i = stored a or d0-1-a, ... */
    double A[4][4] = {{0}};
    double col_a[3] = {0}, col_b[3] = {0}, off[3] = {10, -20, 5};
    int ax_a = st.swap ? 1 : 0, ax_b = st.swap ? 0 : 1;
    col_a[ax_a] = st.flip_i ? -1 : 1;
    col_b[ax_b] = st.flip_j ? -1 : 1;
    if (st.flip_i)
        off[ax_a] += (double)(d0 - 1);
    if (st.flip_j)
        off[ax_b] += (double)(d1 - 1);
    for (int r = 0; r < 3; r++) {
        A[r][0] = col_a[r];
        A[r][1] = col_b[r];
        A[r][2] = r == 2;
        A[r][3] = off[r];
    }
    A[3][3] = 1;
    int64_t dim[3] = {d0, d1, NK};
    glia_status s = glia_volume_new(3, dim, GLIA_DTYPE_FLOAT32, ref_out);
    if (s != GLIA_STATUS_OK)
        return s;
    glia_geom_set_affine(&(*ref_out)->geom, A, 1);
    /* through a NIfTI file and back, as glia infer's inputs come */
    memcpy((*ref_out)->data, img, sizeof(float) * NI * NJ * NK);
    char *file = glia_strfmt_("%s/scan.nii", dir);
    s = glia_volume_write(*ref_out, file, NULL);
    glia_volume_free(*ref_out);
    *ref_out = NULL;
    if (s == GLIA_STATUS_OK)
        s = glia_volume_read_header(file, ref_out);
    free(file);
    *c = (glia_case){.channels = 1, .dim = {d0, d1, NK}, .spacing = {1, 1, 1}, .image = img, .ref = *ref_out};
    return s;
}

static glia_volume *overlay_of(storage st, const char *name)
{
    const char *dir = path(name);
    mkdir(dir, 0755);
    float img[NI * NJ * NK];
    uint8_t cls[NI * NJ * NK];
    glia_volume *ref = NULL, *png = NULL;
    glia_case c;
    check(write_case(st, dir, &ref, &c, img, cls));
    glia_label_info li = brats_regions();
    int written = 0;
    check(glia_write_overlays_(&li, &c, cls, 1, dir, "case01", &written));
    assert_int_equal(written, 1);
    char *file = glia_strfmt_("%s/case01_overlay_2.png", dir); /* k is stored as is: slice 2 */
    check(glia_volume_read(file, &png));
    free(file);
    glia_volume_free(ref);
    return png;
}

/* Whether text (as the canvas draws it, white at `scale`) appears in img
 * somewhere, *x and *y its top left. */
static int find_text(const glia_volume *img, const char *text, int scale, int *x, int *y)
{
    static const uint8_t black[3] = {0, 0, 0}, white[3] = {255, 255, 255};
    glia_canvas t;
    int w = glia_canvas_text_width_(text, scale), h = GLIA_GLYPH_HEIGHT * scale;
    check(glia_canvas_init_(&t, w, h, black));
    glia_canvas_text_(&t, 0, 0, text, white, scale);
    int64_t W = img->dim[0], H = img->dim[1], plane = W * H;
    const uint8_t *d = img->data;
    int found = 0;
    for (int64_t y0 = 0; y0 + h <= H && !found; y0++)
        for (int64_t x0 = 0; x0 + w <= W && !found; x0++) {
            int same = 1;
            for (int yy = 0; yy < h && same; yy++)
                for (int xx = 0; xx < w && same; xx++)
                    for (int k = 0; k < 3 && same; k++)
                        same = d[k * plane + (y0 + yy) * W + x0 + xx] == t.px[3 * (yy * w + xx) + k];
            if (same) {
                found = 1;
                *x = (int)x0;
                *y = (int)y0;
            }
        }
    glia_canvas_free_(&t);
    return found;
}

/* Whether a size x size block of one colour lies in rows [y0, H) of img. */
static int find_block(const glia_volume *img, const uint8_t rgb[3], int size, int64_t y0)
{
    int64_t W = img->dim[0], H = img->dim[1], plane = W * H;
    const uint8_t *d = img->data;
    for (int64_t y = y0; y + size <= H; y++)
        for (int64_t x = 0; x + size <= W; x++) {
            int same = 1;
            for (int b = 0; b < size && same; b++)
                for (int a = 0; a < size && same; a++)
                    for (int k = 0; k < 3 && same; k++)
                        same = d[k * plane + (y + b) * W + x + a] == rgb[k];
            if (same)
                return 1;
        }
    return 0;
}

static void overlays_follow_the_patient_frame(void **state)
{
    (void)state;
    glia_volume *ras = overlay_of((storage){0, 0, 0}, "ras");
    storage others[] = {{0, 1, 0}, {0, 0, 1}, {0, 1, 1}, {1, 0, 0}, {1, 1, 0}};
    for (size_t i = 0; i < sizeof others / sizeof *others; i++) {
        char name[16];
        snprintf(name, sizeof name, "stored%zu", i);
        glia_volume *o = overlay_of(others[i], name);
        assert_int_equal(o->dim[0], ras->dim[0]);
        assert_int_equal(o->dim[1], ras->dim[1]);
        if (memcmp(o->data, ras->data, (size_t)glia_volume_numel(o)) != 0)
            fail_msg("storage %zu (swap %d, flips %d %d) gives another picture", i, others[i].swap, others[i].flip_i,
                     others[i].flip_j);
        glia_volume_free(o);
    }

    /* the convention: letters R left, L right, A top, P bottom around the slice */
    int rx, ry, lx, ly, ax, ay, px, py, x, y;
    assert_true(find_text(ras, "R", 2, &rx, &ry) && find_text(ras, "L", 2, &lx, &ly));
    assert_true(find_text(ras, "A", 2, &ax, &ay) && find_text(ras, "P", 2, &px, &py));
    assert_true(rx < ax && ax < lx && ay < ry && ry < py);
    /* radiological: the blob, at the patient's anterior right, is top left */
    const uint8_t *oedema = glia_overlay_colour_(2), *core = glia_overlay_colour_(1);
    int64_t W = ras->dim[0], plane = W * ras->dim[1];
    const uint8_t *d = ras->data;
    long left = 0, right = 0, top = 0, bottom = 0;
    for (int64_t yy = ay + 20; yy < py; yy++)
        for (int64_t xx = rx + 20; xx < lx; xx++)
            if (d[yy * W + xx] == oedema[0] && d[plane + yy * W + xx] == oedema[1] &&
                d[2 * plane + yy * W + xx] == oedema[2]) {
                left += xx < (rx + lx) / 2;
                right += xx >= (rx + lx) / 2;
                top += yy < (ay + py) / 2;
                bottom += yy >= (ay + py) / 2;
            }
    assert_true(left > 0 && right == 0 && top > 0 && bottom == 0);
    /* the caption and a legend under the slice: swatches of the colours the class map uses */
    assert_true(find_text(ras, "case01  slice 2", 1, &x, &y));
    assert_true(y > py);
    assert_true(find_text(ras, "WT", 1, &x, &y) && find_text(ras, "TC", 1, &x, &y) && find_text(ras, "ET", 1, &x, &y));
    assert_true(find_block(ras, oedema, 8, py + 10) && find_block(ras, core, 8, py + 10));
    assert_true(find_block(ras, glia_overlay_colour_(3), 8, py + 10)); /* ET: in the legend though not predicted */
    glia_volume_free(ras);
}

/* ---- bench chart ------------------------------------------------------------------------- */

static int overlap(const glia_chart_item *a, const glia_chart_item *b)
{
    return a->x < b->x + b->w && b->x < a->x + a->w && a->y < b->y + b->h && b->y < a->y + a->h;
}

static void chart_texts_do_not_overlap(void **state)
{
    (void)state;
    const char *rows[] = {"op.conv3d.bwd_weight.n1c8k16.128x128x128.k2s2",
                          "model.swinunetr.train_step.with.a.very.long.name.that.cannot.fit.on.one.line.of.the.chart",
                          "x"};
    const char *series[] = {"A: cpu, AMD EPYC 7763 64-Core Processor, 2 threads, glia 0.9 built with gcc 12 -O3",
                            "B: vulkan", "C: opencl, NVIDIA H100 80GB HBM3"};
    double v[9] = {1, 2.5, NAN, 1, 0.4, 123.45, 1, 1, 1};
    glia_chart_layout l;
    check(glia_bench_chart_layout("speed relative to A (higher is faster)", rows, 3, series, 3, v, &l));
    int texts = 0;
    for (int i = 0; i < l.n; i++) {
        const glia_chart_item *a = &l.item[i];
        texts += a->is_text;
        assert_true(a->x >= 0 && a->y >= 0 && a->x + a->w <= l.w && a->y + a->h <= l.h);
        for (int j = i + 1; j < l.n; j++)
            if ((a->is_text || l.item[j].is_text) && overlap(a, &l.item[j]))
                fail_msg("'%s' (%d,%d %dx%d) overlaps item %d '%s'", a->text, a->x, a->y, a->w, a->h, j,
                         l.item[j].text);
    }
    /* every character of every name is shown: the wrapped lines put back together */
    char joined[512] = "";
    for (int i = 0; i < l.n; i++)
        if (l.item[i].is_text && strncmp(l.item[i].text, "model.", 6) == 0)
            for (int j = i; j < l.n && l.item[j].is_text && l.item[j].x == l.item[i].x; j++)
                strcat(joined, l.item[j].text);
    assert_string_equal(joined, rows[1]);
    assert_true(texts > 3 + 3 + 8);
    glia_bench_chart_layout_free(&l);
    check(glia_bench_chart_png(path("chart.png"), "speed relative to A (higher is faster)", rows, 3, series, 3, v));
}

int main(int argc, char **argv)
{
    snprintf(root, sizeof root, "%s", argc > 1 ? argv[1] : "/tmp/glia-pictures-XXXXXX");
    if (argc <= 1 && !mkdtemp(root))
        return 1;
    mkdir(root, 0755);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ticks_are_round),
        cmocka_unit_test(curves_without_validation_have_one_panel),
        cmocka_unit_test(overlays_follow_the_patient_frame),
        cmocka_unit_test(chart_texts_do_not_overlap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
