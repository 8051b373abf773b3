/* CPU backend: direct stride-1 convolution for few output channels (up to
 * 64), the 3-D U-Net's layers from 128^3 to 32^3 and the first layer of the
 * 2-D models, and the backward-data of those (a forward convolution too); and
 * the weight gradient of those up to 16 output channels.
 *
 * im2col + GEMM is a poor fit there: with 8 output channels the GEMM's M is 8,
 * so each column element built (27 times the input, written and read back) is
 * used for just 8 multiply-adds, and BLAS kernels are tuned for larger M. Here
 * no column matrix exists. For each group of up to GROUP output rows (one
 * sample and depth, consecutive heights) the cin x kD x (kH + GROUP - 1) input
 * rows they read are copied once into a zero-padded slab (the padding handled
 * there, so the inner loop has no bounds tests; 4 rows a group made unet3d's
 * 128^3 forward layers 1.35-1.47x faster than a slab per row), and a
 * register-blocked kernel (cpu_direct_row.h) accumulates CB output channels x
 * NV vectors of output columns over every channel and tap.
 *
 * Vector code is compiled per ISA with target attributes and chosen at run
 * time (AVX-512, else AVX2 with FMA); elsewhere, or with GLIA_CPU_DIRECT=off,
 * the im2col path runs. GLIA_CPU_DIRECT=avx2 forces the AVX2 kernel on an
 * AVX-512 machine so that the tests cover both. Rows are split statically
 * between the pool's threads (contiguous ranges, so neighbouring rows share
 * input rows in cache); results do not depend on the thread count. */
#include <stdlib.h>
#include <string.h>
#include "cpu_impl.h"

/* Output rows per slab: each input row is copied once per group instead of
 * once per output row that reads it (kH times). */
#define GROUP 4

/* The input rows a group of consecutive output rows (one sample, one depth)
 * reads, zero-padded: rows (ci, kd, h) for h < hr = kH + the group's rows - 1,
 * each wpad floats. Output row i of the group reads rows (ci, kd, i + kh). */
typedef struct slab {
    const float *p;
    int64_t wpad, hr;
} slab;

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define GLIA_DIRECT_X86 1
/* register blocks: output channels x vectors of output columns */
enum { AVX2_CB = 4, AVX2_NV = 2, AVX512_CB = 8, AVX512_NV = 2 };

/* AVX2 + FMA: 4 channels x 16 columns, 8 accumulators of 16 registers */
#define DIRECT_ROW row_avx2
#define DIRECT_TARGET "avx2,fma"
#define VEC __m256
#define V 8
#define CB AVX2_CB
#define NV AVX2_NV
#define VZERO _mm256_setzero_ps()
#define VLOAD(p) _mm256_loadu_ps(p)
#define VBCAST(p) _mm256_broadcast_ss(p)
#define VFMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define VSTORE(p, v) _mm256_storeu_ps(p, v)
#define VADD(a, b) _mm256_add_ps(a, b)
#define DIRECT_WROW wrow_avx2
#include "cpu_direct_row.h"
#include "cpu_direct_wgrad.h"
#undef DIRECT_ROW
#undef DIRECT_WROW
#undef VADD
#undef DIRECT_TARGET
#undef VEC
#undef V
#undef CB
#undef NV
#undef VZERO
#undef VLOAD
#undef VBCAST
#undef VFMA
#undef VSTORE

/* AVX-512: 8 channels x 32 columns, 16 accumulators of 32 registers */
#define DIRECT_ROW row_avx512
#define DIRECT_TARGET "avx512f"
#define VEC __m512
#define V 16
#define CB AVX512_CB
#define NV AVX512_NV
#define VZERO _mm512_setzero_ps()
#define VLOAD(p) _mm512_loadu_ps(p)
#define VBCAST(p) _mm512_set1_ps(*(p))
#define VFMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define VSTORE(p, v) _mm512_storeu_ps(p, v)
#define VADD(a, b) _mm512_add_ps(a, b)
#define DIRECT_WROW wrow_avx512
#include "cpu_direct_row.h"
#include "cpu_direct_wgrad.h"
#endif

