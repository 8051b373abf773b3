/* glia — the native CPU backend's private declarations.
 *
 * Ops run synchronously on the calling thread plus a small worker pool owned
 * by the context; GEMM and convolutions go through OpenBLAS. Every op function
 * gets host pointers already advanced by the view offsets (t[i] is NULL for an
 * unused slot) and may assume the arguments were checked by src/core. */
#ifndef GLIA_CPU_IMPL_H
#define GLIA_CPU_IMPL_H

#include <stddef.h>
#include <stdint.h>
#include "backends/backend.h"

/* ---- worker pool (cpu_pool.c) ------------------------------------------- */

typedef struct glia_cpu_pool glia_cpu_pool;

/* Work on items [begin, end) of a parallel loop. */
typedef void (*glia_cpu_range_fn)(void *arg, size_t begin, size_t end);

/* threads counts the calling thread: threads - 1 workers are started. */
glia_status glia_cpu_pool_create(int threads, glia_cpu_pool **out);
void glia_cpu_pool_destroy(glia_cpu_pool *pool);

/* Split [0, n) into chunks of at least grain items and run fn on them with the
 * caller and the workers; returns when every chunk is done. Chunk boundaries
 * depend only on n, grain and the thread count, never on timing, so per-chunk
 * partial results are reproducible. One chunk runs inline on the caller. */
void glia_cpu_parallel_for(glia_cpu_pool *pool, size_t n, size_t grain,
                           glia_cpu_range_fn fn, void *arg);

/* ---- per-index reductions (cpu_pool.c) ---------------------------------- */

#define GLIA_CPU_MAX_SUMS 4

/* Add the partial sums of index b over elements [s, e) of its len-long range
 * into sums[0..nsum-1]. */
typedef void (*glia_cpu_seg_fn)(void *arg, size_t b, size_t s, size_t e, double *sums);
/* Merge partial sums part into acc (NULL in glia_cpu_reduce = plain addition). */
typedef void (*glia_cpu_merge_fn)(double *acc, const double *part);
/* Consume the final sums of index b. */
typedef void (*glia_cpu_fin_fn)(void *arg, size_t b, const double *sums);

/* For every b < nb, reduce a len-long range with seg (parallel over b when
 * there are enough of them, else over segments of each range) and pass the
 * result to fin. Sums start at zero. */
void glia_cpu_reduce(glia_cpu_pool *pool, size_t nb, size_t len, int nsum,
                     glia_cpu_seg_fn seg, glia_cpu_merge_fn merge,
                     glia_cpu_fin_fn fin, void *arg);

/* Walk the flat range [pos, e) of an [A, nb, c]-shaped array as runs inside
 * one c-long row: returns the run length and sets *row = a*nb + b (so b is
 * row % nb) and *col. Used by every op over such arrays. */
static inline size_t glia_cpu_run(size_t pos, size_t e, size_t c, size_t *row, size_t *col)
{
    *row = pos / c;
    *col = pos % c;
    size_t n = c - *col;
    return n < e - pos ? n : e - pos;
}

/* Walk b's slice [pos, e) of an [A, nb, c]-shaped array, where pos = a*c + col
 * counts the elements of index b: returns the run length (inside one row) and
 * sets *off to the flat offset of its first element. */
static inline size_t glia_cpu_slice_run(size_t pos, size_t e, size_t c, size_t nb, size_t b,
                                        size_t *off)
{
    size_t a = pos / c, col = pos % c, n = c - col;
    *off = (a * nb + b) * c + col;
    return n < e - pos ? n : e - pos;
}

/* Sums in double with independent accumulators: without -ffast-math the
 * compiler keeps a single dependent chain, which is latency-bound. */
static inline double glia_cpu_sum(const float *x, size_t n)
{
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += x[i];
        s1 += x[i + 1];
        s2 += x[i + 2];
        s3 += x[i + 3];
    }
    for (; i < n; i++)
        s0 += x[i];
    return (s0 + s1) + (s2 + s3);
}

static inline double glia_cpu_dot(const float *x, const float *y, size_t n)
{
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += (double)x[i] * y[i];
        s1 += (double)x[i + 1] * y[i + 1];
        s2 += (double)x[i + 2] * y[i + 2];
        s3 += (double)x[i + 3] * y[i + 3];
    }
    for (; i < n; i++)
        s0 += (double)x[i] * y[i];
    return (s0 + s1) + (s2 + s3);
}

/* e^x in plain arithmetic, so that loops over it vectorise (libm's expf is a
 * call per element): Cody-Waite reduction x = k ln 2 + r, |r| <= ln 2 / 2,
 * Cephes' degree-7 polynomial for e^r (relative error < 2e-7), 2^k through the
 * exponent bits. Below -87.3 it gives ~1e-38 instead of smaller numbers or
 * zero, above 88.7 FLT_MAX's neighbourhood; NaN stays NaN. */
