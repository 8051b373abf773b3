/* CPU backend: 2D/3D convolution as im2col (vol2col) + OpenBLAS GEMM.
 *
 * Per sample, the column matrix is K x P (K = Cin*kD*kH*kW, P = output voxels);
 * it is never built whole (a 128^3 volume's would be gigabytes), only a chunk
 * of output columns at a time in the context's capped workspace:
 *   forward          y_n[:, cols] = W[Co, K] * col[K, cols]
 *   backward-data    stride 1: a forward convolution of dy with the flipped,
 *                    transposed kernel; otherwise col = W^T * dy_n[:, cols],
 *                    then col2im adds col into dx_n (in tiles when windows
 *                    do not overlap, else chunk by chunk)
 *   backward-weight  dW += dy_n[:, cols] * col^T, accumulated over chunks
 * 1x1 stride-1 unpadded convolutions are plain GEMMs on the input; 3x3
 * stride-1 2-D ones with enough channels go to Winograd (cpu_winograd.c),
 * and so does the backward-data of those, a forward convolution too.
 *
 * Two schedules. Tiles: with enough output columns, every pool thread takes
 * its own small tile (about 1 MiB of columns, cache-resident), builds it and
 * runs a single-threaded GEMM on it, so nothing waits at a barrier and the
 * columns never travel through main memory. Phases: otherwise (few columns,
 * or one thread), each chunk is built by the whole pool and multiplied by a
 * multi-threaded GEMM. Tiles are assigned statically, so results do not
 * depend on timing. */
#include <cblas.h>
#include <string.h>
#include "cpu_impl.h"

/* Columns per tile: ~1 MiB measured best for 3x3 convs on 2..16 cores. */
#define TILE_BYTES ((size_t)1 << 20)
/* Below this many columns a single-threaded GEMM tile loses efficiency. */
#define TILE_MIN_COLS 128

typedef struct geom {
    int64_t n, cin, cout;
    int64_t in[3], out[3];
    int64_t k[3], s[3], p[3];
    int64_t kvol, K, X, P;   /* kernel volume, column rows, input and output voxels */
} geom;

static void geom_init(const glia_conv_desc *c, geom *g)
{
    g->n = c->n;
    g->cin = c->cin;
    g->cout = c->cout;
    g->kvol = 1;
    g->X = 1;
    g->P = 1;
    for (int i = 0; i < 3; i++) {
        g->in[i] = c->in[i];
        g->out[i] = c->out[i];
        g->k[i] = c->k[i];
        g->s[i] = c->stride[i];
        g->p[i] = c->pad[i];
        g->kvol *= g->k[i];
        g->X *= g->in[i];
        g->P *= g->out[i];
    }
    g->K = g->cin * g->kvol;
}

static int pointwise(const geom *g)
{
    for (int i = 0; i < 3; i++)
        if (g->k[i] != 1 || g->s[i] != 1 || g->p[i] != 0)
            return 0;
    return 1;
}

/* Output columns per chunk: as many as the capped workspace holds. */
static int64_t chunk_cols(const geom *g)
{
    int64_t pc = (int64_t)glia_cpu_workspace_cap() / (g->K > 0 ? g->K : 1);
    if (pc < 1)
        pc = 1;
    return pc < g->P ? pc : g->P;
}

/* Output w positions [lo, hi) whose input column ow*s - p + kw is inside [0, W). */
static void ow_range(const geom *g, int64_t kw, int64_t *lo, int64_t *hi)
{
    int64_t s = g->s[2], first = g->p[2] - kw, last = g->in[2] - 1 + g->p[2] - kw;
    *lo = first > 0 ? (first + s - 1) / s : 0;
    *hi = last >= 0 ? last / s + 1 : 0;
    if (*hi > g->out[2])
        *hi = g->out[2];
    if (*lo > *hi)
        *lo = *hi;
}

/* One column-matrix row (channel plane xc, kernel tap kd,kh,kw) over output
 * columns [p0, p0+pc): gather it into col (scatter = 0) or add col back into
 * the plane (scatter = 1, col2im). */
