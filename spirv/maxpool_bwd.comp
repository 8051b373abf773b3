// glia — max pooling backward as a gather: each input element sums dy of the
// windows that contain it and whose recorded argmax is this element (no
// atomics, so the result is deterministic and overwrites dx).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "vk_shader_abi.h"
#include "vk_common.glsl"

layout(std430, binding = 0) readonly buffer DY { float dy[]; };
layout(std430, binding = 1) readonly buffer I { int idx[]; };
layout(std430, binding = 2) writeonly buffer DX { float dx[]; };

// Windows o with o*s <= i < o*s + k, clipped to [0, out).
uvec2 windows(uint i, uint k, uint s, uint out_n)
{
    uint lo = i + 1u > k ? (i + 1u - k + s - 1u) / s : 0u;
    uint hi = min(i / s + 1u, out_n);
    return uvec2(lo, hi);
}

void main()
{
    uint od = pc.p[PL_OUT], oh = pc.p[PL_OUT + 1], ow = pc.p[PL_OUT + 2];
    uint id = pc.p[PL_IN], ih = pc.p[PL_IN + 1], iw = pc.p[PL_IN + 2];
    uint total = pc.p[PL_PLANES] * id * ih * iw;
    for (uint i = gl_GlobalInvocationID.x; i < total; i += GRID_STRIDE) {
        uint t = fastdiv_at(i, PL_MAGIC), w = i - t * iw;
        uint t2 = fastdiv_at(t, PL_MAGIC + 2), h = t - t2 * ih;
        uint plane = fastdiv_at(t2, PL_MAGIC + 4), d = t2 - plane * id;
        int self = int((d * ih + h) * iw + w);
        uvec2 rd = windows(d, pc.p[PL_K], pc.p[PL_S], od);
        uvec2 rh = windows(h, pc.p[PL_K + 1], pc.p[PL_S + 1], oh);
        uvec2 rw = windows(w, pc.p[PL_K + 2], pc.p[PL_S + 2], ow);
        uint obase = plane * od * oh * ow;
        float g = 0.0;
        for (uint a = rd.x; a < rd.y; a++)
            for (uint b = rh.x; b < rh.y; b++)
                for (uint c = rw.x; c < rw.y; c++) {
                    uint o = obase + (a * oh + b) * ow + c;
                    if (idx[pc.p[1] + o] == self)
                        g += dy[pc.p[0] + o];
                }
        dx[pc.p[2] + i] = g;
    }
}
