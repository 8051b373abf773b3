// glia — elementwise ops over n elements (FILL, AXPBYZ, BINARY, UNARY,
// UNARY_BWD, BCE_LOGITS and its backward); the mode is a specialisation constant.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "vk_shader_abi.h"
#include "vk_common.glsl"

layout(constant_id = 1) const uint MODE = 0;

// No restrict: the output may alias an input.
layout(std430, binding = 0) buffer B0 { float b0[]; };
layout(std430, binding = 1) buffer B1 { float b1[]; };
layout(std430, binding = 2) buffer B2 { float b2[]; };
layout(std430, binding = 3) buffer B3 { float b3[]; };

// erfc(x), for GELU: GLSL has no erf. The Chebyshev fit of Numerical Recipes
// (erfcc), relative error below 1.2e-7 over the whole line, so the negative
// tail of GELU, x/2 * erfc(-x/sqrt 2), keeps full float precision where
// 1 + erf would cancel.
float erfc_(float x)
{
    float z = abs(x), t = 1.0 / (1.0 + 0.5 * z);
    float p = -0.82215223 + t * 0.17087277;
    p = 1.48851587 + t * p;
    p = -1.13520398 + t * p;
    p = 0.27886807 + t * p;
    p = -0.18628806 + t * p;
    p = 0.09678418 + t * p;
    p = 0.37409196 + t * p;
    p = 1.00002368 + t * p;
    float r = t * exp(-z * z - 1.26551223 + t * p);
    return x >= 0.0 ? r : 2.0 - r;
}

const float SQRT1_2 = 0.70710678118654752;
const float INV_SQRT_2PI = 0.39894228040143268;

float sigmoid(float x)
{
    // exp of a non-positive argument never overflows
    float e = exp(-abs(x));
    return x >= 0.0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
}

void main()
{
    uint n = pc.p[EW_N];
    float a = pf(EW_A), b = pf(EW_B);
    uint o0 = pc.p[0], o1 = pc.p[1], o2 = pc.p[2], o3 = pc.p[3];
    float fill = a;
    if (MODE == EW_FILL && pc.p[EW_FLAG] != 0u)
        fill = a * b1[o1];
    for (uint i = gl_GlobalInvocationID.x; i < n; i += GRID_STRIDE) {
        if (MODE == EW_FILL) {
            b0[o0 + i] = fill;
        } else if (MODE == EW_AXPBYZ) {
            float z = a * b0[o0 + i];
            if (pc.p[EW_FLAG] != 0u)
                z += b * b1[o1 + i];
            b2[o2 + i] = z;
        } else if (MODE == EW_MUL) {
            b2[o2 + i] = b0[o0 + i] * b1[o1 + i];
        } else if (MODE == EW_DIV) {
            b2[o2 + i] = b0[o0 + i] / b1[o1 + i];
        } else if (MODE == EW_AFFINE) {
            b1[o1 + i] = a * b0[o0 + i] + b;
        } else if (MODE == EW_RELU) {
            b1[o1 + i] = b0[o0 + i] < 0.0 ? 0.0 : b0[o0 + i]; /* NaN passes (max() leaves NaN undefined) */
        } else if (MODE == EW_SIGMOID) {
            b1[o1 + i] = sigmoid(b0[o0 + i]);
        } else if (MODE == EW_THRESHOLD) {
            b1[o1 + i] = b0[o0 + i] > a ? 1.0 : 0.0;
        } else if (MODE == EW_RELU_BWD) {
            b2[o2 + i] = b0[o0 + i] > 0.0 ? b1[o1 + i] : 0.0;
        } else if (MODE == EW_SIGMOID_BWD) {
            float y = b0[o0 + i];
            b2[o2 + i] = b1[o1 + i] * y * (1.0 - y);
        } else if (MODE == EW_GELU) {
            float x = b0[o0 + i];
            b1[o1 + i] = 0.5 * x * erfc_(-x * SQRT1_2);
        } else if (MODE == EW_GELU_BWD) {
            float x = b0[o0 + i];
            b2[o2 + i] = b1[o1 + i] * (0.5 * erfc_(-x * SQRT1_2) + x * INV_SQRT_2PI * exp(-0.5 * x * x));
        } else if (MODE == EW_LEAKY_RELU) {
            float x = b0[o0 + i];
            b1[o1 + i] = x > 0.0 ? x : a * x;
        } else if (MODE == EW_LEAKY_RELU_BWD) {
            b2[o2 + i] = b0[o0 + i] > 0.0 ? b1[o1 + i] : a * b1[o1 + i];
        } else if (MODE == EW_BCE) {
            float x = b0[o0 + i];
            b2[o2 + i] = max(x, 0.0) - x * b1[o1 + i] + log(1.0 + exp(-abs(x)));
        } else if (MODE == EW_BCE_BWD) {
            b3[o3 + i] = b2[o2] * a * (sigmoid(b0[o0 + i]) - b1[o1 + i]);
        }
    }
}
