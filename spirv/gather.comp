// glia — row gather (GATHER_ROWS) and its backward: per table row, the sum of
// the gathered rows' gradients through the inverse index, in a fixed order
// with compensated sums (deterministic, no float atomics).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "vk_shader_abi.h"
#include "vk_common.glsl"

layout(constant_id = 1) const uint MODE = 0;

layout(std430, binding = 0) readonly buffer B0 { float src[]; };
layout(std430, binding = 1) readonly buffer B1 { int ix[]; };
layout(std430, binding = 2) readonly buffer B2 { int start[]; };   // backward only
layout(std430, binding = 3) writeonly buffer B3 { float dst[]; };  // y or dtable

void kadd(inout float s, inout float c, float x)
{
    precise float y = x - c;
    precise float t = s + y;
    precise float e = (t - s) - y;
    c = e;
    s = t;
}

void main()
{
    uint n = pc.p[GA_N], w = pc.p[GA_W], rows = pc.p[GA_ROWS];
    if (MODE == GA_FWD) {
        for (uint e = gl_GlobalInvocationID.x; e < n * w; e += GRID_STRIDE) {
            uint i = e / w, c = e - i * w;
            dst[pc.p[3] + e] = src[pc.p[0] + uint(ix[pc.p[1] + i]) * w + c];
        }
    } else {
        for (uint e = gl_GlobalInvocationID.x; e < rows * w; e += GRID_STRIDE) {
            uint r = e / w, c = e - r * w;
            float s = 0.0, comp = 0.0;
            for (int k = start[pc.p[2] + r]; k < start[pc.p[2] + r + 1u]; k++)
                kadd(s, comp, src[pc.p[0] + uint(ix[pc.p[1] + uint(k)]) * w + c]);
            dst[pc.p[3] + e] = s;
        }
    }
}
