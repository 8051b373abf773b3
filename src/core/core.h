/* glia — private core structures: devices, storage, tensors, the autograd tape.
 * Shared by src/core, src/nn and models; never included by users. */
#ifndef GLIA_CORE_H
#define GLIA_CORE_H

#include <stddef.h>
#include <stdint.h>
#include "glia/glia.h"
#include "backends/backend.h"

/* ---- caching allocator (alloc.c) ------------------------------------------ */
typedef struct glia_block {
    glia_bbuf *buf;
    size_t bytes;            /* size class actually allocated */
    int refs;                /* tensors sharing this storage */
    struct glia_block *next; /* free-list link while cached */
} glia_block;

typedef struct glia_bin {
    size_t bytes;
    glia_block *free;
} glia_bin;

typedef struct glia_allocator {
    glia_bin *bins;          /* sorted by bytes */
    int nbins, cap;
    uint64_t in_use, peak, cached;
} glia_allocator;

/* ---- autograd tape (autograd.c) ------------------------------------------- */
typedef struct glia_node glia_node;
/* Computes the gradients of node->in[] from gout and hands each to glia_grad_accum. */
typedef glia_status (*glia_backward_fn)(glia_node *node, glia_tensor *gout);

/* What a backward function needs besides its tensors: one named member per
 * op family, each read only by that family's backward. */
typedef union glia_node_params {
    struct { float b_scale; } add;                     /* add/sub: d/db = b_scale */
    struct { glia_unary_mode mode; float a; } unary;   /* a: AFFINE's and LEAKY_RELU's slope */
    struct { float scale; } sum;                       /* sum/mean: d/dx = scale */
    struct { int axis; } softmax;
    glia_conv_desc conv;                               /* the primitive's descriptor */
    struct { int trans_a, trans_b; } matmul;
    struct { float eps; } bn;
    struct { float eps; double count; glia_sum_fn sums; void *user; } sbn;   /* sync batch norm: the ranks' sum */
    struct { float eps; } ln;                          /* layer norm; rows and columns from x */
    glia_pool_desc pool;
    struct { int ce; float scale; } xent;              /* ce: softmax CE (else BCE); mean scale */
    struct { int64_t a, b, c; } dice;                  /* the [A,B,C] view of the sums */
    struct { int perm[GLIA_MAX_DIMS]; } permute;
    struct { int64_t before[GLIA_MAX_DIMS]; } pad;
    struct { int axis; int64_t start, step; } slice;   /* also cat: start and step unused */
    struct { int axis; int64_t shift; } roll;
    struct { size_t n, w, rows, max_run; } gather;     /* saved: the inverse index (order, start) */
} glia_node_params;

/* glia_node.gradonly bit of out; bits 0..3 are in[0..3]. */
#define GLIA_NODE_OUT (1u << 4)

struct glia_node {
    glia_backward_fn backward;
    glia_tensor *out;
    glia_tensor *in[4];
    glia_tensor *saved[4];       /* extra tensors the backward needs */
    unsigned gradonly;           /* slots held for their gradient only (glia_tape_gradonly) */
    glia_node_params p;          /* the member of the op that recorded the node */
};

typedef struct glia_tape {
    glia_node *nodes;
    int n, cap;
} glia_tape;

struct glia_device {
    const glia_backend *be;
    glia_bctx *ctx;
    glia_device_info info;
    glia_allocator alloc;
    glia_tape tape;
    int grad_enabled;
    int64_t live_tensors;
    glia_tensor *spare;          /* freed tensor structs, reused so a step does no host malloc */
};

struct glia_tensor {
    int refs;
    glia_device *dev;
    int ndim;
    int64_t shape[GLIA_MAX_DIMS];
    int64_t stride[GLIA_MAX_DIMS];   /* in elements; row-major contiguous today */
    int64_t numel;
    glia_etype etype;
    glia_block *storage;
    size_t off;                  /* elements (of etype) into storage */
    int requires_grad;
    int is_leaf;                 /* made by the user, not recorded by an op */
    int gradonly_refs;           /* of refs, those held by tape nodes that never read the data */
    glia_tensor *grad;           /* leaf: accumulated gradient; else scratch during backward */
    int ready_at;                /* leaf, in a hooked backward: tape index of its first use (its last gradient) */
};

/* autograd.c: overwrite leaf's gradient (which must exist) with src[numel]. */
glia_status glia_grad_write_(glia_tensor *leaf, const float *src);

/* ops_nn.c: batch norm's argument checks (name for messages) and its op sizes. */
glia_status glia_bn_check_(const glia_tensor *x, const glia_tensor *gamma, const glia_tensor *beta,
                           const glia_tensor *running_mean, const glia_tensor *running_var, int training,
                           float momentum, float eps, const char *name);
void glia_bn_dims_(glia_op *op, const glia_tensor *x, float eps, float momentum);

/* alloc.c */
glia_status glia_alloc_block(glia_device *dev, size_t bytes, glia_block **out);
void glia_block_release(glia_device *dev, glia_block *b);
void glia_alloc_destroy(glia_device *dev);

