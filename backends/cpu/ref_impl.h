/* glia — the scalar reference path, written once for both precisions.
 *
 * A template: ref_f32.c and ref_f64.c define REAL (the element type) and
 * REF_RUN (the entry point's name), then include this file, so it has no
 * include guard on purpose. Every helper is static, so each translation unit
 * gets its own copy. Clarity wins over speed: this is the oracle the fast paths
 * are judged by. Sums accumulate in double in both precisions so the float
 * oracle is never less accurate than the backend it judges; each result is
 * rounded to REAL once, when stored.
 *
 * Every op has the signature of op_fn; the switch at the end of
 * ref_impl_nn.h dispatches on the kind. Operand slots follow backend.h. */
#if !defined(REAL) || !defined(REF_RUN)
#error "define REAL and REF_RUN before including ref_impl.h"
#endif

#include <math.h>
#include <stdint.h>
#include "backends/cpu/ref.h"

typedef glia_status (*op_fn)(const glia_op *op, REAL *const t[8]);

/* beta * old, except that beta == 0 ignores old entirely (BLAS convention),
 * so an uninitialised output holding NaN does not poison the result. */
static double scaled_old(double beta, REAL old)
{
    return beta == 0 ? 0.0 : beta * (double)old;
}

/* Overflow-free logistic function. */
static double sigmoid(double x)
{
    if (x >= 0)
        return 1.0 / (1.0 + exp(-x));
    double e = exp(x);
    return e / (1.0 + e);
}

/* ---- 3D index helpers (D, H, W; 2D is D = 1) ------------------------------ */

static int64_t vol(const int64_t d[3]) { return d[0] * d[1] * d[2]; }

static int64_t flat3(const int64_t p[3], const int64_t d[3])
{
    return (p[0] * d[1] + p[1]) * d[2] + p[2];
}

static void unflat3(int64_t i, const int64_t d[3], int64_t p[3])
{
    p[2] = i % d[2];
    p[1] = i / d[2] % d[1];
    p[0] = i / (d[1] * d[2]);
}

static void widen3(const int k[3], int64_t out[3])
{
    for (int a = 0; a < 3; a++)
        out[a] = k[a];
}

/* ---- data movement and elementwise ----------------------------------------- */

static glia_status op_fill(const glia_op *op, REAL *const t[8])
{
    double v = (double)op->p.fill.value * (t[1] ? (double)t[1][0] : 1.0);
    for (size_t i = 0; i < op->p.fill.n; i++)
        t[0][i] = (REAL)v;
    return GLIA_STATUS_OK;
}

static glia_status op_copy_nd(const glia_op *op, REAL *const t[8])
{
    const glia_copy_desc *d = &op->p.copy;
    int64_t n = 1;
    for (int k = 0; k < d->ndim; k++)
        n *= d->shape[k];
    for (int64_t i = 0; i < n; i++) {
        int64_t rest = i, so = 0, dof = 0;
        for (int k = d->ndim - 1; k >= 0; k--) {
            int64_t ik = rest % d->shape[k];
            rest /= d->shape[k];
            so += ik * d->src_stride[k];
            dof += ik * d->dst_stride[k];
        }
        REAL *dst = &t[1][dof];
        *dst = (REAL)((double)t[0][so] + scaled_old(d->beta, *dst));
    }
    return GLIA_STATUS_OK;
}

/* int32 operands arrive in the REAL pointer slots (the op table types them) */
static glia_status op_gather_rows(const glia_op *op, REAL *const t[8])
{
    const int32_t *idx = (const int32_t *)(const void *)t[1];
    size_t w = op->p.gather.w;
    for (size_t i = 0; i < op->p.gather.n; i++)
        for (size_t c = 0; c < w; c++)
            t[2][i * w + c] = t[0][(size_t)idx[i] * w + c];
    return GLIA_STATUS_OK;
}

static glia_status op_gather_rows_bwd(const glia_op *op, REAL *const t[8])
{
    const int32_t *order = (const int32_t *)(const void *)t[1], *start = (const int32_t *)(const void *)t[2];
    size_t w = op->p.gather.w;
    for (size_t r = 0; r < op->p.gather.rows; r++)
        for (size_t c = 0; c < w; c++) {
            double sum = 0;
            for (int32_t j = start[r]; j < start[r + 1]; j++)
                sum += (double)t[0][(size_t)order[j] * w + c];
            t[3][r * w + c] = (REAL)sum;
        }
    return GLIA_STATUS_OK;
}

static glia_status op_axpbyz(const glia_op *op, REAL *const t[8])
{
    double a = op->p.axpbyz.a, b = op->p.axpbyz.b;
    for (size_t i = 0; i < op->p.axpbyz.n; i++) {
        double y = b != 0 ? b * (double)t[1][i] : 0.0;   /* y may be NULL when b == 0 */
        t[2][i] = (REAL)(a * (double)t[0][i] + y);
    }
    return GLIA_STATUS_OK;
}

