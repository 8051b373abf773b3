/* The OpenCL backend's table: devices, buffers, transfers, op dispatch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "backends/opencl/cl_priv.h"
#include "backends/opencl/cl_testing.h"

/* Conv workspace bound: big enough that chunks keep GEMMs efficient, small
 * enough to leave the device's memory to tensors. */
#define WORKSPACE_MAX ((size_t)64 << 20)
/* Largest host write staged through a private copy (cl_write). */
#define STAGING_MAX ((size_t)64 << 20)

static glia_device_type map_type(cl_device_id dev)
{
    cl_device_type t = 0;
    cl_bool unified = CL_FALSE;
    clGetDeviceInfo(dev, CL_DEVICE_TYPE, sizeof t, &t, NULL);
    if (t & CL_DEVICE_TYPE_CPU)
        return GLIA_DEVICE_TYPE_CPU;
    if (t & CL_DEVICE_TYPE_GPU) {
        /* deprecated in 2.0 but answered by every 1.2+ driver; a failed query
         * leaves it false: discrete */
        clGetDeviceInfo(dev, CL_DEVICE_HOST_UNIFIED_MEMORY, sizeof unified, &unified, NULL);
        return unified ? GLIA_DEVICE_TYPE_INTEGRATED : GLIA_DEVICE_TYPE_DISCRETE;
    }
    return GLIA_DEVICE_TYPE_OTHER;
}

static void fill_info(int index, cl_platform_id plat, cl_device_id dev, glia_device_info *info)
{
    char plat_name[64], drv[64];
    cl_ulong mem = 0;
    memset(info, 0, sizeof *info);
    snprintf(info->backend, sizeof info->backend, "opencl");
    info->index = index;
    glia_cl_device_str(dev, CL_DEVICE_VENDOR, info->vendor, sizeof info->vendor);
    glia_cl_device_str(dev, CL_DEVICE_NAME, info->name, sizeof info->name);
    glia_cl_platform_str(plat, CL_PLATFORM_NAME, plat_name, sizeof plat_name);
    glia_cl_device_str(dev, CL_DRIVER_VERSION, drv, sizeof drv);
    snprintf(info->driver, sizeof info->driver, "%s %s", plat_name, drv);
    clGetDeviceInfo(dev, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof mem, &mem, NULL);
    info->memory_bytes = mem;
    info->type = map_type(dev);
    /* a CPU device behind a GPU API (PoCL) is an emulation for glia's purposes */
    info->emulated = info->type == GLIA_DEVICE_TYPE_CPU;
}

static glia_status cl_enumerate(glia_device_info *out, int max, int *count)
{
    int total = 0;
    cl_platform_id plat;
    cl_device_id dev;
    glia_status s = glia_cl_device_at(-1, &plat, &dev, &total);
    if (s != GLIA_STATUS_OK)
        return s;
    for (int i = 0; i < total && i < max; i++) {
        int n;
        s = glia_cl_device_at(i, &plat, &dev, &n);
        if (s != GLIA_STATUS_OK)
            return s;
        fill_info(i, plat, dev, &out[i]);
    }
    *count = total;
    return GLIA_STATUS_OK;
}

static void cl_close(glia_bctx *ctx)
{
    if (!ctx)
        return;
    if (ctx->q) {
        clFinish(ctx->q);
        clReleaseCommandQueue(ctx->q);
    }
    for (int k = 0; k < GLIA_CLK_COUNT_; k++)
        if (ctx->kern[k])
            clReleaseKernel(ctx->kern[k]);
    if (ctx->ws)
        clReleaseMemObject(ctx->ws);
    if (ctx->part)
        clReleaseMemObject(ctx->part);
    free(ctx->cache_dir);
    free(ctx);
}

