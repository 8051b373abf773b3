/* CPU backend: 3x3 stride-1 2-D convolution by Winograd's minimal filtering
 * F(2x2, 3x3) (Lavin and Gray, "Fast Algorithms for Convolutional Neural
 * Networks", 2016), or F(4x4, 3x3) (cpu_winograd43.c) where the batch has
 * enough 4x4 tiles.
 *
 * Every 2x2 output tile comes from its 4x4 input patch d as
 *     Y = A^T [ (G g G^T) .* (B^T d B) ] A,
 * 16 multiplications per tile and channel pair instead of 36. Summed over the
 * input channels, the 16 elementwise products are 16 GEMMs
 *     M[xi] (cout x T) = U[xi] (cout x cin) * V[xi] (cin x T)
 * over T tiles, so the convolution does 2.25x fewer FLOPs than im2col + GEMM
 * (4x with F(4x4, 3x3)), at the price of transforms that are linear in the
 * data. Each sample's tiles are taken in chunks as large as the column
 * workspace holds; each chunk runs three phases: input transform (parallel
 * over input channels), the GEMMs (parallel over xi, one single-threaded
 * OpenBLAS call each), output transform (parallel over output channels). The
 * partition is static, so results do not depend on timing; chunks never span
 * samples, are cut the same way in each, and the tile size depends on the
 * sample's size alone, so a sample's result does not depend on the batch it is
 * in either (the BLAS's rounding can depend on the GEMM's N).
 *
 * The weight gradient is the correlation of x with dy, 3x3 outputs from 2x2
 * "filters" (the tiles of dy): F(3x3, 2x2) on the same 4x4 patches of x,
 *     dw = A'^T [ sum over tiles of (G' g G'^T) .* (B^T d B) ] A',
 * with the sum over tiles as 16 GEMMs (cout x T) * (T x cin) accumulated over
 * the chunks, and the output transform once at the end.
 *
 * The transforms run along a run of tiles of one tile row at a time, on rows
 * with the zero padding already in place, so every inner loop is over
 * consecutive tiles and vectorises. */
#include <cblas.h>
#include <string.h>
#include "cpu_winograd.h"

#define XI 16             /* 4x4 transformed values per tile of F(2x2, 3x3) and F(3x3, 2x2) */
#define XI43 36           /* 6x6 of F(4x4, 3x3): what a chunk must hold at least */
#define RUN GLIA_WINO_RUN
/* Fewest tiles per chunk: below it the GEMMs' N dimension gets inefficient. */
#define MIN_CHUNK 64
/* Fewest 4x4 tiles per sample for F(4x4, 3x3) (64 x 64 outputs): below,
 * packing its 36 transformed weight planes for few columns costs more than the
 * multiplications it saves (on a Zen 4, unet2d's layers of 64^2 and more gain
 * 1.1-1.4x, its 32^2 and 16^2 ones lose 1.6-3.3x), and F(2x2, 3x3) runs. */
#define MIN_TILES43 256
/* Below these channel counts the GEMMs are too thin for the transforms to pay. */
#define MIN_CIN 16
#define MIN_COUT 16

typedef glia_wino_job wino_job;

static int64_t tiles(int64_t n, int ts) { return (n + ts - 1) / ts; }

int glia_cpu_wino_applies(const glia_cpu_wino *s)
{
    if (s->cin < MIN_CIN || s->cout < MIN_COUT || s->oh < 1 || s->ow < 1)
        return 0;
    return (size_t)(XI43 * (s->cin + s->cout) * MIN_CHUNK) <= glia_cpu_workspace_cap();
}

