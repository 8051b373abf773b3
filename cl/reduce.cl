/* Two-stage sums over the a and c axes of x[A,B,C], per b (REDUCE, batch norm
 * statistics and backward, Dice sums). Stage one: G groups per b each sum a
 * strided share into part[(b*G + g)*3 + k]; stage two: one group per b adds the
 * G partials in a fixed order. Deterministic for a given device. */

/* modes: enum glia_cl_partial (backends/opencl/cl_abi.h) */

__kernel void reduce_partial(int mode, __global const float *x, ulong xo,
                             __global const float *y, ulong yo,
                             __global const float *stat, ulong so,
                             uint A, uint B, uint C, uint G,
                             __global float *part, __local float *scratch)
{
    uint L = get_local_size(0), lid = get_local_id(0);
    uint grp = get_group_id(0);
    uint b = grp / G, g = grp % G;
    uint total = A * C, step = G * L;
    uint j = g * L + lid;
    /* walk (a, c) without a division per element */
    uint a = j / C, c = j % C;
    uint sa = step / C, sc = step % C;
    float m = mode == MODE_SQDEV || mode == MODE_BNBWD ? stat[so + b] : 0.0f;
    float s0 = 0.0f, c0 = 0.0f, s1 = 0.0f, c1 = 0.0f, s2 = 0.0f, c2 = 0.0f;
    for (; j < total; j += step) {
        ulong i = ((ulong)a * B + b) * C + c;
        float v = x[xo + i];
        if (mode == MODE_SUM) {
            kahan_add(&s0, &c0, v);
        } else if (mode == MODE_SQDEV) {
            float d = v - m;
            kahan_add(&s0, &c0, d * d);
        } else if (mode == MODE_BNBWD) {
            float w = y[yo + i];
            kahan_add(&s0, &c0, w);
            kahan_add(&s1, &c1, w * (v - m));
        } else {
            float w = y[yo + i];
            kahan_add(&s0, &c0, v * w);
            kahan_add(&s1, &c1, v);
            kahan_add(&s2, &c2, w);
        }
        c += sc;
        a += sa;
        if (c >= C) {
            c -= C;
            a++;
        }
    }
    int nsum = mode == MODE_DICE ? 3 : mode == MODE_BNBWD ? 2 : 1;
    float r0 = group_sum(s0, scratch);
    float r1 = nsum > 1 ? group_sum(s1, scratch) : 0.0f;
    float r2 = nsum > 2 ? group_sum(s2, scratch) : 0.0f;
    if (lid == 0) {
        __global float *p = part + ((ulong)b * G + g) * 3;
        p[0] = r0;
        p[1] = r1;
        p[2] = r2;
    }
}

/* modes: enum glia_cl_final (backends/opencl/cl_abi.h) */

__kernel void reduce_final(int mode, __global const float *part, uint G,
                           __global float *o0, ulong o0o, __global float *o1, ulong o1o,
                           __global float *o2, ulong o2o, __global const float *stat, ulong so,
                           float alpha, float beta, float count, float eps, float momentum,
                           int has_running, __local float *scratch)
{
    uint b = get_group_id(0), lid = get_local_id(0), L = get_local_size(0);
    float v[3];
    for (int k = 0; k < 3; k++) {
        float s = 0.0f, comp = 0.0f;
        for (uint g = lid; g < G; g += L)
            kahan_add(&s, &comp, part[((ulong)b * G + g) * 3 + k]);
        v[k] = group_sum(s, scratch);
    }
    if (lid != 0)
        return;
    if (mode == FINAL_REDUCE) {
        float r = alpha * v[0];
        o0[o0o + b] = beta == 0.0f ? r : r + beta * o0[o0o + b];
    } else if (mode == FINAL_MEAN) {
        o0[o0o + b] = v[0] / count;
    } else if (mode == FINAL_VAR) {
        float var = v[0] / count;
        o0[o0o + b] = 1.0f / sqrt(var + eps);
        if (has_running) {
            float unbiased = count > 1.0f ? var * count / (count - 1.0f) : var;
            o1[o1o + b] = (1.0f - momentum) * o1[o1o + b] + momentum * stat[so + b];
            o2[o2o + b] = (1.0f - momentum) * o2[o2o + b] + momentum * unbiased;
        }
    } else if (mode == FINAL_BNBWD) {
        o0[o0o + b] = v[1] * stat[so + b];
        o1[o1o + b] = v[0];
    } else {
        o0[o0o + 3 * b] = v[0];
        o0[o0o + 3 * b + 1] = v[1];
        o0[o0o + 3 * b + 2] = v[2];
    }
}
