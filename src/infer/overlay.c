/* Overlays: the most informative axial slices (largest predicted tumour area,
 * kept apart) of FLAIR (or T1ce, or the first channel), with the predicted
 * classes as translucent colours and opaque contours, in the radiological
 * convention (overlay_view.c: the patient's left on the picture's right,
 * anterior up) with R/L/A/P letters on the edges, and under the slice the case
 * id, the slice, the convention and a legend naming each region's colour. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "infer/infer_priv.h"
#include "plot/plot_priv.h"

/* Colours per class: BraTS necrosis red, oedema green, enhancing yellow; then more. */
static const uint8_t colours[][3] = {{0, 0, 0},      {230, 40, 40},  {40, 200, 60}, {250, 220, 30},
                                     {60, 120, 240}, {230, 90, 230}, {40, 220, 220}, {240, 140, 30}};

const uint8_t *glia_overlay_colour_(int k) { return colours[k % 8]; }

enum {
    MARGIN = 24,          /* around the slice: room for the orientation letters */
    LETTER = 2,           /* their font scale */
    LINE = GLIA_GLYPH_HEIGHT + 6,   /* a caption or legend line (font scale 1) */
    SWATCH = 10
};

static int display_channel(const glia_label_info *li, int channels)
{
    for (int pass = 0; pass < 2; pass++)
        for (int m = 0; m < li->modalities && m < channels; m++)
            if (strcmp(li->modality[m], pass ? "t1ce" : "flair") == 0)
                return m;
    return 0;
}

/* Pick up to want slices (voxel indices along the view's slice axis) by tumour
 * area, at least gap apart; none with tumour: the middle one. */
static int pick_slices(const uint8_t *cls, const int64_t *dim, const glia_overlay_view *view, int want, int64_t *out)
{
    int64_t slices = view->size[2], *area = calloc((size_t)slices, sizeof *area);
    if (!area)
        return 0;
    int64_t stride = view->axis[2] == 0 ? 1 : view->axis[2] == 1 ? dim[0] : dim[0] * dim[1];
    for (int64_t v = 0; v < dim[0] * dim[1] * dim[2]; v++)
        area[v / stride % slices] += cls[v] != 0;
    int64_t gap = slices / (2 * want) > 0 ? slices / (2 * want) : 1;
    int n = 0;
    while (n < want) {
        int64_t best = -1;
        for (int64_t k = 0; k < slices; k++) {
            int far = 1;
            for (int i = 0; i < n && far; i++)
                far = llabs(out[i] - k) >= gap;
            if (far && area[k] > 0 && (best < 0 || area[k] > area[best]))
                best = k;
        }
        if (best < 0)
            break;
        out[n++] = best;
    }
    if (n == 0)
        out[n++] = slices / 2;
    free(area);
    return n;
}

/* The grey levels' window: 1st and 99th percentile of the channel's non-zero voxels. */
static void window(const float *x, size_t n, float *lo, float *hi)
{
    size_t m = 0, step = n / 200000 + 1;
    double *v = malloc((n / step + 1) * sizeof *v);
    for (size_t i = 0; v && i < n; i += step)
        if (x[i] != 0 && isfinite(x[i]))
            v[m++] = x[i];
    *lo = m ? (float)glia_quantile_(v, m, 0.01) : 0;
    *hi = m ? (float)glia_quantile_(v, m, 0.99) : 1;
    if (!(*hi > *lo))
        *hi = *lo + 1;
    free(v);
}


/* The legend: one entry per output channel that shows as a class of its own,
 * in the colour the class map gives it. The class is found by asking the
 * label info itself (glia_label_info_classes on a one-hot probability per
 * channel), so legend and picture cannot disagree. */
typedef struct legend {
    int n;
    int cls[GLIA_METRICS_MAX_CHANNELS];
    const char *name[GLIA_METRICS_MAX_CHANNELS];
} legend;

static void legend_of(const glia_label_info *li, legend *lg)
{
    int C = li->channels;
    float prob[GLIA_METRICS_MAX_CHANNELS * GLIA_METRICS_MAX_CHANNELS] = {0};
    uint8_t cls[GLIA_METRICS_MAX_CHANNELS];
    for (int c = 0; c < C; c++)
        prob[c * C + c] = 1; /* voxel c: channel c alone */
    glia_label_info_classes(li, prob, (size_t)C, 0.5f, cls);
    lg->n = 0;
    for (int c = 0; c < C; c++)
        if (cls[c] != 0) {
            lg->cls[lg->n] = cls[c];
            lg->name[lg->n++] = li->names[c];
        }
}

/* Legend entries flowing left to right from (x0, y), wrapped at x1; draws when
 * cv is not NULL; returns the lines used. */
static int legend_draw(glia_canvas *cv, const legend *lg, int x0, int x1, int y, const uint8_t text[3])
{
    int x = x0, lines = lg->n > 0;
    for (int i = 0; i < lg->n; i++) {
        int w = SWATCH + 4 + glia_canvas_text_width_(lg->name[i], 1);
        if (x > x0 && x + w > x1) {
            x = x0;
            lines++;
        }
        int top = y + (lines - 1) * LINE;
        if (cv) {
            glia_canvas_fill_(cv, x, top, x + SWATCH - 1, top + SWATCH - 1, colours[lg->cls[i] % 8]);
            glia_canvas_text_(cv, x + SWATCH + 4, top + 1, lg->name[i], text, 1);
        }
        x += w + 12;
    }
    return lines;
}