/* U[xi][co][ci] = (G g G^T)[xi] for every kernel g = w[co][ci]. */
static void filter_task(void *arg, size_t c0, size_t c1)
{
    wino_job *j = arg;
    int64_t cin = j->s->cin, cout = j->s->cout;
    for (size_t co = c0; co < c1; co++)
        for (int64_t ci = 0; ci < cin; ci++) {
            const float *g = j->w + ((int64_t)co * cin + ci) * 9;
            float t[4][3], u[4][4];
            for (int c = 0; c < 3; c++) {   /* G g: G = [1 0 0; .5 .5 .5; .5 -.5 .5; 0 0 1] */
                t[0][c] = g[c];
                t[1][c] = 0.5f * (g[c] + g[3 + c] + g[6 + c]);
                t[2][c] = 0.5f * (g[c] - g[3 + c] + g[6 + c]);
                t[3][c] = g[6 + c];
            }
            for (int r = 0; r < 4; r++) {   /* (G g) G^T */
                u[r][0] = t[r][0];
                u[r][1] = 0.5f * (t[r][0] + t[r][1] + t[r][2]);
                u[r][2] = 0.5f * (t[r][0] - t[r][1] + t[r][2]);
                u[r][3] = t[r][2];
            }
            for (int xi = 0; xi < XI; xi++)
                j->u[((int64_t)xi * cout + (int64_t)co) * cin + ci] = u[xi / 4][xi % 4];
        }
}

/* Calls fn on the runs of the chunk: tiles [t, t + cnt) in tile row ty,
 * starting at tile column tx, k0 = t - t0 their first column in V and M. */
static void each_run(const wino_job *j, int64_t c, glia_wino_run_fn fn)
{
    for (int64_t t = j->t0, end = j->t0 + j->tc; t < end;) {
        int64_t ty = t / j->tw, tx = t % j->tw;
        int64_t cnt = j->tw - tx;
        if (cnt > end - t)
            cnt = end - t;
        if (cnt > RUN)
            cnt = RUN;
        fn(j, c, j->n, ty, tx, cnt, t - j->t0);
        t += cnt;
    }
}

void glia_wino_rows(const float *plane, int64_t h, int64_t w, int64_t iy0, int64_t ix0, int nrows,
                    int64_t width, float *rows, int64_t stride)
{
    int64_t lo = ix0 < 0 ? -ix0 : 0, hi = w - ix0 < width ? w - ix0 : width;
    for (int i = 0; i < nrows; i++) {
        float *r = rows + i * stride;
        int64_t iy = iy0 + i;
        if (iy < 0 || iy >= h || hi <= lo) {
            memset(r, 0, (size_t)width * sizeof(float));
            continue;
        }
        memset(r, 0, (size_t)lo * sizeof(float));
        memcpy(r + lo, plane + iy * w + ix0 + lo, (size_t)(hi - lo) * sizeof(float));
        if (hi < width)
            memset(r + hi, 0, (size_t)(width - hi) * sizeof(float));
    }
}

/* V[xi][ci][k] = (B^T d B)[xi] with B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]. */
static void input_run(const wino_job *j, int64_t ci, int64_t n, int64_t ty, int64_t tx,
                      int64_t cnt, int64_t k0)
{
    const glia_cpu_wino *s = j->s;
    int64_t width = 2 * cnt + 2;
    float r[4][2 * RUN + 2], a[4][2 * RUN + 2];
    glia_wino_rows(j->x + (n * s->cin + ci) * s->h * s->w, s->h, s->w, 2 * ty - s->ph, 2 * tx - s->pw, 4,
                   width, r[0], 2 * RUN + 2);
    for (int64_t x = 0; x < width; x++) {   /* B^T d, down the columns */
        a[0][x] = r[0][x] - r[2][x];
        a[1][x] = r[1][x] + r[2][x];
        a[2][x] = r[2][x] - r[1][x];
        a[3][x] = r[1][x] - r[3][x];
    }
    size_t vs = (size_t)(s->cin * j->tc);   /* stride between xi planes of V */
    float *v = j->v + ci * j->tc + k0;
    for (int i = 0; i < 4; i++) {           /* (B^T d) B, along the rows */
        float *v0 = v + (size_t)(4 * i) * vs, *v1 = v0 + vs, *v2 = v1 + vs, *v3 = v2 + vs;
        const float *ai = a[i];
        for (int64_t k = 0; k < cnt; k++) {
            v0[k] = ai[2 * k] - ai[2 * k + 2];
            v1[k] = ai[2 * k + 1] + ai[2 * k + 2];
            v2[k] = ai[2 * k + 2] - ai[2 * k + 1];
            v3[k] = ai[2 * k + 1] - ai[2 * k + 3];
        }
    }
}

/* y tile = A^T M A with A^T = [1 1 1 0; 0 1 -1 -1]; the last row and column
 * of a tile fall outside an odd-sized output and are dropped. */
