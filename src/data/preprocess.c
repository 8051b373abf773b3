/* Preprocessing of a decoded case: percentile clipping and z-scoring over the
 * brain (non-zero voxels), cropping to the non-zero box, resampling to a
 * spacing or a size (linear for images, nearest for labels), centre crop/pad;
 * and the inverse mapping of a prediction back to the original grid. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "data/data_priv.h"

/* k-th smallest of x[0..n-1] (reorders x): Hoare's selection. */
static float select_kth(float *x, size_t n, size_t k)
{
    size_t lo = 0, hi = n - 1;
    while (lo < hi) {
        float pivot = x[lo + (hi - lo) / 2];
        size_t i = lo, j = hi;
        while (i <= j) {
            while (x[i] < pivot)
                i++;
            while (x[j] > pivot)
                j--;
            if (i <= j) {
                float t = x[i];
                x[i] = x[j];
                x[j] = t;
                i++;
                if (j == 0)
                    break;
                j--;
            }
        }
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            return x[k];
    }
    return x[k];
}

float glia_percentile_nonzero_(const float *x, size_t n, float pct)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        m += x[i] != 0;
    if (m == 0)
        return 0;
    float *buf = malloc(m * sizeof *buf);
    if (!buf)
        return 0;
    m = 0;
    for (size_t i = 0; i < n; i++)
        if (x[i] != 0)
            buf[m++] = x[i];
    double pos = (double)pct / 100.0 * (double)(m - 1);
    size_t k = (size_t)pos;
    float v = select_kth(buf, m, k);
    if (k + 1 < m && pos > (double)k) {
        /* linear interpolation between neighbours, as numpy's percentile does */
        float next = buf[k + 1];
        for (size_t i = k + 1; i < m; i++)
            next = buf[i] < next ? buf[i] : next;
        v = (float)(v + (pos - (double)k) * (next - v));
    }
    free(buf);
    return v;
}

/* One axis of a separable resize: src has dims sd, dst gets sd with axis a set to nd. */
static int resize_axis(const float *src, const int64_t *sd, int a, int64_t nd, float *dst, int nearest)
{
    int64_t inner = 1, outer = 1;
    for (int q = 0; q < a; q++)
        inner *= sd[q];
    for (int q = a + 1; q < 3; q++)
        outer *= sd[q];
    int64_t len = sd[a];
    double scale = (double)len / (double)nd;
    int64_t *idx = malloc((size_t)nd * 2 * sizeof *idx);
    float *wt = malloc((size_t)nd * sizeof *wt);
    if (!idx || !wt) {
        free(idx);
        free(wt);
        return 0;
    }
    for (int64_t x = 0; x < nd; x++) {
        /* pixel centres line up (PyTorch's align_corners=False) */
        double s = (x + 0.5) * scale - 0.5;
        int64_t i0;
        if (nearest) {
            i0 = (int64_t)floor((x + 0.5) * scale);
            i0 = i0 >= len ? len - 1 : i0;
            s = (double)i0;
        } else {
            s = s < 0 ? 0 : s;
            i0 = (int64_t)s;
            if (i0 >= len - 1) {
                i0 = len - 1;
                s = (double)i0;
            }
        }
        idx[2 * x] = i0;
        idx[2 * x + 1] = i0 + 1 < len ? i0 + 1 : i0;
        wt[x] = (float)(s - (double)i0);
    }
    /* rows in memory order: the weights are per x, the data streams */
    for (int64_t o = 0; o < outer; o++)
        for (int64_t x = 0; x < nd; x++) {
            const float *r0 = src + (o * len + idx[2 * x]) * inner, *r1 = src + (o * len + idx[2 * x + 1]) * inner;
            float *d = dst + (o * nd + x) * inner, w = wt[x];
            for (int64_t i = 0; i < inner; i++)
                d[i] = r0[i] + w * (r1[i] - r0[i]);
        }
    free(idx);
    free(wt);
    return 1;
}

/* Resize `channels` volumes of dims sd to dd (separable; linear or nearest). */
static int resize_volumes(const float *src, const int64_t *sd, int channels, float *dst, const int64_t *dd,
                          int nearest)
{
    int64_t cur[3] = {sd[0], sd[1], sd[2]}, maxn = 1;
    for (int a = 0; a < 3; a++)
        maxn *= sd[a] > dd[a] ? sd[a] : dd[a];
    float *t0 = malloc((size_t)maxn * sizeof *t0), *t1 = malloc((size_t)maxn * sizeof *t1);
    if (!t0 || !t1) {
        free(t0);
        free(t1);
        return 0;
    }
    size_t sn = (size_t)(sd[0] * sd[1] * sd[2]), dn = (size_t)(dd[0] * dd[1] * dd[2]);
    for (int c = 0; c < channels; c++) {
        memcpy(t0, src + (size_t)c * sn, sn * sizeof *t0);
        memcpy(cur, sd, sizeof cur);
        for (int a = 0; a < 3; a++) {
            if (cur[a] == dd[a])
                continue;
            if (!resize_axis(t0, cur, a, dd[a], t1, nearest)) {
                free(t0);
                free(t1);
                return 0;
            }
            cur[a] = dd[a];
            float *t = t0;
            t0 = t1;
            t1 = t;
        }
        memcpy(dst + (size_t)c * dn, t0, dn * sizeof *t0);
    }
    free(t0);
    free(t1);
    return 1;
}

