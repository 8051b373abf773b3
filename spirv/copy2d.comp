// glia — strided 2-D copy: dst[r*dst_ld + c] = src[r*src_ld + c] + beta*dst[..].
#version 450
#extension GL_GOOGLE_include_directive : require
#include "vk_shader_abi.h"
#include "vk_common.glsl"

layout(std430, binding = 0) readonly buffer S { float src[]; };
layout(std430, binding = 1) buffer D { float dst[]; };

void main()
{
    uint rows = pc.p[CP_ROWS], cols = pc.p[CP_COLS];
    uint total = rows * cols;
    float beta = pf(CP_BETA);
    for (uint i = gl_GlobalInvocationID.x; i < total; i += GRID_STRIDE) {
        uint r = fastdiv_at(i, CP_MAGIC), c = i - r * cols;
        uint d = pc.p[1] + r * pc.p[CP_DLD] + c;
        float v = src[pc.p[0] + r * pc.p[CP_SLD] + c];
        if (beta != 0.0)
            v += beta * dst[d];
        dst[d] = v;
    }
}
