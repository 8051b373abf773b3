/* Kernel objects, argument setting and enqueueing; context scratch buffers. */
#include <string.h>
#include "backends/opencl/cl_priv.h"

static const struct {
    glia_cl_prog prog;
    const char *name;
} kernels[] = {
    [GLIA_CLK_FILL] = {GLIA_CL_PROG_ELEMENTWISE, "fill"},
    [GLIA_CLK_COPY2D] = {GLIA_CL_PROG_ELEMENTWISE, "copy2d"},
    [GLIA_CLK_COPY_ND] = {GLIA_CL_PROG_ELEMENTWISE, "copy_nd"},
    [GLIA_CLK_GATHER] = {GLIA_CL_PROG_ELEMENTWISE, "gather_rows"},
    [GLIA_CLK_GATHER_BWD] = {GLIA_CL_PROG_ELEMENTWISE, "gather_rows_bwd"},
    [GLIA_CLK_SCALE2D] = {GLIA_CL_PROG_ELEMENTWISE, "scale2d"},
    [GLIA_CLK_AXPBYZ] = {GLIA_CL_PROG_ELEMENTWISE, "axpbyz"},
    [GLIA_CLK_BINARY] = {GLIA_CL_PROG_ELEMENTWISE, "binary"},
    [GLIA_CLK_UNARY] = {GLIA_CL_PROG_ELEMENTWISE, "unary"},
    [GLIA_CLK_UNARY_BWD] = {GLIA_CL_PROG_ELEMENTWISE, "unary_bwd"},
    [GLIA_CLK_BROADCAST] = {GLIA_CL_PROG_ELEMENTWISE, "broadcast"},
    [GLIA_CLK_REDUCE_PARTIAL] = {GLIA_CL_PROG_REDUCE, "reduce_partial"},
    [GLIA_CLK_REDUCE_FINAL] = {GLIA_CL_PROG_REDUCE, "reduce_final"},
    [GLIA_CLK_BN_APPLY] = {GLIA_CL_PROG_NORM, "bn_apply"},
    [GLIA_CLK_BN_BWD_DX] = {GLIA_CL_PROG_NORM, "bn_bwd_dx"},
    [GLIA_CLK_MAXPOOL_FWD] = {GLIA_CL_PROG_POOL, "maxpool_fwd"},
    [GLIA_CLK_MAXPOOL_BWD] = {GLIA_CL_PROG_POOL, "maxpool_bwd"},
    [GLIA_CLK_UPSAMPLE_FWD] = {GLIA_CL_PROG_POOL, "upsample_fwd"},
    [GLIA_CLK_UPSAMPLE_BWD] = {GLIA_CL_PROG_POOL, "upsample_bwd"},
    [GLIA_CLK_SOFTMAX_FWD] = {GLIA_CL_PROG_CHANNEL, "softmax_fwd"},
    [GLIA_CLK_SOFTMAX_BWD] = {GLIA_CL_PROG_CHANNEL, "softmax_bwd"},
    [GLIA_CLK_SOFTMAX_CE] = {GLIA_CL_PROG_CHANNEL, "softmax_ce"},
    [GLIA_CLK_SOFTMAX_CE_BWD] = {GLIA_CL_PROG_CHANNEL, "softmax_ce_bwd"},
    [GLIA_CLK_ARGMAX] = {GLIA_CL_PROG_CHANNEL, "argmax"},
    [GLIA_CLK_BCE] = {GLIA_CL_PROG_LOSS, "bce_logits"},
    [GLIA_CLK_BCE_BWD] = {GLIA_CL_PROG_LOSS, "bce_logits_bwd"},
    [GLIA_CLK_DICE_BWD] = {GLIA_CL_PROG_LOSS, "dice_sums_bwd"},
    [GLIA_CLK_SGD] = {GLIA_CL_PROG_OPTIM, "sgd"},
    [GLIA_CLK_ADAM] = {GLIA_CL_PROG_OPTIM, "adam"},
    [GLIA_CLK_VOL2COL] = {GLIA_CL_PROG_IM2COL, "vol2col"},
    [GLIA_CLK_COL2VOL] = {GLIA_CL_PROG_IM2COL, "col2vol"},
    [GLIA_CLK_LN_FWD] = {GLIA_CL_PROG_LAYERNORM, "ln_fwd"},
    [GLIA_CLK_LN_BWD_DX] = {GLIA_CL_PROG_LAYERNORM, "ln_bwd_dx"},
    [GLIA_CLK_LN_BWD_PARAM_PART] = {GLIA_CL_PROG_LAYERNORM, "ln_bwd_param_part"},
    [GLIA_CLK_LN_BWD_PARAM_FINAL] = {GLIA_CL_PROG_LAYERNORM, "ln_bwd_param_final"},
};

_Static_assert(sizeof kernels / sizeof kernels[0] == GLIA_CLK_COUNT_,
               "every glia_cl_kern needs its program and name here");

/* Default work-group size of elementwise kernels: enough items to hide memory
 * latency on GPUs, clipped to what the device and kernel allow. */
