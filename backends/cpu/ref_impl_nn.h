/* glia — the scalar reference path, second half: normalisation, pooling,
 * channel ops, losses, optimizers, selection, and the dispatch switch.
 * Included only by ref_impl.h (a template, so no include guard). */

/* ---- batch normalisation: x[N,C,S], statistics per channel over (N, S) ------ */

/* y = (x - mean) * invstd * gamma + beta for channel c. */
static void bn_apply(const glia_op *op, REAL *const t[8], size_t c, double mean, double invstd)
{
    size_t N = op->p.bn.n, C = op->p.bn.c, S = op->p.bn.s;
    double scale = invstd * (double)t[1][c], shift = t[2][c];
    for (size_t i = 0; i < N; i++)
        for (size_t s = 0; s < S; s++) {
            size_t at = (i * C + c) * S + s;
            t[3][at] = (REAL)(((double)t[0][at] - mean) * scale + shift);
        }
}

static glia_status op_bn_fwd_train(const glia_op *op, REAL *const t[8])
{
    size_t N = op->p.bn.n, C = op->p.bn.c, S = op->p.bn.s;
    double cnt = (double)(N * S), m = op->p.bn.momentum;
    for (size_t c = 0; c < C; c++) {
        double sum = 0, sq = 0;
        for (size_t i = 0; i < N; i++)
            for (size_t s = 0; s < S; s++)
                sum += t[0][(i * C + c) * S + s];
        double mean = sum / cnt;
        for (size_t i = 0; i < N; i++)
            for (size_t s = 0; s < S; s++) {
                double d = (double)t[0][(i * C + c) * S + s] - mean;
                sq += d * d;
            }
        double var = sq / cnt, invstd = 1.0 / sqrt(var + op->p.bn.eps);
        bn_apply(op, t, c, mean, invstd);
        t[4][c] = (REAL)mean;
        t[5][c] = (REAL)invstd;
        /* src/core rejects N*S == 1 in training, as PyTorch does. */
        if (t[6])
            t[6][c] = (REAL)((1 - m) * (double)t[6][c] + m * mean);
        if (t[7])
            t[7][c] = (REAL)((1 - m) * (double)t[7][c] + m * var * cnt / (cnt - 1));
    }
    return GLIA_STATUS_OK;
}

static glia_status op_bn_fwd_infer(const glia_op *op, REAL *const t[8])
{
    for (size_t c = 0; c < op->p.bn.c; c++)
        bn_apply(op, t, c, t[6][c], 1.0 / sqrt((double)t[7][c] + op->p.bn.eps));
    return GLIA_STATUS_OK;
}

/* With xh = (x - mean) * invstd: dbeta = sum dy, dgamma = sum dy*xh,
 * dx = gamma * invstd * (dy - dbeta/n - xh * dgamma/n). */
static glia_status op_bn_bwd(const glia_op *op, REAL *const t[8])
{
    size_t N = op->p.bn.n, C = op->p.bn.c, S = op->p.bn.s;
    double cnt = (double)(N * S);
    for (size_t c = 0; c < C; c++) {
        double mean = t[3][c], invstd = t[4][c], sdy = 0, sdyxh = 0;
        for (size_t i = 0; i < N; i++)
            for (size_t s = 0; s < S; s++) {
                size_t at = (i * C + c) * S + s;
                sdy += t[2][at];
                sdyxh += (double)t[2][at] * ((double)t[0][at] - mean) * invstd;
            }
        double k = (double)t[1][c] * invstd;
        for (size_t i = 0; i < N; i++)
            for (size_t s = 0; s < S; s++) {
                size_t at = (i * C + c) * S + s;
                double xh = ((double)t[0][at] - mean) * invstd;
                t[5][at] = (REAL)(k * ((double)t[2][at] - sdy / cnt - xh * sdyxh / cnt));
            }
        t[6][c] = (REAL)sdyxh;
        t[7][c] = (REAL)sdy;
    }
    return GLIA_STATUS_OK;
}

/* ---- layer normalisation: x[R,C], statistics per row over C ----------------- */

