/* glia — the backend interface (private).
 *
 * A backend does math on device buffers and nothing else: it knows no tensors,
 * autograd, models or files. src/core checks every argument before calling in,
 * so a backend may assume shapes are consistent and views are in bounds; it
 * still reports driver failures as a glia_status with a message (glia_seterr).
 *
 * Buffers hold 4-byte elements (float32, or int32 for pooling indices). A view
 * is a buffer plus an offset counted in elements. Every op names its operands
 * in glia_op.t[] in the order given in the table below; unused slots are
 * {NULL, 0}. Outputs never alias inputs unless the table says so.
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

#define GLIA_BACKEND_VERSION 1

typedef struct glia_bbuf glia_bbuf;   /* a backend's device buffer */
typedef struct glia_bctx glia_bctx;   /* a backend's opened device */

typedef struct glia_bview {
    glia_bbuf *buf;
    size_t off;                        /* in 4-byte elements */
} glia_bview;

typedef enum glia_op_kind {
    /* ---- data movement and elementwise ------------------------------------ */
    GLIA_OP_FILL,        /* t0=y[n]; y = value * (t1.buf ? t1[0] : 1)                 */
    GLIA_OP_COPY2D,      /* t0=src, t1=dst; dst[r*dst_ld+c] = src[r*src_ld+c] + beta*dst[..],
                            r<rows, c<cols (concat/slice along channels)              */
    GLIA_OP_AXPBYZ,      /* t0=x, t1=y (NULL if b==0), t2=z; z = a*x + b*y; z may alias x or y */
    GLIA_OP_BINARY,      /* t0=x, t1=y, t2=z; z = x*y (MUL) or x/y (DIV); z may alias x  */
    GLIA_OP_UNARY,       /* t0=x, t1=y; y = a*x+b (AFFINE), max(x,0) (RELU),
                            1/(1+e^-x) (SIGMOID), x>a ? 1:0 (THRESHOLD); y may alias x  */
    GLIA_OP_UNARY_BWD,   /* t0=y (forward output), t1=dy, t2=dx;
                            dx = dy*(y>0) (RELU), dy*y*(1-y) (SIGMOID)                */
    GLIA_OP_BROADCAST,   /* t0=x[B], t1=y[A,B,C]; y = alpha*x[b] + beta*y (bias add)  */
    GLIA_OP_REDUCE,      /* t0=x[A,B,C], t1=out[B]; out = alpha*sum_{a,c} x + beta*out */
    /* ---- dense algebra ----------------------------------------------------- */
    GLIA_OP_GEMM,        /* t0=A, t1=B, t2=C; row-major, see glia_gemm_desc           */
    GLIA_OP_CONV_FWD,    /* t0=x[N,Ci,D,H,W], t1=w[Co,Ci,kD,kH,kW], t2=y[N,Co,oD,oH,oW] */
    GLIA_OP_CONV_BWD_DATA,   /* t0=dy, t1=w, t2=dx (overwritten)                      */
    GLIA_OP_CONV_BWD_WEIGHT, /* t0=x, t1=dy, t2=dw (overwritten)                      */
    /* ---- normalisation ----------------------------------------------------- */
    GLIA_OP_BN_FWD_TRAIN,    /* t0=x[N,C,S], t1=gamma, t2=beta, t3=y, t4=save_mean[C],
                                t5=save_invstd[C], t6=running_mean, t7=running_var
                                (t6/t7 may be NULL: no update). Biased var normalises;
                                running_var gets the unbiased one (n/(n-1)).          */
    GLIA_OP_BN_FWD_INFER,    /* t0=x, t1=gamma, t2=beta, t3=y, t6=running_mean, t7=running_var */
    GLIA_OP_BN_BWD,          /* t0=x, t1=gamma, t2=dy, t3=save_mean, t4=save_invstd,
                                t5=dx, t6=dgamma, t7=dbeta (all overwritten)           */
    /* ---- pooling and resampling (per plane: N*C planes of D,H,W) ------------ */
    GLIA_OP_MAXPOOL_FWD,     /* t0=x, t1=y, t2=idx (int32: flat index d*H*W+h*W+w of the
                                max inside its input plane; first max wins)            */
    GLIA_OP_MAXPOOL_BWD,     /* t0=dy, t1=idx, t2=dx (overwritten; gathers every window
                                whose idx points at the element)                       */
    GLIA_OP_UPSAMPLE_FWD,    /* t0=x, t1=y; y[d,h,w] = x[d/sd, h/sh, w/sw]            */
    GLIA_OP_UPSAMPLE_BWD,    /* t0=dy, t1=dx; dx = sum of dy over each block           */
    GLIA_OP_SOFTMAX_FWD,     /* t0=x[N,C,S], t1=y; softmax over C                      */
    GLIA_OP_SOFTMAX_BWD,     /* t0=y, t1=dy, t2=dx; dx = y*(dy - sum_c dy*y)            */
    /* ---- losses (g = one-element upstream gradient on the device) ----------- */
    GLIA_OP_BCE_LOGITS,      /* t0=x, t1=t, t2=l; l = max(x,0) - x*t + log1p(exp(-|x|)) */
    GLIA_OP_BCE_LOGITS_BWD,  /* t0=x, t1=t, t2=g, t3=dx; dx = g*scale*(sigmoid(x)-t)   */
    GLIA_OP_SOFTMAX_CE,      /* t0=x[N,C,S], t1=t (probabilities), t2=l[N,S];
                                l = -sum_c t*log_softmax(x)                            */
    GLIA_OP_SOFTMAX_CE_BWD,  /* t0=x, t1=t, t2=g, t3=dx;
                                dx = g*scale*(softmax(x)*sum_c t - t)                  */
    GLIA_OP_DICE_SUMS,       /* t0=p[A,B,C], t1=t, t2=out[B*3]: out[3b+0]=sum p*t,
                                out[3b+1]=sum p, out[3b+2]=sum t over a and c         */
    GLIA_OP_DICE_SUMS_BWD,   /* t0=t, t1=g[B*3], t2=dp; dp = g[3b]*t + g[3b+1]          */
    /* ---- optimizers (in place on param and state) --------------------------- */
    GLIA_OP_SGD,             /* t0=param, t1=grad, t2=momentum buffer (NULL if momentum==0) */
    GLIA_OP_ADAM,            /* t0=param, t1=grad, t2=exp_avg, t3=exp_avg_sq          */
    /* ---- selection ---------------------------------------------------------- */
    GLIA_OP_ARGMAX,          /* t0=x[N,C,S], t1=y[N,S]; index of the first max as float */
    GLIA_OP_COUNT_
} glia_op_kind;