/* tensor.c: a tensor struct from the device's spare list (zeroed, refs 1, counted
 * as live); its storage is the caller's to set. NULL if the host is out of memory. */
glia_tensor *glia_tensor_struct(glia_device *dev);
void glia_tensor_spares_free(glia_device *dev);
/* Release t's storage if only tape nodes that never read it still hold t
 * (see glia_tape_gradonly); its shape and gradient live on. */
void glia_tensor_drop_unread(glia_tensor *t);
/* tensor.c: a new float32 tensor with uninitialised contents (not a leaf if grad flows). */
glia_status glia_tensor_empty(glia_device *dev, int ndim, const int64_t *shape, glia_tensor **out);
/* The same for any element type. */
glia_status glia_tensor_empty_typed(glia_device *dev, glia_etype etype, int ndim, const int64_t *shape,
                                    glia_tensor **out);
/* Row-major strides of a contiguous shape. */
void glia_contiguous_strides(int ndim, const int64_t *shape, int64_t *stride);
/* ops_layout.c: enqueue dst[doff + i.dst_st] = src[soff + i.sst] + beta*dst[..]
 * for every index i < shape (strides in elements, src strides may be 0); no
 * autograd. Axes are merged where contiguous on both sides. */
glia_status glia_copy_region(const glia_tensor *src, size_t soff, const int64_t *sst, glia_tensor *dst,
                             size_t doff, const int64_t *dst_st, int ndim, const int64_t *shape, float beta);
/* An uninitialised tensor shaped like t. */
glia_status glia_tensor_empty_like(const glia_tensor *t, glia_tensor **out);
static inline glia_bview glia_view(const glia_tensor *t)
{
    glia_bview v = {t ? t->storage->buf : NULL, t ? t->off : 0, t ? t->etype : GLIA_ETYPE_F32};
    return v;
}
static inline glia_bview glia_view_at(const glia_tensor *t, size_t extra)
{
    glia_bview v = {t->storage->buf, t->off + extra, t->etype};
    return v;
}
/* If s is a failure, free *out and set it to NULL. Returns s. */
glia_status glia_out_fail(glia_status s, glia_tensor **out);
/* Enqueue an op on dev, naming it in the error message if the backend fails. */
glia_status glia_run(glia_device *dev, const glia_op *op);
/* Argument checks shared by the ops; each records a message naming `what`. */
glia_status glia_check_tensor(const glia_tensor *t, const char *what);
glia_status glia_check_same_device(const glia_tensor *a, const glia_tensor *b, const char *what);
glia_status glia_check_same_shape(const glia_tensor *a, const glia_tensor *b, const char *what);
/* "2x3x4" into buf. */
const char *glia_shape_str(const glia_tensor *t, char *buf, size_t len);

/* autograd.c */
/* 1 if an op with these inputs must record a node. */
int glia_grad_needed(glia_device *dev, glia_tensor *const *in, int n);
/* Record a node whose output is out; takes references on out, in[] and saved[].
 * Marks out as requiring grad and not a leaf. Returns the node for params. */
glia_status glia_tape_record(glia_device *dev, glia_backward_fn fn, glia_tensor *out,
                             glia_tensor *const *in, int nin, glia_node **node);
/* Declare that nd's backward never reads the data of the tensors in mask
 * (bit i = in[i], GLIA_NODE_OUT = out), only their shapes and gradients. Once
 * such references are all that is left of a non-leaf tensor (the forward code
 * freed its own), its storage goes back to the allocator: a BN output that only
 * fed a ReLU, an up-convolution's output once concatenated, hold no memory
 * until backward. Call right after glia_tape_record. */
void glia_tape_gradonly(glia_node *nd, unsigned mask);
/* The same during nd's backward, once it has read what it needed of those
 * tensors: their storage goes now if nothing else reads it, so the gradients
 * computed next can reuse the memory. */
void glia_tape_done_reading(glia_node *nd, unsigned mask);
/* Add g to t's gradient (no-op if t needs none). Takes its own reference. */
glia_status glia_grad_accum(glia_tensor *t, glia_tensor *g);

/* ops_norm.c: run a normalisation backward (BN_BWD, LN_BWD: t0 x, t1 gamma,
 * t2 dy, t3 mean, t4 invstd -> t5 dx, t6 dgamma, t7 dbeta) whose parameters op
 * holds, for node nd (in: x, gamma, beta; saved: mean, invstd) and upstream
 * gradient g, and accumulate the gradients. params_optional: the op takes
 * NULL dgamma/dbeta, so they are computed only for parameters that need them. */
glia_status glia_norm_backward(glia_op *op, glia_node *nd, glia_tensor *g, int params_optional);

/* ops helpers (ops_elementwise.c) used across files */
glia_status glia_axpbyz(glia_device *dev, size_t n, float a, glia_bview x, float b,
                        glia_bview y, glia_bview z);
/* A new tensor = a*x + b*y (y may be NULL when b == 0); no autograd. */
glia_status glia_tensor_axpby(float a, glia_tensor *x, float b, glia_tensor *y, glia_tensor **out);

#endif