static inline float glia_cpu_expf(float x)
{
    x = x < -87.3f ? -87.3f : x;
    x = x > 88.7f ? 88.7f : x;
    const float magic = 12582912.0f;   /* 1.5 * 2^23: adding it rounds to an integer */
    float k = (x * 1.44269504089f + magic) - magic;
    float r = x - k * 0.693359375f - k * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    union { int32_t i; float f; } two = {.i = ((int32_t)k + 127) * (1 << 23)};
    return p * two.f;
}

/* ---- the context ---------------------------------------------------------- */

typedef enum glia_cpu_ws {
    GLIA_CPU_WS_COLS,       /* column matrices: at most glia_cpu_workspace_cap() floats
                               unless a single column needs more */
    GLIA_CPU_WS_WEIGHTS,    /* a rearranged copy of one weight tensor */
    GLIA_CPU_WS_WINO,       /* Winograd-transformed weights (16 per 3x3 kernel) */
    GLIA_CPU_WS_DIRECT,     /* the direct convolution's blocked weights (besides a flipped
                               copy in WEIGHTS when it runs a backward-data) */
    GLIA_CPU_WS_COUNT
} glia_cpu_ws;

typedef struct glia_cpu_wcache glia_cpu_wcache;
struct glia_bctx {
    int threads;
    int reference;          /* 1: every op goes to glia_ref_run_f32 */
    glia_cpu_pool *pool;
    float *ws[GLIA_CPU_WS_COUNT]; /* workspaces (glia_cpu_ws), grown on demand and reused */
    size_t ws_floats[GLIA_CPU_WS_COUNT];
    glia_cpu_wcache *wcache; /* transformed weights kept between calls (cpu_wcache.c), NULL until used */
};

/* ---- transformed weights kept between calls (cpu_wcache.c) -------------- */
/* The most the cache holds: copies of the source weights and their transforms. */
#define GLIA_CPU_WCACHE_BYTES ((size_t)512 << 20)
/* The nout transformed floats of the nsrc weights w under transform kind, if
 * kept (the weights compared element for element), else NULL; *hash is for
 * glia_cpu_wcache_put. */
const float *glia_cpu_wcache_find(glia_bctx *ctx, int kind, const float *w, size_t nsrc, size_t nout,
                                  uint64_t *hash);
/* Offer the transform out of w (hash from glia_cpu_wcache_find): kept from
 * the second time the same weights come, within the cache's bytes. */
void glia_cpu_wcache_put(glia_bctx *ctx, int kind, const float *w, size_t nsrc, const float *out, size_t nout,
                         uint64_t hash);
void glia_cpu_wcache_free(glia_cpu_wcache *c);

/* Workspace which of at least floats elements. It grows (losing its contents)
 * only when a larger one is asked for, so steady-state training allocates nothing. */
glia_status glia_cpu_workspace(glia_bctx *ctx, glia_cpu_ws which, size_t floats, float **out);
/* The cap of the column workspace in floats. */
size_t glia_cpu_workspace_cap(void);
/* Ask OpenBLAS for the context's thread count before a BLAS call. */
void glia_cpu_blas_threads(const glia_bctx *ctx);

/* Items per chunk below which splitting costs more than it saves. */
#define GLIA_CPU_GRAIN ((size_t)32768)

/* ---- ops ----------------------------------------------------------------- */

typedef float *const glia_cpu_ptrs[8];

void glia_cpu_fill(glia_bctx *ctx, const glia_op *op, glia_cpu_ptrs t);
void glia_cpu_copy_nd(glia_bctx *ctx, const glia_op *op, glia_cpu_ptrs t);
void glia_cpu_gather_rows(glia_bctx *ctx, const glia_op *op, glia_cpu_ptrs t);
void glia_cpu_gather_rows_bwd(glia_bctx *ctx, const glia_op *op, glia_cpu_ptrs t);
void glia_cpu_axpbyz(glia_bctx *ctx, const glia_op *op, glia_cpu_ptrs t);
void glia_cpu_binary(glia_bctx *ctx, const glia_op *op, glia_cpu_ptrs t);
void glia_cpu_unary(glia_bctx *ctx, const glia_op *op, glia_cpu_ptrs t);
void glia_cpu_unary_bwd(glia_bctx *ctx, const glia_op *op, glia_cpu_ptrs t);
void glia_cpu_broadcast(glia_bctx *ctx, const glia_op *op, glia_cpu_ptrs t);
void glia_cpu_reduce_op(glia_bctx *ctx, const glia_op *op, glia_cpu_ptrs t);

void glia_cpu_gemm(glia_bctx *ctx, const glia_op *op, glia_cpu_ptrs t);
glia_status glia_cpu_conv_fwd(glia_bctx *ctx, const glia_op *op, glia_cpu_ptrs t);
glia_status glia_cpu_conv_bwd_data(glia_bctx *ctx, const glia_op *op, glia_cpu_ptrs t);
glia_status glia_cpu_conv_bwd_weight(glia_bctx *ctx, const glia_op *op, glia_cpu_ptrs t);

