/* Loss terms and their gradients (reductions of them: reduce.cl). */

/* l = max(x,0) - x*t + log1p(exp(-|x|)) */
__kernel void bce_logits(__global const float *x, ulong xo, __global const float *t, ulong to,
                         __global float *l, ulong lo, ulong n)
{
    size_t i = get_global_id(0);
    if (i >= n)
        return;
    float v = x[xo + i];
    l[lo + i] = fmax(v, 0.0f) - v * t[to + i] + log1p(exp(-fabs(v)));
}

/* dx = g[0]*scale*(sigmoid(x) - t) */
__kernel void bce_logits_bwd(__global const float *x, ulong xo, __global const float *t, ulong to,
                             __global const float *g, ulong go, __global float *dx, ulong dxo,
                             ulong n, float scale)
{
    size_t i = get_global_id(0);
    if (i >= n)
        return;
    dx[dxo + i] = g[go] * scale * (sigmoidf(x[xo + i]) - t[to + i]);
}

/* dp[a,b,c] = g[3b]*t[a,b,c] + g[3b+1] */
__kernel void dice_sums_bwd(__global const float *t, ulong to, __global const float *g, ulong go,
                            __global float *dp, ulong dpo, uint A, uint B, uint C)
{
    uint i = get_global_id(0);
    if (i >= A * B * C)
        return;
    uint b = (i / C) % B;
    dp[dpo + i] = g[go + 3 * b] * t[to + i] + g[go + 3 * b + 1];
}