static void col_row(const geom *g, float *xc, int64_t kd, int64_t kh, int64_t kw,
                    int64_t p0, int64_t pc, float *col, int scatter)
{
    int64_t W = g->in[2], H = g->in[1], D = g->in[0], oW = g->out[2], oHW = g->out[1] * oW;
    int64_t s = g->s[2], lo, hi;
    ow_range(g, kw, &lo, &hi);
    for (int64_t p = p0, end = p0 + pc; p < end;) {
        int64_t od = p / oHW, r = p % oHW, oh = r / oW, ow0 = r % oW;
        int64_t n = oW - ow0 < end - p ? oW - ow0 : end - p;
        int64_t id = od * g->s[0] - g->p[0] + kd, ih = oh * g->s[1] - g->p[1] + kh;
        int64_t a = lo > ow0 ? lo : ow0, b = hi < ow0 + n ? hi : ow0 + n;
        if (id < 0 || id >= D || ih < 0 || ih >= H || a >= b)
            a = b = ow0;    /* the whole run reads padding */
        /* xc[base + ow*s] is the input element under output column ow */
        int64_t base = a < b ? (id * H + ih) * W - g->p[2] + kw : 0;
        if (!scatter) {
            memset(col, 0, (size_t)(a - ow0) * sizeof *col);
            if (s == 1 && b > a)
                memcpy(col + (a - ow0), xc + base + a, (size_t)(b - a) * sizeof *col);
            else
                for (int64_t ow = a; ow < b; ow++)
                    col[ow - ow0] = xc[base + ow * s];
            memset(col + (b - ow0), 0, (size_t)(ow0 + n - b) * sizeof *col);
        } else if (s == 1) {
            float *dst = xc + base + a;           /* unit stride: lets the add vectorise */
            const float *src = col + (a - ow0);
            for (int64_t k = 0; k < b - a; k++)
                dst[k] += src[k];
        } else {
            for (int64_t ow = a; ow < b; ow++)
                xc[base + ow * s] += col[ow - ow0];
        }
        col += n;
        p += n;
    }
}

typedef struct col_job {
    const geom *g;
    float *x;          /* one sample's input (im2col) or input gradient (col2im) */
    float *col;
    int64_t p0, pc;
    int zero;          /* col2im: clear the planes first */
} col_job;

static void im2col_task(void *arg, size_t r0, size_t r1)
{
    col_job *j = arg;
    const geom *g = j->g;
    for (size_t r = r0; r < r1; r++) {
        int64_t ci = (int64_t)r / g->kvol, t = (int64_t)r % g->kvol;
        int64_t kw = t % g->k[2], kh = t / g->k[2] % g->k[1], kd = t / (g->k[2] * g->k[1]);
        col_row(g, j->x + ci * g->X, kd, kh, kw, j->p0, j->pc, j->col + r * j->pc, 0);
    }
}

/* col2im per input channel: the channel's rows only touch its own plane. */
static void col2im_task(void *arg, size_t c0, size_t c1)
{
    col_job *j = arg;
    const geom *g = j->g;
    for (size_t ci = c0; ci < c1; ci++) {
        float *plane = j->x + (int64_t)ci * g->X;
        if (j->zero)
            memset(plane, 0, (size_t)g->X * sizeof *plane);
        for (int64_t t = 0; t < g->kvol; t++) {
            int64_t kw = t % g->k[2], kh = t / g->k[2] % g->k[1], kd = t / (g->k[2] * g->k[1]);
            col_row(g, plane, kd, kh, kw, j->p0, j->pc,
                    j->col + ((int64_t)ci * g->kvol + t) * j->pc, 1);
        }
    }
}

static void im2col(glia_bctx *ctx, const geom *g, const float *x, int64_t p0, int64_t pc, float *col)
{
    col_job j = {g, (float *)x, col, p0, pc, 0};
    glia_cpu_parallel_for(ctx->pool, (size_t)g->K, (GLIA_CPU_GRAIN + (size_t)pc - 1) / (size_t)pc,
                          im2col_task, &j);
}

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