typedef enum glia_unary_mode {
    GLIA_UNARY_AFFINE, GLIA_UNARY_RELU, GLIA_UNARY_SIGMOID, GLIA_UNARY_THRESHOLD
} glia_unary_mode;

typedef enum glia_binary_mode { GLIA_BINARY_MUL, GLIA_BINARY_DIV } glia_binary_mode;

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
        struct { size_t rows, cols, src_ld, dst_ld; float beta; } copy2d;
        struct { size_t n; float a, b; } axpbyz;
        struct { size_t n; glia_binary_mode mode; } binary;
        struct { size_t n; glia_unary_mode mode; float a, b; } unary;
        struct { size_t a, b, c; float alpha, beta; } bcast;    /* BROADCAST, REDUCE */
        glia_gemm_desc gemm;
        glia_conv_desc conv;
        struct { size_t n, c, s; float eps, momentum; } bn;     /* s = spatial size */
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
    /* Enqueue one op. Unsupported kinds return GLIA_STATUS_UNSUPPORTED. */
    glia_status (*run)(glia_bctx *ctx, const glia_op *op);
} glia_backend;

/* The compiled backends, NULL-terminated (backends/registry.c). */
extern const glia_backend *const glia_backends[];

/* Record an error message (printf-style) for glia_last_error and return s. */
glia_status glia_seterr(glia_status s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#endif
