/* Fill, copies and elementwise arithmetic (GLIA_OP_FILL .. GLIA_OP_BROADCAST). */

/* y = value * (has_s ? s[0] : 1) */
__kernel void fill(__global float *y, ulong yo, ulong n, float value,
                   __global const float *s, ulong so, int has_s)
{
    size_t i = get_global_id(0);
    if (i >= n)
        return;
    y[yo + i] = has_s ? value * s[so] : value;
}

/* dst[r*dst_ld + c] = src[r*src_ld + c] + beta * dst[..]; beta 0 overwrites */
__kernel void copy2d(__global const float *src, ulong so, __global float *dst, ulong dso,
                     uint rows, uint cols, ulong src_ld, ulong dst_ld, float beta)
{
    uint i = get_global_id(0);
    if (i >= rows * cols)
        return;
    uint r = i / cols, c = i % cols;
    float v = src[so + r * src_ld + c];
    ulong d = dso + r * dst_ld + c;
    dst[d] = beta == 0.0f ? v : v + beta * dst[d];
}

/* COPY_ND: item i is the flat index over shape (ndim axes, last fastest);
 * dst[sum i_k*dst_stride_k] = src[sum i_k*src_stride_k] + beta*dst[..].
 * Lanes past ndim are unused; extents fit 32 bits (the host checks). */
__kernel void copy_nd(__global const float *src, ulong so, __global float *dst, ulong dso, uint n,
                      int ndim, uint8 shape, uint8 sst, uint8 dstr, float beta)
{
    uint i = get_global_id(0);
    if (i >= n)
        return;
    uint sh[8], ss[8], ds[8];
    vstore8(shape, 0, sh);
    vstore8(sst, 0, ss);
    vstore8(dstr, 0, ds);
    uint rest = i, s = 0, d = 0;
    for (int k = ndim - 1; k >= 0; k--) {
        uint ik = rest % sh[k];
        rest /= sh[k];
        s += ik * ss[k];
        d += ik * ds[k];
    }
    float v = src[so + s];
    dst[dso + d] = beta == 0.0f ? v : v + beta * dst[dso + d];
}

/* GATHER_ROWS: item i*w + c; y[i,c] = table[idx[i], c] */
__kernel void gather_rows(__global const float *table, ulong to, __global const int *idx, ulong io,
                          __global float *y, ulong yo, uint n, uint w)
{
    uint e = get_global_id(0);
    if (e >= n * w)
        return;
    uint i = e / w, c = e - i * w;
    y[yo + e] = table[to + (ulong)idx[io + i] * w + c];
}

/* GATHER_ROWS_BWD: item r*w + c sums dy[order[k], c] for k in [start[r], start[r+1]) */
__kernel void gather_rows_bwd(__global const float *dy, ulong dyo, __global const int *order, ulong oo,
                              __global const int *start, ulong so, __global float *dt, ulong dto, uint rows,
                              uint w)
{
    uint e = get_global_id(0);
    if (e >= rows * w)
        return;
    uint r = e / w, c = e - r * w;
    float sum = 0.0f, comp = 0.0f;
    for (int k = start[so + r]; k < start[so + r + 1]; k++)
        kahan_add(&sum, &comp, dy[dyo + (ulong)order[oo + k] * w + c]);
    dt[dto + e] = sum;
}

/* c[b*stride + r*ld + col] *= beta over batch x rows x cols (GEMM with k = 0) */
__kernel void scale2d(__global float *c, ulong co, uint batch, uint rows, uint cols, ulong ld,
                      ulong stride, float beta)
{
    uint i = get_global_id(0);
    if (i >= batch * rows * cols)
        return;
    uint col = i % cols, t = i / cols, r = t % rows, b = t / rows;
    ulong d = co + b * stride + r * ld + col;
    c[d] = beta == 0.0f ? 0.0f : beta * c[d];
}

/* z = a*x + b*y (y unused when has_y is 0); z may alias x or y */
__kernel void axpbyz(__global const float *x, ulong xo, __global const float *y, ulong yo,
                     __global float *z, ulong zo, ulong n, float a, float b, int has_y)
{
    size_t i = get_global_id(0);
    if (i >= n)
        return;
    float v = a * x[xo + i];
    if (has_y)
        v += b * y[yo + i];
    z[zo + i] = v;
}

/* modes: GLIA_BINARY_MODES (op_modes.h) */
__kernel void binary(__global const float *x, ulong xo, __global const float *y, ulong yo,
                     __global float *z, ulong zo, ulong n, int mode)
{
    size_t i = get_global_id(0);
    if (i >= n)
        return;
    float a = x[xo + i], b = y[yo + i];
    z[zo + i] = mode == GLIA_BINARY_MUL ? a * b : a / b;
}

/* modes: GLIA_UNARY_MODES (op_modes.h); the host passes only modes in the table */
__kernel void unary(__global const float *x, ulong xo, __global float *y, ulong yo, ulong n,
                    int mode, float a, float b)
{
    size_t i = get_global_id(0);
    if (i >= n)
        return;
    float v = x[xo + i];
    float r;
    switch (mode) {
    case GLIA_UNARY_AFFINE: r = a * v + b; break;
    case GLIA_UNARY_RELU: r = v < 0.0f ? 0.0f : v; break; /* NaN passes, as in PyTorch */
    case GLIA_UNARY_SIGMOID: r = sigmoidf(v); break;
    case GLIA_UNARY_THRESHOLD: r = v > a ? 1.0f : 0.0f; break;
    case GLIA_UNARY_GELU: r = 0.5f * v * erfc(-v * M_SQRT1_2_F); break;
    case GLIA_UNARY_LEAKY_RELU: r = v > 0.0f ? v : a * v; break;
    default: r = NAN; break; /* unreachable: supports() admits table modes only */
    }
    y[yo + i] = r;
}

/* t0 is what glia_unary_grad says the mode reads: y for RELU, SIGMOID and
 * LEAKY_RELU, x for GELU; a is the mode's parameter (LEAKY_RELU's slope) */
__kernel void unary_bwd(__global const float *y, ulong yo, __global const float *dy, ulong dyo,
                        __global float *dx, ulong dxo, ulong n, int mode, float a)
{
    size_t i = get_global_id(0);
    if (i >= n)
        return;
    float v = y[yo + i], g = dy[dyo + i];
    float r;
    switch (mode) {
    case GLIA_UNARY_RELU: r = v > 0.0f ? g : 0.0f; break;
    case GLIA_UNARY_SIGMOID: r = g * v * (1.0f - v); break;
    case GLIA_UNARY_GELU: /* v = x */
        r = g * (0.5f * erfc(-v * M_SQRT1_2_F) + v * exp(-0.5f * v * v) * (0.5f * M_2_SQRTPI_F * M_SQRT1_2_F));
        break;
    case GLIA_UNARY_LEAKY_RELU: r = v > 0.0f ? g : a * g; break; /* v = y */
    default: r = NAN; break; /* unreachable: supports() admits modes with a backward only */
    }
    dx[dxo + i] = r;
}

/* y[a,b,c] = alpha*x[b] + beta*y[a,b,c]; beta 0 overwrites */
__kernel void broadcast(__global const float *x, ulong xo, __global float *y, ulong yo,
                        uint A, uint B, uint C, float alpha, float beta)
{
    uint i = get_global_id(0);
    if (i >= A * B * C)
        return;
    uint b = (i / C) % B;
    float v = alpha * x[xo + b];
    y[yo + i] = beta == 0.0f ? v : v + beta * y[yo + i];
}
