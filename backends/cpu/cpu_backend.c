/* The native CPU backend: one device, host memory, ops run synchronously on
 * the calling thread plus the context's worker pool (so sync has nothing to
 * wait for). opts->reference routes every op to the scalar oracle instead. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cpu_impl.h"
#include "backends/cpu/ref.h"

/* Bounds the im2col/vol2col workspace of a context: convolutions are chunked
 * over the batch and the output columns to stay under it, so memory never
 * grows with the volume size. */
#define WORKSPACE_CAP_BYTES ((size_t)64 << 20)
#define ALIGN 64

size_t glia_cpu_workspace_cap(void) { return WORKSPACE_CAP_BYTES / sizeof(float); }

/* Copy the value of "key<spaces>: value" into dst if line starts with key. */
static void cpuinfo_field(const char *line, const char *key, char *dst, size_t cap)
{
    size_t kl = strlen(key);
    if (strncmp(line, key, kl) != 0 || (line[kl] != ' ' && line[kl] != '\t' && line[kl] != ':'))
        return;
    const char *v = strchr(line + kl, ':');
    if (!v || dst[0])
        return;
    v++;
    while (*v == ' ' || *v == '\t')
        v++;
    size_t n = strcspn(v, "\n");
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, v, n);
    dst[n] = '\0';
}

static glia_status cpu_enumerate(glia_device_info *out, int max, int *count)
{
    *count = 1;
    if (max < 1 || !out)
        return GLIA_STATUS_OK;
    glia_device_info *d = &out[0];
    memset(d, 0, sizeof *d);
    snprintf(d->backend, sizeof d->backend, "cpu");
    d->index = 0;
    d->type = GLIA_DEVICE_TYPE_CPU;
    d->emulated = 0;
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[512];
        while (fgets(line, sizeof line, f)) {
            cpuinfo_field(line, "model name", d->name, sizeof d->name);
            cpuinfo_field(line, "vendor_id", d->vendor, sizeof d->vendor);
        }
        fclose(f);
    }
    if (!d->name[0])
        snprintf(d->name, sizeof d->name, "CPU");
    if (!d->vendor[0])
        snprintf(d->vendor, sizeof d->vendor, "CPU");
    const char *cfg = openblas_get_config();
    snprintf(d->driver, sizeof d->driver, "%s", cfg ? cfg : "OpenBLAS");
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    d->memory_bytes = pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page : 0;
    return GLIA_STATUS_OK;
}

static void cpu_close(glia_bctx *ctx)
{
    if (!ctx)
        return;
    glia_cpu_pool_destroy(ctx->pool);
    for (int i = 0; i < GLIA_CPU_WS_COUNT; i++)
        free(ctx->ws[i]);
    glia_cpu_wcache_free(ctx->wcache);
    free(ctx);
}

static glia_status cpu_open(int index, const glia_device_options *opts, glia_bctx **out)
{
    *out = NULL;
    if (index != 0)
        return glia_seterr(GLIA_STATUS_NO_DEVICE, "cpu backend: no device %d (only cpu:0)", index);
    glia_bctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "cpu backend: malloc of the context failed");
    int threads = opts ? opts->threads : 0;
    if (threads <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (int)n : 1;
    }
    ctx->threads = threads;
    ctx->reference = opts ? opts->reference != 0 : 0;
    glia_status s = glia_cpu_pool_create(ctx->reference ? 1 : threads, &ctx->pool);
    if (s != GLIA_STATUS_OK) {
        free(ctx);
        return s;
    }
    glia_cpu_blas_threads(ctx);
    *out = ctx;
    return GLIA_STATUS_OK;
}

void glia_cpu_blas_threads(const glia_bctx *ctx)
{
    /* OpenBLAS's thread count is process-wide: set it only when another
     * context changed it, since the call is not free. */
    if (openblas_get_num_threads() != ctx->threads)
        openblas_set_num_threads(ctx->threads);
}

glia_status glia_cpu_workspace(glia_bctx *ctx, glia_cpu_ws which, size_t floats, float **out)
{
    if (floats > ctx->ws_floats[which]) {
        size_t bytes = (floats * sizeof(float) + ALIGN - 1) / ALIGN * ALIGN;
        float *ws = aligned_alloc(ALIGN, bytes);
        if (!ws)
            return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY,
                               "cpu backend: aligned_alloc of a %zu-byte convolution workspace failed",
                               bytes);
        free(ctx->ws[which]);
        ctx->ws[which] = ws;
        ctx->ws_floats[which] = floats;
    }
    *out = ctx->ws[which];
    return GLIA_STATUS_OK;
}

/* A buffer is its memory: the handle is the 64-byte aligned host pointer. */
static glia_status cpu_buf_alloc(glia_bctx *ctx, size_t bytes, glia_bbuf **out)
{
    void *p = bytes && bytes <= SIZE_MAX - ALIGN
                  ? aligned_alloc(ALIGN, (bytes + ALIGN - 1) / ALIGN * ALIGN) : NULL;
    *out = p;
    if (!p)
        return glia_seterr(GLIA_STATUS_DEVICE_OOM, "cpu backend: aligned_alloc of %zu bytes failed",
                           bytes);
    return GLIA_STATUS_OK;
}

static void cpu_buf_free(glia_bctx *ctx, glia_bbuf *buf) { free(buf); }

static glia_status cpu_write(glia_bctx *ctx, glia_bbuf *buf, size_t off, const void *src, size_t bytes)
{
    memcpy((char *)buf + off, src, bytes);
    return GLIA_STATUS_OK;
}