static void output_run(const wino_job *j, int64_t co, int64_t n, int64_t ty, int64_t tx,
                       int64_t cnt, int64_t k0)
{
    const glia_cpu_wino *s = j->s;
    size_t ms = (size_t)(s->cout * j->tc);
    const float *m = j->m + co * j->tc + k0;
    float t[2][4][RUN], y[2][2 * RUN];
    for (int c = 0; c < 4; c++) {           /* A^T M, down the columns */
        const float *m0 = m + (size_t)c * ms, *m1 = m0 + 4 * ms, *m2 = m1 + 4 * ms, *m3 = m2 + 4 * ms;
        for (int64_t k = 0; k < cnt; k++) {
            t[0][c][k] = m0[k] + m1[k] + m2[k];
            t[1][c][k] = m1[k] - m2[k] - m3[k];
        }
    }
    for (int r = 0; r < 2; r++)             /* (A^T M) A, along the rows */
        for (int64_t k = 0; k < cnt; k++) {
            y[r][2 * k] = t[r][0][k] + t[r][1][k] + t[r][2][k];
            y[r][2 * k + 1] = t[r][1][k] - t[r][2][k] - t[r][3][k];
        }
    float *plane = j->y + (n * s->cout + co) * s->oh * s->ow;
    int64_t ox = 2 * tx, len = 2 * cnt < s->ow - ox ? 2 * cnt : s->ow - ox;
    for (int r = 0; r < 2 && 2 * ty + r < s->oh; r++)
        memcpy(plane + (2 * ty + r) * s->ow + ox, y[r], (size_t)len * sizeof(float));
}

static void input_task(void *arg, size_t c0, size_t c1)
{
    const wino_job *j = arg;
    for (size_t c = c0; c < c1; c++)
        each_run(j, (int64_t)c, j->ts == 4 ? glia_wino43_input_run : input_run);
}

static void output_task(void *arg, size_t c0, size_t c1)
{
    const wino_job *j = arg;
    for (size_t c = c0; c < c1; c++)
        each_run(j, (int64_t)c, j->ts == 4 ? glia_wino43_output_run : output_run);
}

/* GEMM task i: xi = i / splits and block i % splits of a dimension of len;
 * 0 when the block is empty. */
static int gemm_block(const wino_job *j, size_t i, int64_t len, int64_t *xi, int64_t *b0, int64_t *nb)
{
    int64_t per = (len + j->splits - 1) / j->splits;
    *xi = (int64_t)i / j->splits;
    *b0 = (int64_t)i % j->splits * per;
    *nb = len - *b0 < per ? len - *b0 : per;
    return *nb > 0;
}

/* M[xi] = U[xi] V[xi] on a block of the chunk's columns. */
static void gemm_task(void *arg, size_t i0, size_t i1)
{
    wino_job *j = arg;
    const glia_cpu_wino *s = j->s;
    for (size_t i = i0; i < i1; i++) {
        int64_t xi, c0, nc;
        if (!gemm_block(j, i, j->tc, &xi, &c0, &nc))
            continue;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)s->cout, (blasint)nc,
                    (blasint)s->cin, 1.0f, j->u + xi * s->cout * s->cin, (blasint)s->cin,
                    j->v + xi * s->cin * j->tc + c0, (blasint)j->tc, 0.0f,
                    j->m + xi * s->cout * j->tc + c0, (blasint)j->tc);
    }
}

/* M[xi][co][k] = (G' g G'^T)[xi] for the 2x2 tile g of dy, G' = [1 0; 1 1; 1 -1; 0 -1];
 * the tile's second row and column are zero past an odd-sized output. */