/* gamma and beta may be NULL (no affine): factor 1, shift 0. */
static glia_status op_ln_fwd(const glia_op *op, REAL *const t[8])
{
    size_t R = op->p.ln.rows, C = op->p.ln.cols;
    for (size_t r = 0; r < R; r++) {
        const REAL *x = t[0] + r * C;
        double sum = 0, sq = 0;
        for (size_t c = 0; c < C; c++)
            sum += x[c];
        double mean = sum / (double)C;
        for (size_t c = 0; c < C; c++)
            sq += ((double)x[c] - mean) * ((double)x[c] - mean);
        double invstd = 1.0 / sqrt(sq / (double)C + op->p.ln.eps);
        for (size_t c = 0; c < C; c++) {
            double g = t[1] ? (double)t[1][c] : 1.0, b = t[2] ? (double)t[2][c] : 0.0;
            t[3][r * C + c] = (REAL)(((double)x[c] - mean) * invstd * g + b);
        }
        t[4][r] = (REAL)mean;
        t[5][r] = (REAL)invstd;
    }
    return GLIA_STATUS_OK;
}

/* With xh = (x - mean) * invstd and g = gamma*dy per row:
 * dx = invstd * (g - mean_c g - xh * mean_c(g*xh)); dgamma = sum_r dy*xh,
 * dbeta = sum_r dy. */
static glia_status op_ln_bwd(const glia_op *op, REAL *const t[8])
{
    size_t R = op->p.ln.rows, C = op->p.ln.cols;
    for (size_t c = 0; c < C; c++) {
        double dg = 0, db = 0;
        for (size_t r = 0; r < R; r++) {
            size_t at = r * C + c;
            db += t[2][at];
            dg += (double)t[2][at] * ((double)t[0][at] - (double)t[3][r]) * (double)t[4][r];
        }
        if (t[6])
            t[6][c] = (REAL)dg;
        if (t[7])
            t[7][c] = (REAL)db;
    }
    for (size_t r = 0; r < R; r++) {
        double mean = t[3][r], invstd = t[4][r], sg = 0, sgxh = 0;
        for (size_t c = 0; c < C; c++) {
            size_t at = r * C + c;
            double g = (double)t[2][at] * (t[1] ? (double)t[1][c] : 1.0);
            sg += g;
            sgxh += g * ((double)t[0][at] - mean) * invstd;
        }
        for (size_t c = 0; c < C; c++) {
            size_t at = r * C + c;
            double g = (double)t[2][at] * (t[1] ? (double)t[1][c] : 1.0);
            double xh = ((double)t[0][at] - mean) * invstd;
            t[5][at] = (REAL)(invstd * (g - sg / (double)C - xh * sgxh / (double)C));
        }
    }
    return GLIA_STATUS_OK;
}

/* ---- pooling and resampling, per plane ------------------------------------- */

/* NaN propagates like PyTorch: the first NaN in a window is its max. */
static glia_status op_maxpool_fwd(const glia_op *op, REAL *const t[8])
{
    const glia_pool_desc *p = &op->p.pool;
    int64_t kd[3], o[3], k[3], in[3];
    widen3(p->k, kd);
    int64_t isz = vol(p->in), osz = vol(p->out), ksz = vol(kd);
    int32_t *idx = (int32_t *)(void *)t[2];
    for (int64_t pl = 0; pl < p->planes; pl++) {
        const REAL *x = t[0] + pl * isz;
        for (int64_t oi = 0; oi < osz; oi++) {
            unflat3(oi, p->out, o);
            double best = 0;
            int64_t arg = -1;
            for (int64_t ki = 0; ki < ksz; ki++) {
                unflat3(ki, kd, k);
                for (int a = 0; a < 3; a++)
                    in[a] = o[a] * p->stride[a] + k[a];
                int64_t at = flat3(in, p->in);
                double v = x[at];
                if (arg < 0 || v > best || (isnan(v) && !isnan(best))) {
                    best = v;
                    arg = at;
                }
            }
            t[1][pl * osz + oi] = (REAL)best;
            idx[pl * osz + oi] = (int32_t)arg;
        }
    }
    return GLIA_STATUS_OK;
}

