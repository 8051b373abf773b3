/* glia — named parameter sets and layer initialisers.
 *
 * A parameter set is an ordered list of named entries, with PyTorch's dotted
 * names ("enc.0.conv1.weight"), so models and checkpoints can address them.
 * Entries are trainable parameters, buffers (batch-norm running statistics) or
 * integer counters (num_batches_tracked). The set holds a reference to each
 * tensor and releases them in glia_params_free. */
#ifndef GLIA_PARAMS_H
#define GLIA_PARAMS_H

#include "tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct glia_params glia_params;

typedef enum glia_param_kind {
    GLIA_PARAM_TRAINABLE = 0,  /* requires grad, updated by optimizers */
    GLIA_PARAM_BUFFER,         /* a tensor (any element type) saved with the model, not trained */
    GLIA_PARAM_COUNTER         /* an int64 saved with the model (no tensor) */
} glia_param_kind;

glia_status glia_params_create(glia_params **out);
void glia_params_free(glia_params *p);
/* Add an entry; the set takes its own reference to t (NULL for counters).
 * Trainable tensors get requires_grad = 1. Names must be unique and at most 127 bytes. */
glia_status glia_params_add(glia_params *p, const char *name, glia_param_kind kind, glia_tensor *t);
int glia_params_count(const glia_params *p);
/* Entry i: name, kind and tensor (borrowed; NULL for counters). */
glia_status glia_params_get(const glia_params *p, int i, const char **name, glia_param_kind *kind,
                            glia_tensor **t);
/* The tensor of a name (borrowed), or NULL. */
glia_tensor *glia_params_find(const glia_params *p, const char *name);
/* Counter access by name. */
glia_status glia_params_counter(const glia_params *p, const char *name, int64_t *value);
glia_status glia_params_set_counter(glia_params *p, const char *name, int64_t value);
/* Sum of numel over trainable entries (PyTorch's parameter count). */
int64_t glia_params_numel(const glia_params *p);
/* Drop every trainable entry's gradient. */
void glia_params_zero_grad(glia_params *p);

/* ---- layer initialisers (PyTorch's defaults) --------------------------------
 * Add "<prefix>.weight" (and "<prefix>.bias") of a convolution with nsp spatial
 * axes (2 or 3) and kernel k per axis, initialised as PyTorch does:
 * kaiming_uniform(a=sqrt(5)), i.e. U(-b, b) with b = 1/sqrt(fan_in), and the
 * bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)). fan_in = Cin*prod(k) for a
 * convolution; for a transposed one (weight Cin,Cout,k...) PyTorch's fan_in is
 * weight.size(1)*prod(k) = Cout*prod(k). Weights are drawn before the bias. */
glia_status glia_params_add_conv(glia_params *p, glia_device *dev, glia_rng *rng, const char *prefix, int nsp,
                                 int cin, int cout, const int *k, int bias, int transposed);
/* Add "<prefix>.weight" (ones), ".bias" (zeros), ".running_mean" (zeros),
 * ".running_var" (ones) and ".num_batches_tracked" (0) for C channels. */
glia_status glia_params_add_batchnorm(glia_params *p, glia_device *dev, const char *prefix, int channels);

#ifdef __cplusplus
}
#endif
#endif
