// glia — max pooling forward over N*C planes (no padding): the max of each
// window and the flat index d*H*W + h*W + w of its first maximum in the plane.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "vk_shader_abi.h"
#include "vk_common.glsl"

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer Y { float y[]; };
layout(std430, binding = 2) writeonly buffer I { int idx[]; };

void main()
{
    uint od = pc.p[PL_OUT], oh = pc.p[PL_OUT + 1], ow = pc.p[PL_OUT + 2];
    uint id = pc.p[PL_IN], ih = pc.p[PL_IN + 1], iw = pc.p[PL_IN + 2];
    uint total = pc.p[PL_PLANES] * od * oh * ow;
    for (uint i = gl_GlobalInvocationID.x; i < total; i += GRID_STRIDE) {
        uint t = fastdiv_at(i, PL_MAGIC), w = i - t * ow;
        uint t2 = fastdiv_at(t, PL_MAGIC + 2), h = t - t2 * oh;
        uint plane = fastdiv_at(t2, PL_MAGIC + 4), d = t2 - plane * od;
        uint base = pc.p[0] + plane * id * ih * iw;
        uint d0 = d * pc.p[PL_S], h0 = h * pc.p[PL_S + 1], w0 = w * pc.p[PL_S + 2];
        float best = x[base + (d0 * ih + h0) * iw + w0];
        uint arg = (d0 * ih + h0) * iw + w0;
        for (uint kd = 0u; kd < pc.p[PL_K]; kd++)
            for (uint kh = 0u; kh < pc.p[PL_K + 1]; kh++)
                for (uint kw = 0u; kw < pc.p[PL_K + 2]; kw++) {
                    uint at = ((d0 + kd) * ih + h0 + kh) * iw + w0 + kw;
                    float v = x[base + at];
                    if (v > best) {
                        best = v;
                        arg = at;
                    }
                }
        y[pc.p[1] + i] = best;
        idx[pc.p[2] + i] = int(arg);
    }
}
