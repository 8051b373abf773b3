/* Seeded augmentation of one sample: geometric transforms applied identically
 * to image and labels (nearest for labels), then intensity transforms on the
 * image only. The sample is C x d x h x w (w fastest); in-plane means (h, w). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "glia/tensor.h"
#include "data/data_priv.h"

void glia_augment_defaults(glia_augment *a)
{
    memset(a, 0, sizeof *a);
    a->p_flip = 0.5f;
    a->p_rot90 = 0.5f;
    a->p_affine = 0.2f;
    a->max_rotate_deg = 15;
    a->scale_lo = 0.85f;
    a->scale_hi = 1.15f;
    a->p_intensity = 0.15f;
    a->intensity_scale = 0.1f;
    a->intensity_shift = 0.1f;
    a->p_gamma = 0.15f;
    a->gamma_lo = 0.7f;
    a->gamma_hi = 1.5f;
    a->p_noise = 0.1f;
    a->noise_std = 0.1f;
    a->p_blur = 0.1f;
    a->blur_sigma_lo = 0.5f;
    a->blur_sigma_hi = 1.0f;
}

typedef struct sample {
    float *image;
    uint8_t *labels;
    int channels;
    int64_t d, h, w;
} sample;

/* Reverse along axis 0 (w), 1 (h) or 2 (d), for every channel and the labels. */
static void flip(sample *s, int axis)
{
    int64_t dims[3] = {s->w, s->h, s->d}, stride = axis == 0 ? 1 : axis == 1 ? s->w : s->w * s->h;
    int64_t len = dims[axis], plane = s->w * s->h * s->d;
    for (int ch = 0; ch <= s->channels; ch++) {
        if (ch == s->channels && !s->labels)
            break;
        for (int64_t v = 0; v < plane; v++) {
            int64_t pos = v / stride % len;
            if (pos >= len / 2)
                continue;
            int64_t u = v + (len - 1 - 2 * pos) * stride;
            if (ch < s->channels) {
                float *x = s->image + ch * plane, t = x[v];
                x[v] = x[u];
                x[u] = t;
            } else {
                uint8_t t = s->labels[v];
                s->labels[v] = s->labels[u];
                s->labels[u] = t;
            }
        }
    }
}

/* In-plane inverse mapping: out(y, x) = in(m * (y - cy, x - cx) + (cy, cx)); zero outside. */
static void warp_plane(const float *src, float *dst, int64_t h, int64_t w, const double m[2][2], int nearest)
{
    double cy = (h - 1) / 2.0, cx = (w - 1) / 2.0;
    for (int64_t y = 0; y < h; y++)
        for (int64_t x = 0; x < w; x++) {
            double sy = m[0][0] * (y - cy) + m[0][1] * (x - cx) + cy;
            double sx = m[1][0] * (y - cy) + m[1][1] * (x - cx) + cx;
            float v = 0;
            if (nearest) {
                int64_t iy = (int64_t)floor(sy + 0.5), ix = (int64_t)floor(sx + 0.5);
                if (iy >= 0 && iy < h && ix >= 0 && ix < w)
                    v = src[iy * w + ix];
            } else {
                int64_t y0 = (int64_t)floor(sy), x0 = (int64_t)floor(sx);
                double fy = sy - y0, fx = sx - x0;
                for (int k = 0; k < 4; k++) {
                    int64_t yy = y0 + (k >> 1), xx = x0 + (k & 1);
                    if (yy >= 0 && yy < h && xx >= 0 && xx < w)
                        v += (float)(((k >> 1) ? fy : 1 - fy) * ((k & 1) ? fx : 1 - fx)) * src[yy * w + xx];
                }
            }
            dst[y * w + x] = v;
        }
}

static glia_status warp(sample *s, const double m[2][2])
{
    int64_t plane = s->h * s->w;
    float *a = malloc((size_t)plane * 2 * sizeof *a);
    if (!a)
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "augment: %lld-pixel plane", (long long)plane);
    float *b = a + plane;
    for (int ch = 0; ch <= s->channels; ch++) {
        if (ch == s->channels && !s->labels)
            break;
        for (int64_t z = 0; z < s->d; z++) {
            if (ch < s->channels) {
                float *x = s->image + (ch * s->d + z) * plane;
                memcpy(a, x, (size_t)plane * sizeof *a);
                warp_plane(a, x, s->h, s->w, m, 0);
            } else {
                uint8_t *l = s->labels + z * plane;
                for (int64_t v = 0; v < plane; v++)
                    a[v] = l[v];
                warp_plane(a, b, s->h, s->w, m, 1);
                for (int64_t v = 0; v < plane; v++)
                    l[v] = (uint8_t)b[v];
            }
        }
    }
    free(a);
    return GLIA_STATUS_OK;
}