static void gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int64_t m, int64_t n, int64_t k,
                 const float *a, int64_t lda, const float *b, int64_t ldb, float beta, float *c,
                 int64_t ldc)
{
    cblas_sgemm(CblasRowMajor, ta, tb, (blasint)m, (blasint)n, (blasint)k, 1.0f, a, (blasint)lda,
                b, (blasint)ldb, beta, c, (blasint)ldc);
}

/* ---- tiles ------------------------------------------------------------------------- */

typedef enum tile_mode { TILE_FWD, TILE_DATA, TILE_WEIGHT } tile_mode;

typedef struct tile_job {
    const geom *g;
    tile_mode mode;
    const float *a, *b;     /* FWD: x, w; DATA: dy, w; WEIGHT: x, dy */
    float *out;             /* FWD: y; DATA: dx; WEIGHT: unused (per-slot partial dW) */
    float *ws;
    int64_t pt, per_sample, count, slots;
    size_t slot_floats;
} tile_job;

/* Tile size for g, or 0 when the phase schedule fits better. extra: floats
 * each slot needs beside its columns. */
static int64_t tile_cols(const glia_bctx *ctx, const geom *g, int64_t extra)
{
    if (ctx->threads < 2 || g->K <= 0)
        return 0;
    int64_t room = (int64_t)glia_cpu_workspace_cap() / ctx->threads - extra;
    int64_t pt = min64(min64((int64_t)(TILE_BYTES / sizeof(float)) / g->K, room / g->K), g->P);
    if (pt < 1 || (pt < TILE_MIN_COLS && pt < g->P))
        return 0;
    if (g->n * ((g->P + pt - 1) / pt) < 2 * (int64_t)ctx->threads)
        return 0;
    return pt;
}

static void tile_task(void *arg, size_t s0, size_t s1)
{
    tile_job *j = arg;
    const geom *g = j->g;
    for (size_t s = s0; s < s1; s++) {
        float *col = j->ws + s * j->slot_floats, *dw = NULL;
        float beta = 0.0f;
        if (j->mode == TILE_WEIGHT) {
            dw = col;
            col += g->cout * g->K;
        }
        for (int64_t t = (int64_t)s; t < j->count; t += j->slots) {
            int64_t n = t / j->per_sample, p0 = t % j->per_sample * j->pt;
            int64_t m = min64(j->pt, g->P - p0);
            col_job cj = {g, NULL, col, p0, m, 0};
            switch (j->mode) {
            case TILE_FWD:
                cj.x = (float *)j->a + n * g->cin * g->X;
                im2col_task(&cj, 0, (size_t)g->K);
                gemm(CblasNoTrans, CblasNoTrans, g->cout, m, g->K, j->b, g->K, col, m, 0.0f,
                     j->out + n * g->cout * g->P + p0, g->P);
                break;
            case TILE_DATA:   /* windows do not overlap: tiles add into disjoint dx */
                gemm(CblasTrans, CblasNoTrans, g->K, m, g->cout, j->b, g->K,
                     j->a + n * g->cout * g->P + p0, g->P, 0.0f, col, m);
                cj.x = j->out + n * g->cin * g->X;
                col2im_task(&cj, 0, (size_t)g->cin);
                break;
            case TILE_WEIGHT:
                cj.x = (float *)j->a + n * g->cin * g->X;
                im2col_task(&cj, 0, (size_t)g->K);
                gemm(CblasNoTrans, CblasTrans, g->cout, g->K, m, j->b + n * g->cout * g->P + p0,
                     g->P, col, m, beta, dw, g->K);
                beta = 1.0f;
                break;
            }
        }
        if (dw && beta == 0.0f)
            memset(dw, 0, (size_t)(g->cout * g->K) * sizeof *dw);
    }
}

static glia_status run_tiles(glia_bctx *ctx, tile_job *j, int64_t extra)
{
    const geom *g = j->g;
    j->slots = ctx->threads;
    j->per_sample = (g->P + j->pt - 1) / j->pt;
    j->count = j->per_sample * g->n;
    j->slot_floats = (size_t)(extra + g->K * j->pt);
    glia_status s = glia_cpu_workspace(ctx, GLIA_CPU_WS_COLS, (size_t)j->slots * j->slot_floats,
                                       &j->ws);
    if (s != GLIA_STATUS_OK)
        return s;
    /* every thread runs its own GEMMs: OpenBLAS must not fan out again */
    openblas_set_num_threads(1);
    glia_cpu_parallel_for(ctx->pool, (size_t)j->slots, 1, tile_task, j);
    return GLIA_STATUS_OK;
}