void glia_resize_linear_(const float *src, const int64_t *sd, int channels, float *dst, const int64_t *dd)
{
    resize_volumes(src, sd, channels, dst, dd, 0);
}

/* Copy the box [lo, lo + nd) of src (dims sd) into dst (dims nd); outside src reads as zero. */
static void copy_box(const void *src, const int64_t *sd, const int64_t *lo, void *dst, const int64_t *nd, size_t es)
{
    for (int64_t k = 0; k < nd[2]; k++)
        for (int64_t j = 0; j < nd[1]; j++) {
            char *d = (char *)dst + (size_t)((k * nd[1] + j) * nd[0]) * es;
            int64_t sk = k + lo[2], sj = j + lo[1];
            if (sk < 0 || sk >= sd[2] || sj < 0 || sj >= sd[1]) {
                memset(d, 0, (size_t)nd[0] * es);
                continue;
            }
            for (int64_t i = 0; i < nd[0]; i++) {
                int64_t si = i + lo[0];
                if (si < 0 || si >= sd[0])
                    memset(d + (size_t)i * es, 0, es);
                else
                    memcpy(d + (size_t)i * es, (const char *)src + (size_t)((sk * sd[1] + sj) * sd[0] + si) * es, es);
            }
        }
}

/* Re-grid every channel and the labels of c to dims nd, by a box (lo) or a resize. */
static glia_status regrid(glia_case *c, const int64_t *nd, const int64_t *lo)
{
    size_t n = (size_t)(nd[0] * nd[1] * nd[2]), on = (size_t)(c->dim[0] * c->dim[1] * c->dim[2]);
    float *img = malloc(n * (size_t)c->channels * sizeof *img + 1);
    uint8_t *lab = c->label ? malloc(n + 1) : NULL;
    float *lf = c->label && !lo ? malloc((on > n ? on : n) * sizeof *lf * 2 + 1) : NULL;
    int ok = img && (!c->label || lab) && (!c->label || lo || lf);
    if (ok && lo) {
        for (int ch = 0; ch < c->channels; ch++)
            copy_box(c->image + (size_t)ch * on, c->dim, lo, img + (size_t)ch * n, nd, sizeof(float));
        if (lab)
            copy_box(c->label, c->dim, lo, lab, nd, 1);
    } else if (ok) {
        ok = resize_volumes(c->image, c->dim, c->channels, img, nd, 0);
        if (ok && lab) {
            for (size_t v = 0; v < on; v++)
                lf[v] = c->label[v];
            ok = resize_volumes(lf, c->dim, 1, lf + on, nd, 1);
            for (size_t v = 0; ok && v < n; v++)
                lab[v] = (uint8_t)lf[on + v];
        }
    }
    free(lf);
    if (!ok) {
        free(img);
        free(lab);
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "preprocess: %zu voxels x %d channels", n, c->channels);
    }
    free(c->image);
    free(c->label);
    c->image = img;
    c->label = lab;
    memcpy(c->dim, nd, sizeof c->dim);
    return GLIA_STATUS_OK;
}

static void clip_and_zscore(glia_case *c, const glia_preprocess *p)
{
    size_t n = (size_t)(c->dim[0] * c->dim[1] * c->dim[2]);
    for (int ch = 0; ch < c->channels; ch++) {
        float *x = c->image + (size_t)ch * n;
        if (p->clip_lo > 0 || p->clip_hi > 0) {
            float lo = glia_percentile_nonzero_(x, n, p->clip_lo);
            float hi = glia_percentile_nonzero_(x, n, p->clip_hi > 0 ? p->clip_hi : 100);
            for (size_t v = 0; v < n; v++)
                if (x[v] != 0)
                    x[v] = x[v] < lo ? lo : x[v] > hi ? hi : x[v];
        }
        if (!p->zscore)
            continue;
        double sum = 0, sq = 0;
        size_t m = 0;
        for (size_t v = 0; v < n; v++)
            if (x[v] != 0) {
                sum += x[v];
                sq += (double)x[v] * x[v];
                m++;
            }
        if (m == 0)
            continue;
        double mean = sum / (double)m, var = sq / (double)m - mean * mean;
        double inv = 1.0 / (var > 1e-12 ? sqrt(var) : 1.0);
        for (size_t v = 0; v < n; v++)
            if (x[v] != 0)
                x[v] = (float)((x[v] - mean) * inv);
    }
}

void glia_preprocess_brats2d(glia_preprocess *p)
{
    memset(p, 0, sizeof *p);
    p->zscore = 1;
    p->resize[0] = p->resize[1] = 256;
    p->crop[0] = p->crop[1] = 224;
}

