/* Prediction over whole volumes: 2-D models slice by slice, 3-D models by
 * sliding windows with Gaussian (or constant) blending, as nnU-Net and MONAI
 * do; flip test-time augmentation and ensembles average probabilities.
 * Blending accumulates in double so that a single window covering the volume
 * gives exactly what one forward pass over the whole volume gives. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "infer/infer_priv.h"

typedef struct runner {
    glia_model *const *models;
    int n, tta, nsp, C, OC;
    glia_dice_activation act;
    float *in_flip, *logits;   /* scratch: one batch of input, one of output */
    void (*on_progress)(void *user, int64_t done, int64_t total);
    void *user;
} runner;

static void progress(const runner *r, int64_t done, int64_t total)
{
    if (r->on_progress)
        r->on_progress(r->user, done, total);
}

static int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

/* Reverse the spatial axes named by the bits of mask (bit 0: W, 1: H, 2: D) of
 * count planes of sp (D, H, W) into dst (dst != src). */
static void flip(const float *src, float *dst, int64_t count, const int64_t *sp, unsigned mask)
{
    int64_t D = sp[0], H = sp[1], W = sp[2], plane = D * H * W;
    for (int64_t p = 0; p < count; p++)
        for (int64_t z = 0; z < D; z++)
            for (int64_t y = 0; y < H; y++) {
                int64_t fz = mask & 4u ? D - 1 - z : z, fy = mask & 2u ? H - 1 - y : y;
                const float *s = src + p * plane + (fz * H + fy) * W;
                float *d = dst + p * plane + (z * H + y) * W;
                if (mask & 1u)
                    for (int64_t x = 0; x < W; x++)
                        d[x] = s[W - 1 - x];
                else
                    memcpy(d, s, (size_t)W * sizeof *d);
            }
}

static void activate(float *x, int64_t B, int OC, int64_t vox, glia_dice_activation act)
{
    if (act == GLIA_DICE_SIGMOID) {
        for (int64_t i = 0; i < B * OC * vox; i++)
            x[i] = 1.0f / (1.0f + expf(-x[i]));
    } else if (act == GLIA_DICE_SOFTMAX) {
        for (int64_t b = 0; b < B; b++) {
            float *p = x + b * OC * vox;
            for (int64_t v = 0; v < vox; v++) {
                float mx = p[v], sum = 0;
                for (int c = 1; c < OC; c++)
                    mx = p[c * vox + v] > mx ? p[c * vox + v] : mx;
                for (int c = 0; c < OC; c++)
                    sum += (p[c * vox + v] = expf(p[c * vox + v] - mx));
                for (int c = 0; c < OC; c++)
                    p[c * vox + v] /= sum;
            }
        }
    }
}

/* One forward pass without the tape; logits of B inputs into out. */
static glia_status forward(glia_model *m, const float *in, int64_t B, int C, const int64_t *sp, int nsp, float *out)
{
    glia_device *dev = glia_model_device(m);
    int64_t shape[5] = {B, C, sp[0], sp[1], sp[2]};
    if (nsp == 2) {
        shape[2] = sp[1];
        shape[3] = sp[2];
    }
    glia_tensor *x = NULL, *y = NULL;
    int mode = glia_grad_mode(dev, 0);
    glia_status s = glia_tensor_from_host(dev, nsp + 2, shape, in, &x);
    if (s == GLIA_STATUS_OK)
        s = glia_model_forward(m, x, 0, &y);
    if (s == GLIA_STATUS_OK)
        s = glia_tensor_read(y, out, (size_t)glia_tensor_numel(y));
    glia_grad_mode(dev, mode);
    glia_tensor_free(x);
    glia_tensor_free(y);
    if (s != GLIA_STATUS_OK)
        return glia_seterr(s, "prediction of %lld x %d x %lldx%lldx%lld: %s", (long long)B, C, (long long)sp[0],
                           (long long)sp[1], (long long)sp[2], glia_last_error());
    return s;
}

/* Probabilities of B inputs (B x C x sp) into out (B x OC x sp), averaged
 * over the models and, with TTA, over the flips of every spatial axis. */