static glia_status op_binary(const glia_op *op, REAL *const t[8])
{
    glia_binary_mode mode = op->p.binary.mode;
    if (mode != GLIA_BINARY_MUL && mode != GLIA_BINARY_DIV)
        return glia_seterr(GLIA_STATUS_UNSUPPORTED, "ref BINARY: unknown mode %d", (int)mode);
    for (size_t i = 0; i < op->p.binary.n; i++) {
        double x = t[0][i], y = t[1][i];
        t[2][i] = (REAL)(mode == GLIA_BINARY_MUL ? x * y : x / y);
    }
    return GLIA_STATUS_OK;
}

static glia_status op_unary(const glia_op *op, REAL *const t[8])
{
    double a = op->p.unary.a, b = op->p.unary.b;
    for (size_t i = 0; i < op->p.unary.n; i++) {
        double x = t[0][i], y;
        switch (op->p.unary.mode) {
        case GLIA_UNARY_AFFINE: y = a * x + b; break;
        case GLIA_UNARY_RELU: y = x < 0 ? 0.0 : x; break; /* NaN passes, as in PyTorch */
        case GLIA_UNARY_SIGMOID: y = sigmoid(x); break;
        case GLIA_UNARY_THRESHOLD: y = x > a ? 1.0 : 0.0; break;
        case GLIA_UNARY_GELU: y = 0.5 * x * erfc(-x * M_SQRT1_2); break;
        case GLIA_UNARY_LEAKY_RELU: y = x > 0 ? x : a * x; break;   /* NaN: a*NaN passes */
        default:
            return glia_seterr(GLIA_STATUS_UNSUPPORTED, "ref UNARY: unknown mode %d",
                               (int)op->p.unary.mode);
        }
        t[1][i] = (REAL)y;
    }
    return GLIA_STATUS_OK;
}

static glia_status op_unary_bwd(const glia_op *op, REAL *const t[8])
{
    for (size_t i = 0; i < op->p.unary.n; i++) {
        double v = t[0][i], dy = t[1][i], dx;   /* v: x or y, as glia_unary_grad says */
        switch (op->p.unary.mode) {
        case GLIA_UNARY_RELU: dx = v > 0 ? dy : 0.0; break;
        case GLIA_UNARY_SIGMOID: dx = dy * v * (1.0 - v); break;
        /* d/dx x*Phi(x) = Phi(x) + x*phi(x) */
        case GLIA_UNARY_GELU: dx = dy * (0.5 * erfc(-v * M_SQRT1_2) + v * exp(-0.5 * v * v) / sqrt(2.0 * M_PI)); break;
        case GLIA_UNARY_LEAKY_RELU: dx = v > 0 ? dy : (double)op->p.unary.a * dy; break;   /* v = y */
        default:
            return glia_seterr(GLIA_STATUS_UNSUPPORTED, "ref UNARY_BWD: no backward for mode %d",
                               (int)op->p.unary.mode);
        }
        t[2][i] = (REAL)dx;
    }
    return GLIA_STATUS_OK;
}

static glia_status op_broadcast(const glia_op *op, REAL *const t[8])
{
    size_t A = op->p.bcast.a, B = op->p.bcast.b, C = op->p.bcast.c;
    for (size_t a = 0; a < A; a++)
        for (size_t b = 0; b < B; b++)
            for (size_t c = 0; c < C; c++) {
                REAL *y = &t[1][(a * B + b) * C + c];
                *y = (REAL)(op->p.bcast.alpha * (double)t[0][b] +
                            scaled_old(op->p.bcast.beta, *y));
            }
    return GLIA_STATUS_OK;
}

static glia_status op_reduce(const glia_op *op, REAL *const t[8])
{
    size_t A = op->p.bcast.a, B = op->p.bcast.b, C = op->p.bcast.c;
    for (size_t b = 0; b < B; b++) {
        double acc = 0;
        for (size_t a = 0; a < A; a++)
            for (size_t c = 0; c < C; c++)
                acc += t[0][(a * B + b) * C + c];
        t[1][b] = (REAL)(op->p.bcast.alpha * acc + scaled_old(op->p.bcast.beta, t[1][b]));
    }
    return GLIA_STATUS_OK;
}

/* ---- dense algebra ----------------------------------------------------------- */

static glia_status op_gemm(const glia_op *op, REAL *const t[8])
{
    const glia_gemm_desc *g = &op->p.gemm;
    for (int64_t bi = 0; bi < g->batch; bi++) {
        const REAL *A = t[0] + bi * g->stride_a, *B = t[1] + bi * g->stride_b;
        REAL *C = t[2] + bi * g->stride_c;
        for (int64_t i = 0; i < g->m; i++)
            for (int64_t j = 0; j < g->n; j++) {
                double acc = 0;
                for (int64_t p = 0; p < g->k; p++) {
                    double a = g->trans_a ? A[p * g->lda + i] : A[i * g->lda + p];
                    double b = g->trans_b ? B[j * g->ldb + p] : B[p * g->ldb + j];
                    acc += a * b;
                }
                REAL *c = &C[i * g->ldc + j];
                *c = (REAL)(g->alpha * acc + scaled_old(g->beta, *c));
            }
    }
    return GLIA_STATUS_OK;
}

