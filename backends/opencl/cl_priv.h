/* glia — OpenCL backend internals (private to backends/opencl).
 *
 * A physical device's cl_context and built programs are shared by every
 * glia_bctx opened on it in this process (cl_device.c): CLBlast keys its
 * compiled kernels by context, so one context per device means CLBlast and
 * our programs compile once per process. Each glia_bctx has its own in-order
 * queue, cl_kernel objects (clSetKernelArg is not thread-safe) and scratch. */
#ifndef GLIA_CL_PRIV_H
#define GLIA_CL_PRIV_H

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>
#include "backends/backend.h"

struct glia_bbuf {
    cl_mem mem;
    size_t bytes;
};

/* One program per file in cl/ (cl/common.cl is prepended to each). */
typedef enum glia_cl_prog {
    GLIA_CL_PROG_ELEMENTWISE,
    GLIA_CL_PROG_REDUCE,
    GLIA_CL_PROG_NORM,
    GLIA_CL_PROG_POOL,
    GLIA_CL_PROG_CHANNEL,
    GLIA_CL_PROG_LOSS,
    GLIA_CL_PROG_OPTIM,
    GLIA_CL_PROG_IM2COL,
    GLIA_CL_PROG_LAYERNORM,
    GLIA_CL_PROG_COUNT_
} glia_cl_prog;

/* Every kernel, with its program and name in cl_launch.c's table. */
typedef enum glia_cl_kern {
    GLIA_CLK_FILL, GLIA_CLK_COPY2D, GLIA_CLK_COPY_ND, GLIA_CLK_GATHER, GLIA_CLK_GATHER_BWD, GLIA_CLK_SCALE2D, GLIA_CLK_AXPBYZ, GLIA_CLK_BINARY,
    GLIA_CLK_UNARY, GLIA_CLK_UNARY_BWD, GLIA_CLK_BROADCAST,
    GLIA_CLK_REDUCE_PARTIAL, GLIA_CLK_REDUCE_FINAL,
    GLIA_CLK_BN_APPLY, GLIA_CLK_BN_BWD_DX,
    GLIA_CLK_MAXPOOL_FWD, GLIA_CLK_MAXPOOL_BWD, GLIA_CLK_UPSAMPLE_FWD, GLIA_CLK_UPSAMPLE_BWD,
    GLIA_CLK_SOFTMAX_FWD, GLIA_CLK_SOFTMAX_BWD, GLIA_CLK_SOFTMAX_CE, GLIA_CLK_SOFTMAX_CE_BWD,
    GLIA_CLK_ARGMAX,
    GLIA_CLK_BCE, GLIA_CLK_BCE_BWD, GLIA_CLK_DICE_BWD,
    GLIA_CLK_SGD, GLIA_CLK_ADAM,
    GLIA_CLK_VOL2COL, GLIA_CLK_COL2VOL,
    GLIA_CLK_LN_FWD, GLIA_CLK_LN_BWD_DX, GLIA_CLK_LN_BWD_PARAM_PART, GLIA_CLK_LN_BWD_PARAM_FINAL,
    GLIA_CLK_COUNT_
} glia_cl_kern;

typedef struct glia_cl_shared glia_cl_shared;   /* per physical device, process-wide */

struct glia_bctx {
    glia_cl_shared *sh;
    cl_device_id dev;
    cl_context cx;                     /* borrowed from sh */
    cl_command_queue q;
    cl_kernel kern[GLIA_CLK_COUNT_];   /* created on first use */
    size_t kern_wg[GLIA_CLK_COUNT_];   /* CL_KERNEL_WORK_GROUP_SIZE of each */
    /* device limits, queried once */
    size_t max_wg, local_mem, max_alloc;
    uint64_t global_mem;
    uint64_t allocated;                /* bytes in live buffers of this context */
    char *cache_dir;                   /* NULL: no on-disk program cache */
    /* scratch owned by the context, grown on demand up to fixed bounds */
    cl_mem ws;  size_t ws_bytes;       /* convolution columns */
    size_t ws_bound;                   /* test override of the workspace bound; 0: none */
    cl_mem part; size_t part_bytes;    /* reduction partial sums */
};

/* ---- errors (cl_error.c) --------------------------------------------------- */
const char *glia_cl_errstr(cl_int e);
/* Map e to a status and record "call failed: NAME (code)". */
glia_status glia_cl_fail(cl_int e, const char *call);
/* Same for CLBlast status codes. */
glia_status glia_clblast_fail(int e, const char *call);