typedef struct sum_job {
    float *dst;
    const float *src;
    int64_t slots;
    size_t stride;
} sum_job;

static void zero_task(void *arg, size_t b, size_t e)
{
    memset((float *)arg + b, 0, (e - b) * sizeof(float));
}

/* dst = sum of the slots' partial results, in slot order. */
static void sum_slots_task(void *arg, size_t b, size_t e)
{
    sum_job *j = arg;
    for (size_t i = b; i < e; i++) {
        float acc = 0.0f;
        for (int64_t s = 0; s < j->slots; s++)
            acc += j->src[(size_t)s * j->stride + i];
        j->dst[i] = acc;
    }
}

/* ---- forward ------------------------------------------------------------------------- */

/* A 3x3 stride-1 2-D convolution that the Winograd path takes, as *w. */
static int winograd(const geom *g, glia_cpu_wino *w)
{
    if (g->in[0] != 1 || g->k[0] != 1 || g->p[0] != 0 || g->k[1] != 3 || g->k[2] != 3 ||
        g->s[1] != 1 || g->s[2] != 1)
        return 0;
    *w = (glia_cpu_wino){g->n, g->cin, g->cout, g->in[1], g->in[2], g->out[1], g->out[2],
                         g->p[1], g->p[2]};
    return glia_cpu_wino_applies(w);
}

/* A stride-1 convolution, as *d for the direct kernels (cpu_direct.c). */
static int direct(const geom *g, glia_cpu_direct *d)
{
    *d = (glia_cpu_direct){.n = g->n, .cin = g->cin, .cout = g->cout};
    for (int a = 0; a < 3; a++) {
        if (g->s[a] != 1)
            return 0;
        d->in[a] = g->in[a];
        d->out[a] = g->out[a];
        d->k[a] = g->k[a];
        d->pad[a] = g->p[a];
    }
    return 1;
}

static glia_status forward(glia_bctx *ctx, const geom *g, const float *x, const float *w, float *y)
{
    if (g->P == 0)
        return GLIA_STATUS_OK;
    if (pointwise(g)) {
        glia_cpu_blas_threads(ctx);
        for (int64_t n = 0; n < g->n; n++)
            gemm(CblasNoTrans, CblasNoTrans, g->cout, g->P, g->cin, w, g->cin,
                 x + n * g->cin * g->X, g->P, 0.0f, y + n * g->cout * g->P, g->P);
        return GLIA_STATUS_OK;
    }
    glia_cpu_wino wg;
    if (winograd(g, &wg))
        return glia_cpu_wino_fwd(ctx, &wg, x, w, y);
    glia_cpu_direct dg;
    if (direct(g, &dg) && glia_cpu_direct_applies(&dg))
        return glia_cpu_direct_fwd(ctx, &dg, x, w, y);
    int64_t pt = tile_cols(ctx, g, 0);
    if (pt) {
        tile_job j = {.g = g, .mode = TILE_FWD, .a = x, .b = w, .out = y, .pt = pt};
        return run_tiles(ctx, &j, 0);
    }
    int64_t pc = chunk_cols(g);
    float *ws;
    glia_status s = glia_cpu_workspace(ctx, GLIA_CPU_WS_COLS, (size_t)(g->K * pc), &ws);
    if (s != GLIA_STATUS_OK)
        return s;
    glia_cpu_blas_threads(ctx);
    for (int64_t n = 0; n < g->n; n++)
        for (int64_t p0 = 0; p0 < g->P; p0 += pc) {
            int64_t m = min64(pc, g->P - p0);
            im2col(ctx, g, x + n * g->cin * g->X, p0, m, ws);
            gemm(CblasNoTrans, CblasNoTrans, g->cout, m, g->K, w, g->K, ws, m, 0.0f,
                 y + n * g->cout * g->P + p0, g->P);
        }
    return GLIA_STATUS_OK;
}