static glia_status run_batch(runner *r, const float *in, int64_t B, const int64_t *sp, float *out)
{
    int64_t vox = sp[0] * sp[1] * sp[2], nout = B * r->OC * vox;
    unsigned flips = r->tta ? 1u << r->nsp : 1u;
    int passes = 0;
    glia_status s = GLIA_STATUS_OK;
    for (int m = 0; m < r->n && s == GLIA_STATUS_OK; m++)
        for (unsigned f = 0; f < flips && s == GLIA_STATUS_OK; f++) {
            /* 2-D flips take bits 0 and 1 (W, H) only */
            unsigned mask = f;
            const float *x = in;
            if (mask) {
                flip(in, r->in_flip, B * r->C, sp, mask);
                x = r->in_flip;
            }
            float *dst = passes == 0 && !mask ? out : r->logits;
            if ((s = forward(r->models[m], x, B, r->C, sp, r->nsp, dst)) != GLIA_STATUS_OK)
                break;
            activate(dst, B, r->OC, vox, r->act);
            if (dst == out) {
                passes++;
                continue;
            }
            if (passes == 0)
                memset(out, 0, (size_t)nout * sizeof *out);
            if (mask) {
                /* flip the probabilities back; in_flip is free again as scratch */
                flip(dst, r->in_flip, B * r->OC, sp, mask);
                dst = r->in_flip;
            }
            for (int64_t i = 0; i < nout; i++)
                out[i] += dst[i];
            passes++;
        }
    if (s == GLIA_STATUS_OK && passes > 1)
        for (int64_t i = 0; i < nout; i++)
            out[i] /= (float)passes;
    return s;
}

static glia_status slicewise(runner *r, const float *image, const int64_t *dim, int64_t B, int64_t mult, float *prob)
{
    int64_t H = round_up(dim[1], mult), W = round_up(dim[0], mult), plane = H * W, n = dim[0] * dim[1] * dim[2];
    int64_t sp[3] = {1, H, W};
    float *in = calloc((size_t)(B * r->C * plane), sizeof *in), *out = malloc((size_t)(B * r->OC * plane) * sizeof *out);
    glia_status s = in && out ? GLIA_STATUS_OK
                              : glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "glia_predict: a batch of %lld slices", (long long)B);
    for (int64_t k0 = 0; k0 < dim[2] && s == GLIA_STATUS_OK; k0 += B) {
        int64_t b = dim[2] - k0 < B ? dim[2] - k0 : B;
        for (int64_t s_ = 0; s_ < b; s_++)
            for (int c = 0; c < r->C; c++)
                for (int64_t j = 0; j < dim[1]; j++)
                    memcpy(in + ((s_ * r->C + c) * H + j) * W, image + (size_t)c * n + ((k0 + s_) * dim[1] + j) * dim[0],
                           (size_t)dim[0] * sizeof *in);
        if ((s = run_batch(r, in, b, sp, out)) != GLIA_STATUS_OK)
            break;
        for (int64_t s_ = 0; s_ < b; s_++)
            for (int c = 0; c < r->OC; c++)
                for (int64_t j = 0; j < dim[1]; j++)
                    memcpy(prob + (size_t)c * n + ((k0 + s_) * dim[1] + j) * dim[0], out + ((s_ * r->OC + c) * H + j) * W,
                           (size_t)dim[0] * sizeof *out);
        progress(r, k0 + b, dim[2]);
    }
    free(in);
    free(out);
    return s;
}

/* nnU-Net's window starts along one axis: as few windows as the overlap
 * allows, spread evenly from 0 to size - win. */
int64_t glia_predict_window_count_(int64_t size, int64_t win, float overlap)
{
    if (size <= win)
        return 1;
    int64_t step = (int64_t)((double)win * (1.0 - overlap));
    step = step < 1 ? 1 : step;
    return (size - win + step - 1) / step + 1;
}

static int64_t window_starts(int64_t size, int64_t win, float overlap, int64_t *starts)
{
    int64_t count = glia_predict_window_count_(size, win, overlap);
    if (count == 1) {
        starts[0] = 0;
        return 1;
    }
    double actual = (double)(size - win) / (double)(count - 1);
    for (int64_t i = 0; i < count; i++)
        starts[i] = (int64_t)llround(actual * (double)i);
    return count;
}

static void gaussian(const int64_t *win, float scale, glia_blend blend, double *g)
{
    int64_t n = win[0] * win[1] * win[2];
    for (int64_t v = 0; v < n; v++) {
        if (blend == GLIA_BLEND_CONSTANT) {
            g[v] = 1.0;
            continue;
        }
        int64_t c[3] = {v % win[2], v / win[2] % win[1], v / (win[1] * win[2])}; /* x, y, z of a D,H,W window */
        double e = 0;
        for (int a = 0; a < 3; a++) {
            int64_t side = win[2 - a];
            double sigma = (double)side * scale, d = (double)(c[a] - side / 2);
            e += d * d / (2 * sigma * sigma);
        }
        g[v] = exp(-e) > 1e-8 ? exp(-e) : 1e-8;
    }
}

