// glia — ops over the channels of x[N,C,S], one invocation per (n, s):
// softmax and its backward, softmax cross-entropy and its backward, argmax.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "vk_shader_abi.h"
#include "vk_common.glsl"

layout(constant_id = 1) const uint MODE = 0;

layout(std430, binding = 0) readonly buffer B0 { float b0[]; };
layout(std430, binding = 1) buffer B1 { float b1[]; };
layout(std430, binding = 2) buffer B2 { float b2[]; };
layout(std430, binding = 3) buffer B3 { float b3[]; };

void main()
{
    uint nb = pc.p[CH_N], nc = pc.p[CH_C], ns = pc.p[CH_S];
    uint total = nb * ns;
    for (uint i = gl_GlobalInvocationID.x; i < total; i += GRID_STRIDE) {
        uint n = fastdiv_at(i, CH_MAGIC), s = i - n * ns;
        uint base = n * nc * ns + s;
        uint o0 = pc.p[0] + base, o1 = pc.p[1] + base;
        if (MODE == CH_SOFTMAX_BWD) {
            float dot = 0.0;
            for (uint c = 0u; c < nc; c++)
                dot += b0[o0 + c * ns] * b1[o1 + c * ns];
            for (uint c = 0u; c < nc; c++)
                b2[pc.p[2] + base + c * ns] = b0[o0 + c * ns] * (b1[o1 + c * ns] - dot);
            continue;
        }
        float mx = b0[o0];
        uint arg = 0u;
        for (uint c = 1u; c < nc; c++) {
            float x = b0[o0 + c * ns];
            if (x > mx) {
                mx = x;
                arg = c;
            }
        }
        if (MODE == CH_ARGMAX) {
            b1[pc.p[1] + n * ns + s] = float(arg);
            continue;
        }
        float sum = 0.0;
        for (uint c = 0u; c < nc; c++)
            sum += exp(b0[o0 + c * ns] - mx);
        if (MODE == CH_SOFTMAX) {
            float inv = 1.0 / sum;
            for (uint c = 0u; c < nc; c++)
                b1[o1 + c * ns] = exp(b0[o0 + c * ns] - mx) * inv;
        } else if (MODE == CH_CE) {
            // -sum_c t * (x - max - log(sum))
            float lse = mx + log(sum), l = 0.0;
            for (uint c = 0u; c < nc; c++)
                l -= b1[o1 + c * ns] * (b0[o0 + c * ns] - lse);
            b2[pc.p[2] + n * ns + s] = l;
        } else if (MODE == CH_CE_BWD) {
            float tsum = 0.0;
            for (uint c = 0u; c < nc; c++)
                tsum += b1[o1 + c * ns];
            float k = b2[pc.p[2]] * pf(CH_SCALE), inv = 1.0 / sum;
            for (uint c = 0u; c < nc; c++) {
                float sm = exp(b0[o0 + c * ns] - mx) * inv;
                b3[pc.p[3] + base + c * ns] = k * (sm * tsum - b1[o1 + c * ns]);
            }
        }
    }
}
