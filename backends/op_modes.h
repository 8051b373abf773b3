/* glia — the op modes, shared by the C code and the OpenCL kernels.
 *
 * Both languages include this file (the OpenCL programs get it prepended to
 * common.cl), so a kernel switches on the same names the host sets and the
 * two cannot drift apart. Plain preprocessor lists and enums only: it must be
 * valid C99 and OpenCL C 1.2.
 *
 * GLIA_UNARY_MODES rows are X(NAME, grad): grad says what UNARY_BWD reads in
 * slot t0 for the mode: GLIA_GRAD_X the forward input, GLIA_GRAD_Y the forward
 * output, GLIA_GRAD_LINEAR nothing (the derivative is the constant a: AFFINE),
 * GLIA_GRAD_NONE no gradient (the op is not differentiable). The autograd
 * layer keeps exactly that tensor alive for the backward; backends implement
 * UNARY_BWD for every mode whose grad is X or Y. */
#ifndef GLIA_OP_MODES_H
#define GLIA_OP_MODES_H

typedef enum glia_grad_reads {
    GLIA_GRAD_NONE, GLIA_GRAD_LINEAR, GLIA_GRAD_X, GLIA_GRAD_Y
} glia_grad_reads;

#define GLIA_UNARY_MODES(X)                                                   \
    X(AFFINE, GLIA_GRAD_LINEAR)    /* y = a*x + b                          */ \
    X(RELU, GLIA_GRAD_Y)           /* y = max(x, 0), NaN passes            */ \
    X(SIGMOID, GLIA_GRAD_Y)        /* y = 1 / (1 + e^-x)                   */ \
    X(THRESHOLD, GLIA_GRAD_NONE)   /* y = x > a ? 1 : 0                    */ \
    X(GELU, GLIA_GRAD_X)           /* y = x * Phi(x), exact (erf) form     */ \
    X(LEAKY_RELU, GLIA_GRAD_Y)     /* y = x > 0 ? x : a*x, slope a > 0 (so \
                                      y > 0 iff x > 0: the grad reads y)   */

#define GLIA_BINARY_MODES(X) \
    X(MUL)                   /* z = x * y */ \
    X(DIV)                   /* z = x / y */

#define GLIA_MODE_ENUM_UNARY_(name, grad) GLIA_UNARY_##name,
#define GLIA_MODE_ENUM_BINARY_(name) GLIA_BINARY_##name,
typedef enum glia_unary_mode { GLIA_UNARY_MODES(GLIA_MODE_ENUM_UNARY_) GLIA_UNARY_COUNT_ } glia_unary_mode;
typedef enum glia_binary_mode { GLIA_BINARY_MODES(GLIA_MODE_ENUM_BINARY_) GLIA_BINARY_COUNT_ } glia_binary_mode;

#endif
