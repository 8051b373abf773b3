/* glia — the backend interface (private).
 *
 * A backend does math on device buffers and nothing else: it knows no tensors,
 * autograd, models or files. src/core checks every argument before calling in,
 * so a backend may assume shapes are consistent and views are in bounds; it
 * still reports driver failures as a glia_status with a message (glia_seterr).
 *
 * A view is a buffer, an offset counted in elements and the element type
 * (float32, or int32 for pooling indices, today; glia_op_slots says which). Every op names its operands
 * in glia_op.t[] in the order given in the op table (op_list.h); unused
 * slots are {NULL, 0}. Outputs never alias inputs unless the table says so.
 *
 * Ops are enqueued in order on the device's single stream; run() may return
 * before the work is done. read() waits for everything enqueued before it.
 * Buffers freed with buf_free may still be in use by enqueued work: the backend
 * must keep them valid until that work ends (in-order queues make this easy). */
#ifndef GLIA_BACKEND_H
#define GLIA_BACKEND_H

#include <stddef.h>
#include <stdint.h>
#include "glia/device.h"
#include "glia/tensor.h"
#include "core/error.h"
#include "backends/op_list.h"
#include "backends/op_modes.h"

#define GLIA_BACKEND_VERSION 1

typedef struct glia_bbuf glia_bbuf;   /* a backend's device buffer */
typedef struct glia_bctx glia_bctx;   /* a backend's opened device */

typedef struct glia_bview {
    glia_bbuf *buf;
    size_t off;                        /* in elements of type */
    glia_etype type;                   /* must be the slot's type (glia_op_slots) */
} glia_bview;

#define GLIA_OP_ENUM_(kind, name, slots) GLIA_OP_##kind,
typedef enum glia_op_kind { GLIA_OPS(GLIA_OP_ENUM_) GLIA_OP_COUNT_ } glia_op_kind;

/* C[b] = alpha * op(A[b]) * op(B[b]) + beta * C[b], row-major, b < batch.
 * op(A) is M x K; A is stored M x K (lda >= K) or, if trans_a, K x M (lda >= M). */
typedef struct glia_gemm_desc {
    int trans_a, trans_b;
    int64_t m, n, k;
    int64_t lda, ldb, ldc;
    int64_t batch;
    int64_t stride_a, stride_b, stride_c;   /* elements between batch items */
    float alpha, beta;
} glia_gemm_desc;

/* One N-d strided copy (COPY_ND): for every index i < shape (ndim axes),
 * dst[sum_k i_k*dst_stride[k]] = src[sum_k i_k*src_stride[k]] + beta*dst[..].
 * Strides are in elements and >= 0; distinct indices must reach distinct dst
 * elements (src strides may be 0: a broadcast). With the views' offsets this
 * expresses any permutation, slice, cyclic shift (two copies per axis) and
 * concatenation along any axis. */
#define GLIA_COPY_MAX_DIMS 6
typedef struct glia_copy_desc {
    int ndim;                                  /* 1..GLIA_COPY_MAX_DIMS */
    int64_t shape[GLIA_COPY_MAX_DIMS];
    int64_t src_stride[GLIA_COPY_MAX_DIMS];
    int64_t dst_stride[GLIA_COPY_MAX_DIMS];
    float beta;
} glia_copy_desc;

/* Elements of a strided operand: 1 + sum_k (shape[k]-1)*stride[k] (0 if empty). */
size_t glia_copy_extent(const glia_copy_desc *d, const int64_t *stride);

/* One convolution, 2D expressed as 3D with D = kD = 1, stride 1, pad 0 on axis 0.
 * Dilation 1, one group. out = (in + 2*pad - k) / stride + 1 per axis. */
typedef struct glia_conv_desc {
    int nd;                 /* 2 or 3: informative, lets a backend pick a 2D path */
    int64_t n, cin, cout;
    int64_t in[3], out[3];  /* D, H, W */
    int k[3], stride[3], pad[3];
} glia_conv_desc;

/* Pooling / upsampling over planes: planes = N*C. */
typedef struct glia_pool_desc {
    int64_t planes;
    int64_t in[3], out[3];  /* D, H, W */
    int k[3], stride[3];    /* pooling window; for upsampling k = scale, stride unused */
} glia_pool_desc;