static void grad_run(const wino_job *j, int64_t co, int64_t n, int64_t ty, int64_t tx,
                     int64_t cnt, int64_t k0)
{
    const glia_cpu_wino *s = j->s;
    const float *plane = j->dy + (n * s->cout + co) * s->oh * s->ow;
    int64_t width = 2 * cnt, ox = 2 * tx, len = s->ow - ox < width ? s->ow - ox : width;
    float r[2][2 * RUN], a[4][2 * RUN];
    for (int i = 0; i < 2; i++) {
        if (2 * ty + i >= s->oh) {
            memset(r[i], 0, (size_t)width * sizeof(float));
            continue;
        }
        memcpy(r[i], plane + (2 * ty + i) * s->ow + ox, (size_t)len * sizeof(float));
        if (len < width)
            memset(r[i] + len, 0, (size_t)(width - len) * sizeof(float));
    }
    for (int64_t x = 0; x < width; x++) {   /* G' g, down the columns */
        a[0][x] = r[0][x];
        a[1][x] = r[0][x] + r[1][x];
        a[2][x] = r[0][x] - r[1][x];
        a[3][x] = -r[1][x];
    }
    size_t ms = (size_t)(s->cout * j->tc);
    float *m = j->m + co * j->tc + k0;
    for (int i = 0; i < 4; i++) {           /* (G' g) G'^T, along the rows */
        float *m0 = m + (size_t)(4 * i) * ms, *m1 = m0 + ms, *m2 = m1 + ms, *m3 = m2 + ms;
        const float *ai = a[i];
        for (int64_t k = 0; k < cnt; k++) {
            m0[k] = ai[2 * k];
            m1[k] = ai[2 * k] + ai[2 * k + 1];
            m2[k] = ai[2 * k] - ai[2 * k + 1];
            m3[k] = -ai[2 * k + 1];
        }
    }
}

static void grad_task(void *arg, size_t c0, size_t c1)
{
    for (size_t c = c0; c < c1; c++)
        each_run(arg, (int64_t)c, grad_run);
}

/* U[xi] (+)= M[xi] V[xi]^T on a block of the rows (output channels). */
static void wgrad_gemm_task(void *arg, size_t i0, size_t i1)
{
    wino_job *j = arg;
    const glia_cpu_wino *s = j->s;
    for (size_t i = i0; i < i1; i++) {
        int64_t xi, r0, nr;
        if (!gemm_block(j, i, s->cout, &xi, &r0, &nr))
            continue;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)nr, (blasint)s->cin,
                    (blasint)j->tc, 1.0f, j->m + (xi * s->cout + r0) * j->tc, (blasint)j->tc,
                    j->v + xi * s->cin * j->tc, (blasint)j->tc, j->n == 0 && j->t0 == 0 ? 0.0f : 1.0f,
                    j->u + (xi * s->cout + r0) * s->cin, (blasint)s->cin);
    }
}

/* dw[co][ci] = A'^T U A' with A'^T = [1 .5 .5 0; 0 .5 -.5 0; 0 .5 .5 1]. */
static void wgrad_out_task(void *arg, size_t c0, size_t c1)
{
    wino_job *j = arg;
    int64_t cin = j->s->cin, plane = j->s->cout * cin;
    for (size_t co = c0; co < c1; co++)
        for (int64_t ci = 0; ci < cin; ci++) {
            const float *u = j->u + (int64_t)co * cin + ci;
            float t[3][4];
            for (int c = 0; c < 4; c++) {   /* A'^T U, down the columns */
                float u0 = u[c * plane], u1 = u[(4 + c) * plane], u2 = u[(8 + c) * plane],
                      u3 = u[(12 + c) * plane];
                t[0][c] = u0 + 0.5f * (u1 + u2);
                t[1][c] = 0.5f * (u1 - u2);
                t[2][c] = 0.5f * (u1 + u2) + u3;
            }
            float *g = j->y + ((int64_t)co * cin + ci) * 9;
            for (int r = 0; r < 3; r++) {   /* (A'^T U) A', along the rows */
                g[3 * r] = t[r][0] + 0.5f * (t[r][1] + t[r][2]);
                g[3 * r + 1] = 0.5f * (t[r][1] - t[r][2]);
                g[3 * r + 2] = 0.5f * (t[r][1] + t[r][2]) + t[r][3];
            }
        }
}

/* What every direction shares: the tile grid of output tile side ts, the
 * workspaces U (xi per kernel) and a chunk's V and M; returns the tiles per
 * chunk, 0 on failure. */
