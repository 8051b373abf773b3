// glia — nearest upsampling by integer factors (k) over N*C planes, and its
// backward (each input element sums its block of dy).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "vk_shader_abi.h"
#include "vk_common.glsl"

layout(constant_id = 1) const uint MODE = 0;

layout(std430, binding = 0) readonly buffer S { float src[]; };
layout(std430, binding = 1) writeonly buffer D { float dst[]; };

void main()
{
    uint od = pc.p[PL_OUT], oh = pc.p[PL_OUT + 1], ow = pc.p[PL_OUT + 2];
    uint id = pc.p[PL_IN], ih = pc.p[PL_IN + 1], iw = pc.p[PL_IN + 2];
    uint sd = pc.p[PL_K], sh = pc.p[PL_K + 1], sw = pc.p[PL_K + 2];
    // walk the output (forward) or the input (backward)
    uint wd = MODE == PL_FWD ? od : id, wh = MODE == PL_FWD ? oh : ih, ww = MODE == PL_FWD ? ow : iw;
    uint total = pc.p[PL_PLANES] * wd * wh * ww;
    for (uint i = gl_GlobalInvocationID.x; i < total; i += GRID_STRIDE) {
        uint t = fastdiv_at(i, PL_MAGIC), w = i - t * ww;
        uint t2 = fastdiv_at(t, PL_MAGIC + 2), h = t - t2 * wh;
        uint plane = fastdiv_at(t2, PL_MAGIC + 4), d = t2 - plane * wd;
        if (MODE == PL_FWD) {
            uint at = plane * id * ih * iw + ((d / sd) * ih + h / sh) * iw + w / sw;
            dst[pc.p[1] + i] = src[pc.p[0] + at];
        } else {
            float g = 0.0;
            uint base = pc.p[0] + plane * od * oh * ow;
            for (uint a = 0u; a < sd; a++)
                for (uint b = 0u; b < sh; b++)
                    for (uint c = 0u; c < sw; c++) {
                        uint y = d * sd + a, x = h * sh + b, z = w * sw + c;
                        if (y < od && x < oh && z < ow)
                            g += src[base + (y * oh + x) * ow + z];
                    }
            dst[pc.p[1] + i] = g;
        }
    }
}
