/* Per-position operations over the channel axis of x[N,C,S]. One item per
 * (n, s) walks the C channels at stride S: reads stay coalesced across s and
 * the channel count of segmentation outputs is small, so a per-item loop beats
 * a work-group tree here. */

/* Start of position i's channel column, or -1 when i is past the end. */
long column(uint i, uint N, uint C, uint S)
{
    if (i >= N * S)
        return -1;
    return (long)(i / S) * C * S + i % S;
}

/* max over c and log(sum exp(x - max)) */
void logsumexp(__global const float *x, uint C, uint S, float *m, float *lse)
{
    float mx = x[0];
    for (uint c = 1; c < C; c++)
        mx = fmax(mx, x[(ulong)c * S]);
    float s = 0.0f;
    for (uint c = 0; c < C; c++)
        s += exp(x[(ulong)c * S] - mx);
    *m = mx;
    *lse = log(s);
}

__kernel void softmax_fwd(__global const float *x, ulong xo, __global float *y, ulong yo,
                          uint N, uint C, uint S)
{
    long at = column(get_global_id(0), N, C, S);
    if (at < 0)
        return;
    float m, lse;
    logsumexp(x + xo + at, C, S, &m, &lse);
    for (uint c = 0; c < C; c++) {
        ulong k = at + (ulong)c * S;
        y[yo + k] = exp(x[xo + k] - m - lse);
    }
}

/* dx = y * (dy - sum_c dy*y) */
__kernel void softmax_bwd(__global const float *y, ulong yo, __global const float *dy, ulong dyo,
                          __global float *dx, ulong dxo, uint N, uint C, uint S)
{
    long at = column(get_global_id(0), N, C, S);
    if (at < 0)
        return;
    float dot = 0.0f;
    for (uint c = 0; c < C; c++) {
        ulong k = at + (ulong)c * S;
        dot += dy[dyo + k] * y[yo + k];
    }
    for (uint c = 0; c < C; c++) {
        ulong k = at + (ulong)c * S;
        dx[dxo + k] = y[yo + k] * (dy[dyo + k] - dot);
    }
}

/* l[n,s] = -sum_c t * log_softmax(x) */
__kernel void softmax_ce(__global const float *x, ulong xo, __global const float *t, ulong to,
                         __global float *l, ulong lo, uint N, uint C, uint S)
{
    uint i = get_global_id(0);
    long at = column(i, N, C, S);
    if (at < 0)
        return;
    float m, lse;
    logsumexp(x + xo + at, C, S, &m, &lse);
    float s = 0.0f;
    for (uint c = 0; c < C; c++) {
        ulong k = at + (ulong)c * S;
        s += t[to + k] * (x[xo + k] - m - lse);
    }
    l[lo + i] = -s;
}

/* dx = g[0]*scale*(softmax(x)*sum_c t - t) */
__kernel void softmax_ce_bwd(__global const float *x, ulong xo, __global const float *t, ulong to,
                             __global const float *g, ulong go, __global float *dx, ulong dxo,
                             uint N, uint C, uint S, float scale)
{
    long at = column(get_global_id(0), N, C, S);
    if (at < 0)
        return;
    float m, lse;
    logsumexp(x + xo + at, C, S, &m, &lse);
    float tsum = 0.0f;
    for (uint c = 0; c < C; c++)
        tsum += t[to + at + (ulong)c * S];
    float f = g[go] * scale;
    for (uint c = 0; c < C; c++) {
        ulong k = at + (ulong)c * S;
        dx[dxo + k] = f * (exp(x[xo + k] - m - lse) * tsum - t[to + k]);
    }
}

/* y[n,s] = index of the first largest channel, as float */
__kernel void argmax(__global const float *x, ulong xo, __global float *y, ulong yo,
                     uint N, uint C, uint S)
{
    uint i = get_global_id(0);
    long at = column(i, N, C, S);
    if (at < 0)
        return;
    __global const float *xp = x + xo + at;
    float best = xp[0];
    uint bi = 0;
    for (uint c = 1; c < C; c++) {
        float v = xp[(ulong)c * S];
        if (v > best) {
            best = v;
            bi = c;
        }
    }
    y[yo + i] = (float)bi;
}
