/* Overlays: the most informative axial slices (largest predicted tumour area,
 * kept apart) of FLAIR (or T1ce, or the first channel), with the predicted
 * classes as translucent colours and opaque contours. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "infer/infer_priv.h"
#include "plot/plot_priv.h"

/* Colours per class: BraTS necrosis red, oedema green, enhancing yellow; then more. */
static const uint8_t colours[][3] = {{0, 0, 0},      {230, 40, 40},  {40, 200, 60}, {250, 220, 30},
                                     {60, 120, 240}, {230, 90, 230}, {40, 220, 220}, {240, 140, 30}};

static int display_channel(const glia_label_info *li, int channels)
{
    for (int pass = 0; pass < 2; pass++)
        for (int m = 0; m < li->modalities && m < channels; m++)
            if (strcmp(li->modality[m], pass ? "t1ce" : "flair") == 0)
                return m;
    return 0;
}

/* Pick up to want slices by tumour area, at least gap apart; none with tumour: the middle one. */
static int pick_slices(const uint8_t *cls, const int64_t *dim, int want, int64_t *out)
{
    int64_t plane = dim[0] * dim[1], *area = calloc((size_t)dim[2], sizeof *area);
    if (!area)
        return 0;
    for (int64_t k = 0; k < dim[2]; k++)
        for (int64_t v = 0; v < plane; v++)
            area[k] += cls[k * plane + v] != 0;
    int64_t gap = dim[2] / (2 * want) > 0 ? dim[2] / (2 * want) : 1;
    int n = 0;
    while (n < want) {
        int64_t best = -1;
        for (int64_t k = 0; k < dim[2]; k++) {
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
        out[n++] = dim[2] / 2;
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

static glia_status render(const float *img, const uint8_t *cls, const int64_t *dim, int64_t k, float lo, float hi,
                          int flip, const char *path)
{
    int64_t W = dim[0], H = dim[1];
    int scale = W >= 256 ? 1 : (int)((256 + W - 1) / W);
    static const uint8_t black[3] = {0, 0, 0}, white[3] = {255, 255, 255};
    glia_canvas cv;
    glia_status s = glia_canvas_init_(&cv, (int)(W * scale), (int)(H * scale) + 14, black);
    if (s != GLIA_STATUS_OK)
        return s;
    const float *sl = img + k * W * H;
    const uint8_t *cs = cls + k * W * H;
    for (int64_t y = 0; y < H; y++)
        for (int64_t x = 0; x < W; x++) {
            int64_t j = flip ? H - 1 - y : y; /* NIfTI j points up (anterior), image rows down */
            float g = (sl[j * W + x] - lo) / (hi - lo);
            uint8_t grey = (uint8_t)lrintf(255 * (g < 0 ? 0 : g > 1 ? 1 : g)), rgb[3] = {grey, grey, grey};
            int c = cs[j * W + x];
            int edge = 0;
            if (c) /* a contour where a 4-neighbour has another class */
                for (int d = 0; d < 4 && !edge; d++) {
                    int64_t xx = x + (d == 0) - (d == 1), jj = j + (d == 2) - (d == 3);
                    edge = xx < 0 || jj < 0 || xx >= W || jj >= H || cs[jj * W + xx] != c;
                }
            glia_canvas_fill_(&cv, (int)(x * scale), (int)(y * scale), (int)(x * scale + scale - 1),
                              (int)(y * scale + scale - 1), rgb);
            if (c)
                for (int a = 0; a < scale; a++)
                    for (int b = 0; b < scale; b++)
                        glia_canvas_blend_(&cv, (int)(x * scale) + a, (int)(y * scale) + b, colours[c % 8],
                                           edge ? 1.0f : 0.35f);
        }
    char label[32];
    snprintf(label, sizeof label, "SLICE %lld", (long long)k);
    glia_canvas_text_(&cv, 4, (int)(H * scale) + 4, label, white, 1);
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
    int n = pick_slices(cls, c->dim, want, slices);
    size_t vox = (size_t)(c->dim[0] * c->dim[1] * c->dim[2]);
    const float *img = c->image + (size_t)display_channel(li, c->channels) * vox;
    float lo, hi;
    window(img, vox, &lo, &hi);
    int flip = c->ref && c->ref->nifti_version > 0;
    glia_status s = GLIA_STATUS_OK;
    for (int i = 0; i < n && s == GLIA_STATUS_OK; i++) {
        char *path = glia_strfmt_("%s/%s_overlay_%lld.png", dir, id, (long long)slices[i]);
        s = path ? render(img, cls, c->dim, slices[i], lo, hi, flip, path)
                 : glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "overlay name");
        free(path);
        *written += s == GLIA_STATUS_OK;
    }
    return s;
}