static glia_status query_limits(glia_bctx *ctx)
{
    cl_ulong max_alloc = 0, local_mem = 0, global_mem = 0;
    size_t max_wg = 0;
    cl_int e = clGetDeviceInfo(ctx->dev, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof max_alloc,
                               &max_alloc, NULL);
    if (e == CL_SUCCESS)
        e = clGetDeviceInfo(ctx->dev, CL_DEVICE_LOCAL_MEM_SIZE, sizeof local_mem, &local_mem,
                            NULL);
    if (e == CL_SUCCESS)
        e = clGetDeviceInfo(ctx->dev, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof global_mem,
                            &global_mem, NULL);
    if (e == CL_SUCCESS)
        e = clGetDeviceInfo(ctx->dev, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof max_wg, &max_wg,
                            NULL);
    size_t items[16] = {0};   /* per-dimension limits; OpenCL guarantees >= 3 dims */
    if (e == CL_SUCCESS)
        e = clGetDeviceInfo(ctx->dev, CL_DEVICE_MAX_WORK_ITEM_SIZES, sizeof items, items, NULL);
    if (e != CL_SUCCESS)
        return glia_cl_fail(e, "clGetDeviceInfo");
    if (items[0] && items[0] < max_wg)   /* all our ranges are 1-D */
        max_wg = items[0];
    ctx->max_alloc = max_alloc > SIZE_MAX ? SIZE_MAX : (size_t)max_alloc;
    ctx->local_mem = (size_t)local_mem;
    ctx->global_mem = global_mem;
    ctx->max_wg = max_wg ? max_wg : 1;
    return GLIA_STATUS_OK;
}

static glia_status cl_open(int index, const glia_device_options *opts, glia_bctx **out)
{
    cl_platform_id plat;
    cl_device_id dev = NULL;
    int count = 0;
    glia_status s = glia_cl_device_at(index, &plat, &dev, &count);
    if (s != GLIA_STATUS_OK)
        return s;
    if (index < 0 || index >= count)
        return glia_seterr(GLIA_STATUS_NO_DEVICE, "opencl:%d: no such device (%d found)", index,
                           count);
    glia_bctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "opencl: out of host memory");
    ctx->dev = dev;
    s = glia_cl_shared_get(dev, &ctx->sh, &ctx->cx);
    if (s == GLIA_STATUS_OK)
        s = query_limits(ctx);
    if (s == GLIA_STATUS_OK && opts && opts->cache_dir && !(ctx->cache_dir = strdup(opts->cache_dir)))
        s = glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "opencl: out of host memory");
    if (s == GLIA_STATUS_OK) {
        cl_int e;
        ctx->q = clCreateCommandQueue(ctx->cx, dev, 0, &e);
        if (e != CL_SUCCESS)
            s = glia_cl_fail(e, "clCreateCommandQueue");
    }
    if (s != GLIA_STATUS_OK) {
        cl_close(ctx);
        return s;
    }
    *out = ctx;
    return GLIA_STATUS_OK;
}

static glia_status cl_buf_alloc(glia_bctx *ctx, size_t bytes, glia_bbuf **out)
{
    if (bytes > ctx->max_alloc)
        return glia_seterr(GLIA_STATUS_DEVICE_OOM,
                           "opencl buffer of %zu bytes exceeds the device's largest allocation "
                           "(CL_DEVICE_MAX_MEM_ALLOC_SIZE = %zu bytes)", bytes, ctx->max_alloc);
    /* drivers allocate lazily and fail later, inside some kernel launch; check
     * the total here so the error names the request */
    if (ctx->allocated + bytes > ctx->global_mem)
        return glia_seterr(GLIA_STATUS_DEVICE_OOM,
                           "opencl buffer of %zu bytes does not fit: %llu of %llu bytes of "
                           "device memory already allocated", bytes,
                           (unsigned long long)ctx->allocated,
                           (unsigned long long)ctx->global_mem);
    glia_bbuf *b = malloc(sizeof *b);
    if (!b)
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "opencl: out of host memory");
    cl_int e;
    b->mem = clCreateBuffer(ctx->cx, CL_MEM_READ_WRITE, bytes, NULL, &e);
    if (e != CL_SUCCESS) {
        free(b);
        glia_status s = glia_cl_fail(e, "clCreateBuffer");
        return glia_seterr(s == GLIA_STATUS_BACKEND_ERROR && e == CL_OUT_OF_RESOURCES
                               ? GLIA_STATUS_DEVICE_OOM : s,
                           "clCreateBuffer(%zu bytes) failed: %s (%d)", bytes,
                           glia_cl_errstr(e), (int)e);
    }
    b->bytes = bytes;
    ctx->allocated += bytes;
    *out = b;
    return GLIA_STATUS_OK;
}