/* Input position of output o through kernel tap k; 0 if it falls in the padding. */
static int conv_tap_in(const glia_conv_desc *c, const int64_t o[3], const int64_t k[3],
                       int64_t in[3])
{
    for (int a = 0; a < 3; a++) {
        in[a] = o[a] * c->stride[a] - c->pad[a] + k[a];
        if (in[a] < 0 || in[a] >= c->in[a])
            return 0;
    }
    return 1;
}

/* The output that reads input i through tap k, if any (the inverse of conv_tap_in). */
static int conv_tap_out(const glia_conv_desc *c, const int64_t in[3], const int64_t k[3],
                        int64_t o[3])
{
    for (int a = 0; a < 3; a++) {
        int64_t num = in[a] + c->pad[a] - k[a];
        if (num < 0 || num % c->stride[a] != 0)
            return 0;
        o[a] = num / c->stride[a];
        if (o[a] >= c->out[a])
            return 0;
    }
    return 1;
}

static glia_status op_conv_fwd(const glia_op *op, REAL *const t[8])
{
    const glia_conv_desc *c = &op->p.conv;
    const REAL *x = t[0], *w = t[1];
    int64_t kd[3], o[3], k[3], in[3];
    widen3(c->k, kd);
    int64_t isz = vol(c->in), osz = vol(c->out), ksz = vol(kd);
    for (int64_t n = 0; n < c->n; n++)
        for (int64_t co = 0; co < c->cout; co++)
            for (int64_t oi = 0; oi < osz; oi++) {
                unflat3(oi, c->out, o);
                double acc = 0;
                for (int64_t ci = 0; ci < c->cin; ci++)
                    for (int64_t ki = 0; ki < ksz; ki++) {
                        unflat3(ki, kd, k);
                        if (conv_tap_in(c, o, k, in))
                            acc += (double)x[(n * c->cin + ci) * isz + flat3(in, c->in)] *
                                   (double)w[(co * c->cin + ci) * ksz + ki];
                    }
                t[2][(n * c->cout + co) * osz + oi] = (REAL)acc;
            }
    return GLIA_STATUS_OK;
}

/* Gathers into each dx element (rather than scattering from dy) so every sum is
 * one double accumulator and inputs no window reaches come out as exact zeros. */
static glia_status op_conv_bwd_data(const glia_op *op, REAL *const t[8])
{
    const glia_conv_desc *c = &op->p.conv;
    const REAL *dy = t[0], *w = t[1];
    int64_t kd[3], o[3], k[3], in[3];
    widen3(c->k, kd);
    int64_t isz = vol(c->in), osz = vol(c->out), ksz = vol(kd);
    for (int64_t n = 0; n < c->n; n++)
        for (int64_t ci = 0; ci < c->cin; ci++)
            for (int64_t ii = 0; ii < isz; ii++) {
                unflat3(ii, c->in, in);
                double acc = 0;
                for (int64_t co = 0; co < c->cout; co++)
                    for (int64_t ki = 0; ki < ksz; ki++) {
                        unflat3(ki, kd, k);
                        if (conv_tap_out(c, in, k, o))
                            acc += (double)dy[(n * c->cout + co) * osz + flat3(o, c->out)] *
                                   (double)w[(co * c->cin + ci) * ksz + ki];
                    }
                t[2][(n * c->cin + ci) * isz + ii] = (REAL)acc;
            }
    return GLIA_STATUS_OK;
}

static glia_status op_conv_bwd_weight(const glia_op *op, REAL *const t[8])
{
    const glia_conv_desc *c = &op->p.conv;
    const REAL *x = t[0], *dy = t[1];
    int64_t kd[3], o[3], k[3], in[3];
    widen3(c->k, kd);
    int64_t isz = vol(c->in), osz = vol(c->out), ksz = vol(kd);
    for (int64_t co = 0; co < c->cout; co++)
        for (int64_t ci = 0; ci < c->cin; ci++)
            for (int64_t ki = 0; ki < ksz; ki++) {
                unflat3(ki, kd, k);
                double acc = 0;
                for (int64_t n = 0; n < c->n; n++)
                    for (int64_t oi = 0; oi < osz; oi++) {
                        unflat3(oi, c->out, o);
                        if (conv_tap_in(c, o, k, in))
                            acc += (double)x[(n * c->cin + ci) * isz + flat3(in, c->in)] *
                                   (double)dy[(n * c->cout + co) * osz + oi];
                    }
                t[2][(co * c->cin + ci) * ksz + ki] = (REAL)acc;
            }
    return GLIA_STATUS_OK;
}

/* Normalisation, pooling, losses, optimizers, selection and the dispatch. */
#include "backends/cpu/ref_impl_nn.h"
