/* The op table test's cases: every op kind, odd sizes, 2D and 3D, strides,
 * padding, batches, offsets, aliasing, accumulation, and sizes that exceed
 * chunking thresholds (parallel loops, split reductions, the CPU backend's
 * 64 MiB convolution workspace). Derived sizes are computed by the macros. */
#include <stdlib.h>
#include <string.h>
#include "op_cases.h"
#include "testutil.h"

void gt_op_slots(const glia_op *op, unsigned omit, glia_op_slot s[8])
{
    glia_op_slots(op, s);
    for (int i = 0; i < 8; i++)
        if (omit & (1u << i))
            s[i].role = GLIA_SLOT_UNUSED;
}

static size_t vol3(const int64_t v[3]) { return (size_t)(v[0] * v[1] * v[2]); }

/* A gather index in [0, rows) with every row used ceil(n/rows) times at most
 * (the op's max_run): i mod rows, shuffled. */
static void gather_index(const glia_op *op, int32_t *idx)
{
    size_t n = op->p.gather.n, rows = op->p.gather.rows;
    uint64_t st = 0x9E3779B97F4A7C15ull ^ n ^ (rows << 20);
    for (size_t i = 0; i < n; i++)
        idx[i] = (int32_t)(i % rows);
    for (size_t i = n; i > 1; i--) {
        st ^= st << 13, st ^= st >> 7, st ^= st << 17;
        size_t j = (size_t)(st % i);
        int32_t t = idx[i - 1];
        idx[i - 1] = idx[j];
        idx[j] = t;
    }
}

static void pool_index(const glia_op *op, int32_t *idx, uint64_t seed);

void gt_gen_index(const glia_op *op, int slot, int32_t *idx, uint64_t seed)
{
    if (op->kind == GLIA_OP_GATHER_ROWS) {
        gather_index(op, idx);
    } else if (op->kind == GLIA_OP_GATHER_ROWS_BWD) {
        /* the inverse of a gather index: order (slot 1) and start (slot 2), by counting sort */
        size_t n = op->p.gather.n, rows = op->p.gather.rows;
        int32_t *g = malloc(n * sizeof *g), *start = calloc(rows + 1, sizeof *start);
        gather_index(op, g);
        for (size_t i = 0; i < n; i++)
            start[g[i] + 1]++;
        for (size_t r = 0; r < rows; r++)
            start[r + 1] += start[r];
        if (slot == 2) {
            memcpy(idx, start, (rows + 1) * sizeof *idx);
        } else {
            for (size_t i = 0; i < n; i++)
                idx[start[g[i]]++] = (int32_t)i;
        }
        free(g);
        free(start);
    } else {
        pool_index(op, idx, seed);
    }
}

static void pool_index(const glia_op *op, int32_t *idx, uint64_t seed)
{
    const glia_pool_desc *d = &op->p.pool;
    size_t per = vol3(d->out), n = (size_t)d->planes * per;
    float u[3];
    for (size_t i = 0; i < n; i++) {
        size_t o = i % per;
        int64_t ow = (int64_t)(o % (size_t)d->out[2]), oh = (int64_t)(o / (size_t)d->out[2] % (size_t)d->out[1]);
        int64_t od = (int64_t)(o / (size_t)(d->out[2] * d->out[1]));
        gt_fill(u, 3, seed + i, 0.0f, 1.0f);
        int64_t id = od * d->stride[0] + (int64_t)(u[0] * (float)d->k[0]);
        int64_t ih = oh * d->stride[1] + (int64_t)(u[1] * (float)d->k[1]);
        int64_t iw = ow * d->stride[2] + (int64_t)(u[2] * (float)d->k[2]);
        idx[i] = (int32_t)((id * d->in[1] + ih) * d->in[2] + iw);
    }
}

/* ---- the table -------------------------------------------------------------------- */

#define EW GT_TOL_EW
#define RED GT_TOL_RED
#define MM GT_TOL_MM

/* GEMM with the natural leading dimensions and batch strides. */
#define GEMM(TA, TB, M, N, K, BATCH, ALPHA, BETA)                                         \
    .kind = GLIA_OP_GEMM,                                                                 \
    .p.gemm = {TA, TB, M, N, K, (TA) ? (M) : (K), (TB) ? (K) : (N), N, BATCH, (M) * (K),    \
               (K) * (N), (M) * (N), ALPHA, BETA}
/* GEMM with explicit leading dimensions and strides. */
#define GEMMX(TA, TB, M, N, K, LDA, LDB, LDC, BATCH, SA, SB, SC, ALPHA, BETA)              \
    .kind = GLIA_OP_GEMM,                                                                 \
    .p.gemm = {TA, TB, M, N, K, LDA, LDB, LDC, BATCH, SA, SB, SC, ALPHA, BETA}

#define OSZ(I, K, S, P) (((I) + 2 * (P) - (K)) / (S) + 1)
/* A convolution with per-axis kernel, stride and padding (D, H, W). */
#define CONV(KIND, ND, N, CI, CO, D, H, W, KD, KH, KW, SD, SH, SW, PD, PH, PW)              \
    .kind = KIND,                                                                         \
    .p.conv = {ND, N, CI, CO, {D, H, W},                                                  \
               {OSZ(D, KD, SD, PD), OSZ(H, KH, SH, PH), OSZ(W, KW, SW, PW)},              \
               {KD, KH, KW}, {SD, SH, SW}, {PD, PH, PW}}
#define CONV2(KIND, N, CI, CO, H, W, K, S, P) CONV(KIND, 2, N, CI, CO, 1, H, W, 1, K, K, 1, S, S, 0, P, P)
#define CONV3(KIND, N, CI, CO, D, H, W, K, S, P) CONV(KIND, 3, N, CI, CO, D, H, W, K, K, K, S, S, S, P, P, P)

/* Max pooling, no padding: out = (in - k) / s + 1. */
#define POOL(KIND, PL, D, H, W, KD, KH, KW, SD, SH, SW)                                   \
    .kind = KIND,                                                                         \
    .p.pool = {PL, {D, H, W}, {OSZ(D, KD, SD, 0), OSZ(H, KH, SH, 0), OSZ(W, KW, SW, 0)},    \
               {KD, KH, KW}, {SD, SH, SW}}
#define POOL2(KIND, PL, H, W, K, S) POOL(KIND, PL, 1, H, W, 1, K, K, 1, S, S)
/* Nearest upsampling by (SD, SH, SW). */
#define UP(KIND, PL, D, H, W, SD, SH, SW)                                                 \
    .kind = KIND,                                                                         \
    .p.pool = {PL, {D, H, W}, {(D) * (SD), (H) * (SH), (W) * (SW)}, {SD, SH, SW}, {1, 1, 1}}

#define CHAN(KIND, N, C, S, SCALE) .kind = KIND, .p.chan = {N, C, S, SCALE}
#define BN(KIND, N, C, S) .kind = KIND, .p.bn = {N, C, S, 1e-5f, 0.1f}
#define SLOT(i) (1u << (i))
#define LN(KIND, R, C) .kind = KIND, .p.ln = {R, C, 1e-5f}

