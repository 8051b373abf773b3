/* Batch norm elementwise passes over x[N,C,S] (statistics: reduce.cl). */

/* y = (x - mean[c]) * inv[c] * gamma[c] + beta[c]; with infer set, mean and
 * var are the running statistics and inv = 1/sqrt(var + eps) */
__kernel void bn_apply(__global const float *x, ulong xo, __global const float *gamma, ulong go,
                       __global const float *beta, ulong bo, __global float *y, ulong yo,
                       __global const float *mean, ulong mo, __global const float *var, ulong vo,
                       uint C, uint S, uint total, int infer, float eps)
{
    uint i = get_global_id(0);
    if (i >= total)
        return;
    uint c = (i / S) % C;
    float inv = infer ? 1.0f / sqrt(var[vo + c] + eps) : var[vo + c];
    y[yo + i] = (x[xo + i] - mean[mo + c]) * inv * gamma[go + c] + beta[bo + c];
}

/* dx = gamma*invstd * (dy - dbeta/n - (x-mean)*invstd * dgamma/n), n = N*S */
__kernel void bn_bwd_dx(__global const float *x, ulong xo, __global const float *gamma, ulong go,
                        __global const float *dy, ulong dyo, __global const float *mean, ulong mo,
                        __global const float *invstd, ulong io, __global const float *dgamma,
                        ulong dgo, __global const float *dbeta, ulong dbo,
                        __global float *dx, ulong dxo, uint C, uint S, uint total, float count)
{
    uint i = get_global_id(0);
    if (i >= total)
        return;
    uint c = (i / S) % C;
    float inv = invstd[io + c];
    float xhat = (x[xo + i] - mean[mo + c]) * inv;
    dx[dxo + i] = gamma[go + c] * inv *
                  (dy[dyo + i] - dbeta[dbo + c] / count - xhat * dgamma[dgo + c] / count);
}