static glia_status sliding(runner *r, const float *image, const int64_t *dim, const glia_predict_options *o,
                           int64_t B, int64_t mult, float *prob)
{
    int64_t win[3], pad[3], *starts[3] = {NULL, NULL, NULL}, count[3];
    for (int a = 0; a < 3; a++) { /* win, pad in i, j, k order */
        win[a] = o->window[a] > 0 ? o->window[a] : round_up(dim[a], mult);
        if (win[a] % mult)
            return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT,
                               "glia_predict: window side %lld is not a multiple of %lld (the model's 2^poolings)",
                               (long long)win[a], (long long)mult);
        pad[a] = dim[a] > win[a] ? dim[a] : win[a];
    }
    int64_t wsp[3] = {win[2], win[1], win[0]}, wvox = win[0] * win[1] * win[2];
    int64_t pvox = pad[0] * pad[1] * pad[2], n = dim[0] * dim[1] * dim[2];
    /* cleared by memset, not calloc: calloc's zero pages, read before written, fault twice */
    double *g = malloc((size_t)wvox * sizeof *g), *acc = malloc((size_t)(pvox * r->OC) * sizeof *acc);
    double *wsum = malloc((size_t)pvox * sizeof *wsum);
    float *in = malloc((size_t)(B * r->C * wvox) * sizeof *in), *out = malloc((size_t)(B * r->OC * wvox) * sizeof *out);
    int64_t *pos = malloc((size_t)B * 3 * sizeof *pos);
    for (int a = 0; a < 3; a++)
        starts[a] = malloc((size_t)pad[a] * sizeof *starts[a]);
    glia_status s = GLIA_STATUS_OK;
    if (!g || !acc || !wsum || !in || !out || !pos || !starts[0] || !starts[1] || !starts[2])
        s = glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "glia_predict: sliding-window buffers for %lld voxels",
                        (long long)pvox);
    if (s == GLIA_STATUS_OK) {
        memset(acc, 0, (size_t)(pvox * r->OC) * sizeof *acc);
        memset(wsum, 0, (size_t)pvox * sizeof *wsum);
        gaussian(wsp, o->sigma_scale > 0 ? o->sigma_scale : 0.125f, o->blend, g);
        for (int a = 0; a < 3; a++)
            count[a] = window_starts(pad[a], win[a], o->overlap > 0 ? o->overlap : 0.5f, starts[a]);
    }
    int64_t total = s == GLIA_STATUS_OK ? count[0] * count[1] * count[2] : 0;
    for (int64_t w0 = 0; w0 < total && s == GLIA_STATUS_OK; w0 += B) {
        int64_t b = total - w0 < B ? total - w0 : B;
        for (int64_t q = 0; q < b; q++) {
            int64_t w = w0 + q, *p = pos + 3 * q;
            p[0] = starts[0][w % count[0]];
            p[1] = starts[1][w / count[0] % count[1]];
            p[2] = starts[2][w / (count[0] * count[1])];
            for (int c = 0; c < r->C; c++)
                for (int64_t z = 0; z < win[2]; z++)
                    for (int64_t y = 0; y < win[1]; y++) { /* a row of the window: what lies inside, then zeros */
                        int64_t k = p[2] + z, j = p[1] + y, nx = 0;
                        float *dst = in + ((q * r->C + c) * win[2] + z) * win[1] * win[0] + y * win[0];
                        if (k < dim[2] && j < dim[1]) {
                            nx = dim[0] - p[0] < win[0] ? dim[0] - p[0] : win[0];
                            memcpy(dst, image + (size_t)c * n + (k * dim[1] + j) * dim[0] + p[0], (size_t)nx * sizeof *dst);
                        }
                        memset(dst + nx, 0, (size_t)(win[0] - nx) * sizeof *dst);
                    }
        }
        if ((s = run_batch(r, in, b, wsp, out)) != GLIA_STATUS_OK)
            break;
        for (int64_t q = 0; q < b; q++) {
            const int64_t *p = pos + 3 * q;
            for (int64_t z = 0; z < win[2]; z++)
                for (int64_t y = 0; y < win[1]; y++) { /* row by row: unit-stride loops */
                    int64_t pv = ((p[2] + z) * pad[1] + p[1] + y) * pad[0] + p[0], v = (z * win[1] + y) * win[0];
                    const double *gv = g + v;
                    double *ws = wsum + pv;
                    for (int64_t x = 0; x < win[0]; x++)
                        ws[x] += gv[x];
                    for (int c = 0; c < r->OC; c++) {
                        double *a = acc + (size_t)c * pvox + pv;
                        const float *o = out + (q * r->OC + c) * wvox + v;
                        for (int64_t x = 0; x < win[0]; x++)
                            a[x] += (double)o[x] * gv[x];
                    }
                }
        }
        progress(r, w0 + b, total);
    }
    for (int c = 0; s == GLIA_STATUS_OK && c < r->OC; c++)
        for (int64_t k = 0; k < dim[2]; k++)
            for (int64_t j = 0; j < dim[1]; j++) {
                int64_t pv = (k * pad[1] + j) * pad[0];
                const double *a = acc + (size_t)c * pvox + pv, *ws = wsum + pv;
                float *dst = prob + (size_t)c * n + (k * dim[1] + j) * dim[0];
                for (int64_t i = 0; i < dim[0]; i++)
                    dst[i] = (float)(a[i] / ws[i]);
            }
    free(g);
    free(acc);
    free(wsum);
    free(in);
    free(out);
    free(pos);
    for (int a = 0; a < 3; a++)
        free(starts[a]);
    return s;
}

