/* glia — the segmentation models: unet2d, r2unet, unet3d.
 *
 * A model is a configuration, a parameter set whose names are those of the
 * PyTorch reference modules (so checkpoints load with load_state_dict(strict=True)
 * either way), and a forward function built from the differentiable ops; the
 * backward pass comes from the autograd tape.
 *
 * Names, for features f_0..f_{L-1} ("DoubleConv" = conv1, bn1, conv2, bn2: two
 * 3x3 convolutions with padding 1, each followed by batch norm and ReLU):
 * - unet2d / unet3d: enc.i = DoubleConv (each followed by 2x max-pooling),
 *   bottleneck = DoubleConv(f_{L-1} -> 2 f_{L-1}), up.i = ConvTranspose(kernel 2,
 *   stride 2) from the channels coming up to f (deepest first), dec.i =
 *   DoubleConv(2f -> f) on [skip, up], head = conv 1x1 (f_0 -> out).
 * - r2unet: enc.i = RRCNN (proj = conv 1x1, rec1, rec2 = recurrent blocks with
 *   conv 3x3 + bn applied t+1 times), max-pooling between levels, up.i = conv 3x3
 *   + bn + ReLU after nearest upsampling x2, dec.i = RRCNN(2f -> f), head. */
#ifndef GLIA_MODEL_H
#define GLIA_MODEL_H

#include "params.h"

#ifdef __cplusplus
extern "C" {
#endif

#define GLIA_MODEL_MAX_LEVELS 8

typedef enum glia_model_arch {
    GLIA_MODEL_UNET2D = 0,   /* Ronneberger et al. 2015 */
    GLIA_MODEL_R2UNET,       /* Alom et al. 2018, recurrent residual U-Net (2D) */
    GLIA_MODEL_UNET3D,       /* the U-Net with 3D convolutions (BraTS) */
    GLIA_MODEL_ARCH_COUNT_   /* number of architectures; not one */
} glia_model_arch;

/* A model's full configuration; a checkpoint stores it. Start from
 * glia_model_config_default and change what you need. */
typedef struct glia_model_config {
    glia_model_arch arch;
    int in_channels;
    int out_channels;
    int levels;                             /* number of entries in features (r2unet: >= 2) */
    int features[GLIA_MODEL_MAX_LEVELS];    /* channels per level, shallowest first */
    int batchnorm;                          /* unet2d/unet3d: 1 = batch norm after each 3x3 conv */
    int t;                                  /* r2unet: recurrent steps (>= 1); 0 elsewhere */
} glia_model_config;

/* ---- registry ------------------------------------------------------------- */
/* "unet2d", "r2unet", "unet3d"; NULL for a value out of range. */
const char *glia_model_arch_name(glia_model_arch arch);
/* The architecture of a name; INVALID_ARGUMENT (listing the names) if unknown. */
glia_status glia_model_arch_from_name(const char *name, glia_model_arch *arch);
/* The defaults of an architecture (the sizes the issue fixes). */
glia_status glia_model_config_default(glia_model_arch arch, glia_model_config *cfg);
/* Check every field; INVALID_ARGUMENT names the bad one. Sizes: channels and
 * features 1 to 65536, levels 1 to GLIA_MODEL_MAX_LEVELS, t 1 to 16. */
glia_status glia_model_config_check(const glia_model_config *cfg);
/* Spatial axes of the model's input: 2 (N,C,H,W) or 3 (N,C,D,H,W). */
int glia_model_config_spatial_dims(const glia_model_config *cfg);
/* Number of 2x poolings: every spatial side must be a multiple of 2^this. */
int glia_model_config_pool_levels(const glia_model_config *cfg);

/* ---- models --------------------------------------------------------------- */
typedef struct glia_model glia_model;

/* Build a model on dev, its weights drawn from glia's seeded RNG with PyTorch's
 * default initialisation (Kaiming-uniform a=sqrt(5), uniform bias), so a seed
 * gives the same weights on every backend. */
glia_status glia_model_create(glia_device *dev, const glia_model_config *cfg, uint64_t seed, glia_model **out);
/* Free the model and its parameters. NULL is a no-op. */
void glia_model_free(glia_model *m);
const glia_model_config *glia_model_get_config(const glia_model *m);
glia_device *glia_model_device(const glia_model *m);
/* The parameter set (owned by the model; valid until glia_model_free): trainable
 * weights, batch-norm running statistics and num_batches_tracked counters. */
glia_params *glia_model_params(glia_model *m);
/* Check an input shape (ndim entries) against the model: rank, channel count
 * and spatial sides divisible by 2^pool_levels. SHAPE_MISMATCH says which. */
glia_status glia_model_check_input(const glia_model *m, int ndim, const int64_t *shape);
/* Raw logits (N, out_channels, spatial...) of x. train = 1 uses batch
 * statistics in batch norm and updates the running statistics and
 * num_batches_tracked (PyTorch's model.train()); 0 uses the running statistics.
 * Ops record on the tape when grad mode is on. */
glia_status glia_model_forward(glia_model *m, glia_tensor *x, int train, glia_tensor **out);

#ifdef __cplusplus
}
#endif
#endif