/* Outputs [lo, hi] on one axis whose window covers input position i. */
static void pool_covering(const glia_pool_desc *p, int a, int64_t i, int64_t *lo, int64_t *hi)
{
    int64_t s = p->stride[a], first = i - p->k[a] + 1;
    *lo = first <= 0 ? 0 : (first + s - 1) / s;
    *hi = i / s < p->out[a] - 1 ? i / s : p->out[a] - 1;
}

/* A gather, so overlapping windows (k > s) add up in one double accumulator. */
static glia_status op_maxpool_bwd(const glia_op *op, REAL *const t[8])
{
    const glia_pool_desc *p = &op->p.pool;
    int64_t isz = vol(p->in), osz = vol(p->out), in[3], lo[3], hi[3], o[3];
    const int32_t *idx = (const int32_t *)(const void *)t[1];
    for (int64_t pl = 0; pl < p->planes; pl++)
        for (int64_t ii = 0; ii < isz; ii++) {
            unflat3(ii, p->in, in);
            for (int a = 0; a < 3; a++)
                pool_covering(p, a, in[a], &lo[a], &hi[a]);
            double acc = 0;
            for (o[0] = lo[0]; o[0] <= hi[0]; o[0]++)
                for (o[1] = lo[1]; o[1] <= hi[1]; o[1]++)
                    for (o[2] = lo[2]; o[2] <= hi[2]; o[2]++) {
                        int64_t at = pl * osz + flat3(o, p->out);
                        if (idx[at] == ii)
                            acc += t[0][at];
                    }
            t[2][pl * isz + ii] = (REAL)acc;
        }
    return GLIA_STATUS_OK;
}

static glia_status op_upsample_fwd(const glia_op *op, REAL *const t[8])
{
    const glia_pool_desc *p = &op->p.pool;
    int64_t isz = vol(p->in), osz = vol(p->out), o[3], in[3];
    for (int64_t pl = 0; pl < p->planes; pl++)
        for (int64_t oi = 0; oi < osz; oi++) {
            unflat3(oi, p->out, o);
            for (int a = 0; a < 3; a++)
                in[a] = o[a] / p->k[a];
            t[1][pl * osz + oi] = t[0][pl * isz + flat3(in, p->in)];
        }
    return GLIA_STATUS_OK;
}

static glia_status op_upsample_bwd(const glia_op *op, REAL *const t[8])
{
    const glia_pool_desc *p = &op->p.pool;
    int64_t kd[3], in[3], k[3], o[3];
    widen3(p->k, kd);
    int64_t isz = vol(p->in), osz = vol(p->out), ksz = vol(kd);
    for (int64_t pl = 0; pl < p->planes; pl++)
        for (int64_t ii = 0; ii < isz; ii++) {
            unflat3(ii, p->in, in);
            double acc = 0;
            for (int64_t ki = 0; ki < ksz; ki++) {
                unflat3(ki, kd, k);
                for (int a = 0; a < 3; a++)
                    o[a] = in[a] * kd[a] + k[a];
                acc += t[0][pl * osz + flat3(o, p->out)];
            }
            t[1][pl * isz + ii] = (REAL)acc;
        }
    return GLIA_STATUS_OK;
}

/* ---- ops over the channel axis of [N,C,S]: one column is (n, s) ------------- */

/* log(sum_c exp(x_c)) of the column starting at x (stride S), shifted by its
 * max so no exp overflows. */
static double col_logsumexp(const REAL *x, size_t C, size_t S)
{
    double mx = x[0], sum = 0;
    for (size_t c = 1; c < C; c++)
        mx = (double)x[c * S] > mx ? (double)x[c * S] : mx;
    for (size_t c = 0; c < C; c++)
        sum += exp((double)x[c * S] - mx);
    return mx + log(sum);
}