glia_status glia_cpu_conv_fwd(glia_bctx *ctx, const glia_op *op, glia_cpu_ptrs t)
{
    geom g;
    geom_init(&op->p.conv, &g);
    return forward(ctx, &g, t[0], t[1], t[2]);
}

/* ---- backward-data --------------------------------------------------------------------- */

typedef struct flip_job {
    const float *w;
    float *wf;
    int64_t cout, cin, kvol;
} flip_job;

/* wf[ci][co][kvol-1-k] = w[co][ci][k]: flipping every axis reverses the flat tap index. */
static void flip_task(void *arg, size_t c0, size_t c1)
{
    flip_job *j = arg;
    for (size_t ci = c0; ci < c1; ci++)
        for (int64_t co = 0; co < j->cout; co++) {
            const float *src = j->w + (co * j->cin + (int64_t)ci) * j->kvol;
            float *dst = j->wf + ((int64_t)ci * j->cout + co) * j->kvol;
            for (int64_t k = 0; k < j->kvol; k++)
                dst[k] = src[j->kvol - 1 - k];
        }
}

/* Stride 1 and pad <= k-1: dx = conv(dy, flipped transposed w, pad k-1-p),
 * a gather with disjoint outputs that runs on the tile schedule. */
static int flip_geom(const geom *g, geom *f)
{
    *f = *g;
    for (int i = 0; i < 3; i++) {
        if (g->s[i] != 1 || g->p[i] > g->k[i] - 1)
            return 0;
        f->in[i] = g->out[i];
        f->out[i] = g->in[i];
        f->p[i] = g->k[i] - 1 - g->p[i];
    }
    f->cin = g->cout;
    f->cout = g->cin;
    f->X = g->P;
    f->P = g->X;
    f->K = f->cin * f->kvol;
    return 1;
}

/* Kernel no larger than stride on every axis (the k2 s2 transposed conv of
 * U-Nets): each input element is under at most one window, so col2im of
 * different column tiles never writes the same element. */
static int disjoint_windows(const geom *g)
{
    for (int i = 0; i < 3; i++)
        if (g->k[i] > g->s[i])
            return 0;
    return 1;
}

glia_status glia_cpu_conv_bwd_data(glia_bctx *ctx, const glia_op *op, glia_cpu_ptrs t)
{
    geom g, f;
    geom_init(&op->p.conv, &g);
    const float *dy = t[0], *w = t[1];
    float *dx = t[2];
    if (g.P == 0 || g.cout == 0) {
        memset(dx, 0, (size_t)(g.n * g.cin * g.X) * sizeof(float));
        return GLIA_STATUS_OK;
    }
    if (pointwise(&g)) {
        glia_cpu_blas_threads(ctx);
        for (int64_t n = 0; n < g.n; n++)
            gemm(CblasTrans, CblasNoTrans, g.cin, g.P, g.cout, w, g.cin, dy + n * g.cout * g.P,
                 g.P, 0.0f, dx + n * g.cin * g.X, g.P);
        return GLIA_STATUS_OK;
    }
    if (flip_geom(&g, &f)) {
        float *wf;
        glia_status s = glia_cpu_workspace(ctx, GLIA_CPU_WS_WEIGHTS, (size_t)(g.cout * g.K), &wf);
        if (s != GLIA_STATUS_OK)
            return s;
        flip_job fj = {w, wf, g.cout, g.cin, g.kvol};
        glia_cpu_parallel_for(ctx->pool, (size_t)g.cin,
                              GLIA_CPU_GRAIN / (size_t)(g.cout * g.kvol) + 1, flip_task, &fj);
        return forward(ctx, &f, dy, wf, dx);
    }
    int64_t pt = disjoint_windows(&g) ? tile_cols(ctx, &g, 0) : 0;
    if (pt) {
        /* inputs under no window get no column: clear them all first */
        glia_cpu_parallel_for(ctx->pool, (size_t)(g.n * g.cin * g.X), 4 * GLIA_CPU_GRAIN, zero_task, dx);
        tile_job j = {.g = &g, .mode = TILE_DATA, .a = dy, .b = w, .out = dx, .pt = pt};
        return run_tiles(ctx, &j, 0);
    }
    int64_t pc = chunk_cols(&g);
    float *ws;
    glia_status s = glia_cpu_workspace(ctx, GLIA_CPU_WS_COLS, (size_t)(g.K * pc), &ws);
    if (s != GLIA_STATUS_OK)
        return s;
    glia_cpu_blas_threads(ctx);
    for (int64_t n = 0; n < g.n; n++)
        for (int64_t p0 = 0; p0 < g.P; p0 += pc) {
            int64_t m = min64(pc, g.P - p0);
            gemm(CblasTrans, CblasNoTrans, g.K, m, g.cout, w, g.K, dy + n * g.cout * g.P + p0,
                 g.P, 0.0f, ws, m);
            col_job j = {&g, dx + n * g.cin * g.X, ws, p0, m, p0 == 0};
            glia_cpu_parallel_for(ctx->pool, (size_t)g.cin, 1, col2im_task, &j);
        }
    return GLIA_STATUS_OK;
}

