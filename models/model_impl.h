/* glia — private model structures: the architecture table and the layers the
 * models share (convolution, batch norm, DoubleConv), built once in model.c. */
#ifndef GLIA_MODEL_IMPL_H
#define GLIA_MODEL_IMPL_H

#include <stddef.h>
#include "glia/glia.h"

/* A convolution (or transposed convolution); tensors borrowed from the model's set. */
typedef struct glia_mconv {
    glia_tensor *w, *b;
    glia_conv_params prm;
    int transposed;
} glia_mconv;

/* PyTorch's BatchNorm with its num_batches_tracked counter (kept by name in the set). */
typedef struct glia_mbn {
    glia_tensor *gamma, *beta, *mean, *var;
    char counter[160];
} glia_mbn;

/* conv1 -> bn1 -> ReLU -> conv2 -> bn2 -> ReLU (no bn when has_bn is 0). */
typedef struct glia_double_conv {
    glia_mconv conv1, conv2;
    glia_mbn bn1, bn2;
    int has_bn;
} glia_double_conv;

typedef struct glia_arch glia_arch;

/* A glia_model_conv_layers list being filled. */
typedef struct glia_mlayers {
    glia_model_conv_layer *out;
    int max, n;
} glia_mlayers;
/* Append one layer (counted even past max). */
void glia_mlayer(glia_mlayers *l, int64_t cin, int64_t cout, int64_t side, int k, int transposed, int uses,
                 int needs_dx);
/* Append a stride-k convolution from side to side/k, applied once. */
void glia_mlayer_strided(glia_mlayers *l, int64_t cin, int64_t cout, int64_t side, int k, int needs_dx);

struct glia_model {
    glia_model_config cfg;
    const glia_arch *arch;
    glia_device *dev;
    glia_params *params;
    glia_rng rng;      /* initialisation stream, used while building */
    void *layers;      /* the architecture's layer table: one allocation */
    glia_sum_fn sync_sums;   /* non-NULL: training batch norm over every rank's batch */
    void *sync_user;
    /* non-NULL while glia_model_tensors lists a configuration: builders report
     * each tensor here and allocate none (dev and params are NULL) */
    glia_model_tensor_fn list_fn;
    void *list_ctx;
};

struct glia_arch {
    const char *name;
    int nsp;                                   /* spatial axes */
    glia_model_config defaults;
    int pool_levels_less;                      /* poolings = levels - this */
    /* its options beyond in_channels and out_channels (which model.c lists for
     * all); a field of another architecture must keep this one's default */
    const glia_model_field *fields;
    int nfields;
    /* 1, with *cfg filled, when a checkpoint's tensors (names and shapes) are
     * this architecture's: how a PyTorch export without metadata is read */
    int (*recognise)(const glia_arch *a, glia_model_shape_fn shape_of, void *ctx, glia_model_config *cfg);
    glia_status (*build)(glia_model *m);       /* fills m->params and m->layers */
    /* lists the convolutions forward runs (glia_model_conv_layers) with glia_mlayer */
    void (*conv_layers)(glia_mlayers *l, const glia_model_config *cfg, int64_t size);
    /* glia_model_matmul_flops of a checked configuration; NULL: none */
    double (*matmul_flops)(const glia_model_config *cfg, int64_t batch, int64_t size);
    glia_status (*forward)(glia_model *m, glia_tensor *x, int train, glia_tensor **out);
};

/* The registry (model.c): architecture a, or NULL out of range. A new model is
 * its own file defining a glia_arch, plus its line in model.c's list and the
 * enum in glia/model.h. */
const glia_arch *glia_arch_get(glia_model_arch a);

extern const glia_arch glia_arch_unet2d, glia_arch_r2unet, glia_arch_unet3d, glia_arch_swinunetr;

/* Field table entries (offsets into glia_model_config). */
#define GLIA_MFIELD(key_, flag_, type_, lo, hi, field, help_)                                                    \
    {.key = key_, .flag = flag_, .type = type_, .min = lo, .max = hi, .min_count = 1, .max_count = 1,            \
     .offset = offsetof(glia_model_config, field), .help = help_}
#define GLIA_MFIELD_LIST(key_, flag_, lo, hi, nlo, nhi, field, count, item_, help_)                              \
    {.key = key_, .flag = flag_, .type = GLIA_MODEL_FIELD_INT_LIST, .min = lo, .max = hi, .min_count = nlo,       \
     .max_count = nhi, .offset = offsetof(glia_model_config, field), .count_offset = offsetof(glia_model_config, count), \
     .item = item_, .help = help_}
/* The U-Net family's channels per level, at least min_levels of them; the
 * bottleneck doubles the deepest, so each is at most half the channel limit. */