typedef void (*row_fn)(const glia_cpu_direct *d, const slab *sl, int64_t i, const float *wp, float *y);
typedef void (*wrow_fn)(const glia_cpu_direct *d, const slab *sl, int64_t rows, const float *dy, int64_t dstride,
                        float *acc);

typedef struct isa {
    row_fn row;
    wrow_fn wrow;
    int cb, bw, v;       /* channels per block, columns per block, vector width */
} isa;

/* The kernel this machine runs, or none. */
static int pick(isa *k)
{
#ifdef GLIA_DIRECT_X86
    const char *env = getenv("GLIA_CPU_DIRECT");
    if (env && strcmp(env, "off") == 0)
        return 0;
    __builtin_cpu_init();
    int avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (__builtin_cpu_supports("avx512f") && !(env && strcmp(env, "avx2") == 0)) {
        *k = (isa){row_avx512, wrow_avx512, AVX512_CB, AVX512_NV * 16, 16};
        return 1;
    }
    if (avx2) {
        *k = (isa){row_avx2, wrow_avx2, AVX2_CB, AVX2_NV * 8, 8};
        return 1;
    }
#endif
    (void)k;
    return 0;
}

/* Where the direct kernel beats im2col + GEMM: stride 1, rows long enough to
 * fill its register blocks, few output channels (GLIA_CPU_DIRECT_MAX_COUT). */
int glia_cpu_direct_applies(const glia_cpu_direct *d)
{
    isa k;
    if (!pick(&k) || d->cout > GLIA_CPU_DIRECT_MAX_COUT || d->cin < 1)
        return 0;
    /* a row's last register block must not be mostly padding */
    if (4 * d->out[2] < 3 * ((d->out[2] + k.bw - 1) / k.bw * k.bw))
        return 0;
    for (int a = 0; a < 3; a++)
        if (d->k[a] < 1 || d->pad[a] < 0 || d->pad[a] > d->k[a] - 1 || d->out[a] != d->in[a] + 2 * d->pad[a] - d->k[a] + 1)
            return 0;
    return 1;
}

/* The weight gradient's kernel takes rows of kernels 3 wide only. */
int glia_cpu_direct_wgrad_applies(const glia_cpu_direct *d)
{
    return d->k[2] == 3 && d->cout <= GLIA_CPU_DIRECT_WGRAD_MAX_COUT && glia_cpu_direct_applies(d);
}

typedef struct direct_job {
    const glia_cpu_direct *d;
    isa k;
    const float *x, *wp, *dy;  /* forward: x, wp (blocked weights); weight gradient: x, dy */
    float *y, *ws;             /* forward: y */
    int64_t wpad, rows, slots;
    int64_t slab_floats, slot_floats, dstride, chans, acc_floats;
} direct_job;

/* Fill the slab of output rows [oh, oh + rows) at depth od of sample x:
 * row (ci*kD + kd)*hr + h holds x[ci][od-pd+kd][oh-ph+h][j-pw] over j. */
static void fill_slab(const glia_cpu_direct *d, const float *x, int64_t od, int64_t oh, int64_t rows, int64_t wpad,
                      float *p, slab *sl)
{
    const int64_t D = d->in[0], H = d->in[1], W = d->in[2], pw = d->pad[2], hr = d->k[1] + rows - 1;
    *sl = (slab){p, wpad, hr};
    for (int64_t ci = 0; ci < d->cin; ci++)
        for (int64_t kd = 0; kd < d->k[0]; kd++)
            for (int64_t h = 0; h < hr; h++, p += wpad) {
                int64_t id = od - d->pad[0] + kd, ih = oh - d->pad[1] + h;
                if (id < 0 || id >= D || ih < 0 || ih >= H) {
                    memset(p, 0, (size_t)wpad * sizeof *p);
                    continue;
                }
                memset(p, 0, (size_t)pw * sizeof *p);
                memcpy(p + pw, x + ((ci * D + id) * H + ih) * W, (size_t)W * sizeof *p);
                memset(p + pw + W, 0, (size_t)(wpad - pw - W) * sizeof *p);
            }
}