static void cl_buf_free(glia_bctx *ctx, glia_bbuf *buf)
{
    if (!buf)
        return;
    /* enqueued work may still use it: OpenCL defers the deletion until done */
    clReleaseMemObject(buf->mem);
    ctx->allocated -= buf->bytes;
    free(buf);
}

static void CL_CALLBACK free_staging(cl_event ev, cl_int status, void *copy)
{
    free(copy);
    clReleaseEvent(ev);
}

static glia_status cl_write(glia_bctx *ctx, glia_bbuf *buf, size_t off, const void *src,
                            size_t bytes)
{
    if (bytes == 0)
        return GLIA_STATUS_OK;
    /* a private copy lets the caller reuse src at once without waiting for the
     * queue; past a size where the copy costs as much as the transfer, or
     * without host memory for it, write synchronously */
    void *copy = bytes <= STAGING_MAX ? malloc(bytes) : NULL;
    cl_event ev = NULL;
    cl_int e;
    if (copy) {
        memcpy(copy, src, bytes);
        e = clEnqueueWriteBuffer(ctx->q, buf->mem, CL_FALSE, off, bytes, copy, 0, NULL, &ev);
        if (e == CL_SUCCESS) {
            e = clSetEventCallback(ev, CL_COMPLETE, free_staging, copy);
            if (e != CL_SUCCESS) {   /* no callback: wait, then free here */
                clWaitForEvents(1, &ev);
                clReleaseEvent(ev);
                free(copy);
                e = CL_SUCCESS;
            }
        } else {
            free(copy);
        }
    } else {
        e = clEnqueueWriteBuffer(ctx->q, buf->mem, CL_TRUE, off, bytes, src, 0, NULL, NULL);
    }
    return e == CL_SUCCESS ? GLIA_STATUS_OK : glia_cl_fail(e, "clEnqueueWriteBuffer");
}

static glia_status cl_read(glia_bctx *ctx, glia_bbuf *buf, size_t off, void *dst, size_t bytes)
{
    if (bytes == 0)
        return GLIA_STATUS_OK;
    cl_int e = clEnqueueReadBuffer(ctx->q, buf->mem, CL_TRUE, off, bytes, dst, 0, NULL, NULL);
    return e == CL_SUCCESS ? GLIA_STATUS_OK : glia_cl_fail(e, "clEnqueueReadBuffer");
}

static glia_status cl_sync(glia_bctx *ctx)
{
    cl_int e = clFinish(ctx->q);
    return e == CL_SUCCESS ? GLIA_STATUS_OK : glia_cl_fail(e, "clFinish");
}

static int cl_supports(glia_bctx *ctx, const glia_op *op)
{
    if (!glia_op_well_formed(op))
        return 0;
    /* layer norm kernels index columns and rows in 32 bits (cl/layernorm.cl) */
    if (op->kind == GLIA_OP_LN_FWD || op->kind == GLIA_OP_LN_BWD)
        return (uint64_t)op->p.ln.rows * op->p.ln.cols < ((uint64_t)1 << 32);
    return 1;
}

size_t glia_cl_workspace_bound(const glia_bctx *ctx)
{
    if (ctx->ws_bound)
        return ctx->ws_bound;
    size_t quarter = ctx->max_alloc / 4;
    return quarter < WORKSPACE_MAX ? quarter : WORKSPACE_MAX;
}

void glia_cl_set_workspace_bound(glia_bctx *ctx, size_t bytes)
{
    ctx->ws_bound = bytes;
}

const glia_backend glia_backend_opencl = {
    .version = GLIA_BACKEND_VERSION,
    .name = "opencl",
    .enumerate = cl_enumerate,
    .open = cl_open,
    .close = cl_close,
    .buf_alloc = cl_buf_alloc,
    .buf_free = cl_buf_free,
    .write = cl_write,
    .read = cl_read,
    .sync = cl_sync,
    .supports = cl_supports,
    .run = glia_cl_run,
};
