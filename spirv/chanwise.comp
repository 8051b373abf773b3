// glia — elementwise ops with a per-channel operand on x[A,B,C] (bias add,
// batch-norm apply and backward, Dice backward). Work-group rows walk the
// A*B planes so the channel of a plane costs one division per plane.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "vk_shader_abi.h"
#include "vk_common.glsl"

layout(constant_id = 1) const uint MODE = 0;

layout(std430, binding = 0) buffer B0 { float b0[]; };
layout(std430, binding = 1) buffer B1 { float b1[]; };
layout(std430, binding = 2) buffer B2 { float b2[]; };
layout(std430, binding = 3) buffer B3 { float b3[]; };
layout(std430, binding = 4) buffer B4 { float b4[]; };
layout(std430, binding = 5) buffer B5 { float b5[]; };
layout(std430, binding = 6) buffer B6 { float b6[]; };
layout(std430, binding = 7) buffer B7 { float b7[]; };

void main()
{
    uint planes = pc.p[CW_PLANES], nch = pc.p[CW_CH], inner = pc.p[CW_INNER];
    float alpha = pf(CW_ALPHA), beta = pf(CW_BETA);
    for (uint pl = gl_WorkGroupID.y; pl < planes; pl += gl_NumWorkGroups.y) {
        uint ch = pl % nch;
        uint base = pl * inner;
        // the per-channel affine map y = u*x + v, or the backward's terms
        float u = 0.0, v = 0.0, w = 0.0, mean = 0.0;
        if (MODE == CW_BROADCAST) {
            u = alpha * b0[pc.p[0] + ch];
        } else if (MODE == CW_BN_TRAIN) {
            float is = b5[pc.p[5] + ch];
            u = b1[pc.p[1] + ch] * is;
            v = b2[pc.p[2] + ch] - b4[pc.p[4] + ch] * u;
        } else if (MODE == CW_BN_INFER) {
            float is = 1.0 / sqrt(b7[pc.p[7] + ch] + pf(CW_EPS));
            u = b1[pc.p[1] + ch] * is;
            v = b2[pc.p[2] + ch] - b6[pc.p[6] + ch] * u;
        } else if (MODE == CW_BN_BWD) {
            float is = b4[pc.p[4] + ch], cnt = pf(CW_COUNT);
            mean = b3[pc.p[3] + ch];
            u = b1[pc.p[1] + ch] * is;              // gamma * invstd
            v = b7[pc.p[7] + ch] / cnt;             // dbeta / M
            w = b6[pc.p[6] + ch] * is / cnt;        // dgamma * invstd / M
        } else if (MODE == CW_DICE_BWD) {
            u = b1[pc.p[1] + 3u * ch];
            v = b1[pc.p[1] + 3u * ch + 1u];
        }
        for (uint i = gl_LocalInvocationID.x + gl_WorkGroupID.x * gl_WorkGroupSize.x; i < inner;
             i += GRID_STRIDE) {
            uint e = base + i;
            if (MODE == CW_BROADCAST) {
                float y = u;
                if (beta != 0.0)
                    y += beta * b1[pc.p[1] + e];
                b1[pc.p[1] + e] = y;
            } else if (MODE == CW_BN_TRAIN || MODE == CW_BN_INFER) {
                b3[pc.p[3] + e] = u * b0[pc.p[0] + e] + v;
            } else if (MODE == CW_BN_BWD) {
                // dx = gamma*invstd * (dy - dbeta/M - (x-mean)*invstd * dgamma/M)
                float xc = b0[pc.p[0] + e] - mean;
                b5[pc.p[5] + e] = u * (b2[pc.p[2] + e] - v - xc * w);
            } else if (MODE == CW_DICE_BWD) {
                b2[pc.p[2] + e] = u * b0[pc.p[0] + e] + v;
            }
        }
    }
}