/* Rows [r, e) of a slot go in groups of at most GROUP output rows of one
 * sample and depth: the size of the group that starts at row r. */
static int64_t group_rows(const glia_cpu_direct *d, int64_t r, int64_t e)
{
    int64_t n = d->out[1] - r % d->out[1];
    n = n < e - r ? n : e - r;
    return n < GROUP ? n : GROUP;
}

/* Slot s's rows: a contiguous range, so that neighbouring rows share input rows in cache. */
static void slot_rows(const direct_job *j, size_t s, int64_t *r0, int64_t *r1)
{
    *r0 = j->rows * (int64_t)s / j->slots;
    *r1 = j->rows * ((int64_t)s + 1) / j->slots;
}

static void fwd_task(void *arg, size_t s0, size_t s1)
{
    direct_job *j = arg;
    const glia_cpu_direct *d = j->d;
    const int64_t oD = d->out[0], oH = d->out[1], P = oD * oH * d->out[2], X = d->in[0] * d->in[1] * d->in[2];
    for (size_t s = s0; s < s1; s++) {
        float *ws = j->ws + (int64_t)s * j->slot_floats;
        int64_t r, e, rows;
        slab sl;
        for (slot_rows(j, s, &r, &e); r < e; r += rows) {
            int64_t n = r / (oD * oH), od = r / oH % oD, oh = r % oH;
            rows = group_rows(d, r, e);
            fill_slab(d, j->x + n * d->cin * X, od, oh, rows, j->wpad, ws, &sl);
            for (int64_t i = 0; i < rows; i++)
                j->k.row(d, &sl, i, j->wp, j->y + n * d->cout * P + (od * oH + oh + i) * d->out[2]);
        }
    }
}

/* The kernel, the row split and the workspace: per slot the slab and, for
 * the weight gradient, a group's dy rows and the partial sums (slot_acc). */
static glia_status setup(glia_bctx *ctx, direct_job *j, int wgrad)
{
    const glia_cpu_direct *d = j->d;
    if (!pick(&j->k))
        return glia_seterr(GLIA_STATUS_UNSUPPORTED, "cpu: the direct convolution needs AVX2");
    /* a slab row holds the last block's full width and the taps past it */
    j->wpad = (d->out[2] + j->k.bw - 1) / j->k.bw * j->k.bw + d->k[2] - 1;
    j->slab_floats = d->cin * d->k[0] * (d->k[1] + GROUP - 1) * j->wpad;
    j->slot_floats = j->slab_floats;
    if (wgrad) {
        j->chans = (d->cout + j->k.cb - 1) / j->k.cb * j->k.cb;
        j->dstride = (d->out[2] + j->k.v - 1) / j->k.v * j->k.v;
        j->acc_floats = j->chans * d->cin * d->k[0] * d->k[1] * 3 * j->k.v;
        j->slot_floats += GROUP * j->chans * j->dstride + j->acc_floats;
    }
    j->rows = d->n * d->out[0] * d->out[1];
    j->slots = ctx->threads < j->rows ? ctx->threads : j->rows;
    return glia_cpu_workspace(ctx, GLIA_CPU_WS_COLS, (size_t)(j->slots * j->slot_floats), &j->ws);
}

/* Slot s's partial weight-gradient sums: the end of its workspace. */
static float *slot_acc(const direct_job *j, int64_t s)
{
    return j->ws + (s + 1) * j->slot_floats - j->acc_floats;
}