#define GLIA_MFIELD_FEATURES(min_levels)                                                                          \
    GLIA_MFIELD_LIST("features", "--features", 1, 32768, min_levels, GLIA_MODEL_MAX_LEVELS, features, levels,      \
                     "feature", "channels per level, shallowest first, e.g. 8,16,32,64")

/* Range checks from the field tables (fields.c), and the rule that a field
 * the architecture does not list keeps its default. */
glia_status glia_mfields_check_(const glia_arch *a, const glia_model_config *cfg);
/* Zero list entries beyond their count, so configurations compare whole. */
void glia_mfields_canonical_(glia_model_config *cfg);

/* Fill in_channels, out_channels and the features of the blocks named
 * "enc.<i>.<block>.weight" (of the given rank) and "head.weight"; 0 if enc.0's
 * is absent or of another rank. */
int glia_mrecognise_levels(glia_model_shape_fn shape_of, void *ctx, const char *block, int rank,
                           glia_model_config *cfg);
/* Does the checkpoint hold a tensor of this name? */
int glia_mhas(glia_model_shape_fn shape_of, void *ctx, const char *name);

/* Listing (m->list_fn set): report "<prefix>.<suffix>" (suffix NULL: prefix)
 * of this kind, element type and shape; the callback's status. */
glia_status glia_mlist(glia_model *m, const char *prefix, const char *suffix, glia_param_kind kind, glia_etype et,
                       int nd, const int64_t *shape);

/* Builders: add the parameters under `prefix` to m->params (drawing weights from
 * m->rng) and resolve the layer's tensors. */
/* glia_mconv_add's flags (0: a biased convolution, stride 1, padding k/2). */
enum {
    GLIA_MCONV_TRANSPOSED = 1,   /* the up-convolution: stride k, no padding */
    GLIA_MCONV_STRIDED = 2,      /* stride k, no padding (a patch embedding) */
    GLIA_MCONV_NO_BIAS = 4,
};
glia_status glia_mconv_add(glia_model *m, glia_mconv *c, const char *prefix, int cin, int cout, int k,
                           int flags);
glia_status glia_mbn_add(glia_model *m, glia_mbn *bn, const char *prefix, int channels);
glia_status glia_double_conv_add(glia_model *m, glia_double_conv *dc, const char *prefix, int cin, int cout,
                                 int has_bn);

/* PyTorch's BatchNorm defaults. */
#define GLIA_MBN_MOMENTUM 0.1f
#define GLIA_MBN_EPS 1e-5f
/* The weight and bias of conv c with batch norm bn folded in (bn_fold.c),
 * for an inference forward: conv(x, *w, *b) = bn(conv(x)) with running statistics. */
glia_status glia_mbn_fold(const glia_mconv *c, const glia_mbn *bn, glia_tensor **w, glia_tensor **b);

/* Forward pieces; each returns a new tensor in *out and keeps x. */
glia_status glia_mconv_fwd(const glia_mconv *c, glia_tensor *x, glia_tensor **out);
/* relu(bn(conv(x))), bn may be NULL. */
glia_status glia_mcbr_fwd(glia_model *m, const glia_mconv *c, const glia_mbn *bn, glia_tensor *x, int train,
                          glia_tensor **out);
glia_status glia_double_conv_fwd(glia_model *m, const glia_double_conv *dc, glia_tensor *x, int train,
                                 glia_tensor **out);
/* 2x max-pooling on every spatial axis. */
glia_status glia_mpool2(glia_tensor *x, glia_tensor **out);
/* [skip, up] along channels. */
glia_status glia_mcat(glia_tensor *skip, glia_tensor *up, glia_tensor **out);
/* Release *cur and put next (NULL after a failure) in its place. */
void glia_mreplace(glia_tensor **cur, glia_tensor *next);
/* "<prefix>.<suffix>" into buf; INVALID_ARGUMENT if it does not fit. */
glia_status glia_mjoin(char *buf, size_t len, const char *prefix, const char *suffix);
/* A zeroed layer table of bytes for m (m->layers, freed with the model); NULL
 * with the error set when there is no memory. */
void *glia_mlayers_new(glia_model *m, size_t bytes);
/* "<prefix>.<i>" into buf ("" if it does not fit). */
const char *glia_mname(char *buf, size_t len, const char *prefix, int i);

/* The generic U-Net of unet2d/unet3d (unet2d.c): nsp comes from m->arch;
 * its options (features, batchnorm) and how its checkpoints look. */
enum { GLIA_UNET_NFIELDS = 2 };
extern const glia_model_field glia_unet_fields[GLIA_UNET_NFIELDS];
glia_status glia_unet_build(glia_model *m);
glia_status glia_unet_forward(glia_model *m, glia_tensor *x, int train, glia_tensor **out);
void glia_unet_conv_layers(glia_mlayers *l, const glia_model_config *c, int64_t size);
int glia_unet_recognise(const glia_arch *a, glia_model_shape_fn shape_of, void *ctx, glia_model_config *cfg);

#endif
