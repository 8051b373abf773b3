/* glia — tensors, the seeded random generator, and autograd.
 *
 * A tensor has 1 to 6 dimensions, is contiguous (NCHW / NCDHW) and lives on
 * one device. Ops compute in float32; other element types hold data that is
 * stored with a model (int64 index buffers) or that ops read as indices. Tensors are reference counted: every function that returns a tensor
 * gives the caller one reference, which glia_tensor_free releases; the library
 * keeps its own references (autograd tape, parameter sets) as long as it needs. */
#ifndef GLIA_TENSOR_H
#define GLIA_TENSOR_H

#include <stddef.h>
#include <stdint.h>
#include "device.h"

#ifdef __cplusplus
extern "C" {
#endif

#define GLIA_MAX_DIMS 6

typedef struct glia_tensor glia_tensor;

/* Element types, X(NAME, name, bytes): the only place an element size is
 * written down. Tensors made by the functions below are float32; the other
 * types exist so storage of another type (fp16 weights, int32 indices) can be
 * described; an op that does not support a type returns UNSUPPORTED. */
#define GLIA_ETYPES(X)         \
    X(F32, "float32", 4)       \
    X(F16, "float16", 2)       \
    X(BF16, "bfloat16", 2)     \
    X(I32, "int32", 4)         \
    X(I64, "int64", 8)         \
    X(U8, "uint8", 1)
#define GLIA_ETYPE_ENUM_(name, str, bytes) GLIA_ETYPE_##name,
typedef enum glia_etype { GLIA_ETYPES(GLIA_ETYPE_ENUM_) GLIA_ETYPE_COUNT_ } glia_etype;

/* Bytes of one element; 0 for a value outside the enum. */
size_t glia_etype_size(glia_etype e);
/* "float32" etc.; "?" for a value outside the enum. */
const char *glia_etype_name(glia_etype e);

/* A new tensor of the given shape, filled with zeros. */
glia_status glia_tensor_zeros(glia_device *dev, int ndim, const int64_t *shape,
                              glia_tensor **out);
/* A new tensor filled with value. */
glia_status glia_tensor_full(glia_device *dev, int ndim, const int64_t *shape,
                             float value, glia_tensor **out);
/* A new tensor holding a copy of host data (numel floats, row-major). */
glia_status glia_tensor_from_host(glia_device *dev, int ndim, const int64_t *shape,
                                  const float *data, glia_tensor **out);
/* The same for any element type: data holds numel elements of etype. */
glia_status glia_tensor_from_host_typed(glia_device *dev, glia_etype etype, int ndim, const int64_t *shape,
                                        const void *data, glia_tensor **out);
/* Release the caller's reference. NULL is a no-op. */
void glia_tensor_free(glia_tensor *t);
/* Take one more reference (for callers that store a tensor twice). */
glia_tensor *glia_tensor_retain(glia_tensor *t);

/* Copy the whole tensor to host memory (count floats must equal numel).
 * Waits for the work that produces it. */
glia_status glia_tensor_read(const glia_tensor *t, float *dst, size_t count);
/* Overwrite the tensor from host memory (count floats must equal numel). */
glia_status glia_tensor_write(glia_tensor *t, const float *src, size_t count);
/* The raw bytes of a tensor of any element type (bytes must equal numel
 * times the element size), in host byte order. */
glia_status glia_tensor_read_raw(const glia_tensor *t, void *dst, size_t bytes);
glia_status glia_tensor_write_raw(glia_tensor *t, const void *src, size_t bytes);
/* Copy src into dst (same shape and element type; may be on different devices). */
glia_status glia_tensor_copy(glia_tensor *dst, const glia_tensor *src);
/* Set every element to value. */
glia_status glia_tensor_fill(glia_tensor *t, float value);

int glia_tensor_ndim(const glia_tensor *t);
/* Size of dimension i; negative i counts from the end. 0 if out of range. */
int64_t glia_tensor_dim(const glia_tensor *t, int i);
int64_t glia_tensor_numel(const glia_tensor *t);
glia_etype glia_tensor_etype(const glia_tensor *t);
/* Elements between neighbours along dimension i (negative counts from the
 * end); 0 if out of range. Tensors are row-major contiguous today: strides
 * are there so views (permuted, sliced) can follow without an API change. */
int64_t glia_tensor_stride(const glia_tensor *t, int i);
glia_device *glia_tensor_device(const glia_tensor *t);
/* A tensor sharing t's storage with another shape of the same numel.
 * Gradients flow through it. */
glia_status glia_tensor_reshape(glia_tensor *t, int ndim, const int64_t *shape,
                                glia_tensor **out);

/* ---- random numbers -------------------------------------------------------
 * A counter-based generator (Philox-4x32-10): the same seed gives the same
 * numbers on every platform and backend (numbers are made on the host). The
 * struct is plain data: copy it to save and restore a stream. */
typedef struct glia_rng {
    uint64_t seed;
    uint64_t counter;   /* 32-bit numbers drawn so far */
} glia_rng;

void glia_rng_init(glia_rng *rng, uint64_t seed);
/* Next 32 random bits. */
uint32_t glia_rng_u32(glia_rng *rng);
/* Uniform in [0, 1) with 24 bits of randomness. */
float glia_rng_uniform(glia_rng *rng);
/* Standard normal (Box-Muller). */
float glia_rng_normal(glia_rng *rng);
/* Fill a tensor with U(lo, hi) or N(mean, std). */
glia_status glia_tensor_uniform(glia_tensor *t, glia_rng *rng, float lo, float hi);
glia_status glia_tensor_normal(glia_tensor *t, glia_rng *rng, float mean, float std);

/* ---- autograd ---------------------------------------------------------------
 * While grad mode is on (the default) every op whose inputs require a gradient
 * records a node on its device's tape. glia_backward(loss) walks the tape
 * backwards, accumulates gradients into every leaf tensor that requires one
 * (adding to what is there, as PyTorch does) and clears the tape. Call
 * glia_tape_clear to drop a recorded graph without a backward pass. */
glia_status glia_tensor_set_requires_grad(glia_tensor *t, int requires_grad);
int glia_tensor_requires_grad(const glia_tensor *t);
/* The accumulated gradient of a leaf, or NULL if none yet. Borrowed: valid
 * until the next zero_grad/backward on it or its free. */
glia_tensor *glia_tensor_grad(const glia_tensor *t);
/* Drop the accumulated gradient (PyTorch's zero_grad(set_to_none=True)). */
void glia_tensor_zero_grad(glia_tensor *t);
/* Back-propagate from a one-element tensor (d loss / d loss = 1). */
glia_status glia_backward(glia_tensor *loss);
/* glia_backward that reports as it goes (either hook may be NULL):
 * leaf_ready(user, t) once leaf t's gradient is complete (no node still to
 * run adds to it; a leaf no recorded op took gets no call), and step(user)
 * after every node (a place to drive communication). Gradient averaging over
 * ranks (glia/dist.h) starts its transfers from leaf_ready. */
typedef struct glia_backward_hooks {
    void (*leaf_ready)(void *user, glia_tensor *leaf);
    void (*step)(void *user);
    void *user;
} glia_backward_hooks;
glia_status glia_backward_hooked(glia_tensor *loss, const glia_backward_hooks *h);
/* Set whether ops record on dev's tape; returns the previous setting. */
int glia_grad_mode(glia_device *dev, int enabled);
void glia_tape_clear(glia_device *dev);

#ifdef __cplusplus
}
#endif
#endif
