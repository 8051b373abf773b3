/* The FLOPs of SwinUNETR's Swin stages (glia_model_matmul_flops), which the
 * convolution list cannot express: what the benchmarks set beside the
 * convolutions' count so that SwinUNETR's GFLOP/s means the same as the
 * U-Nets'. The windows come from glia_swin_axis, the rule forward runs. */
#include "swin.h"

/* 2 x multiply-adds of the forward matrix products, stage by stage. A stage of
 * C channels over T tokens (side^3 per sample) runs GLIA_SWIN_DEPTH blocks of:
 *   qkv     2 Tw C 3C    on the window tokens Tw: the far ends are zero-padded
 *   proj    2 Tw C C     to window multiples, and the padding is computed too
 *   q k^T   2 Tw n C     n tokens per window; summed over the heads, whose
 *   a v     2 Tw n C     channels make up C
 *   fc1/fc2 2 T C 4C each (the MLP runs on the unpadded tokens)
 * then the patch merging's reduction, 2 (T/8) 8C 2C. Not counted, being O(T C)
 * or less: layer norms, softmax, GELU, biases, the position bias and mask
 * additions, the residual adds, the bias table gather. */
double glia_swin_matmul_flops(const glia_model_config *c, int64_t batch, int64_t size)
{
    double flops = 0;
    for (int i = 0; i < GLIA_SWIN_STAGES; i++) {
        int64_t side = size >> (i + 1), padded; /* the patch embedding halves, then each merge */
        int ws, shift;
        glia_swin_axis(side, &ws, &shift, &padded);
        double ch = (double)GLIA_SWIN_FEATURE_SIZE(c) * (double)(1 << i), n = (double)ws * ws * ws;
        double t = (double)batch * (double)side * (double)(side * side);
        double tw = (double)batch * (double)padded * (double)(padded * padded);
        double block = 2 * tw * ch * 3 * ch + 2 * tw * ch * ch + 2 * (2 * tw * n * ch) + 2 * (2 * t * ch * 4 * ch);
        flops += GLIA_SWIN_DEPTH * block + 2 * (t / 8) * (8 * ch) * (2 * ch);
    }
    return flops;
}
