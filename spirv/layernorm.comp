// glia — layer normalisation over the last axis of x[R,C] (LN_FWD, LN_BWD).
// The forward and dx run one work-group per row (row = group y * groups x +
// group x): each invocation sums a strided share of the row with compensated
// sums and a fixed shared-memory tree adds the shares. dgamma and dbeta sum
// over rows in two passes without float atomics: invocation (k, c) sums column
// c over the k-th chunk of rows into part (binding 5), then one invocation per
// column adds its chunks in order. Every loop stays short: lavapipe cuts loops
// after 65535 iterations, so rows are never walked by one invocation whole.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "vk_shader_abi.h"
#include "vk_common.glsl"

layout(constant_id = 1) const uint MODE = 0;

// Bindings are the op's slots (LN_FWD: x, gamma, beta, y, mean, invstd;
// LN_BWD: x, gamma, dy, mean, invstd, dx or the partial sums, dgamma, dbeta).
layout(std430, binding = 0) readonly buffer B0 { float b0[]; };
layout(std430, binding = 1) readonly buffer B1 { float b1[]; };
layout(std430, binding = 2) readonly buffer B2 { float b2[]; };
layout(std430, binding = 3) buffer B3 { float b3[]; };
layout(std430, binding = 4) buffer B4 { float b4[]; };
layout(std430, binding = 5) buffer B5 { float b5[]; };
layout(std430, binding = 6) buffer B6 { float b6[]; };
layout(std430, binding = 7) buffer B7 { float b7[]; };

shared float red[2 * gl_WorkGroupSize.x];

// s + x with the rounding error carried in c; precise keeps the compiler from
// folding (t - s) - y to zero.
void kadd(inout float s, inout float c, float x)
{
    precise float y = x - c;
    precise float t = s + y;
    precise float e = (t - s) - y;
    c = e;
    s = t;
}

// a and b summed over the work-group (a power of two), returned to every invocation.
void group_sum2(inout float a, inout float b)
{
    uint t = gl_LocalInvocationID.x, n = gl_WorkGroupSize.x;
    red[t] = a;
    red[n + t] = b;
    barrier();
    for (uint h = n / 2u; h > 0u; h >>= 1) {
        if (t < h) {
            red[t] += red[t + h];
            red[n + t] += red[n + t + h];
        }
        barrier();
    }
    a = red[0];
    b = red[n];
    barrier();   // before a next call overwrites red
}

void ln_fwd(uint row)
{
    uint C = pc.p[LN_COLS], t = gl_LocalInvocationID.x, n = gl_WorkGroupSize.x;
    uint x0 = pc.p[0] + row * C, y0 = pc.p[3] + row * C, flags = pc.p[LN_FLAGS];
    float s = 0.0, c = 0.0, none = 0.0;
    for (uint i = t; i < C; i += n)
        kadd(s, c, b0[x0 + i]);
    group_sum2(s, none);
    float m = s / float(C);
    s = 0.0;
    c = 0.0;
    for (uint i = t; i < C; i += n) {
        float d = b0[x0 + i] - m;
        kadd(s, c, d * d);
    }
    group_sum2(s, none);
    float k = 1.0 / sqrt(s / float(C) + pf(LN_EPS));
    for (uint i = t; i < C; i += n) {
        float v = (b0[x0 + i] - m) * k;
        if ((flags & LN_HAS_1) != 0u)
            v *= b1[pc.p[1] + i];
        if ((flags & LN_HAS_2) != 0u)
            v += b2[pc.p[2] + i];
        b3[y0 + i] = v;
    }
    if (t == 0u) {
        b4[pc.p[4] + row] = m;
        b5[pc.p[5] + row] = k;
    }
}

// dx = invstd * (g - mean_c(g) - xhat * mean_c(g*xhat)), g = gamma*dy
void ln_bwd_dx(uint row)
{
    uint C = pc.p[LN_COLS], t = gl_LocalInvocationID.x, n = gl_WorkGroupSize.x;
    uint x0 = pc.p[0] + row * C, dy0 = pc.p[2] + row * C, dx0 = pc.p[5] + row * C;
    bool gamma = (pc.p[LN_FLAGS] & LN_HAS_1) != 0u;
    float m = b3[pc.p[3] + row], k = b4[pc.p[4] + row];
    float s0 = 0.0, c0 = 0.0, s1 = 0.0, c1 = 0.0;
    for (uint i = t; i < C; i += n) {
        float g = gamma ? b2[dy0 + i] * b1[pc.p[1] + i] : b2[dy0 + i];
        kadd(s0, c0, g);
        kadd(s1, c1, g * ((b0[x0 + i] - m) * k));
    }
    group_sum2(s0, s1);
    float mg = s0 / float(C), mgx = s1 / float(C);
    for (uint i = t; i < C; i += n) {
        float g = gamma ? b2[dy0 + i] * b1[pc.p[1] + i] : b2[dy0 + i];
        b5[dx0 + i] = k * (g - mg - (b0[x0 + i] - m) * k * mgx);
    }
}

// part[(k*C + c)*2] = sum of dy*xhat, [.. + 1] = sum of dy, over chunk k of rows
void ln_param_part()
{
    uint R = pc.p[LN_ROWS], C = pc.p[LN_COLS], chunk = pc.p[LN_CHUNK], K = pc.p[LN_K];
    for (uint j = gl_GlobalInvocationID.x; j < K * C; j += GRID_STRIDE) {
        uint k = j / C, c = j - k * C, end = min(R, (k + 1u) * chunk);
        float sg = 0.0, cg = 0.0, sb = 0.0, cb = 0.0;
        for (uint r = k * chunk; r < end; r++) {
            uint i = r * C + c;
            float d = b2[pc.p[2] + i];
            kadd(sb, cb, d);
            kadd(sg, cg, d * ((b0[pc.p[0] + i] - b3[pc.p[3] + r]) * b4[pc.p[4] + r]));
        }
        b5[pc.p[5] + 2u * j] = sg;
        b5[pc.p[5] + 2u * j + 1u] = sb;
    }
}

void ln_param_final()
{
    uint C = pc.p[LN_COLS], K = pc.p[LN_K], flags = pc.p[LN_FLAGS];
    for (uint c = gl_GlobalInvocationID.x; c < C; c += GRID_STRIDE) {
        float sg = 0.0, cg = 0.0, sb = 0.0, cb = 0.0;
        for (uint k = 0u; k < K; k++) {
            kadd(sg, cg, b5[pc.p[5] + 2u * (k * C + c)]);
            kadd(sb, cb, b5[pc.p[5] + 2u * (k * C + c) + 1u]);
        }
        if ((flags & LN_HAS_1) != 0u)
            b6[pc.p[6] + c] = sg;
        if ((flags & LN_HAS_2) != 0u)
            b7[pc.p[7] + c] = sb;
    }
}

void main()
{
    if (MODE == LN_PARAM_PART) {
        ln_param_part();
    } else if (MODE == LN_PARAM_FINAL) {
        ln_param_final();
    } else {
        // group-uniform: the whole group leaves together, so no barrier is skipped
        uint row = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
        if (row >= pc.p[LN_ROWS])
            return;
        if (MODE == LN_FWD)
            ln_fwd(row);
        else
            ln_bwd_dx(row);
    }
}