static glia_status op_softmax_fwd(const glia_op *op, REAL *const t[8])
{
    size_t N = op->p.chan.n, C = op->p.chan.c, S = op->p.chan.s;
    for (size_t n = 0; n < N; n++)
        for (size_t s = 0; s < S; s++) {
            size_t base = n * C * S + s;
            double lse = col_logsumexp(t[0] + base, C, S);
            for (size_t c = 0; c < C; c++)
                t[1][base + c * S] = (REAL)exp((double)t[0][base + c * S] - lse);
        }
    return GLIA_STATUS_OK;
}

static glia_status op_softmax_bwd(const glia_op *op, REAL *const t[8])
{
    size_t N = op->p.chan.n, C = op->p.chan.c, S = op->p.chan.s;
    for (size_t n = 0; n < N; n++)
        for (size_t s = 0; s < S; s++) {
            size_t base = n * C * S + s;
            double dot = 0;
            for (size_t c = 0; c < C; c++)
                dot += (double)t[0][base + c * S] * (double)t[1][base + c * S];
            for (size_t c = 0; c < C; c++)
                t[2][base + c * S] =
                    (REAL)((double)t[0][base + c * S] * ((double)t[1][base + c * S] - dot));
        }
    return GLIA_STATUS_OK;
}

/* l = -sum_c t*log_softmax(x) = sum_c t * (logsumexp(x) - x). */
static glia_status op_softmax_ce(const glia_op *op, REAL *const t[8])
{
    size_t N = op->p.chan.n, C = op->p.chan.c, S = op->p.chan.s;
    for (size_t n = 0; n < N; n++)
        for (size_t s = 0; s < S; s++) {
            size_t base = n * C * S + s;
            double lse = col_logsumexp(t[0] + base, C, S), l = 0;
            for (size_t c = 0; c < C; c++)
                l += (double)t[1][base + c * S] * (lse - (double)t[0][base + c * S]);
            t[2][n * S + s] = (REAL)l;
        }
    return GLIA_STATUS_OK;
}

static glia_status op_softmax_ce_bwd(const glia_op *op, REAL *const t[8])
{
    size_t N = op->p.chan.n, C = op->p.chan.c, S = op->p.chan.s;
    double g = (double)t[2][0] * op->p.chan.scale;
    for (size_t n = 0; n < N; n++)
        for (size_t s = 0; s < S; s++) {
            size_t base = n * C * S + s;
            double lse = col_logsumexp(t[0] + base, C, S), tsum = 0;
            for (size_t c = 0; c < C; c++)
                tsum += t[1][base + c * S];
            for (size_t c = 0; c < C; c++) {
                double p = exp((double)t[0][base + c * S] - lse);
                t[3][base + c * S] = (REAL)(g * (p * tsum - (double)t[1][base + c * S]));
            }
        }
    return GLIA_STATUS_OK;
}

/* First max wins; the index is stored as a float so it can feed float ops. */
static glia_status op_argmax(const glia_op *op, REAL *const t[8])
{
    size_t N = op->p.chan.n, C = op->p.chan.c, S = op->p.chan.s;
    for (size_t n = 0; n < N; n++)
        for (size_t s = 0; s < S; s++) {
            const REAL *x = t[0] + n * C * S + s;
            size_t arg = 0;
            for (size_t c = 1; c < C; c++)
                if (x[c * S] > x[arg * S])
                    arg = c;
            t[1][n * S + s] = (REAL)arg;
        }
    return GLIA_STATUS_OK;
}

/* ---- losses --------------------------------------------------------------------- */

static glia_status op_bce_logits(const glia_op *op, REAL *const t[8])
{
    for (size_t i = 0; i < op->p.loss.n; i++) {
        double x = t[0][i], y = t[1][i];
        t[2][i] = (REAL)((x > 0 ? x : 0.0) - x * y + log1p(exp(-fabs(x))));
    }
    return GLIA_STATUS_OK;
}

static glia_status op_bce_logits_bwd(const glia_op *op, REAL *const t[8])
{
    double g = (double)t[2][0] * op->p.loss.scale;
    for (size_t i = 0; i < op->p.loss.n; i++)
        t[3][i] = (REAL)(g * (sigmoid(t[0][i]) - (double)t[1][i]));
    return GLIA_STATUS_OK;
}

