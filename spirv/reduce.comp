// glia — deterministic per-channel sums over x[A,B,C] (sum over a and c for
// each b): REDUCE, Dice sums and the batch-norm statistics. No float atomics:
// each work-group sums one chunk of a channel with a fixed tree, and a second
// pass (when a channel has several chunks) sums the chunk results the same way.
// Each invocation's run over its elements (hundreds to thousands of them) is a
// compensated (Kahan) sum: a plain float32 sum errs by ~length * u relative to
// the sum of magnitudes, which is far above the result when the terms cancel
// (the gradient sums of batch norm); the tree and chunk stages are short.
// Many short channels (a broadcast bias's gradient: 10^5..10^6 channels of a
// few elements each) take the columns pass instead: one invocation per
// channel, its elements in order, so neighbours read neighbouring addresses
// and no work-group idles over a channel of eight elements.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "vk_shader_abi.h"
#include "vk_common.glsl"

layout(constant_id = 1) const uint MODE = 0;
layout(constant_id = 2) const uint PASS = 0;

layout(std430, binding = 0) readonly buffer B0 { float in0[]; };
layout(std430, binding = 1) readonly buffer B1 { float in1[]; };
layout(std430, binding = 2) readonly buffer B2 { float par0[]; };
layout(std430, binding = 3) readonly buffer B3 { float par1[]; };
layout(std430, binding = 4) buffer B4 { float part[]; };
layout(std430, binding = 5) buffer B5 { float out0[]; };
layout(std430, binding = 6) buffer B6 { float out1[]; };
layout(std430, binding = 7) buffer B7 { float out2[]; };

const uint NV = MODE == RD_DICE ? 3u : MODE == RD_BN_BWD ? 2u : 1u;
shared float red[3 * gl_WorkGroupSize.x];

// Sum v[0..NV) over the work-group; the result is valid in invocation 0.
void tree(inout float v[3])
{
    uint t = gl_LocalInvocationID.x;
    for (uint k = 0u; k < NV; k++)
        red[k * gl_WorkGroupSize.x + t] = v[k];
    barrier();
    for (uint h = gl_WorkGroupSize.x / 2u; h > 0u; h >>= 1) {
        if (t < h)
            for (uint k = 0u; k < NV; k++)
                red[k * gl_WorkGroupSize.x + t] += red[k * gl_WorkGroupSize.x + t + h];
        barrier();
    }
    for (uint k = 0u; k < NV; k++)
        v[k] = red[k * gl_WorkGroupSize.x];
}

// s + x with the rounding error carried in c (s - c is the compensated sum);
// precise on every step keeps the compiler from folding (t - s) - y to zero.
void kadd(inout float s, inout float c, float x)
{
    precise float y = x - c;
    precise float t = s + y;
    precise float e = (t - s) - y;
    c = e;
    s = t;
}

void finish(uint b, float v[3])
{
    float count = float(pc.p[RD_A]) * float(pc.p[RD_C]);
    if (MODE == RD_SUM) {
        float r = pf(RD_ALPHA) * v[0];
        if (pf(RD_BETA) != 0.0)
            r += pf(RD_BETA) * out0[pc.p[5] + b];
        out0[pc.p[5] + b] = r;
    } else if (MODE == RD_DICE) {
        for (uint k = 0u; k < 3u; k++)
            out0[pc.p[5] + 3u * b + k] = v[k];
    } else if (MODE == RD_BN_MEAN) {
        out0[pc.p[5] + b] = v[0] / count;
    } else if (MODE == RD_BN_VAR) {
        float var = v[0] / count;
        out0[pc.p[5] + b] = 1.0 / sqrt(var + pf(RD_EPS));
        if ((pc.p[RD_FLAGS] & 1u) != 0u) {
            float m = pf(RD_MOM);
            out1[pc.p[6] + b] = (1.0 - m) * out1[pc.p[6] + b] + m * par0[pc.p[2] + b];
            out2[pc.p[7] + b] = (1.0 - m) * out2[pc.p[7] + b] + m * var * count / (count - 1.0);
        }
    } else if (MODE == RD_BN_BWD) {
        out0[pc.p[5] + b] = v[1];
        out1[pc.p[6] + b] = v[0];
    }
}