glia_status glia_case_preprocess(glia_case *c, const glia_preprocess *p)
{
    if (!c || !p || !c->image)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_case_preprocess: NULL case or options");
    for (int a = 0; a < 3; a++)
        if (p->spacing[a] < 0 || p->resize[a] < 0 || p->crop[a] < 0 || p->resize[a] > 4096 || p->crop[a] > 4096 ||
            !(p->clip_lo >= 0 && p->clip_hi <= 100 && p->clip_lo <= (p->clip_hi > 0 ? p->clip_hi : 100)))
            return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT,
                               "glia_case_preprocess: sizes and spacings must be >= 0, percentiles 0 <= lo <= hi <= 100");
    clip_and_zscore(c, p);
    glia_status s = GLIA_STATUS_OK;
    if (p->crop_nonzero) {
        size_t n = (size_t)(c->dim[0] * c->dim[1] * c->dim[2]);
        int64_t lo[3] = {c->dim[0], c->dim[1], c->dim[2]}, hi[3] = {-1, -1, -1};
        for (size_t v = 0; v < n; v++) {
            int any = 0;
            for (int ch = 0; ch < c->channels && !any; ch++)
                any = c->image[(size_t)ch * n + v] != 0;
            if (!any)
                continue;
            int64_t q[3] = {(int64_t)(v % (size_t)c->dim[0]), (int64_t)(v / (size_t)c->dim[0] % (size_t)c->dim[1]),
                            (int64_t)(v / (size_t)(c->dim[0] * c->dim[1]))};
            for (int a = 0; a < 3; a++) {
                lo[a] = q[a] < lo[a] ? q[a] : lo[a];
                hi[a] = q[a] > hi[a] ? q[a] : hi[a];
            }
        }
        if (hi[0] >= 0) {
            int64_t nd[3] = {hi[0] - lo[0] + 1, hi[1] - lo[1] + 1, hi[2] - lo[2] + 1};
            s = regrid(c, nd, lo);
            for (int a = 0; a < 3; a++)
                c->box_lo[a] += lo[a];
        }
    }
    memcpy(c->box_dim, c->dim, sizeof c->dim);
    int64_t nd[3];
    for (int a = 0; a < 3; a++) {
        nd[a] = c->dim[a];
        if (p->spacing[a] > 0)
            nd[a] = (int64_t)llround((double)c->dim[a] * c->spacing[a] / p->spacing[a]);
        if (p->resize[a] > 0)
            nd[a] = p->resize[a];
        if (nd[a] < 1)
            nd[a] = 1;
    }
    if (s == GLIA_STATUS_OK && memcmp(nd, c->dim, sizeof nd) != 0) {
        for (int a = 0; a < 3; a++)
            c->spacing[a] *= (double)c->dim[a] / (double)nd[a];
        s = regrid(c, nd, NULL);
    }
    memcpy(c->resized, c->dim, sizeof c->dim);
    int64_t cd[3], lo[3];
    int crop = 0;
    for (int a = 0; a < 3; a++) {
        cd[a] = p->crop[a] > 0 ? p->crop[a] : c->dim[a];
        lo[a] = (c->dim[a] - cd[a]) / 2; /* negative: padding */
        crop |= cd[a] != c->dim[a];
    }
    if (s == GLIA_STATUS_OK && crop) {
        s = regrid(c, cd, lo);
        for (int a = 0; a < 3; a++)
            c->offset[a] = -lo[a];
    }
    return s;
}

glia_status glia_case_restore(const glia_case *c, const float *pred, int channels, float **out)
{
    if (!c || !pred || !out || channels < 1)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_case_restore: NULL argument or no channels");
    *out = NULL;
    size_t n = (size_t)(c->dim[0] * c->dim[1] * c->dim[2]), rn = (size_t)(c->resized[0] * c->resized[1] * c->resized[2]);
    size_t bn = (size_t)(c->box_dim[0] * c->box_dim[1] * c->box_dim[2]);
    size_t on = (size_t)(c->orig_dim[0] * c->orig_dim[1] * c->orig_dim[2]);
    float *r = malloc(rn * (size_t)channels * sizeof *r + 1), *b = malloc(bn * (size_t)channels * sizeof *b + 1);
    float *o = calloc(on * (size_t)channels + 1, sizeof *o);
    if (!r || !b || !o) {
        free(r);
        free(b);
        free(o);
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "glia_case_restore: %zu voxels", on);
    }
    /* undo the centre crop/pad: the final grid sits at offset in the resized one */
    for (int ch = 0; ch < channels; ch++)
        copy_box(pred + (size_t)ch * n, c->dim, c->offset, r + (size_t)ch * rn, c->resized, sizeof(float));
    int ok = resize_volumes(r, c->resized, channels, b, c->box_dim, 0);
    int64_t back[3] = {-c->box_lo[0], -c->box_lo[1], -c->box_lo[2]};
    for (int ch = 0; ok && ch < channels; ch++)
        copy_box(b + (size_t)ch * bn, c->box_dim, back, o + (size_t)ch * on, c->orig_dim, sizeof(float));
    free(r);
    free(b);
    if (!ok) {
        free(o);
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "glia_case_restore: resize");
    }
    *out = o;
    return GLIA_STATUS_OK;
}