typedef struct glia_op {
    glia_op_kind kind;
    glia_bview t[8];
    union {
        struct { size_t n; float value; } fill;
        glia_copy_desc copy;
        struct {
            size_t n, w, rows;   /* n lookups of w-wide rows in a table of rows */
            size_t max_run;      /* BWD: an upper bound of start[r+1] - start[r] (loop caps) */
        } gather;
        struct { size_t n; float a, b; } axpbyz;
        struct { size_t n; glia_binary_mode mode; } binary;
        struct { size_t n; glia_unary_mode mode; float a, b; } unary;
        struct { size_t a, b, c; float alpha, beta; } bcast;    /* BROADCAST, REDUCE */
        glia_gemm_desc gemm;
        glia_conv_desc conv;
        struct { size_t n, c, s; float eps, momentum; } bn;     /* s = spatial size */
        struct { size_t rows, cols; float eps; } ln;            /* LN_*: x[rows, cols] */
        glia_pool_desc pool;                                    /* MAXPOOL, UPSAMPLE */
        struct { size_t n, c, s; float scale; } chan;           /* SOFTMAX*, *_CE*, ARGMAX */
        struct { size_t n; float scale; } loss;                 /* BCE_LOGITS* */
        struct { size_t a, b, c; } dice;                        /* DICE_SUMS* */
        struct {
            size_t n;
            float lr, momentum, dampening, weight_decay;
            int nesterov;
            int first;       /* 1 on the first step: buffer = grad (PyTorch) */
        } sgd;
        struct {
            size_t n;
            float lr, beta1, beta2, eps, weight_decay;
            float bias_corr1, bias_corr2;  /* 1 - beta^step, computed by the caller */
            int decoupled;   /* 1 = AdamW: param *= 1 - lr*wd; 0 = Adam: grad += wd*param */
        } adam;
    } p;
} glia_op;

/* ---- the op table's derived facts (op_table.c) ---------------------------- */

typedef enum glia_slot_role { GLIA_SLOT_UNUSED = 0, GLIA_SLOT_IN, GLIA_SLOT_OUT } glia_slot_role;

/* One operand slot of an op. OUT slots are also read when the op accumulates
 * (beta, in-place optimizer state). lo/hi is the range of values the op is
 * defined for or meets in use (a divisor away from 0, probabilities in [0,1],
 * a sigmoid output), so tests and fuzzers generate valid data. */
typedef struct glia_op_slot {
    glia_slot_role role;
    size_t n;            /* elements */
    glia_etype type;     /* the element type its view must have */
    float lo, hi;
} glia_op_slot;

/* "CONV_FWD" etc.; "?" for a kind outside the table. */
const char *glia_op_name(glia_op_kind kind);
/* The op's mode as a name ("RELU"), or NULL if its kind has no modes. */
const char *glia_op_mode_name(const glia_op *op);
/* The operand slots of op: roles, element counts and value ranges. */
void glia_op_slots(const glia_op *op, glia_op_slot s[8]);
/* 1 if op's kind and modes are in the table, for UNARY_BWD the mode has a
 * backward, and every view has its slot's element type: what every backend's
 * supports() checks first. */
int glia_op_well_formed(const glia_op *op);
/* What UNARY_BWD reads for a unary mode (GLIA_GRAD_NONE for unknown modes). */
glia_grad_reads glia_unary_grad(glia_unary_mode mode);

/* One backend. Tables are static const with designated initialisers. */
typedef struct glia_backend {
    int version;                       /* GLIA_BACKEND_VERSION */
    const char *name;                  /* "cpu", "opencl", "vulkan" */
    /* Enumerate devices: fill up to max infos (backend and index set), *count
     * gets the total. A missing driver gives *count = 0 and OK. */
    glia_status (*enumerate)(glia_device_info *out, int max, int *count);
    glia_status (*open)(int index, const glia_device_options *opts, glia_bctx **out);
    void (*close)(glia_bctx *ctx);
    /* Allocate at least bytes (> 0). Device OOM -> GLIA_STATUS_DEVICE_OOM. */
    glia_status (*buf_alloc)(glia_bctx *ctx, size_t bytes, glia_bbuf **out);
    void (*buf_free)(glia_bctx *ctx, glia_bbuf *buf);
    /* Host <-> device, offsets in bytes. write may return before the copy is
     * done but must have taken its own copy of src (or finished reading it). */
    glia_status (*write)(glia_bctx *ctx, glia_bbuf *buf, size_t off, const void *src, size_t bytes);
    glia_status (*read)(glia_bctx *ctx, glia_bbuf *buf, size_t off, void *dst, size_t bytes);
    glia_status (*sync)(glia_bctx *ctx);
    /* 1 if run() computes op correctly on this device (kind, mode, sizes);
     * 0 makes the core return GLIA_STATUS_UNSUPPORTED naming op, mode and
     * backend, without calling run(). The op tests run exactly what it claims. */
    int (*supports)(glia_bctx *ctx, const glia_op *op);
    /* Enqueue one op that supports() accepted. */
    glia_status (*run)(glia_bctx *ctx, const glia_op *op);
} glia_backend;

/* The compiled backends, NULL-terminated (backends/registry.c). */
extern const glia_backend *const glia_backends[];


#endif