glia_status glia_predict(glia_model *const *models, int n, const float *image, int channels, const int64_t dim[3],
                         const glia_predict_options *opts, float *prob)
{
    if (!models || n < 1 || !image || !dim || !prob)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_predict: NULL argument or no model");
    glia_predict_options o = opts ? *opts : (glia_predict_options){0};
    const glia_model_config *c0 = glia_model_get_config(models[0]);
    for (int m = 0; m < n; m++) {
        const glia_model_config *c = glia_model_get_config(models[m]);
        if (!c || c->in_channels != channels || c->out_channels != c0->out_channels ||
            glia_model_config_spatial_dims(c) != glia_model_config_spatial_dims(c0))
            return glia_seterr(GLIA_STATUS_SHAPE_MISMATCH,
                               "glia_predict: model %d takes %d channels and gives %d (%dD); the input has %d and "
                               "model 0 gives %d (%dD)",
                               m, c ? c->in_channels : 0, c ? c->out_channels : 0, c ? glia_model_config_spatial_dims(c) : 0,
                               channels, c0->out_channels, glia_model_config_spatial_dims(c0));
    }
    for (int a = 0; a < 3; a++)
        if (dim[a] < 1 || o.window[a] < 0)
            return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_predict: sizes must be >= 1, windows >= 0");
    if (!(o.overlap >= 0 && o.overlap < 1) || o.batch < 0 || !(o.sigma_scale >= 0))
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_predict: overlap in [0, 1), batch and sigma >= 0");
    int64_t mult = 1;
    int pools = glia_model_config_pool_levels(c0);
    for (int i = 0; i < pools; i++)
        mult *= 2;
    int64_t B = o.batch ? o.batch : 4;
    runner r = {.models = models, .n = n, .tta = o.tta, .nsp = glia_model_config_spatial_dims(c0), .C = channels,
                .OC = c0->out_channels, .act = o.activation, .on_progress = o.on_progress, .user = o.user};
    /* scratch big enough for a batch of slices or windows, input or output channels */
    int64_t vox = 1;
    for (int a = 0; a < r.nsp; a++)
        vox *= r.nsp == 3 && o.window[a] > 0 ? o.window[a] : round_up(dim[a], mult);
    int64_t cmax = channels > r.OC ? channels : r.OC;
    r.in_flip = malloc((size_t)(B * cmax * vox) * sizeof(float));
    r.logits = malloc((size_t)(B * r.OC * vox) * sizeof(float));
    glia_status s = r.in_flip && r.logits ? GLIA_STATUS_OK
                                          : glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "glia_predict: batch scratch");
    if (s == GLIA_STATUS_OK)
        s = r.nsp == 2 ? slicewise(&r, image, dim, B, mult, prob) : sliding(&r, image, dim, &o, B, mult, prob);
    free(r.in_flip);
    free(r.logits);
    return s;
}
