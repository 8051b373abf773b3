/* CPU backend: 2D/3D convolution as im2col (vol2col) + OpenBLAS GEMM.
 *
 * Per sample, the column matrix is K x P (K = Cin*kD*kH*kW, P = output voxels).
 * It is built a chunk of output columns at a time in the context's workspace,
 * whose size is capped, so a 128^3 volume never materialises its gigabytes of
 * columns. 1x1 stride-1 unpadded convolutions are plain GEMMs on the input.
 *   forward      y_n[:, cols]  = W[Co, K] * col[K, cols]
 *   backward-data col          = W^T * dy_n[:, cols], then col2im adds into dx_n
 *   backward-weight dW         += dy_n[:, cols] * col^T  (accumulated over chunks) */
#include <cblas.h>
#include <string.h>
#include "cpu_impl.h"

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
        if (j->p0 == 0)
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
    col_job j = {g, (float *)x, col, p0, pc};
    glia_cpu_parallel_for(ctx->pool, (size_t)g->K, (GLIA_CPU_GRAIN + (size_t)pc - 1) / (size_t)pc,
                          im2col_task, &j);
}

static glia_status prepare(glia_bctx *ctx, const glia_op *op, geom *g, int64_t *pc, float **ws)
{
    geom_init(&op->p.conv, g);
    glia_cpu_blas_threads(ctx);
    *ws = NULL;
    *pc = chunk_cols(g);
    if (pointwise(g) || g->P == 0)
        return GLIA_STATUS_OK;
    return glia_cpu_workspace(ctx, (size_t)(g->K * *pc), ws);
}

glia_status glia_cpu_conv_fwd(glia_bctx *ctx, const glia_op *op, glia_cpu_ptrs t)
{
    geom g;
    int64_t pc;
    float *ws;
    glia_status s = prepare(ctx, op, &g, &pc, &ws);
    if (s != GLIA_STATUS_OK)
        return s;
    for (int64_t n = 0; n < g.n; n++) {
        const float *x = t[0] + n * g.cin * g.X;
        float *y = t[2] + n * g.cout * g.P;
        if (!ws) {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)g.cout, (blasint)g.P,
                        (blasint)g.cin, 1.0f, t[1], (blasint)g.cin, x, (blasint)g.P, 0.0f, y,
                        (blasint)g.P);
            continue;
        }
        for (int64_t p0 = 0; p0 < g.P; p0 += pc) {
            int64_t m = g.P - p0 < pc ? g.P - p0 : pc;
            im2col(ctx, &g, x, p0, m, ws);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)g.cout, (blasint)m,
                        (blasint)g.K, 1.0f, t[1], (blasint)g.K, ws, (blasint)m, 0.0f, y + p0,
                        (blasint)g.P);
        }
    }
    return GLIA_STATUS_OK;
}

glia_status glia_cpu_conv_bwd_data(glia_bctx *ctx, const glia_op *op, glia_cpu_ptrs t)
{
    geom g;
    int64_t pc;
    float *ws;
    glia_status s = prepare(ctx, op, &g, &pc, &ws);
    if (s != GLIA_STATUS_OK)
        return s;
    if (g.P == 0) {
        memset(t[2], 0, (size_t)(g.n * g.cin * g.X) * sizeof(float));
        return GLIA_STATUS_OK;
    }
    for (int64_t n = 0; n < g.n; n++) {
        const float *dy = t[0] + n * g.cout * g.P;
        float *dx = t[2] + n * g.cin * g.X;
        if (!ws) {
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (blasint)g.cin, (blasint)g.P,
                        (blasint)g.cout, 1.0f, t[1], (blasint)g.cin, dy, (blasint)g.P, 0.0f, dx,
                        (blasint)g.P);
            continue;
        }
        for (int64_t p0 = 0; p0 < g.P; p0 += pc) {
            int64_t m = g.P - p0 < pc ? g.P - p0 : pc;
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (blasint)g.K, (blasint)m,
                        (blasint)g.cout, 1.0f, t[1], (blasint)g.K, dy + p0, (blasint)g.P, 0.0f,
                        ws, (blasint)m);
            col_job j = {&g, dx, ws, p0, m};
            glia_cpu_parallel_for(ctx->pool, (size_t)g.cin, 1, col2im_task, &j);
        }
    }
    return GLIA_STATUS_OK;
}

glia_status glia_cpu_conv_bwd_weight(glia_bctx *ctx, const glia_op *op, glia_cpu_ptrs t)
{
    geom g;
    int64_t pc;
    float *ws;
    glia_status s = prepare(ctx, op, &g, &pc, &ws);
    if (s != GLIA_STATUS_OK)
        return s;
    float beta = 0.0f;   /* the first product overwrites dw, the rest accumulate */
    for (int64_t n = 0; n < g.n && g.P > 0; n++) {
        const float *x = t[0] + n * g.cin * g.X;
        const float *dy = t[1] + n * g.cout * g.P;
        if (!ws) {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)g.cout, (blasint)g.cin,
                        (blasint)g.P, 1.0f, dy, (blasint)g.P, x, (blasint)g.P, beta, t[2],
                        (blasint)g.cin);
            beta = 1.0f;
            continue;
        }
        for (int64_t p0 = 0; p0 < g.P; p0 += pc) {
            int64_t m = g.P - p0 < pc ? g.P - p0 : pc;
            im2col(ctx, &g, x, p0, m, ws);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)g.cout, (blasint)g.K,
                        (blasint)m, 1.0f, dy + p0, (blasint)g.P, ws, (blasint)m, beta, t[2],
                        (blasint)g.K);
            beta = 1.0f;
        }
    }
    if (beta == 0.0f)
        memset(t[2], 0, (size_t)(g.cout * g.K) * sizeof(float));
    return GLIA_STATUS_OK;
}