// The batch-norm statistics channel b's terms need.
void stats(uint b, out float mean, out float invstd)
{
    mean = MODE == RD_BN_VAR || MODE == RD_BN_BWD ? par0[pc.p[2] + b] : 0.0;
    invstd = MODE == RD_BN_BWD ? par1[pc.p[3] + b] : 0.0;
}

// Element e's terms into the compensated sums v (errors in cv).
void add_element(uint e, float mean, float invstd, inout float v[3], inout float cv[3])
{
    float x = in0[pc.p[0] + e];
    if (MODE == RD_SUM || MODE == RD_BN_MEAN) {
        kadd(v[0], cv[0], x);
    } else if (MODE == RD_DICE) {
        float t = in1[pc.p[1] + e];
        kadd(v[0], cv[0], x * t);
        kadd(v[1], cv[1], x);
        kadd(v[2], cv[2], t);
    } else if (MODE == RD_BN_VAR) {
        kadd(v[0], cv[0], (x - mean) * (x - mean));
    } else if (MODE == RD_BN_BWD) {
        float dy = in1[pc.p[1] + e];
        kadd(v[0], cv[0], dy);
        kadd(v[1], cv[1], dy * (x - mean) * invstd);
    }
}

// One channel's a*c elements in order: the columns pass.
void column(uint b)
{
    uint nb = pc.p[RD_B], nc = pc.p[RD_C], total = pc.p[RD_A] * nc;
    float mean, invstd;
    stats(b, mean, invstd);
    float v[3] = float[3](0.0, 0.0, 0.0), cv[3] = float[3](0.0, 0.0, 0.0);
    for (uint i = 0u; i < total; i++) {
        uint a = fastdiv_at(i, RD_MAGIC);
        uint e = (a * nb + b) * nc + (i - a * nc);
        add_element(e, mean, invstd, v, cv);
    }
    for (uint k = 0u; k < NV; k++)
        v[k] -= cv[k];
    finish(b, v);
}

void main()
{
    uint nb = pc.p[RD_B], nc = pc.p[RD_C];
    if (PASS == RD_PASS_COLUMNS) {
        uint b = gl_GlobalInvocationID.x + pc.p[RD_YBASE];
        if (b < nb)
            column(b);
        return;
    }
    uint b = gl_WorkGroupID.y + pc.p[RD_YBASE];
    float v[3] = float[3](0.0, 0.0, 0.0);
    if (PASS == RD_PASS_FINAL) {
        uint g = pc.p[RD_G];
        for (uint i = gl_LocalInvocationID.x; i < g; i += gl_WorkGroupSize.x)
            for (uint k = 0u; k < NV; k++)
                v[k] += part[pc.p[4] + (b * g + i) * NV + k];
        tree(v);
        if (gl_LocalInvocationID.x == 0u)
            finish(b, v);
        return;
    }
    uint chunk = pc.p[RD_CHUNK], total = pc.p[RD_A] * nc;
    uint start = gl_WorkGroupID.x * chunk;
    uint end = min(total, start + chunk);
    float mean, invstd;
    stats(b, mean, invstd);
    float cv[3] = float[3](0.0, 0.0, 0.0);
    for (uint i = start + gl_LocalInvocationID.x; i < end; i += gl_WorkGroupSize.x) {
        uint a = fastdiv_at(i, RD_MAGIC);
        uint e = (a * nb + b) * nc + (i - a * nc);
        add_element(e, mean, invstd, v, cv);
    }
    for (uint k = 0u; k < NV; k++)
        v[k] -= cv[k];
    tree(v);
    if (gl_LocalInvocationID.x != 0u)
        return;
    if (PASS == RD_PASS_PARTIAL) {
        for (uint k = 0u; k < NV; k++)
            part[pc.p[4] + (b * gl_NumWorkGroups.x + gl_WorkGroupID.x) * NV + k] = v[k];
    } else {
        finish(b, v);
    }
}
