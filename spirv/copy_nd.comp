// glia — N-d strided copy (COPY_ND): invocation i is the flat index over the
// shape (last axis fastest); dst[sum i_k*dst_stride_k] = src[sum i_k*src_stride_k]
// + beta*dst[..]. Extents fit 32 bits (the host checks).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "vk_shader_abi.h"
#include "vk_common.glsl"

layout(std430, binding = 0) readonly buffer S { float src[]; };
layout(std430, binding = 1) buffer D { float dst[]; };

void main()
{
    uint n = pc.p[CN_N];
    int ndim = int(pc.p[CN_NDIM]);
    float beta = pf(CN_BETA);
    for (uint i = gl_GlobalInvocationID.x; i < n; i += GRID_STRIDE) {
        uint rest = i, s = pc.p[0], d = pc.p[1];
        for (int k = ndim - 1; k >= 0; k--) {
            uint len = pc.p[CN_SHAPE + k];
            uint q = rest / len;
            uint ik = rest - q * len;
            rest = q;
            s += ik * pc.p[CN_SSTRIDE + k];
            d += ik * pc.p[CN_DSTRIDE + k];
        }
        float v = src[s];
        if (beta != 0.0)
            v += beta * dst[d];
        dst[d] = v;
    }
}