static glia_status cpu_read(glia_bctx *ctx, glia_bbuf *buf, size_t off, void *dst, size_t bytes)
{
    memcpy(dst, (const char *)buf + off, bytes);
    return GLIA_STATUS_OK;
}

static glia_status cpu_sync(glia_bctx *ctx) { return GLIA_STATUS_OK; }

static glia_status cpu_run(glia_bctx *ctx, const glia_op *op)
{
    float *t[8];
    for (int i = 0; i < 8; i++)
        t[i] = op->t[i].buf ? (float *)op->t[i].buf + op->t[i].off : NULL;
    if (ctx->reference)
        return glia_ref_run_f32(op, t);
    switch (op->kind) {
    case GLIA_OP_FILL: glia_cpu_fill(ctx, op, t); break;
    case GLIA_OP_COPY_ND: glia_cpu_copy_nd(ctx, op, t); break;
    case GLIA_OP_GATHER_ROWS: glia_cpu_gather_rows(ctx, op, t); break;
    case GLIA_OP_GATHER_ROWS_BWD: glia_cpu_gather_rows_bwd(ctx, op, t); break;
    case GLIA_OP_AXPBYZ: glia_cpu_axpbyz(ctx, op, t); break;
    case GLIA_OP_BINARY: glia_cpu_binary(ctx, op, t); break;
    case GLIA_OP_UNARY: glia_cpu_unary(ctx, op, t); break;
    case GLIA_OP_UNARY_BWD: glia_cpu_unary_bwd(ctx, op, t); break;
    case GLIA_OP_BROADCAST: glia_cpu_broadcast(ctx, op, t); break;
    case GLIA_OP_REDUCE: glia_cpu_reduce_op(ctx, op, t); break;
    case GLIA_OP_GEMM: glia_cpu_gemm(ctx, op, t); break;
    case GLIA_OP_CONV_FWD: return glia_cpu_conv_fwd(ctx, op, t);
    case GLIA_OP_CONV_BWD_DATA: return glia_cpu_conv_bwd_data(ctx, op, t);
    case GLIA_OP_CONV_BWD_WEIGHT: return glia_cpu_conv_bwd_weight(ctx, op, t);
    case GLIA_OP_BN_FWD_TRAIN: glia_cpu_bn_fwd_train(ctx, op, t); break;
    case GLIA_OP_BN_FWD_INFER: glia_cpu_bn_fwd_infer(ctx, op, t); break;
    case GLIA_OP_BN_BWD: glia_cpu_bn_bwd(ctx, op, t); break;
    case GLIA_OP_LN_FWD: glia_cpu_ln_fwd(ctx, op, t); break;
    case GLIA_OP_LN_BWD: return glia_cpu_ln_bwd(ctx, op, t);
    case GLIA_OP_MAXPOOL_FWD: glia_cpu_maxpool_fwd(ctx, op, t); break;
    case GLIA_OP_MAXPOOL_BWD: glia_cpu_maxpool_bwd(ctx, op, t); break;
    case GLIA_OP_UPSAMPLE_FWD: glia_cpu_upsample_fwd(ctx, op, t); break;
    case GLIA_OP_UPSAMPLE_BWD: glia_cpu_upsample_bwd(ctx, op, t); break;
    case GLIA_OP_SOFTMAX_FWD: glia_cpu_softmax_fwd(ctx, op, t); break;
    case GLIA_OP_SOFTMAX_BWD: glia_cpu_softmax_bwd(ctx, op, t); break;
    case GLIA_OP_BCE_LOGITS: glia_cpu_bce_logits(ctx, op, t); break;
    case GLIA_OP_BCE_LOGITS_BWD: glia_cpu_bce_logits_bwd(ctx, op, t); break;
    case GLIA_OP_SOFTMAX_CE: glia_cpu_softmax_ce(ctx, op, t); break;
    case GLIA_OP_SOFTMAX_CE_BWD: glia_cpu_softmax_ce_bwd(ctx, op, t); break;
    case GLIA_OP_DICE_SUMS: glia_cpu_dice_sums(ctx, op, t); break;
    case GLIA_OP_DICE_SUMS_BWD: glia_cpu_dice_sums_bwd(ctx, op, t); break;
    case GLIA_OP_SGD: glia_cpu_sgd(ctx, op, t); break;
    case GLIA_OP_ADAM: glia_cpu_adam(ctx, op, t); break;
    case GLIA_OP_ARGMAX: glia_cpu_argmax(ctx, op, t); break;
    case GLIA_OP_COUNT_: /* no default: -Wswitch rejects a kind without a CPU kernel */
        return glia_seterr(GLIA_STATUS_INTERNAL, "cpu backend: op kind %d", (int)op->kind);
    }
    return GLIA_STATUS_OK;
}

static int cpu_supports(glia_bctx *ctx, const glia_op *op) { return glia_op_well_formed(op); }

const glia_backend glia_backend_cpu = {
    .version = GLIA_BACKEND_VERSION,
    .name = "cpu",
    .enumerate = cpu_enumerate,
    .open = cpu_open,
    .close = cpu_close,
    .buf_alloc = cpu_buf_alloc,
    .buf_free = cpu_buf_free,
    .write = cpu_write,
    .read = cpu_read,
    .sync = cpu_sync,
    .supports = cpu_supports,
    .run = cpu_run,
};