glia_status glia_cpu_direct_fwd(glia_bctx *ctx, const glia_cpu_direct *d, const float *x, const float *w, float *y)
{
    direct_job j = {.d = d, .x = x, .y = y};
    glia_status s = setup(ctx, &j, 0);
    if (s != GLIA_STATUS_OK)
        return s;
    const int64_t kvol = d->k[0] * d->k[1] * d->k[2], cb = j.k.cb, blocks = (d->cout + cb - 1) / cb;
    /* weights as [block][ci][tap][cb], channels past cout zero */
    float *wp;
    if ((s = glia_cpu_workspace(ctx, GLIA_CPU_WS_DIRECT, (size_t)(blocks * cb * d->cin * kvol), &wp)) != GLIA_STATUS_OK)
        return s;
    for (int64_t b = 0; b < blocks; b++)
        for (int64_t ci = 0; ci < d->cin; ci++)
            for (int64_t t = 0; t < kvol; t++)
                for (int64_t c = 0; c < cb; c++) {
                    int64_t co = b * cb + c;
                    wp[((b * d->cin + ci) * kvol + t) * cb + c] = co < d->cout ? w[(co * d->cin + ci) * kvol + t] : 0.0f;
                }
    j.wp = wp;
    glia_cpu_parallel_for(ctx->pool, (size_t)j.slots, 1, fwd_task, &j);
    return GLIA_STATUS_OK;
}

static void wgrad_task(void *arg, size_t s0, size_t s1)
{
    direct_job *j = arg;
    const glia_cpu_direct *d = j->d;
    const int64_t oD = d->out[0], oH = d->out[1], oW = d->out[2], P = oD * oH * oW;
    const int64_t X = d->in[0] * d->in[1] * d->in[2], chans = j->chans;
    for (size_t s = s0; s < s1; s++) {
        float *ws = j->ws + (int64_t)s * j->slot_floats, *dy = ws + j->slab_floats, *acc = slot_acc(j, (int64_t)s);
        memset(acc, 0, (size_t)j->acc_floats * sizeof *acc);
        memset(dy, 0, (size_t)(GROUP * chans * j->dstride) * sizeof *dy); /* lanes past a row and cout stay zero */
        int64_t r, e, rows;
        slab sl;
        for (slot_rows(j, s, &r, &e); r < e; r += rows) {
            int64_t n = r / (oD * oH), od = r / oH % oD, oh = r % oH;
            rows = group_rows(d, r, e);
            fill_slab(d, j->x + n * d->cin * X, od, oh, rows, j->wpad, ws, &sl);
            for (int64_t i = 0; i < rows; i++) /* dy's rows of the group, [i][channel][column] */
                for (int64_t c = 0; c < d->cout; c++)
                    memcpy(dy + (i * chans + c) * j->dstride, j->dy + (n * d->cout + c) * P + (od * oH + oh + i) * oW,
                           (size_t)oW * sizeof *dy);
            j->k.wrow(d, &sl, rows, dy, j->dstride, acc);
        }
    }
}

typedef struct wsum_job {
    const direct_job *j;
    float *dw;
} wsum_job;

/* dw[i] = the sum over slots (in order) and lanes of the partial sums of element i. */
static void wsum_task(void *arg, size_t i0, size_t i1)
{
    const wsum_job *w = arg;
    const direct_job *j = w->j;
    for (size_t i = i0; i < i1; i++) {
        double sum = 0;
        for (int64_t s = 0; s < j->slots; s++)
            sum += glia_cpu_sum(slot_acc(j, s) + (int64_t)i * j->k.v, (size_t)j->k.v);
        w->dw[i] = (float)sum;
    }
}

glia_status glia_cpu_direct_bwd_weight(glia_bctx *ctx, const glia_cpu_direct *d, const float *x, const float *dy,
                                       float *dw)
{
    direct_job j = {.d = d, .x = x, .dy = dy};
    glia_status s = setup(ctx, &j, 1);
    if (s != GLIA_STATUS_OK)
        return s;
    glia_cpu_parallel_for(ctx->pool, (size_t)j.slots, 1, wgrad_task, &j);
    /* rows in acc are (ci, kd, kh) and taps kw: dw's own order for channels below cout */
    wsum_job w = {&j, dw};
    glia_cpu_parallel_for(ctx->pool, (size_t)(d->cout * d->cin * d->k[0] * d->k[1] * 3), 256, wsum_task, &w);
    return GLIA_STATUS_OK;
}