/* ---- backward-weight --------------------------------------------------------------------- */

glia_status glia_cpu_conv_bwd_weight(glia_bctx *ctx, const glia_op *op, glia_cpu_ptrs t)
{
    geom g;
    geom_init(&op->p.conv, &g);
    const float *x = t[0], *dy = t[1];
    float *dw = t[2];
    size_t wsize = (size_t)(g.cout * g.K);
    if (g.P == 0 || g.n == 0) {
        memset(dw, 0, wsize * sizeof(float));
        return GLIA_STATUS_OK;
    }
    if (pointwise(&g)) {
        glia_cpu_blas_threads(ctx);
        for (int64_t n = 0; n < g.n; n++)
            gemm(CblasNoTrans, CblasTrans, g.cout, g.cin, g.P, dy + n * g.cout * g.P, g.P,
                 x + n * g.cin * g.X, g.P, n ? 1.0f : 0.0f, dw, g.cin);
        return GLIA_STATUS_OK;
    }
    glia_cpu_wino wg;
    if (winograd(&g, &wg))
        return glia_cpu_wino_bwd_weight(ctx, &wg, x, dy, dw);
    glia_cpu_direct dg;
    if (direct(&g, &dg) && glia_cpu_direct_wgrad_applies(&dg))
        return glia_cpu_direct_bwd_weight(ctx, &dg, x, dy, dw);
    /* tiles: each slot accumulates a partial dW, summed at the end */
    int64_t pt = tile_cols(ctx, &g, (int64_t)wsize);
    if (pt) {
        tile_job j = {.g = &g, .mode = TILE_WEIGHT, .a = x, .b = dy, .pt = pt};
        glia_status s = run_tiles(ctx, &j, (int64_t)wsize);
        if (s != GLIA_STATUS_OK)
            return s;
        sum_job sj = {dw, j.ws, j.slots, j.slot_floats};
        glia_cpu_parallel_for(ctx->pool, wsize, GLIA_CPU_GRAIN / (size_t)j.slots + 1,
                              sum_slots_task, &sj);
        return GLIA_STATUS_OK;
    }
    int64_t pc = chunk_cols(&g);
    float *ws;
    glia_status s = glia_cpu_workspace(ctx, GLIA_CPU_WS_COLS, (size_t)(g.K * pc), &ws);
    if (s != GLIA_STATUS_OK)
        return s;
    glia_cpu_blas_threads(ctx);
    float beta = 0.0f;   /* the first product overwrites dw, the rest accumulate */
    for (int64_t n = 0; n < g.n; n++)
        for (int64_t p0 = 0; p0 < g.P; p0 += pc) {
            int64_t m = min64(pc, g.P - p0);
            im2col(ctx, &g, x + n * g.cin * g.X, p0, m, ws);
            gemm(CblasNoTrans, CblasTrans, g.cout, g.K, m, dy + n * g.cout * g.P + p0, g.P, ws, m,
                 beta, dw, g.K);
            beta = 1.0f;
        }
    return GLIA_STATUS_OK;
}
