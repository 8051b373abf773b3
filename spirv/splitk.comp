// glia — finish a split-K GEMM: C = alpha * sum_s W[b][s] + beta * C, summing
// the slices in a fixed order (deterministic, no atomics).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "vk_shader_abi.h"
#include "vk_common.glsl"

layout(std430, binding = 0) readonly buffer W { float ws[]; };
layout(std430, binding = 1) buffer C { float c[]; };

void main()
{
    uint m = pc.p[SK_M], n = pc.p[SK_N], ns = pc.p[SK_S];
    uint mn = m * n;
    float alpha = pf(SK_ALPHA), beta = pf(SK_BETA);
    for (uint b = gl_WorkGroupID.y; b < pc.p[SK_BATCH]; b += gl_NumWorkGroups.y) {
        for (uint i = gl_GlobalInvocationID.x; i < mn; i += GRID_STRIDE) {
            uint r = fastdiv_at(i, SK_MAGIC), col = i - r * n;
            float s = 0.0;
            for (uint k = 0u; k < ns; k++)
                s += ws[pc.p[0] + (b * ns + k) * mn + i];
            uint at = pc.p[1] + b * pc.p[SK_SC] + r * pc.p[SK_LDC] + col;
            float v = alpha * s;
            if (beta != 0.0)
                v += beta * c[at];
            c[at] = v;
        }
    }
}
