// glia — optimizer steps in place (PyTorch's SGD and Adam/AdamW update rules).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "vk_shader_abi.h"
#include "vk_common.glsl"

layout(constant_id = 1) const uint MODE = 0;

layout(std430, binding = 0) buffer P { float param[]; };
layout(std430, binding = 1) readonly buffer G { float grad[]; };
layout(std430, binding = 2) buffer S0 { float s0[]; };   // momentum buffer / exp_avg
layout(std430, binding = 3) buffer S1 { float s1[]; };   // exp_avg_sq

void main()
{
    uint n = pc.p[OP_N], flags = pc.p[OP_FLAGS];
    float lr = pf(OP_LR), b1 = pf(OP_B1), b2 = pf(OP_B2), wd = pf(OP_WD);
    uint op = pc.p[0], og = pc.p[1], o0 = pc.p[2], o1 = pc.p[3];
    for (uint i = gl_GlobalInvocationID.x; i < n; i += GRID_STRIDE) {
        float p = param[op + i];
        float g = grad[og + i];
        if (MODE == OP_SGD) {
            g += wd * p;
            if ((flags & 4u) != 0u) {
                float buf = (flags & 2u) != 0u ? g : b1 * s0[o0 + i] + (1.0 - b2) * g;
                s0[o0 + i] = buf;
                g = (flags & 1u) != 0u ? g + b1 * buf : buf;
            }
            param[op + i] = p - lr * g;
        } else {
            if ((flags & 1u) != 0u)
                p *= 1.0 - lr * wd;
            else
                g += wd * p;
            float m = b1 * s0[o0 + i] + (1.0 - b1) * g;
            float v = b2 * s1[o1 + i] + (1.0 - b2) * g * g;
            s0[o0 + i] = m;
            s1[o1 + i] = v;
            float denom = sqrt(v) / sqrt(pf(OP_BC2)) + pf(OP_EPS);
            param[op + i] = p - (lr / pf(OP_BC1)) * m / denom;
        }
    }
}
