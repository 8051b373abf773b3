/* CPU backend: max pooling and nearest upsampling over planes of D x H x W.
 * Forward ops are parallel over output rows (plane, d, h); backward ops over
 * input rows (upsample) or planes (max pool, whose windows may overlap). */
#include <stdint.h>
#include <string.h>
#include "cpu_impl.h"

typedef struct rs_job {
    const glia_pool_desc *d;
    float *const *t;
} rs_job;

static size_t vol(const int64_t v[3]) { return (size_t)(v[0] * v[1] * v[2]); }

static void rs_run(glia_bctx *ctx, const glia_op *op, float *const *t, size_t rows, size_t row_len,
                   glia_cpu_range_fn fn)
{
    rs_job j = {&op->p.pool, t};
    row_len = row_len ? row_len : 1;
    glia_cpu_parallel_for(ctx->pool, rows, (GLIA_CPU_GRAIN + row_len - 1) / row_len, fn, &j);
}

/* ---- max pooling -------------------------------------------------------------- */

/* v replaces the running max: larger, or the first NaN (NaN propagates, as in PyTorch). */
static inline int beats(float v, float best) { return !(v <= best) && best == best; }

static inline void take(float v, int64_t vi, float *best, int64_t *bi)
{
    if (beats(v, *best)) {
        *best = v;
        *bi = vi;
    }
}

static void maxpool_fwd_task(void *arg, size_t r0, size_t r1)
{
    rs_job *j = arg;
    const glia_pool_desc *d = j->d;
    int64_t H = d->in[1], W = d->in[2], oD = d->out[0], oH = d->out[1], oW = d->out[2];
    int kd = d->k[0], kh = d->k[1], kw = d->k[2];
    int sd = d->stride[0], sh = d->stride[1], sw = d->stride[2];
    size_t in_plane = vol(d->in), out_plane = vol(d->out);
    /* the 2x2 (2x2x2) stride-2 windows of U-Nets */
    int quad = (kd == 1 || (kd == 2 && sd == 2)) && kh == 2 && kw == 2 && sh == 2 && sw == 2;
    for (size_t r = r0; r < r1; r++) {
        size_t pl = r / (size_t)(oD * oH);
        int64_t od = (int64_t)(r % (size_t)(oD * oH)) / oH, oh = (int64_t)(r % (size_t)oH);
        const float *x = j->t[0] + pl * in_plane;
        float *y = j->t[1] + pl * out_plane + (od * oH + oh) * oW;
        int32_t *idx = (int32_t *)j->t[2] + pl * out_plane + (od * oH + oh) * oW;
        int64_t base = (od * sd * H + oh * sh) * W;   /* window corner of ow = 0 */
        if (quad) {
            /* in the order of the general loop: depth, then row, then column */
            const float *x0 = x + base, *x1 = x0 + W, *x2 = x0 + H * W, *x3 = x2 + W;
            int64_t HW = H * W;
            for (int64_t ow = 0; ow < oW; ow++) {
                int64_t i = 2 * ow, bi = i;
                float best = x0[i];
                take(x0[i + 1], i + 1, &best, &bi);
                take(x1[i], W + i, &best, &bi);
                take(x1[i + 1], W + i + 1, &best, &bi);
                if (kd == 2) {
                    take(x2[i], HW + i, &best, &bi);
                    take(x2[i + 1], HW + i + 1, &best, &bi);
                    take(x3[i], HW + W + i, &best, &bi);
                    take(x3[i + 1], HW + W + i + 1, &best, &bi);
                }
                y[ow] = best;
                idx[ow] = (int32_t)(base + bi);
            }
            continue;
        }
        for (int64_t ow = 0; ow < oW; ow++) {
            int64_t corner = base + ow * sw, bi = corner;
            float best = x[corner];
            for (int a = 0; a < kd; a++)
                for (int b = 0; b < kh; b++) {
                    int64_t rowi = corner + ((int64_t)a * H + b) * W;
                    for (int c = 0; c < kw; c++)
                        if (beats(x[rowi + c], best)) {
                            best = x[rowi + c];
                            bi = rowi + c;
                        }
                }
            y[ow] = best;
            idx[ow] = (int32_t)bi;
        }
    }
}

void glia_cpu_maxpool_fwd(glia_bctx *ctx, const glia_op *op, glia_cpu_ptrs t)
{
    const glia_pool_desc *d = &op->p.pool;
    rs_run(ctx, op, t, (size_t)(d->planes * d->out[0] * d->out[1]),
           (size_t)(d->out[2] * d->k[0] * d->k[1] * d->k[2]), maxpool_fwd_task);
}