/* ---- shared device state and programs (cl_device.c, cl_program.c) -------- */
/* The flattened (platform, device) list; *count gets its length. */
glia_status glia_cl_device_at(int index, cl_platform_id *plat, cl_device_id *dev, int *count);
/* A string property, truncated to size (empty if the query fails). */
void glia_cl_device_str(cl_device_id dev, cl_device_info param, char *dst, size_t size);
void glia_cl_platform_str(cl_platform_id plat, cl_platform_info param, char *dst, size_t size);
/* Find or create the process-wide state of dev; returns its context. */
glia_status glia_cl_shared_get(cl_device_id dev, glia_cl_shared **out, cl_context *cx);
/* The built program p of the shared device state (built or loaded on first call). */
glia_status glia_cl_program_get(glia_cl_shared *sh, glia_cl_prog p, const char *cache_dir,
                                cl_program *out);
/* Build (or load from the disk cache) one program for a single-device context. */
glia_status glia_cl_program_build(cl_context cx, cl_device_id dev, const char *src,
                                  const char *cache_dir, cl_program *out);

/* ---- launching (cl_launch.c) ---------------------------------------------- */
typedef struct glia_clarg {
    size_t size;
    const void *ptr;     /* NULL with size > 0: __local memory of that size */
} glia_clarg;

#define GLIA_KA_MEM(m)    ((glia_clarg){sizeof(cl_mem), &(cl_mem){(m)}})
#define GLIA_KA_U64(x)    ((glia_clarg){sizeof(cl_ulong), &(cl_ulong){(cl_ulong)(x)}})
#define GLIA_KA_U32(x)    ((glia_clarg){sizeof(cl_uint), &(cl_uint){(cl_uint)(x)}})
#define GLIA_KA_I32(x)    ((glia_clarg){sizeof(cl_int), &(cl_int){(cl_int)(x)}})
#define GLIA_KA_F32(x)    ((glia_clarg){sizeof(cl_float), &(cl_float){(cl_float)(x)}})
#define GLIA_KA_LOCAL(b)  ((glia_clarg){(b), NULL})
/* A view as two arguments: the buffer and its element offset. An unused slot
 * passes `fallback` so no driver ever sees a NULL buffer argument. */
#define GLIA_KA_VIEW(v)   GLIA_KA_MEM((v).buf->mem), GLIA_KA_U64((v).off)
#define GLIA_KA_OPT(v, fb) GLIA_KA_MEM((v).buf ? (v).buf->mem : (fb).buf->mem), GLIA_KA_U64((v).off)

/* Enqueue kernel k over n items (1-D, rounded up to whole work-groups of
 * `local` items; local 0 = the default for elementwise kernels). */
glia_status glia_cl_launch(glia_bctx *ctx, glia_cl_kern k, size_t n, size_t local,
                           const glia_clarg *args, int nargs);
#define GLIA_CL_LAUNCH(ctx, k, n, local, ...)                                     \
    glia_cl_launch((ctx), (k), (n), (local), (const glia_clarg[]){__VA_ARGS__},   \
                   (int)(sizeof((const glia_clarg[]){__VA_ARGS__}) / sizeof(glia_clarg)))

/* The largest power of two <= cap that kernel k can run as one work-group
 * holding `local_bytes_per_item` bytes of __local memory per item. */
glia_status glia_cl_pow2_group(glia_bctx *ctx, glia_cl_kern k, size_t cap,
                               size_t local_bytes_per_item, size_t *out);

/* Grow a scratch buffer (ctx->ws or ctx->part) to at least bytes. */
glia_status glia_cl_scratch(glia_bctx *ctx, cl_mem *buf, size_t *have, size_t bytes,
                            const char *what);

/* Bytes the convolution workspace may grow to on this device. */
size_t glia_cl_workspace_bound(const glia_bctx *ctx);

/* Fail with UNSUPPORTED unless n fits the 32-bit index arithmetic of kernels. */
glia_status glia_cl_check_u32(uint64_t n, const char *what);

/* ---- ops (cl_ops_*.c): each returns UNSUPPORTED for kinds it does not own --- */
/* The backend's run(): dispatches every kind (cl_ops_basic.c). */
glia_status glia_cl_run(glia_bctx *ctx, const glia_op *op);
/* INTERNAL error for a kind that reached a runner that does not handle it. */
glia_status glia_cl_misrouted(const glia_op *op);
glia_status glia_cl_run_reduce(glia_bctx *ctx, const glia_op *op);
glia_status glia_cl_run_dense(glia_bctx *ctx, const glia_op *op);
glia_status glia_cl_run_layernorm(glia_bctx *ctx, const glia_op *op);

#endif