static int64_t setup(glia_bctx *ctx, wino_job *j, int ts, glia_status *st)
{
    const glia_cpu_wino *s = j->s;
    j->ts = ts;
    j->xi = (ts + 2) * (ts + 2);
    j->th = tiles(s->oh, ts);
    j->tw = tiles(s->ow, ts);
    int64_t total = j->th * j->tw;   /* per sample */
    int64_t per_tile = j->xi * (s->cin + s->cout);   /* floats of V and M per tile */
    /* as many tiles as the column workspace holds: the GEMMs' long dimension
     * grows with the chunk, and OpenBLAS packs U once per chunk (8 -> 64 MiB
     * chunks made the 3x3 layers of unet2d 1.1-1.4x faster) */
    int64_t tc = (int64_t)glia_cpu_workspace_cap() / per_tile;
    if (tc < MIN_CHUNK)
        tc = MIN_CHUNK;
    if (tc > total)
        tc = total;
    *st = glia_cpu_workspace(ctx, GLIA_CPU_WS_WINO, (size_t)(j->xi * s->cout * s->cin), &j->u);
    if (*st == GLIA_STATUS_OK)
        *st = glia_cpu_workspace(ctx, GLIA_CPU_WS_COLS, (size_t)(per_tile * tc), &j->v);
    if (*st != GLIA_STATUS_OK)
        return 0;
    j->m = j->v + j->xi * s->cin * tc;
    /* enough GEMM tasks to keep every thread busy; each is single-threaded */
    j->splits = 1 + ctx->threads / 8;
    openblas_set_num_threads(1);
    return tc;
}

/* Runs the three phases (parallel over counts[i] items each) on every chunk. */
static void each_chunk(glia_bctx *ctx, wino_job *j, int64_t tc, const glia_cpu_range_fn fn[3],
                       const size_t counts[3])
{
    int64_t total = j->th * j->tw;
    for (j->n = 0; j->n < j->s->n; j->n++)
        for (j->t0 = 0; j->t0 < total; j->t0 += tc) {
            j->tc = total - j->t0 < tc ? total - j->t0 : tc;
            for (int p = 0; p < 3; p++)
                glia_cpu_parallel_for(ctx->pool, counts[p], 1, fn[p], j);
        }
}

glia_status glia_cpu_wino_bwd_weight(glia_bctx *ctx, const glia_cpu_wino *s, const float *x, const float *dy,
                                     float *dw)
{
    wino_job j = {.s = s, .x = x, .dy = dy, .y = dw};
    glia_status st;
    int64_t tc = setup(ctx, &j, 2, &st);
    if (!tc)
        return st;
    const glia_cpu_range_fn fn[3] = {input_task, grad_task, wgrad_gemm_task};
    const size_t counts[3] = {(size_t)s->cin, (size_t)s->cout, (size_t)(j.xi * j.splits)};
    each_chunk(ctx, &j, tc, fn, counts);
    glia_cpu_parallel_for(ctx->pool, (size_t)s->cout, 1, wgrad_out_task, &j);
    return GLIA_STATUS_OK;
}

glia_status glia_cpu_wino_fwd(glia_bctx *ctx, const glia_cpu_wino *s, const float *x, const float *w,
                              float *y)
{
    int ts = tiles(s->oh, 4) * tiles(s->ow, 4) >= MIN_TILES43 ? 4 : 2;
    wino_job j = {.s = s, .x = x, .w = w, .y = y};
    glia_status st;
    int64_t tc = setup(ctx, &j, ts, &st);
    if (!tc)
        return st;
    /* the transformed weights of the last calls, if these are the same weights */
    size_t nw = (size_t)(s->cout * s->cin * 9), nu = (size_t)(j.xi * s->cout * s->cin);
    uint64_t hash;
    const float *kept = glia_cpu_wcache_find(ctx, j.ts, w, nw, nu, &hash);
    if (kept) {
        j.u = (float *)kept;   /* only read from here on */
    } else {
        glia_cpu_parallel_for(ctx->pool, (size_t)s->cout, 1, j.ts == 4 ? glia_wino43_filter_task : filter_task, &j);
        glia_cpu_wcache_put(ctx, j.ts, w, nw, j.u, nu, hash);
    }
    const glia_cpu_range_fn fn[3] = {input_task, gemm_task, output_task};
    const size_t counts[3] = {(size_t)s->cin, (size_t)(j.xi * j.splits), (size_t)s->cout};
    each_chunk(ctx, &j, tc, fn, counts);
    return GLIA_STATUS_OK;
}
