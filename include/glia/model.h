/* glia — the segmentation models: unet2d, r2unet, unet3d, swinunetr.
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
 *   + bn + ReLU after nearest upsampling x2, dec.i = RRCNN(2f -> f), head.
 * - swinunetr: MONAI 1.5's SwinUNETR names (swinViT.*, encoder1..4, encoder10,
 *   decoder5..1, out), without the int64 relative_position_index buffers,
 *   which glia derives; options feature_size (a multiple of 12) and use_v2;
 *   input sides multiples of 32. */
#ifndef GLIA_MODEL_H
#define GLIA_MODEL_H

#include "params.h"
#include "ops.h"

#ifdef __cplusplus
extern "C" {
#endif

#define GLIA_MODEL_MAX_LEVELS 8
#define GLIA_MODEL_MAX_EXTRA 8

typedef enum glia_model_arch {
    GLIA_MODEL_UNET2D = 0,   /* Ronneberger et al. 2015 */
    GLIA_MODEL_R2UNET,       /* Alom et al. 2018, recurrent residual U-Net (2D) */
    GLIA_MODEL_UNET3D,       /* the U-Net with 3D convolutions (BraTS) */
    GLIA_MODEL_SWINUNETR,    /* Hatamizadeh et al. 2022, MONAI's SwinUNETR (3D) */
    GLIA_MODEL_ARCH_COUNT_   /* number of architectures; not one */
} glia_model_arch;

/* A model's full configuration; a checkpoint stores it. Start from
 * glia_model_config_default and change what you need. Which fields an
 * architecture uses, under which JSON keys and command-line flags, with which
 * ranges, its field table says (glia_model_field below): code outside models/
 * goes through that table, never through the fields by name. */
typedef struct glia_model_config {
    glia_model_arch arch;
    int in_channels;
    int out_channels;
    int levels;                             /* number of entries in features (r2unet: >= 2) */
    int features[GLIA_MODEL_MAX_LEVELS];    /* channels per level, shallowest first */
    int batchnorm;                          /* unet2d/unet3d: 1 = batch norm after each 3x3 conv */
    int t;                                  /* r2unet: recurrent steps (>= 1); 0 elsewhere */
    /* whole-number options of architectures that need more than the above, at
     * the offsets their field tables give; zero where unused */
    int extra[GLIA_MODEL_MAX_EXTRA];
} glia_model_config;

/* ---- registry ------------------------------------------------------------- */
/* "unet2d", "r2unet", "unet3d", "swinunetr"; NULL for a value out of range. */
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

/* One convolution of a model's forward pass: cin -> cout channels at spatial
 * side `side` on every axis, kernel k (stride 1, padding k/2); or, transposed,
 * the k2 s2 up-convolution from side/2 to side; or, strided, the k stride-k
 * convolution without padding from side to side/k (a patch embedding). */
typedef struct glia_model_conv_layer {
    int64_t cin, cout, side;
    int k, transposed;
    int uses;        /* applications per forward pass (recurrent blocks reuse weights) */
    int needs_dx;    /* 0 when training needs no input gradient (the first layer) */
    int strided;     /* a patch embedding (never with transposed) */
} glia_model_conv_layer;
/* The convolutions cfg's forward pass runs on inputs of side `size`, in order:
 * fills out[0..max-1] and returns their number (which may exceed max); 0 for
 * an invalid configuration. Benchmarks count FLOPs and time layers with it. */
int glia_model_conv_layers(const glia_model_config *cfg, int64_t size, glia_model_conv_layer *out, int max);
/* 2 x the multiply-adds of the matrix products cfg's forward pass runs besides
 * its convolutions (a transformer's linear layers and attention), on a batch
 * of `batch` inputs of side `size` on every axis; 0 for a model without any
 * (the U-Nets) or an invalid configuration. The model's file says what it
 * counts. Benchmarks add it to the convolutions' FLOPs. */
double glia_model_matmul_flops(const glia_model_config *cfg, int64_t batch, int64_t size);

/* ---- configuration fields --------------------------------------------------
 * Every architecture lists its options as a table: in_channels and
 * out_channels, which all share, then its own. Checkpoint metadata, training
 * configurations and the command line (glia init, glia train) read and write
 * a configuration only through these tables. */
/* Fields 0 and 1 of every architecture: in_channels and out_channels. */
#define GLIA_MODEL_COMMON_FIELDS 2

typedef enum glia_model_field_type {
    GLIA_MODEL_FIELD_INT = 0,   /* a whole number in [min, max]; JSON number; "--flag N" */
    GLIA_MODEL_FIELD_BOOL,      /* 0 or 1; JSON true/false; "--flag" sets it, "--no-flag" clears it */
    GLIA_MODEL_FIELD_INT_LIST,  /* 1 to max_count whole numbers in [min, max]; JSON array; "--flag 8,16,32" */
} glia_model_field_type;

typedef struct glia_model_field {
    const char *key;            /* JSON key in checkpoints and training configurations ("features") */
    const char *flag;           /* command-line flag ("features": --features; a BOOL also takes --no-<flag>) */
    glia_model_field_type type;
    int min, max;               /* range of the value (of each value of a list) */
    int multiple;               /* INT: the value must be a multiple of this (0: any) */
    int min_count, max_count;   /* INT_LIST: how many values; 1 otherwise */
    size_t offset;              /* of the int (a list: its first int) in glia_model_config */
    size_t count_offset;        /* INT_LIST: of the int holding the count */
    const char *item;           /* INT_LIST: what one value is called in messages ("feature") */
    const char *help;           /* one line */
} glia_model_field;

/* Field i (0-based) of an architecture; NULL past the end or for a bad arch. */
const glia_model_field *glia_model_field_at(glia_model_arch arch, int i);
/* The field of arch with this key ('-' may stand for '_'); failing that, any
 * architecture's field of that key, so that records listing every key (as
 * older checkpoints and configurations do) still read: glia_model_config_check
 * then rejects a value the architecture cannot take. NULL if no model has it. */
const glia_model_field *glia_model_field_find(glia_model_arch arch, const char *key);
/* Distinct field i over all architectures (for flag tables and help); NULL past the end. */
const glia_model_field *glia_model_field_any(int i);
/* Set a field from text: a number, true/false (also 1/0), or a comma-separated
 * list. INVALID_ARGUMENT names the key and the accepted values. */
glia_status glia_model_field_set(glia_model_config *cfg, const glia_model_field *f, const char *text);
/* Set a field from whole numbers (n of them; 1 unless a list). INVALID_ARGUMENT as above. */
glia_status glia_model_field_set_ints(glia_model_config *cfg, const glia_model_field *f, const int *v, int n);
/* The field's values into v (at most max); returns their count (1 unless a list). */
int glia_model_field_get(const glia_model_config *cfg, const glia_model_field *f, int *v, int max);
/* The value as text ("8,16,32", "true", "2") into buf; "" if it does not fit. */
const char *glia_model_field_format(const glia_model_config *cfg, const glia_model_field *f, char *buf, size_t len);

/* The configuration of a checkpoint without metadata (a PyTorch export), from
 * its tensor names and shapes: shape_of gives the dimensions of a named
 * tensor (returning its rank, 0 when absent). Each architecture recognises
 * its own names. FORMAT_ERROR when none does; a recognised configuration is
 * checked. */
typedef int (*glia_model_shape_fn)(void *ctx, const char *name, int64_t shape[8]);
glia_status glia_model_config_recognise(glia_model_shape_fn shape_of, void *ctx, glia_model_config *cfg);

/* ---- a configuration's tensors, without building ---------------------------
 * What glia_model_create would add to the parameter set, listed from the
 * configuration alone: no tensor is allocated, so a checkpoint's metadata can
 * be checked against its tensors before a hostile configuration (features
 * 4096 x 4) costs gigabytes. */
typedef struct glia_model_tensor {
    const char *name;           /* valid during the callback */
    glia_param_kind kind;       /* counters have ndim 0 and etype I64 */
    glia_etype etype;
    int ndim;
    int64_t shape[GLIA_MAX_DIMS];
} glia_model_tensor;
/* Return GLIA_STATUS_OK to go on; any other status stops the listing. */
typedef glia_status (*glia_model_tensor_fn)(void *ctx, const glia_model_tensor *t);
/* Call fn on every entry of cfg's parameter set, in glia_model_create's order.
 * INVALID_ARGUMENT for a bad configuration; fn's status if it stops. */
glia_status glia_model_tensors(const glia_model_config *cfg, glia_model_tensor_fn fn, void *ctx);

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
/* Training-mode batch norm with statistics over every rank's batch
 * (glia_batch_norm_sync with sums, e.g. an allreduce over the job); NULL:
 * this process's batch alone (the default). */
void glia_model_set_sync_bn(glia_model *m, glia_sum_fn sums, void *user);

#ifdef __cplusplus
}
#endif
#endif