/* Separable Gaussian blur of one channel along w, h (and d when deep). */
static glia_status blur(float *x, const sample *s, float sigma)
{
    int r = (int)ceilf(3 * sigma);
    float kern[32];
    if (r > 15)
        r = 15;
    float sum = 0;
    for (int i = -r; i <= r; i++)
        sum += kern[i + r] = expf(-0.5f * (float)(i * i) / (sigma * sigma));
    for (int i = 0; i <= 2 * r; i++)
        kern[i] /= sum;
    int64_t n = s->d * s->h * s->w, dims[3] = {s->w, s->h, s->d}, strides[3] = {1, s->w, s->w * s->h};
    float *t = malloc((size_t)n * sizeof *t);
    if (!t)
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "augment: blur");
    for (int a = 0; a < 3; a++) {
        if (dims[a] < 2)
            continue;
        memcpy(t, x, (size_t)n * sizeof *t);
        for (int64_t v = 0; v < n; v++) {
            int64_t pos = v / strides[a] % dims[a];
            float acc = 0;
            for (int i = -r; i <= r; i++) {
                int64_t q = pos + i;
                q = q < 0 ? 0 : q >= dims[a] ? dims[a] - 1 : q; /* edge values repeat */
                acc += kern[i + r] * t[v + (q - pos) * strides[a]];
            }
            x[v] = acc;
        }
    }
    free(t);
    return GLIA_STATUS_OK;
}

static float uniform(glia_rng *r, float lo, float hi) { return lo + (hi - lo) * glia_rng_uniform(r); }

glia_status glia_augment_apply(const glia_augment *a, uint64_t seed, float *image, int channels, uint8_t *labels,
                               int64_t d, int64_t h, int64_t w)
{
    if (!a || !image || channels < 1 || d < 1 || h < 1 || w < 1)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_augment_apply: NULL image or empty sample");
    sample s = {image, labels, channels, d, h, w};
    glia_rng rng;
    glia_rng_init(&rng, seed);
    glia_status st = GLIA_STATUS_OK;
    for (int axis = 0; axis < 3; axis++)
        if (glia_rng_uniform(&rng) < a->p_flip && (axis < 2 || d > 1))
            flip(&s, axis);
    int quarter = 0;
    if (glia_rng_uniform(&rng) < a->p_rot90 && h == w)
        quarter = 1 + (int)(glia_rng_u32(&rng) % 3);
    double angle = 0, scale = 1;
    if (glia_rng_uniform(&rng) < a->p_affine) {
        angle = uniform(&rng, -a->max_rotate_deg, a->max_rotate_deg) * 3.14159265358979 / 180.0;
        scale = uniform(&rng, a->scale_lo > 0 ? a->scale_lo : 1, a->scale_hi > 0 ? a->scale_hi : 1);
    }
    angle += quarter * 3.14159265358979 / 2;
    if (quarter || angle != 0 || scale != 1) {
        /* rotation by angle, zoom by scale: sample the source at R(-angle) / scale */
        double c = cos(angle) / scale, sn = sin(angle) / scale;
        if (quarter && angle == quarter * 3.14159265358979 / 2 && scale == 1) {
            c = nearbyint(c); /* exact quarter turns move whole pixels */
            sn = nearbyint(sn);
        }
        double m[2][2] = {{c, -sn}, {sn, c}};
        st = warp(&s, m);
    }
    int64_t n = d * h * w;
    for (int ch = 0; ch < channels && st == GLIA_STATUS_OK; ch++) {
        float *x = image + ch * n;
        if (glia_rng_uniform(&rng) < a->p_intensity) {
            float mul = uniform(&rng, 1 - a->intensity_scale, 1 + a->intensity_scale);
            float add = uniform(&rng, -a->intensity_shift, a->intensity_shift);
            for (int64_t v = 0; v < n; v++)
                x[v] = x[v] * mul + add;
        }
        if (glia_rng_uniform(&rng) < a->p_gamma) {
            float g = uniform(&rng, a->gamma_lo, a->gamma_hi), lo = x[0], hi = x[0];
            for (int64_t v = 1; v < n; v++) {
                lo = x[v] < lo ? x[v] : lo;
                hi = x[v] > hi ? x[v] : hi;
            }
            float range = hi - lo;
            if (range > 1e-7f)
                for (int64_t v = 0; v < n; v++)
                    x[v] = powf((x[v] - lo) / range, g) * range + lo;
        }
        if (glia_rng_uniform(&rng) < a->p_noise) {
            float sd = uniform(&rng, 0, a->noise_std);
            for (int64_t v = 0; v < n; v++)
                x[v] += sd * glia_rng_normal(&rng);
        }
        if (glia_rng_uniform(&rng) < a->p_blur)
            st = blur(x, &s, uniform(&rng, a->blur_sigma_lo, a->blur_sigma_hi));
    }
    return st;
}