/* A 3x3 stride-1 2-D convolution of n samples, cin x h x w -> cout x oh x ow,
 * zero padding ph, pw (cpu_winograd.c). */
typedef struct glia_cpu_wino {
    int64_t n, cin, cout, h, w, oh, ow, ph, pw;
} glia_cpu_wino;
/* Whether the Winograd path takes s (large enough channel counts to pay off,
 * small enough for a chunk to fit the column workspace). */
int glia_cpu_wino_applies(const glia_cpu_wino *s);
glia_status glia_cpu_wino_fwd(glia_bctx *ctx, const glia_cpu_wino *s, const float *x, const float *w,
                              float *y);
/* dw (cout x cin x 3 x 3) of the convolution s from its input x and output gradient dy. */
glia_status glia_cpu_wino_bwd_weight(glia_bctx *ctx, const glia_cpu_wino *s, const float *x, const float *dy,
                                     float *dw);

/* A stride-1 convolution of n samples, cin x in -> cout x out (D, H, W),
 * kernel k, zero padding pad <= k - 1 (cpu_direct.c). */
typedef struct glia_cpu_direct {
    int64_t n, cin, cout, in[3], out[3], k[3], pad[3];
} glia_cpu_direct;
/* Output channels up to which the direct kernels beat im2col + GEMM (on a
 * Zen 5 EPYC with AVX-512, unet3d's layers: forward and backward-data 2-3x
 * faster at 8-64 channels; the weight gradient 1.2-1.4x at 8-16 channels and
 * 0.8x at 32, where its partial sums outgrow the cache). */
#define GLIA_CPU_DIRECT_MAX_COUT 64
#define GLIA_CPU_DIRECT_WGRAD_MAX_COUT 16
/* Whether the direct kernel takes d on this machine (vector ISA, shape). */
int glia_cpu_direct_applies(const glia_cpu_direct *d);
glia_status glia_cpu_direct_fwd(glia_bctx *ctx, const glia_cpu_direct *d, const float *x, const float *w,
                                float *y);
/* The weight gradient (cout x cin x k) of d by the direct kernel: kernels 3 wide. */
int glia_cpu_direct_wgrad_applies(const glia_cpu_direct *d);
glia_status glia_cpu_direct_bwd_weight(glia_bctx *ctx, const glia_cpu_direct *d, const float *x, const float *dy,
                                       float *dw);
void glia_cpu_bn_fwd_train(glia_bctx *ctx, const glia_op *op, glia_cpu_ptrs t);
void glia_cpu_bn_fwd_infer(glia_bctx *ctx, const glia_op *op, glia_cpu_ptrs t);
void glia_cpu_bn_bwd(glia_bctx *ctx, const glia_op *op, glia_cpu_ptrs t);
void glia_cpu_ln_fwd(glia_bctx *ctx, const glia_op *op, glia_cpu_ptrs t);
glia_status glia_cpu_ln_bwd(glia_bctx *ctx, const glia_op *op, glia_cpu_ptrs t);

void glia_cpu_maxpool_fwd(glia_bctx *ctx, const glia_op *op, glia_cpu_ptrs t);
void glia_cpu_maxpool_bwd(glia_bctx *ctx, const glia_op *op, glia_cpu_ptrs t);
void glia_cpu_upsample_fwd(glia_bctx *ctx, const glia_op *op, glia_cpu_ptrs t);
void glia_cpu_upsample_bwd(glia_bctx *ctx, const glia_op *op, glia_cpu_ptrs t);

void glia_cpu_softmax_fwd(glia_bctx *ctx, const glia_op *op, glia_cpu_ptrs t);
void glia_cpu_softmax_bwd(glia_bctx *ctx, const glia_op *op, glia_cpu_ptrs t);
void glia_cpu_softmax_ce(glia_bctx *ctx, const glia_op *op, glia_cpu_ptrs t);
void glia_cpu_softmax_ce_bwd(glia_bctx *ctx, const glia_op *op, glia_cpu_ptrs t);
void glia_cpu_argmax(glia_bctx *ctx, const glia_op *op, glia_cpu_ptrs t);

void glia_cpu_bce_logits(glia_bctx *ctx, const glia_op *op, glia_cpu_ptrs t);
void glia_cpu_bce_logits_bwd(glia_bctx *ctx, const glia_op *op, glia_cpu_ptrs t);
void glia_cpu_dice_sums(glia_bctx *ctx, const glia_op *op, glia_cpu_ptrs t);
void glia_cpu_dice_sums_bwd(glia_bctx *ctx, const glia_op *op, glia_cpu_ptrs t);

void glia_cpu_sgd(glia_bctx *ctx, const glia_op *op, glia_cpu_ptrs t);
void glia_cpu_adam(glia_bctx *ctx, const glia_op *op, glia_cpu_ptrs t);

#endif