static void maxpool_bwd_task(void *arg, size_t p0, size_t p1)
{
    rs_job *j = arg;
    size_t in_plane = vol(j->d->in), out_plane = vol(j->d->out);
    for (size_t pl = p0; pl < p1; pl++) {
        const float *dy = j->t[0] + pl * out_plane;
        const int32_t *idx = (const int32_t *)j->t[1] + pl * out_plane;
        float *dx = j->t[2] + pl * in_plane;
        memset(dx, 0, in_plane * sizeof *dx);
        for (size_t o = 0; o < out_plane; o++)
            dx[idx[o]] += dy[o];
    }
}

void glia_cpu_maxpool_bwd(glia_bctx *ctx, const glia_op *op, glia_cpu_ptrs t)
{
    rs_run(ctx, op, t, (size_t)op->p.pool.planes, vol(op->p.pool.in), maxpool_bwd_task);
}

/* ---- nearest upsampling --------------------------------------------------------- */

static void upsample_fwd_task(void *arg, size_t r0, size_t r1)
{
    rs_job *j = arg;
    const glia_pool_desc *d = j->d;
    int64_t H = d->in[1], W = d->in[2], oD = d->out[0], oH = d->out[1], oW = d->out[2];
    int sd = d->k[0], sh = d->k[1], sw = d->k[2];
    size_t in_plane = vol(d->in), out_plane = vol(d->out);
    for (size_t r = r0; r < r1; r++) {
        size_t pl = r / (size_t)(oD * oH);
        int64_t od = (int64_t)(r % (size_t)(oD * oH)) / oH, oh = (int64_t)(r % (size_t)oH);
        const float *x = j->t[0] + pl * in_plane + (od / sd * H + oh / sh) * W;
        float *y = j->t[1] + pl * out_plane + (od * oH + oh) * oW;
        if (sw == 2 && oW == 2 * W) {
            for (int64_t i = 0; i < W; i++)
                y[2 * i] = y[2 * i + 1] = x[i];
        } else {
            for (int64_t ow = 0; ow < oW; ow++)
                y[ow] = x[ow / sw];
        }
    }
}

void glia_cpu_upsample_fwd(glia_bctx *ctx, const glia_op *op, glia_cpu_ptrs t)
{
    const glia_pool_desc *d = &op->p.pool;
    rs_run(ctx, op, t, (size_t)(d->planes * d->out[0] * d->out[1]), (size_t)d->out[2],
           upsample_fwd_task);
}

static void upsample_bwd_task(void *arg, size_t r0, size_t r1)
{
    rs_job *j = arg;
    const glia_pool_desc *d = j->d;
    int64_t D = d->in[0], H = d->in[1], W = d->in[2], oD = d->out[0], oH = d->out[1],
            oW = d->out[2];
    int64_t sd = d->k[0], sh = d->k[1], sw = d->k[2];
    size_t in_plane = vol(d->in), out_plane = vol(d->out);
    for (size_t r = r0; r < r1; r++) {
        size_t pl = r / (size_t)(D * H);
        int64_t id = (int64_t)(r % (size_t)(D * H)) / H, ih = (int64_t)(r % (size_t)H);
        float *dx = j->t[1] + pl * in_plane + (id * H + ih) * W;
        const float *dyp = j->t[0] + pl * out_plane;
        for (int64_t iw = 0; iw < W; iw++)
            dx[iw] = 0.0f;
        for (int64_t od = id * sd; od < (id + 1) * sd && od < oD; od++)
            for (int64_t oh = ih * sh; oh < (ih + 1) * sh && oh < oH; oh++) {
                const float *dy = dyp + (od * oH + oh) * oW;
                if (sw == 2 && oW == 2 * W) {
                    for (int64_t iw = 0; iw < W; iw++)
                        dx[iw] += dy[2 * iw] + dy[2 * iw + 1];
                    continue;
                }
                for (int64_t iw = 0; iw < W; iw++) {
                    float s = 0.0f;
                    for (int64_t ow = iw * sw; ow < (iw + 1) * sw && ow < oW; ow++)
                        s += dy[ow];
                    dx[iw] += s;
                }
            }
    }
}

void glia_cpu_upsample_bwd(glia_bctx *ctx, const glia_op *op, glia_cpu_ptrs t)
{
    const glia_pool_desc *d = &op->p.pool;
    rs_run(ctx, op, t, (size_t)(d->planes * d->in[0] * d->in[1]),
           (size_t)(d->in[2] * d->k[0] * d->k[1] * d->k[2]), upsample_bwd_task);
}