/* 3D convolution sizes whose column matrix exceeds a 64 MiB workspace:
 * 8 channels * 27 taps * 44^3 voxels = 18.4M floats. 2D: 64*9*176^2 = 17.8M. */
#define BIG3 44
#define BIG2 176
/* A 16 -> 16 channel Winograd chunk (64 MiB of V and M) holds 14563 4x4 tiles of
 * the forward F(4x4, 3x3) (36 * 32 floats each) and 32768 2x2 tiles of the weight
 * gradient's F(3x3, 2x2) (16 * 32): 123 x 123 and 183 x 182 tiles make two chunks
 * each, the second starting mid-row. */
#define WINO_FWD_H 491
#define WINO_FWD_W 489
#define WINO_H 365
#define WINO_W 363

const gt_op_case gt_op_cases[] = {
    /* ---- FILL, COPY_ND ---- */
    {.name = "n91", .tol = EW, .op = {.kind = GLIA_OP_FILL, .p.fill = {91, 2.5f}}, .omit = SLOT(1)},
    {.name = "scaled_off", .tol = EW, .op = {.kind = GLIA_OP_FILL, .p.fill = {777, -1.5f}}, .off = 5},
    {.name = "large", .tol = EW, .op = {.kind = GLIA_OP_FILL, .p.fill = {300001, 0.25f}}, .omit = SLOT(1)},
    /* copy strides: a contiguous X permuted to Y iterates Y's shape with Y's
     * contiguous strides for dst and X's strides of the same axes for src */
    {.name = "1d_gather", .tol = EW, .op = {.kind = GLIA_OP_COPY_ND, .p.copy = {1, {1001}, {3}, {1}, 0}}, .off = 1},
    {.name = "2d_slice", .tol = EW, .op = {.kind = GLIA_OP_COPY_ND, .p.copy = {2, {7, 13}, {20, 1}, {15, 1}, 0}}},
    {.name = "2d_beta_off", .tol = EW, .op = {.kind = GLIA_OP_COPY_ND, .p.copy = {2, {7, 13}, {13, 1}, {29, 1}, 0.5f}}, .off = 3},
    {.name = "2d_concat_large", .tol = EW, .op = {.kind = GLIA_OP_COPY_ND, .p.copy = {2, {64, 4099}, {4099, 1}, {8200, 1}, 0}}},
    {.name = "2d_slice_large_beta", .tol = EW, .op = {.kind = GLIA_OP_COPY_ND, .p.copy = {2, {33, 5000}, {9000, 1}, {5000, 1}, 1.0f}}},
    {.name = "2d_broadcast", .tol = EW, .op = {.kind = GLIA_OP_COPY_ND, .p.copy = {2, {4, 1000}, {0, 1}, {1000, 1}, 0}}},
    /* relative position bias: 2-D windows of 7^2 tokens (13^2 table rows, 3 heads),
     * 3-D windows of 7^3 (13^3 rows, 6 heads): n = tokens^2 lookups */
    {.name = "2d_window", .tol = EW, .op = {.kind = GLIA_OP_GATHER_ROWS, .p.gather = {2401, 3, 169, 15}}, .off = 1},
    {.name = "3d_window", .tol = EW, .op = {.kind = GLIA_OP_GATHER_ROWS, .p.gather = {117649, 6, 2197, 54}}},
    {.name = "2d_window", .tol = RED, .op = {.kind = GLIA_OP_GATHER_ROWS_BWD, .p.gather = {2401, 3, 169, 15}}, .off = 2},
    {.name = "3d_window", .tol = RED, .op = {.kind = GLIA_OP_GATHER_ROWS_BWD, .p.gather = {117649, 6, 2197, 54}}},
    {.name = "one_row", .tol = RED, .op = {.kind = GLIA_OP_GATHER_ROWS_BWD, .p.gather = {5000, 2, 1, 5000}}},
    /* X (5,7,9) -> Y (9,5,7) */
    {.name = "3d_transpose", .tol = EW, .op = {.kind = GLIA_OP_COPY_ND, .p.copy = {3, {9, 5, 7}, {1, 63, 9}, {35, 7, 1}, 0}}},
    /* X (2,3,4,5) -> Y = X.permute(0,2,3,1) (2,4,5,3) */
    {.name = "4d_permute", .tol = EW, .op = {.kind = GLIA_OP_COPY_ND, .p.copy = {4, {2, 4, 5, 3}, {60, 5, 1, 20}, {60, 15, 3, 1}, 0}}},
    /* X (2,3,4,5,6) -> Y = X.permute(4,3,2,1,0) */
    {.name = "5d_reverse", .tol = EW, .op = {.kind = GLIA_OP_COPY_ND, .p.copy = {5, {6, 5, 4, 3, 2}, {1, 6, 30, 120, 360}, {120, 24, 6, 2, 1}, 0}}, .off = 2},
    /* window partition: X (b*D', ws, H', ws, W', ws*C) = (2,3,4,3,2,10) -> permute(0,2,4,1,3,5) */
    {.name = "6d_window", .tol = EW, .op = {.kind = GLIA_OP_COPY_ND, .p.copy = {6, {2, 4, 2, 3, 3, 10}, {720, 60, 10, 240, 20, 1}, {720, 180, 90, 30, 10, 1}, 0}}},
    {.name = "6d_window_beta", .tol = EW, .op = {.kind = GLIA_OP_COPY_ND, .p.copy = {6, {2, 4, 2, 3, 3, 10}, {720, 60, 10, 240, 20, 1}, {720, 180, 90, 30, 10, 1}, -0.5f}}, .off = 7},
    /* the same on (2,4,8,4,8,36): 294,912 elements, past the parallel grain */
    {.name = "6d_window_large", .tol = EW, .op = {.kind = GLIA_OP_COPY_ND, .p.copy = {6, {2, 8, 8, 4, 4, 36}, {36864, 1152, 36, 9216, 288, 1}, {36864, 4608, 576, 144, 36, 1}, 0}}},
    /* ---- AXPBYZ, BINARY ---- */
    {.name = "n1001", .tol = EW, .op = {.kind = GLIA_OP_AXPBYZ, .p.axpbyz = {1001, 0.3f, -1.2f}}},
    {.name = "b0", .tol = EW, .op = {.kind = GLIA_OP_AXPBYZ, .p.axpbyz = {1001, 2.0f, 0.0f}}, .off = 7},
    {.name = "alias_zx", .tol = EW, .op = {.kind = GLIA_OP_AXPBYZ, .p.axpbyz = {513, 1.0f, 0.5f}}, .alias_out = 3, .alias_in = 0},
    {.name = "alias_zy_large", .tol = EW, .op = {.kind = GLIA_OP_AXPBYZ, .p.axpbyz = {300007, -0.7f, 1.0f}}, .alias_out = 3, .alias_in = 1},
    {.name = "mul", .tol = EW, .op = {.kind = GLIA_OP_BINARY, .p.binary = {1003, GLIA_BINARY_MUL}}},
    {.name = "div_off", .tol = EW, .op = {.kind = GLIA_OP_BINARY, .p.binary = {1003, GLIA_BINARY_DIV}}, .off = 1},
    {.name = "mul_alias", .tol = EW, .op = {.kind = GLIA_OP_BINARY, .p.binary = {257, GLIA_BINARY_MUL}}, .alias_out = 3, .alias_in = 0},
    {.name = "div_large", .tol = EW, .op = {.kind = GLIA_OP_BINARY, .p.binary = {300001, GLIA_BINARY_DIV}}},
    /* ---- UNARY, UNARY_BWD ---- */
    {.name = "affine", .tol = EW, .op = {.kind = GLIA_OP_UNARY, .p.unary = {1001, GLIA_UNARY_AFFINE, 0.5f, -0.25f}}},
    {.name = "relu", .tol = EW, .op = {.kind = GLIA_OP_UNARY, .p.unary = {1001, GLIA_UNARY_RELU, 0, 0}}, .off = 2},
    {.name = "relu_alias", .tol = EW, .op = {.kind = GLIA_OP_UNARY, .p.unary = {999, GLIA_UNARY_RELU, 0, 0}}, .alias_out = 2, .alias_in = 0},
    {.name = "sigmoid", .tol = EW, .op = {.kind = GLIA_OP_UNARY, .p.unary = {1001, GLIA_UNARY_SIGMOID, 0, 0}}},
    {.name = "threshold", .tol = EW, .op = {.kind = GLIA_OP_UNARY, .p.unary = {1001, GLIA_UNARY_THRESHOLD, 0.3f, 0}}},
    {.name = "threshold_ties", .tol = EW, .op = {.kind = GLIA_OP_UNARY, .p.unary = {1001, GLIA_UNARY_THRESHOLD, 0.5f, 0}}, .coarse = 1},
    {.name = "relu_zeros", .tol = EW, .op = {.kind = GLIA_OP_UNARY, .p.unary = {1001, GLIA_UNARY_RELU, 0, 0}}, .coarse = 1},
    {.name = "sigmoid_large", .tol = EW, .op = {.kind = GLIA_OP_UNARY, .p.unary = {300001, GLIA_UNARY_SIGMOID, 0, 0}}},
    {.name = "affine_large_alias", .tol = EW, .op = {.kind = GLIA_OP_UNARY, .p.unary = {300001, GLIA_UNARY_AFFINE, -2.0f, 1.0f}}, .alias_out = 2, .alias_in = 0},
    {.name = "relu", .tol = EW, .op = {.kind = GLIA_OP_UNARY_BWD, .p.unary = {1001, GLIA_UNARY_RELU, 0, 0}}},
    {.name = "sigmoid_off", .tol = EW, .op = {.kind = GLIA_OP_UNARY_BWD, .p.unary = {1001, GLIA_UNARY_SIGMOID, 0, 0}}, .off = 9},
    {.name = "relu_large", .tol = EW, .op = {.kind = GLIA_OP_UNARY_BWD, .p.unary = {300001, GLIA_UNARY_RELU, 0, 0}}},
    {.name = "relu_zeros", .tol = EW, .op = {.kind = GLIA_OP_UNARY_BWD, .p.unary = {1001, GLIA_UNARY_RELU, 0, 0}}, .coarse = 1},
    {.name = "gelu", .tol = EW, .op = {.kind = GLIA_OP_UNARY, .p.unary = {300001, GLIA_UNARY_GELU, 0, 0}}, .off = 3},
    {.name = "gelu", .tol = EW, .op = {.kind = GLIA_OP_UNARY_BWD, .p.unary = {300001, GLIA_UNARY_GELU, 0, 0}}, .off = 5},
    /* MONAI's slope 0.01 and a larger one; coarse data hits y == 0 exactly */
    {.name = "leaky_relu", .tol = EW, .op = {.kind = GLIA_OP_UNARY, .p.unary = {1001, GLIA_UNARY_LEAKY_RELU, 0.01f, 0}}, .off = 1},
    {.name = "leaky_relu_large_alias", .tol = EW, .op = {.kind = GLIA_OP_UNARY, .p.unary = {300001, GLIA_UNARY_LEAKY_RELU, 0.2f, 0}}, .alias_out = 2, .alias_in = 0},
    {.name = "leaky_relu_zeros", .tol = EW, .op = {.kind = GLIA_OP_UNARY, .p.unary = {1001, GLIA_UNARY_LEAKY_RELU, 0.2f, 0}}, .coarse = 1},
    {.name = "leaky_relu", .tol = EW, .op = {.kind = GLIA_OP_UNARY_BWD, .p.unary = {1001, GLIA_UNARY_LEAKY_RELU, 0.01f, 0}}, .off = 3},
    {.name = "leaky_relu_large", .tol = EW, .op = {.kind = GLIA_OP_UNARY_BWD, .p.unary = {300001, GLIA_UNARY_LEAKY_RELU, 0.2f, 0}}},
    {.name = "leaky_relu_zeros", .tol = EW, .op = {.kind = GLIA_OP_UNARY_BWD, .p.unary = {1001, GLIA_UNARY_LEAKY_RELU, 0.2f, 0}}, .coarse = 1},
    /* ---- BROADCAST, REDUCE over [A, B, C] ---- */
    {.name = "3x7x13", .tol = EW, .op = {.kind = GLIA_OP_BROADCAST, .p.bcast = {3, 7, 13, 1.0f, 0.0f}}},
    {.name = "beta_off", .tol = EW, .op = {.kind = GLIA_OP_BROADCAST, .p.bcast = {2, 5, 11, 0.5f, 1.0f}}, .off = 4},
    {.name = "rows_c1", .tol = EW, .op = {.kind = GLIA_OP_BROADCAST, .p.bcast = {1000, 17, 1, 1.0f, 1.0f}}},
    {.name = "conv_bias_large", .tol = EW, .op = {.kind = GLIA_OP_BROADCAST, .p.bcast = {4, 32, 4099, 1.0f, 1.0f}}},
    {.name = "3x7x13", .tol = RED, .op = {.kind = GLIA_OP_REDUCE, .p.bcast = {3, 7, 13, 1.0f, 0.0f}}},
    {.name = "beta_off", .tol = RED, .op = {.kind = GLIA_OP_REDUCE, .p.bcast = {5, 3, 9, -0.5f, 0.75f}}, .off = 6},
    {.name = "bias_grad_large", .tol = RED, .op = {.kind = GLIA_OP_REDUCE, .p.bcast = {4, 32, 4099, 1.0f, 0.0f}}},
    {.name = "sum_all_large", .tol = RED, .op = {.kind = GLIA_OP_REDUCE, .p.bcast = {1, 1, 1000003, 1.0f, 0.0f}}},
    {.name = "few_rows_large", .tol = RED, .op = {.kind = GLIA_OP_REDUCE, .p.bcast = {3, 2, 70001, 1.0f, 1.0f}}},
    {.name = "cols", .tol = RED, .op = {.kind = GLIA_OP_REDUCE, .p.bcast = {1000, 17, 1, 1.0f, 0.0f}}},
    /* many short channels (a broadcast bias's gradient): Vulkan's one-invocation-per-channel pass on every
     * device (70000 channels fill the largest), and with beta, an offset and c > 1 where a device is small */
    {.name = "many_short_channels", .tol = RED, .op = {.kind = GLIA_OP_REDUCE, .p.bcast = {8, 70001, 1, 1.0f, 0.0f}}},
    {.name = "short_channels_off", .tol = RED, .op = {.kind = GLIA_OP_REDUCE, .p.bcast = {5, 300, 3, 0.5f, -2.0f}},
     .off = 3},
    /* ---- GEMM ---- */
    {.name = "nn_7x13x5", .tol = MM, .op = {GEMM(0, 0, 7, 13, 5, 1, 1.0f, 0.0f)}},
    {.name = "nt_7x13x5", .tol = MM, .op = {GEMM(0, 1, 7, 13, 5, 1, 1.0f, 0.0f)}},
    {.name = "tn_7x13x5", .tol = MM, .op = {GEMM(1, 0, 7, 13, 5, 1, 1.0f, 0.0f)}},
    {.name = "tt_7x13x5_off", .tol = MM, .op = {GEMM(1, 1, 7, 13, 5, 1, 1.0f, 0.0f)}, .off = 3},
    {.name = "nn_beta_alpha", .tol = MM, .op = {GEMM(0, 0, 9, 11, 17, 1, 0.5f, 0.7f)}},
    {.name = "tt_beta1", .tol = MM, .op = {GEMM(1, 1, 12, 5, 31, 1, -1.0f, 1.0f)}},
    {.name = "nn_ld_padded", .tol = MM, .op = {GEMMX(0, 0, 6, 7, 8, 11, 9, 10, 1, 0, 0, 0, 1.0f, 0.0f)}},
    {.name = "tn_ld_padded_beta", .tol = MM, .op = {GEMMX(1, 0, 6, 7, 8, 9, 12, 13, 1, 0, 0, 0, 1.0f, 0.5f)}},
    {.name = "batch3_nn", .tol = MM, .op = {GEMM(0, 0, 5, 6, 7, 3, 1.0f, 0.0f)}},
    {.name = "batch3_nt_padded", .tol = MM, .op = {GEMMX(0, 1, 5, 6, 7, 8, 9, 10, 3, 45, 60, 55, 1.0f, 0.0f)}},
    {.name = "batch4_tn_beta", .tol = MM, .op = {GEMMX(1, 0, 4, 9, 6, 5, 10, 11, 4, 33, 62, 50, 2.0f, 0.5f)}},
    {.name = "batch2_tt", .tol = MM, .op = {GEMM(1, 1, 3, 4, 5, 2, 1.0f, 0.0f)}},
    {.name = "batch3_shared_a", .tol = MM, .op = {GEMMX(0, 0, 4, 5, 6, 6, 5, 5, 3, 0, 30, 20, 1.0f, 0.0f)}},
    {.name = "k1", .tol = MM, .op = {GEMM(0, 0, 13, 7, 1, 1, 1.0f, 0.0f)}},
    {.name = "large_nt", .tol = MM, .op = {GEMM(0, 1, 256, 300, 200, 1, 1.0f, 0.0f)}},
    {.name = "large_tn_batch", .tol = MM, .op = {GEMM(1, 0, 96, 130, 257, 2, 1.0f, 1.0f)}},
    /* ---- convolutions ---- */
    {.name = "2d_3x3_p1", .tol = MM, .op = {CONV2(GLIA_OP_CONV_FWD, 2, 3, 5, 7, 13, 3, 1, 1)}},
    {.name = "2d_3x3_s2_p1_off", .tol = MM, .op = {CONV2(GLIA_OP_CONV_FWD, 2, 4, 3, 9, 12, 3, 2, 1)}, .off = 5},
    {.name = "2d_5x5_p2", .tol = MM, .op = {CONV2(GLIA_OP_CONV_FWD, 1, 3, 4, 11, 10, 5, 1, 2)}},
    {.name = "2d_3x3_p0", .tol = MM, .op = {CONV2(GLIA_OP_CONV_FWD, 3, 2, 2, 8, 9, 3, 1, 0)}},
    {.name = "2d_1x1", .tol = MM, .op = {CONV2(GLIA_OP_CONV_FWD, 2, 6, 5, 7, 13, 1, 1, 0)}},
    {.name = "2d_1x1_s2", .tol = MM, .op = {CONV2(GLIA_OP_CONV_FWD, 2, 3, 4, 7, 13, 1, 2, 0)}},
    {.name = "2d_2x2_s2", .tol = MM, .op = {CONV2(GLIA_OP_CONV_FWD, 2, 3, 4, 8, 12, 2, 2, 0)}},
    {.name = "2d_pad_gt_kernel", .tol = MM, .op = {CONV2(GLIA_OP_CONV_FWD, 1, 2, 3, 4, 5, 3, 2, 2)}},
    {.name = "3d_3x3x3_p1", .tol = MM, .op = {CONV3(GLIA_OP_CONV_FWD, 2, 2, 3, 5, 6, 7, 3, 1, 1)}},
    {.name = "3d_s2_p1", .tol = MM, .op = {CONV3(GLIA_OP_CONV_FWD, 1, 3, 2, 7, 8, 9, 3, 2, 1)}},
    {.name = "3d_aniso", .tol = MM, .op = {CONV(GLIA_OP_CONV_FWD, 3, 2, 2, 3, 5, 9, 8, 1, 3, 3, 1, 2, 2, 0, 1, 1)}},
    {.name = "3d_1x1x1", .tol = MM, .op = {CONV3(GLIA_OP_CONV_FWD, 2, 5, 3, 4, 5, 6, 1, 1, 0)}},
    {.name = "2d_unet_64ch", .tol = MM, .op = {CONV2(GLIA_OP_CONV_FWD, 2, 32, 64, 32, 32, 3, 1, 1)}, .big = 1},
    {.name = "2d_2x2_s2_tiles", .tol = MM, .op = {CONV2(GLIA_OP_CONV_FWD, 2, 8, 5, 193, 192, 2, 2, 0)}},
    {.name = "2d_chunked", .tol = MM, .op = {CONV2(GLIA_OP_CONV_FWD, 1, 64, 2, BIG2, BIG2, 3, 1, 1)}, .big = 1},
    {.name = "3d_chunked", .tol = MM, .op = {CONV3(GLIA_OP_CONV_FWD, 1, 8, 2, BIG3, BIG3, BIG3, 3, 1, 1)}, .big = 1},
    /* 3x3 stride 1 with >= 16 channels: the CPU's Winograd path, with odd
     * outputs (partial tiles), every padding, runs split across a wide row
     * and chunks of tiles that start mid-row */
    {.name = "2d_wino_odd", .tol = MM, .op = {CONV2(GLIA_OP_CONV_FWD, 2, 16, 17, 9, 13, 3, 1, 1)}},
    {.name = "2d_wino_p0_off", .tol = MM, .op = {CONV2(GLIA_OP_CONV_FWD, 1, 20, 16, 8, 11, 3, 1, 0)}, .off = 3},
    {.name = "2d_wino_p2", .tol = MM, .op = {CONV2(GLIA_OP_CONV_FWD, 1, 16, 16, 5, 6, 3, 1, 2)}},
    {.name = "2d_wino_wide", .tol = MM, .op = {CONV2(GLIA_OP_CONV_FWD, 1, 16, 16, 4, 1018, 3, 1, 1)}},
    {.name = "2d_wino43_wide", .tol = MM, .op = {CONV2(GLIA_OP_CONV_FWD, 1, 16, 16, 6, 1031, 3, 1, 1)}},
    {.name = "2d_wino_chunks", .tol = MM, .op = {CONV2(GLIA_OP_CONV_FWD, 1, 16, 16, WINO_FWD_H, WINO_FWD_W, 3, 1, 1)}, .big = 1},
    /* >= 256 4x4 tiles per sample: F(4x4, 3x3), with partial tiles and every padding */
    {.name = "2d_wino43_odd", .tol = MM, .op = {CONV2(GLIA_OP_CONV_FWD, 1, 16, 17, 129, 125, 3, 1, 1)}},
    {.name = "2d_wino43_p0_off", .tol = MM, .op = {CONV2(GLIA_OP_CONV_FWD, 1, 20, 16, 130, 127, 3, 1, 0)}, .off = 3},
    {.name = "2d_wino43_p2", .tol = MM, .op = {CONV2(GLIA_OP_CONV_FWD, 1, 16, 16, 126, 127, 3, 1, 2)}},
    /* stride 1 with few output channels: the CPU's direct kernel, with rows
     * that end mid-vector, channel counts that end mid-block, every padding
     * up to k - 1 and unequal kernel sides */
    {.name = "3d_direct_c8", .tol = MM, .op = {CONV3(GLIA_OP_CONV_FWD, 2, 4, 8, 5, 6, 37, 3, 1, 1)}},
    {.name = "3d_direct_c11_p0_off", .tol = MM, .op = {CONV3(GLIA_OP_CONV_FWD, 1, 3, 11, 4, 5, 40, 3, 1, 0)}, .off = 3},
    {.name = "3d_direct_p2", .tol = MM, .op = {CONV3(GLIA_OP_CONV_FWD, 1, 2, 16, 3, 4, 33, 3, 1, 2)}},
    {.name = "3d_direct_aniso", .tol = MM, .op = {CONV(GLIA_OP_CONV_FWD, 3, 1, 5, 8, 4, 6, 20, 1, 3, 5, 1, 1, 1, 0, 1, 2)}},
    {.name = "2d_direct_k5", .tol = MM, .op = {CONV2(GLIA_OP_CONV_FWD, 2, 3, 6, 9, 70, 5, 1, 2)}},

    {.name = "2d_3x3_p1", .tol = MM, .op = {CONV2(GLIA_OP_CONV_BWD_DATA, 2, 3, 5, 7, 13, 3, 1, 1)}},
    {.name = "2d_3x3_s2_p1_off", .tol = MM, .op = {CONV2(GLIA_OP_CONV_BWD_DATA, 2, 4, 3, 9, 12, 3, 2, 1)}, .off = 5},
    {.name = "2d_5x5_p2", .tol = MM, .op = {CONV2(GLIA_OP_CONV_BWD_DATA, 1, 3, 4, 11, 10, 5, 1, 2)}},
    {.name = "2d_1x1", .tol = MM, .op = {CONV2(GLIA_OP_CONV_BWD_DATA, 2, 6, 5, 7, 13, 1, 1, 0)}},
    {.name = "2d_1x1_s2", .tol = MM, .op = {CONV2(GLIA_OP_CONV_BWD_DATA, 2, 3, 4, 7, 13, 1, 2, 0)}},
    {.name = "2d_2x2_s2", .tol = MM, .op = {CONV2(GLIA_OP_CONV_BWD_DATA, 2, 3, 4, 8, 12, 2, 2, 0)}},
    {.name = "2d_3x3_s2_odd", .tol = MM, .op = {CONV2(GLIA_OP_CONV_BWD_DATA, 1, 2, 3, 7, 9, 3, 2, 0)}},
    {.name = "3d_3x3x3_p1", .tol = MM, .op = {CONV3(GLIA_OP_CONV_BWD_DATA, 2, 2, 3, 5, 6, 7, 3, 1, 1)}},
    {.name = "3d_s2_p1", .tol = MM, .op = {CONV3(GLIA_OP_CONV_BWD_DATA, 1, 3, 2, 7, 8, 9, 3, 2, 1)}},
    {.name = "3d_aniso", .tol = MM, .op = {CONV(GLIA_OP_CONV_BWD_DATA, 3, 2, 2, 3, 5, 9, 8, 1, 3, 3, 1, 2, 2, 0, 1, 1)}},
    {.name = "3d_2x2x2_s2", .tol = MM, .op = {CONV3(GLIA_OP_CONV_BWD_DATA, 2, 3, 2, 6, 4, 8, 2, 2, 0)}},
    {.name = "3d_direct_c8", .tol = MM, .op = {CONV3(GLIA_OP_CONV_BWD_DATA, 2, 8, 16, 4, 5, 37, 3, 1, 1)}},
    {.name = "3d_direct_p0", .tol = MM, .op = {CONV3(GLIA_OP_CONV_BWD_DATA, 1, 5, 4, 4, 5, 30, 3, 1, 0)}},
    {.name = "2d_co64", .tol = MM, .op = {CONV2(GLIA_OP_CONV_BWD_DATA, 2, 4, 64, 32, 32, 3, 1, 1)}},
    {.name = "2d_wino", .tol = MM, .op = {CONV2(GLIA_OP_CONV_BWD_DATA, 2, 17, 16, 9, 10, 3, 1, 1)}},
    {.name = "2d_wino_p0", .tol = MM, .op = {CONV2(GLIA_OP_CONV_BWD_DATA, 1, 16, 16, 8, 9, 3, 1, 0)}},
    {.name = "2d_wino43_batch", .tol = MM, .op = {CONV2(GLIA_OP_CONV_BWD_DATA, 2, 17, 16, 130, 65, 3, 1, 1)}},
    {.name = "2d_s2_chunked", .tol = MM, .op = {CONV2(GLIA_OP_CONV_BWD_DATA, 1, 64, 1, 342, 342, 3, 2, 1)}, .big = 1},
    {.name = "2d_2x2_s2_tiles", .tol = MM, .op = {CONV2(GLIA_OP_CONV_BWD_DATA, 2, 8, 5, 193, 192, 2, 2, 0)}},

    {.name = "2d_3x3_p1", .tol = MM, .op = {CONV2(GLIA_OP_CONV_BWD_WEIGHT, 2, 3, 5, 7, 13, 3, 1, 1)}},
    {.name = "2d_3x3_s2_p1_off", .tol = MM, .op = {CONV2(GLIA_OP_CONV_BWD_WEIGHT, 2, 4, 3, 9, 12, 3, 2, 1)}, .off = 5},
    {.name = "2d_5x5_p2", .tol = MM, .op = {CONV2(GLIA_OP_CONV_BWD_WEIGHT, 1, 3, 4, 11, 10, 5, 1, 2)}},
    {.name = "2d_1x1", .tol = MM, .op = {CONV2(GLIA_OP_CONV_BWD_WEIGHT, 2, 6, 5, 7, 13, 1, 1, 0)}},
    {.name = "2d_2x2_s2", .tol = MM, .op = {CONV2(GLIA_OP_CONV_BWD_WEIGHT, 2, 3, 4, 8, 12, 2, 2, 0)}},
    {.name = "3d_3x3x3_p1", .tol = MM, .op = {CONV3(GLIA_OP_CONV_BWD_WEIGHT, 2, 2, 3, 5, 6, 7, 3, 1, 1)}},
    {.name = "3d_s2_p1", .tol = MM, .op = {CONV3(GLIA_OP_CONV_BWD_WEIGHT, 1, 3, 2, 7, 8, 9, 3, 2, 1)}},
    {.name = "3d_aniso", .tol = MM, .op = {CONV(GLIA_OP_CONV_BWD_WEIGHT, 3, 2, 2, 3, 5, 9, 8, 1, 3, 3, 1, 2, 2, 0, 1, 1)}},
    {.name = "3d_1x1x1", .tol = MM, .op = {CONV3(GLIA_OP_CONV_BWD_WEIGHT, 2, 5, 3, 4, 5, 6, 1, 1, 0)}},
    {.name = "2d_unet_64ch", .tol = MM, .op = {CONV2(GLIA_OP_CONV_BWD_WEIGHT, 2, 32, 64, 32, 32, 3, 1, 1)}, .big = 1},
    {.name = "2d_2x2_s2_tiles", .tol = MM, .op = {CONV2(GLIA_OP_CONV_BWD_WEIGHT, 2, 8, 5, 193, 192, 2, 2, 0)}},
    /* the CPU's direct kernel (kernels 3 wide), as for the forward cases above */
    {.name = "3d_direct_c8", .tol = MM, .op = {CONV3(GLIA_OP_CONV_BWD_WEIGHT, 2, 4, 8, 5, 6, 37, 3, 1, 1)}},
    {.name = "3d_direct_c11_p0_off", .tol = MM, .op = {CONV3(GLIA_OP_CONV_BWD_WEIGHT, 1, 3, 11, 4, 5, 40, 3, 1, 0)}, .off = 3},
    {.name = "3d_direct_p2", .tol = MM, .op = {CONV3(GLIA_OP_CONV_BWD_WEIGHT, 1, 2, 16, 3, 4, 33, 3, 1, 2)}},
    {.name = "3d_direct_aniso", .tol = MM, .op = {CONV(GLIA_OP_CONV_BWD_WEIGHT, 3, 1, 5, 8, 4, 6, 20, 1, 3, 3, 1, 1, 1, 0, 1, 1)}},
    /* the CPU's Winograd path (as for the forward cases above) */
    {.name = "2d_wino_odd", .tol = MM, .op = {CONV2(GLIA_OP_CONV_BWD_WEIGHT, 2, 16, 17, 9, 13, 3, 1, 1)}},
    {.name = "2d_wino_p0_off", .tol = MM, .op = {CONV2(GLIA_OP_CONV_BWD_WEIGHT, 1, 20, 16, 8, 11, 3, 1, 0)}, .off = 3},
    {.name = "2d_wino_p2", .tol = MM, .op = {CONV2(GLIA_OP_CONV_BWD_WEIGHT, 1, 16, 16, 5, 6, 3, 1, 2)}},
    {.name = "2d_wino_wide", .tol = MM, .op = {CONV2(GLIA_OP_CONV_BWD_WEIGHT, 1, 16, 16, 6, 1031, 3, 1, 1)}},
    {.name = "2d_wino_chunks", .tol = MM, .op = {CONV2(GLIA_OP_CONV_BWD_WEIGHT, 1, 16, 16, WINO_H, WINO_W, 3, 1, 1)}, .big = 1},
    {.name = "3d_chunked_batch2", .tol = MM, .op = {CONV3(GLIA_OP_CONV_BWD_WEIGHT, 2, 8, 2, BIG3, BIG3, BIG3, 3, 1, 1)}, .big = 1},
    /* ---- batch norm over [N, C, S] ---- */
    {.name = "2x3x91", .tol = RED, .op = {BN(GLIA_OP_BN_FWD_TRAIN, 2, 3, 91)}},
    {.name = "no_running_off", .tol = RED, .op = {BN(GLIA_OP_BN_FWD_TRAIN, 3, 5, 17)}, .omit = SLOT(6) | SLOT(7), .off = 3},
    {.name = "many_channels_large", .tol = RED, .op = {BN(GLIA_OP_BN_FWD_TRAIN, 4, 16, 4099)}},
    {.name = "one_channel_large", .tol = RED, .op = {BN(GLIA_OP_BN_FWD_TRAIN, 2, 1, 150001)}},
    {.name = "short_channels", .tol = RED, .op = {BN(GLIA_OP_BN_FWD_TRAIN, 2, 300, 9)}},
    {.name = "2x3x91", .tol = RED, .op = {BN(GLIA_OP_BN_FWD_INFER, 2, 3, 91)}},
    {.name = "large_off", .tol = RED, .op = {BN(GLIA_OP_BN_FWD_INFER, 4, 16, 4099)}, .off = 1},
    {.name = "2x3x91", .tol = RED, .op = {BN(GLIA_OP_BN_BWD, 2, 3, 91)}},
    {.name = "off", .tol = RED, .op = {BN(GLIA_OP_BN_BWD, 3, 5, 17)}, .off = 2},
    {.name = "many_channels_large", .tol = RED, .op = {BN(GLIA_OP_BN_BWD, 4, 16, 4099)}},
    {.name = "one_channel_large", .tol = RED, .op = {BN(GLIA_OP_BN_BWD, 2, 1, 150001)}},
    {.name = "short_channels", .tol = RED, .op = {BN(GLIA_OP_BN_BWD, 2, 300, 9)}},
    /* LayerNorm over rows of C: affine or not (gamma and beta optional apart),
     * C = 1 (variance 0: y is beta), Swin's 96 channels over many tokens (the
     * parameter gradients sum 70k rows), InstanceNorm's long rows */
    {.name = "7x33", .tol = RED, .op = {LN(GLIA_OP_LN_FWD, 7, 33)}},
    {.name = "no_affine_off", .tol = RED, .op = {LN(GLIA_OP_LN_FWD, 5, 17)}, .omit = SLOT(1) | SLOT(2), .off = 3},
    {.name = "gamma_only", .tol = RED, .op = {LN(GLIA_OP_LN_FWD, 6, 257)}, .omit = SLOT(2), .off = 1},
    {.name = "c1", .tol = RED, .op = {LN(GLIA_OP_LN_FWD, 9, 1)}},
    {.name = "c1_no_affine", .tol = RED, .op = {LN(GLIA_OP_LN_FWD, 9, 1)}, .omit = SLOT(1) | SLOT(2)},
    {.name = "swin_large", .tol = RED, .op = {LN(GLIA_OP_LN_FWD, 4099, 96)}, .off = 2},
    {.name = "long_rows_large", .tol = RED, .op = {LN(GLIA_OP_LN_FWD, 3, 100003)}, .omit = SLOT(1) | SLOT(2)},
    {.name = "7x33", .tol = RED, .op = {LN(GLIA_OP_LN_BWD, 7, 33)}},
    {.name = "no_affine_off", .tol = RED, .op = {LN(GLIA_OP_LN_BWD, 5, 17)}, .omit = SLOT(1) | SLOT(6) | SLOT(7), .off = 3},
    {.name = "dx_only", .tol = RED, .op = {LN(GLIA_OP_LN_BWD, 6, 257)}, .omit = SLOT(6) | SLOT(7), .off = 1},
    {.name = "dgamma_only", .tol = RED, .op = {LN(GLIA_OP_LN_BWD, 11, 40)}, .omit = SLOT(7)},
    {.name = "c1", .tol = RED, .op = {LN(GLIA_OP_LN_BWD, 9, 1)}},
    {.name = "swin_large", .tol = RED, .op = {LN(GLIA_OP_LN_BWD, 4099, 96)}, .off = 2},
    {.name = "many_rows_large", .tol = RED, .op = {LN(GLIA_OP_LN_BWD, 70001, 5)}},
    {.name = "wide_rows_off", .tol = RED, .op = {LN(GLIA_OP_LN_BWD, 37, 2500)}, .off = 5},
    {.name = "long_rows_large", .tol = RED, .op = {LN(GLIA_OP_LN_BWD, 3, 100003)}, .omit = SLOT(1) | SLOT(6) | SLOT(7)},
    /* ---- pooling and upsampling ---- */
    {.name = "2d_k2s2_odd", .tol = EW, .op = {POOL2(GLIA_OP_MAXPOOL_FWD, 6, 13, 17, 2, 2)}},
    {.name = "2d_k3s2", .tol = EW, .op = {POOL2(GLIA_OP_MAXPOOL_FWD, 4, 13, 16, 3, 2)}, .off = 3},
    {.name = "3d_k2s2", .tol = EW, .op = {POOL(GLIA_OP_MAXPOOL_FWD, 3, 9, 10, 11, 2, 2, 2, 2, 2, 2)}},
    {.name = "3d_k122", .tol = EW, .op = {POOL(GLIA_OP_MAXPOOL_FWD, 2, 5, 8, 6, 1, 2, 2, 1, 2, 2)}},
    {.name = "3d_k3s2", .tol = EW, .op = {POOL(GLIA_OP_MAXPOOL_FWD, 2, 7, 9, 8, 3, 3, 3, 2, 2, 2)}},
    {.name = "2d_k2s2_large", .tol = EW, .op = {POOL2(GLIA_OP_MAXPOOL_FWD, 32, 128, 130, 2, 2)}},
    {.name = "2d_k2s2_ties", .tol = EW, .op = {POOL2(GLIA_OP_MAXPOOL_FWD, 6, 13, 17, 2, 2)}, .coarse = 1},
    {.name = "2d_k3s2_ties", .tol = EW, .op = {POOL2(GLIA_OP_MAXPOOL_FWD, 4, 13, 16, 3, 2)}, .coarse = 1},
    {.name = "3d_k2s2_ties", .tol = EW, .op = {POOL(GLIA_OP_MAXPOOL_FWD, 3, 9, 10, 11, 2, 2, 2, 2, 2, 2)}, .coarse = 1},
    {.name = "2d_k2s2_odd", .tol = EW, .op = {POOL2(GLIA_OP_MAXPOOL_BWD, 6, 13, 17, 2, 2)}},
    {.name = "2d_k3s2", .tol = EW, .op = {POOL2(GLIA_OP_MAXPOOL_BWD, 4, 13, 16, 3, 2)}, .off = 3},
    {.name = "3d_k2s2", .tol = EW, .op = {POOL(GLIA_OP_MAXPOOL_BWD, 3, 9, 10, 11, 2, 2, 2, 2, 2, 2)}},
    {.name = "3d_k3s2", .tol = EW, .op = {POOL(GLIA_OP_MAXPOOL_BWD, 2, 7, 9, 8, 3, 3, 3, 2, 2, 2)}},
    {.name = "2d_k2s2_large", .tol = EW, .op = {POOL2(GLIA_OP_MAXPOOL_BWD, 32, 128, 130, 2, 2)}},
    {.name = "2d_2x", .tol = EW, .op = {UP(GLIA_OP_UPSAMPLE_FWD, 5, 1, 7, 13, 1, 2, 2)}},
    {.name = "2d_3x_off", .tol = EW, .op = {UP(GLIA_OP_UPSAMPLE_FWD, 2, 1, 5, 4, 1, 3, 3)}, .off = 4},
    {.name = "3d_2x", .tol = EW, .op = {UP(GLIA_OP_UPSAMPLE_FWD, 3, 5, 6, 7, 2, 2, 2)}},
    {.name = "3d_122", .tol = EW, .op = {UP(GLIA_OP_UPSAMPLE_FWD, 2, 4, 5, 3, 1, 2, 2)}},
    {.name = "2d_2x_large", .tol = EW, .op = {UP(GLIA_OP_UPSAMPLE_FWD, 32, 1, 64, 65, 1, 2, 2)}},
    {.name = "2d_2x", .tol = EW, .op = {UP(GLIA_OP_UPSAMPLE_BWD, 5, 1, 7, 13, 1, 2, 2)}},
    {.name = "2d_3x_off", .tol = EW, .op = {UP(GLIA_OP_UPSAMPLE_BWD, 2, 1, 5, 4, 1, 3, 3)}, .off = 4},
    {.name = "3d_2x", .tol = EW, .op = {UP(GLIA_OP_UPSAMPLE_BWD, 3, 5, 6, 7, 2, 2, 2)}},
    {.name = "3d_122", .tol = EW, .op = {UP(GLIA_OP_UPSAMPLE_BWD, 2, 4, 5, 3, 1, 2, 2)}},
    {.name = "2d_2x_large", .tol = EW, .op = {UP(GLIA_OP_UPSAMPLE_BWD, 32, 1, 64, 65, 1, 2, 2)}},
    /* ---- softmax, argmax over channels ---- */
    {.name = "c1", .tol = EW, .op = {CHAN(GLIA_OP_SOFTMAX_FWD, 2, 1, 37, 1.0f)}},
    {.name = "c2", .tol = EW, .op = {CHAN(GLIA_OP_SOFTMAX_FWD, 2, 2, 37, 1.0f)}},
    {.name = "c3_off", .tol = EW, .op = {CHAN(GLIA_OP_SOFTMAX_FWD, 2, 3, 300, 1.0f)}, .off = 1},
    {.name = "c4", .tol = EW, .op = {CHAN(GLIA_OP_SOFTMAX_FWD, 3, 4, 37, 1.0f)}},
    {.name = "c5_large", .tol = EW, .op = {CHAN(GLIA_OP_SOFTMAX_FWD, 2, 5, 65537, 1.0f)}},
    /* the last axis (S = 1): 3-D window attention rows of 7^3 keys */
    {.name = "last_axis_343", .tol = EW, .op = {CHAN(GLIA_OP_SOFTMAX_FWD, 1001, 343, 1, 1.0f)}, .off = 2},
    {.name = "c1", .tol = EW, .op = {CHAN(GLIA_OP_SOFTMAX_BWD, 2, 1, 37, 1.0f)}},
    {.name = "c2", .tol = EW, .op = {CHAN(GLIA_OP_SOFTMAX_BWD, 2, 2, 37, 1.0f)}},
    {.name = "c3_off", .tol = EW, .op = {CHAN(GLIA_OP_SOFTMAX_BWD, 2, 3, 300, 1.0f)}, .off = 1},
    {.name = "c5_large", .tol = EW, .op = {CHAN(GLIA_OP_SOFTMAX_BWD, 2, 5, 65537, 1.0f)}},
    {.name = "last_axis_343", .tol = EW, .op = {CHAN(GLIA_OP_SOFTMAX_BWD, 1001, 343, 1, 1.0f)}, .off = 2},
    {.name = "c1", .tol = EW, .op = {CHAN(GLIA_OP_ARGMAX, 2, 1, 37, 1.0f)}},
    {.name = "c2", .tol = EW, .op = {CHAN(GLIA_OP_ARGMAX, 2, 2, 37, 1.0f)}},
    {.name = "c3_off", .tol = EW, .op = {CHAN(GLIA_OP_ARGMAX, 2, 3, 300, 1.0f)}, .off = 1},
    {.name = "c4", .tol = EW, .op = {CHAN(GLIA_OP_ARGMAX, 3, 4, 37, 1.0f)}},
    {.name = "c5_large", .tol = EW, .op = {CHAN(GLIA_OP_ARGMAX, 2, 5, 65537, 1.0f)}},
    {.name = "c4_ties", .tol = EW, .op = {CHAN(GLIA_OP_ARGMAX, 2, 4, 300, 1.0f)}, .coarse = 1},
    /* ---- losses ---- */
    {.name = "n1001", .tol = EW, .op = {.kind = GLIA_OP_BCE_LOGITS, .p.loss = {1001, 1.0f}}},
    {.name = "large_off", .tol = EW, .op = {.kind = GLIA_OP_BCE_LOGITS, .p.loss = {300001, 1.0f}}, .off = 2},
    {.name = "n1001", .tol = EW, .op = {.kind = GLIA_OP_BCE_LOGITS_BWD, .p.loss = {1001, 1.0f}}},
    {.name = "mean_scale_large", .tol = EW, .op = {.kind = GLIA_OP_BCE_LOGITS_BWD, .p.loss = {300001, 1.0f / 300001}}, .off = 2},
    {.name = "c1", .tol = EW, .op = {CHAN(GLIA_OP_SOFTMAX_CE, 2, 1, 37, 1.0f)}},
    {.name = "c2", .tol = EW, .op = {CHAN(GLIA_OP_SOFTMAX_CE, 2, 2, 37, 1.0f)}},
    {.name = "c3_off", .tol = EW, .op = {CHAN(GLIA_OP_SOFTMAX_CE, 2, 3, 300, 1.0f)}, .off = 1},
    {.name = "c4", .tol = EW, .op = {CHAN(GLIA_OP_SOFTMAX_CE, 3, 4, 37, 1.0f)}},
    {.name = "c5_large", .tol = EW, .op = {CHAN(GLIA_OP_SOFTMAX_CE, 2, 5, 65537, 1.0f)}},
    {.name = "c1", .tol = EW, .op = {CHAN(GLIA_OP_SOFTMAX_CE_BWD, 2, 1, 37, 1.0f)}},
    {.name = "c2", .tol = EW, .op = {CHAN(GLIA_OP_SOFTMAX_CE_BWD, 2, 2, 37, 0.5f)}},
    {.name = "c3_off", .tol = EW, .op = {CHAN(GLIA_OP_SOFTMAX_CE_BWD, 2, 3, 300, 1.0f)}, .off = 1},
    {.name = "c4", .tol = EW, .op = {CHAN(GLIA_OP_SOFTMAX_CE_BWD, 3, 4, 37, 0.25f)}},
    {.name = "c5_large", .tol = EW, .op = {CHAN(GLIA_OP_SOFTMAX_CE_BWD, 2, 5, 65537, 1.0f / 131074)}},
    {.name = "2x3x77", .tol = RED, .op = {.kind = GLIA_OP_DICE_SUMS, .p.dice = {2, 3, 77}}},
    {.name = "off", .tol = RED, .op = {.kind = GLIA_OP_DICE_SUMS, .p.dice = {3, 1, 50}}, .off = 3},
    {.name = "one_class_large", .tol = RED, .op = {.kind = GLIA_OP_DICE_SUMS, .p.dice = {2, 1, 200003}}},
    {.name = "classes_large", .tol = RED, .op = {.kind = GLIA_OP_DICE_SUMS, .p.dice = {4, 5, 16411}}},
    {.name = "short_classes", .tol = RED, .op = {.kind = GLIA_OP_DICE_SUMS, .p.dice = {3, 300, 5}}},
    {.name = "2x3x77", .tol = EW, .op = {.kind = GLIA_OP_DICE_SUMS_BWD, .p.dice = {2, 3, 77}}},
    {.name = "large_off", .tol = EW, .op = {.kind = GLIA_OP_DICE_SUMS_BWD, .p.dice = {4, 5, 16411}}, .off = 3},
    /* ---- optimizers (param and state compared) ---- */
    {.name = "plain", .tol = EW, .op = {.kind = GLIA_OP_SGD, .p.sgd = {1001, 0.1f, 0.0f, 0.0f, 0.0f, 0, 0}}},
    {.name = "wd", .tol = EW, .op = {.kind = GLIA_OP_SGD, .p.sgd = {1001, 0.05f, 0.0f, 0.0f, 1e-2f, 0, 0}}, .off = 1},
    {.name = "momentum_first", .tol = EW, .op = {.kind = GLIA_OP_SGD, .p.sgd = {1001, 0.1f, 0.9f, 0.0f, 0.0f, 0, 1}}},
    {.name = "momentum", .tol = EW, .op = {.kind = GLIA_OP_SGD, .p.sgd = {1001, 0.1f, 0.9f, 0.0f, 1e-3f, 0, 0}}},
    {.name = "dampening", .tol = EW, .op = {.kind = GLIA_OP_SGD, .p.sgd = {1001, 0.1f, 0.9f, 0.3f, 0.0f, 0, 0}}},
    {.name = "nesterov_large", .tol = EW, .op = {.kind = GLIA_OP_SGD, .p.sgd = {300001, 0.01f, 0.9f, 0.0f, 5e-4f, 1, 0}}, .off = 2},
    {.name = "adam", .tol = EW, .op = {.kind = GLIA_OP_ADAM, .p.adam = {1001, 1e-3f, 0.9f, 0.999f, 1e-8f, 0.0f, 0.1f, 0.001f, 0}}},
    {.name = "adam_wd_step5", .tol = EW, .op = {.kind = GLIA_OP_ADAM, .p.adam = {1001, 1e-2f, 0.9f, 0.999f, 1e-8f, 1e-2f, 0.40951f, 0.0049900f, 0}}, .off = 3},
    {.name = "adamw", .tol = EW, .op = {.kind = GLIA_OP_ADAM, .p.adam = {1001, 1e-2f, 0.9f, 0.99f, 1e-6f, 0.05f, 0.19f, 0.0199f, 1}}},
    {.name = "adamw_large", .tol = EW, .op = {.kind = GLIA_OP_ADAM, .p.adam = {300001, 1e-3f, 0.8f, 0.999f, 1e-8f, 1e-2f, 0.2f, 0.001f, 1}}},
};

const size_t gt_op_case_count = sizeof gt_op_cases / sizeof gt_op_cases[0];
