/* glia — SwinUNETR's private layer table (swinunetr.c builds it and runs the
 * convolutional parts; swin_blocks.c runs the Swin transformer stages). */
#ifndef GLIA_SWIN_H
#define GLIA_SWIN_H

#include "model_impl.h"

#define GLIA_SWIN_STAGES 4
#define GLIA_SWIN_DEPTH 2     /* blocks per stage (MONAI's depths 2,2,2,2) */
#define GLIA_SWIN_WINDOW 7    /* MONAI's window_size */

/* The options' places in glia_model_config (swinunetr.c's field table names them). */
#define GLIA_SWIN_FEATURE_SIZE(c) ((c)->extra[0])
#define GLIA_SWIN_USE_V2(c) ((c)->extra[1])

/* nn.Linear or nn.LayerNorm: weight and bias (bias NULL where there is none). */
typedef struct glia_swin_wb {
    glia_tensor *w, *b;
} glia_swin_wb;

/* MONAI's UnetResBlock: conv1, conv2 and, when channels change, conv3 (no biases). */
typedef struct glia_swin_res {
    glia_mconv conv1, conv2, conv3;
    int downsample;
} glia_swin_res;

typedef struct glia_swin_block {
    glia_swin_wb norm1, qkv, proj, norm2, fc1, fc2;
    glia_tensor *table; /* relative_position_bias_table ((2w-1)^3, heads) */
} glia_swin_block;

typedef struct glia_swin_stage {
    glia_swin_block blk[GLIA_SWIN_DEPTH];
    glia_swin_wb merge_norm, reduction;
    glia_swin_res v2; /* layers<i>c (use_v2 only) */
    int dim, heads;
} glia_swin_stage;

typedef struct glia_swin_layers {
    glia_mconv embed;
    glia_swin_stage stage[GLIA_SWIN_STAGES];
    glia_swin_res enc[5];               /* encoder1, 2, 3, 4, 10 */
    glia_mconv up[5];                   /* decoder5 .. decoder1: transp_conv */
    glia_swin_res dec[5];               /* their conv_block */
    glia_mconv out;
} glia_swin_layers;

/* Run call (which writes next_) when s is still OK, then put its result in
 * place of v, releasing v's old tensor: the forward chains pass one tensor
 * along with it, and a failure leaves v NULL and s set. */
#define GLIA_SWIN_STEP(s, v, call)                                                                                \
    do {                                                                                                          \
        glia_tensor *next_ = NULL;                                                                                \
        if ((s) == GLIA_STATUS_OK)                                                                                \
            (s) = (call);                                                                                         \
        glia_mreplace(&(v), next_);                                                                               \
    } while (0)

/* Entry (i, j) of MONAI's relative_position_index for the full window: the
 * row of the bias table that token i attending to token j reads. */
int32_t glia_swin_rel_index(int i, int j);
/* MONAI's UnetResBlock of x (B, C, D, H, W). */
glia_status glia_swin_res_fwd(const glia_swin_res *r, glia_tensor *x, glia_tensor **out);
/* One stage (Swin blocks, then patch merging) of x (B, C, D, H, W) into
 * (B, 2C, D/2, H/2, W/2). */
glia_status glia_swin_stage_fwd(const glia_swin_stage *st, glia_tensor *x, glia_tensor **out);
/* The parameter-free LayerNorm over channels of a (B, C, D, H, W) skip. */
glia_status glia_swin_channel_norm(glia_tensor *x, glia_tensor **out);
/* get_window_size with "<=" on an axis of `side` voxels: an axis no longer
 * than the window is one window, unshifted; a longer one has windows of
 * GLIA_SWIN_WINDOW, shifted by half of it in the shifted blocks, and is
 * zero-padded to a multiple of it. */
void glia_swin_axis(int64_t side, int *ws, int *shift, int64_t *padded);
/* glia_model_matmul_flops of SwinUNETR (swin_flops.c). */
double glia_swin_matmul_flops(const glia_model_config *c, int64_t batch, int64_t size);

#endif