#define DEFAULT_GROUP 256

static glia_status kernel_get(glia_bctx *ctx, glia_cl_kern k, cl_kernel *out)
{
    if (!ctx->kern[k]) {
        if (!kernels[k].name)
            return glia_seterr(GLIA_STATUS_INTERNAL, "opencl: kernel %d has no name", (int)k);
        cl_program prog;
        glia_status s = glia_cl_program_get(ctx->sh, kernels[k].prog, ctx->cache_dir, &prog);
        if (s != GLIA_STATUS_OK)
            return s;
        cl_int e;
        cl_kernel kern = clCreateKernel(prog, kernels[k].name, &e);
        if (e != CL_SUCCESS)
            return glia_cl_fail(e, "clCreateKernel");
        size_t wg = 0;
        e = clGetKernelWorkGroupInfo(kern, ctx->dev, CL_KERNEL_WORK_GROUP_SIZE, sizeof wg, &wg,
                                     NULL);
        if (e != CL_SUCCESS) {
            clReleaseKernel(kern);
            return glia_cl_fail(e, "clGetKernelWorkGroupInfo");
        }
        ctx->kern[k] = kern;
        ctx->kern_wg[k] = wg < ctx->max_wg ? wg : ctx->max_wg;
    }
    *out = ctx->kern[k];
    return GLIA_STATUS_OK;
}

glia_status glia_cl_pow2_group(glia_bctx *ctx, glia_cl_kern k, size_t cap,
                               size_t local_bytes_per_item, size_t *out)
{
    cl_kernel kern = NULL;
    glia_status s = kernel_get(ctx, k, &kern);
    if (s != GLIA_STATUS_OK)
        return s;
    size_t limit = ctx->kern_wg[k];
    if (cap < limit)
        limit = cap;
    /* leave a quarter of local memory to the kernel's own and the driver's use */
    if (local_bytes_per_item && ctx->local_mem / 4 * 3 / local_bytes_per_item < limit)
        limit = ctx->local_mem / 4 * 3 / local_bytes_per_item;
    size_t g = 1;
    while (g * 2 <= limit)
        g *= 2;
    *out = g;
    return GLIA_STATUS_OK;
}

glia_status glia_cl_launch(glia_bctx *ctx, glia_cl_kern k, size_t n, size_t local,
                           const glia_clarg *args, int nargs)
{
    if (n == 0)
        return GLIA_STATUS_OK;
    cl_kernel kern = NULL;
    glia_status s = kernel_get(ctx, k, &kern);
    if (s != GLIA_STATUS_OK)
        return s;
    for (int i = 0; i < nargs; i++) {
        cl_int e = clSetKernelArg(kern, (cl_uint)i, args[i].size, args[i].ptr);
        if (e != CL_SUCCESS)   /* a mismatch between cl/ and its caller */
            return glia_seterr(GLIA_STATUS_INTERNAL, "clSetKernelArg(%s, %d) failed: %s (%d)",
                               kernels[k].name, i, glia_cl_errstr(e), (int)e);
    }
    if (local == 0)
        local = ctx->kern_wg[k] < DEFAULT_GROUP ? ctx->kern_wg[k] : DEFAULT_GROUP;
    size_t global = (n + local - 1) / local * local;
    cl_int e = clEnqueueNDRangeKernel(ctx->q, kern, 1, NULL, &global, &local, 0, NULL, NULL);
    if (e != CL_SUCCESS) {
        glia_status st = glia_cl_fail(e, "clEnqueueNDRangeKernel");
        return glia_seterr(st, "clEnqueueNDRangeKernel(%s, %zu items) failed: %s (%d)",
                           kernels[k].name, n, glia_cl_errstr(e), (int)e);
    }
    return GLIA_STATUS_OK;
}

glia_status glia_cl_scratch(glia_bctx *ctx, cl_mem *buf, size_t *have, size_t bytes,
                            const char *what)
{
    if (*have >= bytes)
        return GLIA_STATUS_OK;
    if (bytes > ctx->max_alloc)
        return glia_seterr(GLIA_STATUS_DEVICE_OOM,
                           "opencl %s scratch: %zu bytes exceed the device's largest "
                           "allocation (%zu bytes)", what, bytes, ctx->max_alloc);
    cl_int e;
    cl_mem m = clCreateBuffer(ctx->cx, CL_MEM_READ_WRITE, bytes, NULL, &e);
    if (e != CL_SUCCESS) {
        glia_status s = glia_cl_fail(e, "clCreateBuffer");
        return glia_seterr(s, "clCreateBuffer(%zu bytes, %s scratch) failed: %s (%d)", bytes,
                           what, glia_cl_errstr(e), (int)e);
    }
    /* the old buffer may still be read by enqueued work; OpenCL defers its
     * deletion until that work is done */
    if (*buf)
        clReleaseMemObject(*buf);
    *buf = m;
    *have = bytes;
    return GLIA_STATUS_OK;
}