/* A letter centred at (x, y). */
static void letter(glia_canvas *cv, int x, int y, char ch, const uint8_t rgb[3])
{
    char s[2] = {ch, 0};
    glia_canvas_text_(cv, x - glia_canvas_text_width_(s, LETTER) / 2, y - GLIA_GLYPH_HEIGHT * LETTER / 2, s, rgb,
                      LETTER);
}

typedef struct picture {
    const float *img;
    const uint8_t *cls;
    const int64_t *dim;
    const glia_overlay_view *view;
    float lo, hi;
    const legend *lg;
    const char *id;
} picture;

static glia_status render(const picture *p, int64_t slice, const char *path)
{
    const glia_overlay_view *view = p->view;
    int64_t W = view->size[0], H = view->size[1];
    int scale = W >= 256 ? 1 : (int)((256 + W - 1) / W);
    int iw = (int)(W * scale), ih = (int)(H * scale), cw = iw + 2 * MARGIN;
    static const uint8_t black[3] = {0, 0, 0}, white[3] = {255, 255, 255}, dim_white[3] = {190, 190, 190};
    int lines = legend_draw(NULL, p->lg, MARGIN, cw - MARGIN, 0, white);
    glia_canvas cv;
    glia_status s = glia_canvas_init_(&cv, cw, MARGIN + ih + MARGIN + (2 + lines) * LINE + 6, black);
    if (s != GLIA_STATUS_OK)
        return s;
    int64_t k = glia_overlay_slice_index_(view, slice);
    for (int64_t y = 0; y < H; y++)
        for (int64_t x = 0; x < W; x++) {
            int64_t v = glia_overlay_voxel_(view, p->dim, x, y, slice);
            float g = (p->img[v] - p->lo) / (p->hi - p->lo);
            uint8_t grey = (uint8_t)lrintf(255 * (g < 0 ? 0 : g > 1 ? 1 : g)), rgb[3] = {grey, grey, grey};
            int c = p->cls[v], edge = 0;
            if (c) /* a contour where a 4-neighbour in the slice has another class */
                for (int d = 0; d < 4 && !edge; d++) {
                    int64_t xx = x + (d == 0) - (d == 1), yy = y + (d == 2) - (d == 3);
                    edge = xx < 0 || yy < 0 || xx >= W || yy >= H ||
                           p->cls[glia_overlay_voxel_(view, p->dim, xx, yy, slice)] != c;
                }
            int px = MARGIN + (int)x * scale, py = MARGIN + (int)y * scale;
            glia_canvas_fill_(&cv, px, py, px + scale - 1, py + scale - 1, rgb);
            if (c)
                for (int a = 0; a < scale; a++)
                    for (int b = 0; b < scale; b++)
                        glia_canvas_blend_(&cv, px + a, py + b, colours[c % 8], edge ? 1.0f : 0.35f);
        }
    if (view->oriented) {
        letter(&cv, MARGIN / 2, MARGIN + ih / 2, 'R', white);
        letter(&cv, MARGIN + iw + MARGIN / 2, MARGIN + ih / 2, 'L', white);
        letter(&cv, MARGIN + iw / 2, MARGIN / 2, 'A', white);
        letter(&cv, MARGIN + iw / 2, MARGIN + ih + MARGIN / 2, 'P', white);
    }
    char caption[160];
    int y = MARGIN + ih + MARGIN;
    snprintf(caption, sizeof caption, "%s  slice %lld", p->id, (long long)k);
    glia_canvas_text_(&cv, MARGIN, y, caption, white, 1);
    glia_canvas_text_(&cv, MARGIN, y + LINE, view->oriented ? "radiological: patient's left on the right" : "as stored",
                      dim_white, 1);
    legend_draw(&cv, p->lg, MARGIN, cw - MARGIN, y + 2 * LINE, white);
    s = glia_canvas_save_(&cv, path);
    glia_canvas_free_(&cv);
    return s;
}

glia_status glia_write_overlays_(const glia_label_info *li, const glia_case *c, const uint8_t *cls, int want,
                                 const char *dir, const char *id, int *written)
{
    *written = 0;
    int64_t slices[64];
    want = want > 64 ? 64 : want;
    glia_overlay_view view = glia_overlay_view_(c->ref, c->dim);
    int n = pick_slices(cls, c->dim, &view, want, slices);
    if (n == 0)
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "overlay: slice areas");
    size_t vox = (size_t)(c->dim[0] * c->dim[1] * c->dim[2]);
    legend lg;
    legend_of(li, &lg);
    picture p = {c->image + (size_t)display_channel(li, c->channels) * vox, cls, c->dim, &view, 0, 0, &lg, id};
    window(p.img, vox, &p.lo, &p.hi);
    glia_status s = GLIA_STATUS_OK;
    for (int i = 0; i < n && s == GLIA_STATUS_OK; i++) {
        char *path = glia_strfmt_("%s/%s_overlay_%lld.png", dir, id, (long long)slices[i]);
        s = path ? render(&p, glia_overlay_slice_index_(&view, slices[i]), path)
                 : glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "overlay name");
        free(path);
        *written += s == GLIA_STATUS_OK;
    }
    return s;
}
