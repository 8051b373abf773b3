/* 3D U-Net of the BraTS study: the U-Net of unet2d.c with 3D convolutions, 3D
 * batch norm, 2x2x2 pooling and ConvTranspose3d. Inputs are the four MRI
 * modalities (T1, T1ce, T2, FLAIR); outputs the three overlapping regions
 * (whole tumour, tumour core, enhancing tumour). */
#include "model_impl.h"

const glia_arch glia_arch_unet3d = {
    .name = "unet3d",
    .nsp = 3,
    .defaults = {.arch = GLIA_MODEL_UNET3D, .in_channels = 4, .out_channels = 3, .levels = 4,
                 .features = {8, 16, 32, 64}, .batchnorm = 1},
    .pool_levels_less = 0,
    .fields = glia_unet_fields,
    .nfields = GLIA_UNET_NFIELDS,
    .recognise = glia_unet_recognise,
    .build = glia_unet_build,
    .conv_layers = glia_unet_conv_layers,
    .forward = glia_unet_forward,
};