static glia_status op_dice_sums(const glia_op *op, REAL *const t[8])
{
    size_t A = op->p.dice.a, B = op->p.dice.b, C = op->p.dice.c;
    for (size_t b = 0; b < B; b++) {
        double pt = 0, ps = 0, ts = 0;
        for (size_t a = 0; a < A; a++)
            for (size_t c = 0; c < C; c++) {
                size_t at = (a * B + b) * C + c;
                pt += (double)t[0][at] * (double)t[1][at];
                ps += t[0][at];
                ts += t[1][at];
            }
        t[2][3 * b] = (REAL)pt;
        t[2][3 * b + 1] = (REAL)ps;
        t[2][3 * b + 2] = (REAL)ts;
    }
    return GLIA_STATUS_OK;
}

static glia_status op_dice_sums_bwd(const glia_op *op, REAL *const t[8])
{
    size_t A = op->p.dice.a, B = op->p.dice.b, C = op->p.dice.c;
    for (size_t a = 0; a < A; a++)
        for (size_t b = 0; b < B; b++)
            for (size_t c = 0; c < C; c++) {
                size_t at = (a * B + b) * C + c;
                t[2][at] = (REAL)((double)t[1][3 * b] * (double)t[0][at] + (double)t[1][3 * b + 1]);
            }
    return GLIA_STATUS_OK;
}

/* ---- optimizers: PyTorch's torch.optim.SGD and Adam/AdamW, step for step ---- */

static glia_status op_sgd(const glia_op *op, REAL *const t[8])
{
    double lr = op->p.sgd.lr, mom = op->p.sgd.momentum, damp = op->p.sgd.dampening;
    double wd = op->p.sgd.weight_decay;
    for (size_t i = 0; i < op->p.sgd.n; i++) {
        double d = (double)t[1][i] + wd * (double)t[0][i];
        if (mom != 0) {
            double buf = op->p.sgd.first ? d : mom * (double)t[2][i] + (1 - damp) * d;
            t[2][i] = (REAL)buf;
            d = op->p.sgd.nesterov ? d + mom * buf : buf;
        }
        t[0][i] = (REAL)((double)t[0][i] - lr * d);
    }
    return GLIA_STATUS_OK;
}

static glia_status op_adam(const glia_op *op, REAL *const t[8])
{
    double lr = op->p.adam.lr, b1 = op->p.adam.beta1, b2 = op->p.adam.beta2;
    double wd = op->p.adam.weight_decay, eps = op->p.adam.eps;
    double step = lr / op->p.adam.bias_corr1, bc2_sqrt = sqrt((double)op->p.adam.bias_corr2);
    for (size_t i = 0; i < op->p.adam.n; i++) {
        double p = t[0][i], g = t[1][i];
        if (op->p.adam.decoupled)
            p *= 1 - lr * wd;
        else
            g += wd * p;
        double m = b1 * (double)t[2][i] + (1 - b1) * g;
        double v = b2 * (double)t[3][i] + (1 - b2) * g * g;
        t[0][i] = (REAL)(p - step * m / (sqrt(v) / bc2_sqrt + eps));
        t[2][i] = (REAL)m;
        t[3][i] = (REAL)v;
    }
    return GLIA_STATUS_OK;
}

/* ---- dispatch ------------------------------------------------------------------- */

/* Generated from the op table: a row without its op_<name> does not compile. */
#define REF_ENTRY_(kind, name, slots) [GLIA_OP_##kind] = op_##name,
static const op_fn ref_fns[GLIA_OP_COUNT_] = {GLIA_OPS(REF_ENTRY_)};

glia_status REF_RUN(const glia_op *op, REAL *const t[8])
{
    if (!op)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "ref run: op is NULL");
    if (!glia_op_well_formed(op))
        return glia_seterr(GLIA_STATUS_UNSUPPORTED, "ref run: op %s with an unknown kind or mode",
                           glia_op_name(op->kind));
    return ref_fns[op->kind](op, t);
}
