/* A device's peak, the yardstick of every figure's "fraction of peak":
 * - CPU: FLOP/s from a register-only FMA kernel on every thread (AVX-512, AVX2
 *   or plain C, whichever the processor runs fastest), bandwidth from a STREAM
 *   triad on every thread; both measured here, outside the backend.
 * - GPUs (OpenCL, Vulkan): the backend interface reports no units or clocks, so
 *   FLOP/s is the fastest of a few large GEMMs on the device (a lower bound of
 *   the peak) and bandwidth that of z = x + y over arrays far larger than any cache.
 * Also the process's peak resident set, for the benchmarks' memory figures. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "bench_priv.h"
#include "core/core.h"
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define HAVE_X86 1
#endif

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- FMA kernels: 12 independent accumulators cover FMA latency x units ---- */

enum { ACC = 12, ITERS = 1 << 25 };   /* ~0.1 s per thread at 64 GFLOP/s */

/* Returns FLOPs done; writes a value derived from the result so the loop stays. */
static double fma_c(long iters, float *sink)
{
    float acc[ACC][8], m = 0.999999f, a = 1e-7f;
    for (int i = 0; i < ACC; i++)
        for (int j = 0; j < 8; j++)
            acc[i][j] = (float)(i + j);
    for (long it = 0; it < iters; it++)
        for (int i = 0; i < ACC; i++)
            for (int j = 0; j < 8; j++)
                acc[i][j] = acc[i][j] * m + a;
    float s = 0;
    for (int i = 0; i < ACC; i++)
        for (int j = 0; j < 8; j++)
            s += acc[i][j];
    *sink = s;
    return 2.0 * ACC * 8 * (double)iters;
}

#ifdef HAVE_X86
__attribute__((target("avx2,fma"))) static double fma_avx2(long iters, float *sink)
{
    __m256 acc[ACC], m = _mm256_set1_ps(0.999999f), a = _mm256_set1_ps(1e-7f);
    for (int i = 0; i < ACC; i++)
        acc[i] = _mm256_set1_ps((float)i);
    for (long it = 0; it < iters; it++)
        for (int i = 0; i < ACC; i++)
            acc[i] = _mm256_fmadd_ps(acc[i], m, a);
    __m256 s = acc[0];
    for (int i = 1; i < ACC; i++)
        s = _mm256_add_ps(s, acc[i]);
    float out[8];
    _mm256_storeu_ps(out, s);
    *sink = out[0];
    return 2.0 * ACC * 8 * (double)iters;
}

__attribute__((target("avx512f"))) static double fma_avx512(long iters, float *sink)
{
    __m512 acc[ACC], m = _mm512_set1_ps(0.999999f), a = _mm512_set1_ps(1e-7f);
    for (int i = 0; i < ACC; i++)
        acc[i] = _mm512_set1_ps((float)i);
    for (long it = 0; it < iters; it++)
        for (int i = 0; i < ACC; i++)
            acc[i] = _mm512_fmadd_ps(acc[i], m, a);
    __m512 s = acc[0];
    for (int i = 1; i < ACC; i++)
        s = _mm512_add_ps(s, acc[i]);
    *sink = _mm512_reduce_add_ps(s);
    return 2.0 * ACC * 16 * (double)iters;
}
#endif

typedef double (*fma_fn)(long iters, float *sink);

typedef struct thread_job {
    fma_fn fn;
    long iters;
    double flops;
    float sink;
    /* triad */
    float *a, *b, *c;
    size_t n;
    int reps;
} thread_job;

static void *fma_thread(void *arg)
{
    thread_job *j = arg;
    j->flops = j->fn(j->iters, &j->sink);
    return NULL;
}

static void *triad_thread(void *arg)
{
    thread_job *j = arg;
    for (int r = 0; r < j->reps; r++)
        for (size_t i = 0; i < j->n; i++)
            j->a[i] = j->b[i] + 1.5f * j->c[i];
    return NULL;
}

/* Run fn on `threads` threads (the caller is one); returns the wall time. */
static double run_threads(int threads, void *(*fn)(void *), thread_job *jobs)
{
    pthread_t tid[256];
    int started = 0;
    double t0 = now();
    for (int i = 1; i < threads && i < 256; i++)
        if (pthread_create(&tid[i], NULL, fn, &jobs[i]) == 0)
            started = i;
        else
            break;
    fn(&jobs[0]);
    for (int i = 1; i <= started; i++)
        pthread_join(tid[i], NULL);
    double t = now() - t0;
    /* threads that could not start did no work: count only those that did */
    for (int i = started + 1; i < threads; i++)
        jobs[i].flops = 0, jobs[i].n = 0;
    return t;
}

static double fma_rate(fma_fn fn, int threads, thread_job *jobs)
{
    double best = 0;
    for (int rep = 0; rep < 3; rep++) {
        for (int i = 0; i < threads; i++)
            jobs[i] = (thread_job){.fn = fn, .iters = ITERS};
        double t = run_threads(threads, fma_thread, jobs), f = 0;
        for (int i = 0; i < threads; i++)
            f += jobs[i].flops;
        if (t > 0 && f / t > best)
            best = f / t;
    }
    return best;
}

static void cpu_flops(int threads, thread_job *jobs, glia_bench_peak *p)
{
    const char *isa = "C";
    double best = fma_rate(fma_c, threads, jobs);
#ifdef HAVE_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        double r = fma_rate(fma_avx2, threads, jobs);
        if (r > best)
            best = r, isa = "AVX2";
    }
    if (__builtin_cpu_supports("avx512f")) {
        double r = fma_rate(fma_avx512, threads, jobs);
        if (r > best)
            best = r, isa = "AVX-512";
    }
#endif
    p->flops_per_s = best;
    snprintf(p->flops_method, sizeof p->flops_method, "measured: %s FMA kernel on %d threads", isa, threads);
}

static void cpu_bandwidth(int threads, thread_job *jobs, glia_bench_peak *p)
{
    const size_t n = (size_t)1 << 25;   /* 3 x 128 MiB: far beyond any cache */
    float *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b), *c = malloc(n * sizeof *c);
    if (a && b && c) {
        size_t per = n / (size_t)threads;
        memset(a, 0, n * sizeof *a);   /* touch every page before timing */
        for (size_t i = 0; i < n; i++)
            b[i] = 1.0f, c[i] = 2.0f;
        double best = 0;
        for (int rep = 0; rep < 4; rep++) {
            for (int i = 0; i < threads; i++)
                jobs[i] = (thread_job){.a = a + i * per, .b = b + i * per, .c = c + i * per, .n = per, .reps = 2};
            double t = run_threads(threads, triad_thread, jobs);
            size_t done = 0;
            for (int i = 0; i < threads; i++)
                done += jobs[i].n;
            if (rep > 0 && t > 0 && 3.0 * 4.0 * 2.0 * (double)done / t > best)   /* rep 0 warms up */
                best = 3.0 * 4.0 * 2.0 * (double)done / t;
        }
        p->bytes_per_s = best;
        snprintf(p->bytes_method, sizeof p->bytes_method,
                 "measured: STREAM triad a = b + s*c over 3 x 128 MiB on %d threads", threads);
    }
    free(a);
    free(b);
    free(c);
}

/* ---- GPUs: through the device's own ops --------------------------------------- */

static glia_status time_op(glia_device *dev, const glia_op *op, int reps, double *best)
{
    glia_status s = glia_run(dev, op);   /* warm-up: kernels built, memory touched */
    if (s == GLIA_STATUS_OK)
        s = glia_device_sync(dev);
    *best = 0;
    for (int r = 0; r < reps && s == GLIA_STATUS_OK; r++) {
        double t0 = now();
        if ((s = glia_run(dev, op)) == GLIA_STATUS_OK && (s = glia_device_sync(dev)) == GLIA_STATUS_OK) {
            double t = now() - t0;
            if (*best == 0 || t < *best)
                *best = t;
        }
    }
    return s;
}

static glia_status tensors(glia_device *dev, int n, int64_t numel, glia_tensor **t)
{
    glia_status s = GLIA_STATUS_OK;
    for (int i = 0; i < n && s == GLIA_STATUS_OK; i++)
        s = glia_tensor_full(dev, 1, &numel, 1.0f, &t[i]);
    return s;
}

static glia_status gpu_peak(glia_device *dev, glia_bench_peak *p)
{
    glia_tensor *t[3] = {NULL, NULL, NULL};
    const int64_t n = 2048, big = (int64_t)1 << 25;
    glia_status s = tensors(dev, 3, n * n, t);
    double best = 0;
    if (s == GLIA_STATUS_OK) {
        glia_op op = {.kind = GLIA_OP_GEMM, .t = {glia_view(t[0]), glia_view(t[1]), glia_view(t[2])}};
        op.p.gemm = (glia_gemm_desc){.m = n, .n = n, .k = n, .lda = n, .ldb = n, .ldc = n, .batch = 1,
                                     .stride_a = n * n, .stride_b = n * n, .stride_c = n * n, .alpha = 1.0f};
        if ((s = time_op(dev, &op, 3, &best)) == GLIA_STATUS_OK && best > 0) {
            p->flops_per_s = 2.0 * n * n * n / best;
            snprintf(p->flops_method, sizeof p->flops_method,
                     "measured: glia GEMM 2048^3 on the device (a lower bound of the peak)");
        }
    }
    for (int i = 0; i < 3; i++)
        glia_tensor_free(t[i]), t[i] = NULL;
    if (s == GLIA_STATUS_OK && (s = tensors(dev, 3, big, t)) == GLIA_STATUS_OK) {
        glia_op op = {.kind = GLIA_OP_AXPBYZ, .t = {glia_view(t[0]), glia_view(t[1]), glia_view(t[2])}};
        op.p.axpbyz.n = (size_t)big;
        op.p.axpbyz.a = op.p.axpbyz.b = 1.0f;
        if ((s = time_op(dev, &op, 5, &best)) == GLIA_STATUS_OK && best > 0) {
            p->bytes_per_s = 3.0 * 4.0 * (double)big / best;
            snprintf(p->bytes_method, sizeof p->bytes_method, "measured: glia z = x + y over 3 x 128 MiB on the device");
        }
    }
    for (int i = 0; i < 3; i++)
        glia_tensor_free(t[i]);
    glia_device_empty_cache(dev);
    return s;
}

/* OpenBLAS picks its kernels when it loads; where it picked ones older than
 * the processor (glia_blas_coretype_advice), the report says how to restart. */
static void blas_note(glia_bench_peak *p)
{
    const char *core = glia_blas_coretype_advice();
    if (core)
        snprintf(p->note, sizeof p->note,
                 "OpenBLAS runs kernels older than this processor: restart with "
                 "OPENBLAS_CORETYPE=%s for faster GEMM", core);
}

glia_status glia_bench_peak_measure(glia_device *dev, int threads, glia_bench_peak *out)
{
    memset(out, 0, sizeof *out);
    const glia_device_info *info = glia_device_get_info(dev);
    if (strcmp(info->backend, "cpu") != 0)
        return gpu_peak(dev, out);
    if (threads < 1)
        threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (threads < 1)
        threads = 1;
    if (threads > 256)
        threads = 256;
    thread_job *jobs = calloc((size_t)threads, sizeof *jobs);
    if (!jobs)
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "bench: no host memory for the peak threads");
    blas_note(out);
    cpu_flops(threads, jobs, out);
    cpu_bandwidth(threads, jobs, out);
    free(jobs);
    return GLIA_STATUS_OK;
}

/* ---- resident set --------------------------------------------------------------- */

void glia_bench_rss_reset(void)
{
#ifdef __linux__
    /* "5" resets the peak RSS (VmHWM) to the current RSS (Linux 4.0+) */
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (f) {
        fputs("5", f);
        fclose(f);
    }
#endif
}

uint64_t glia_bench_rss_peak(void)
{
    uint64_t kb = 0;
#ifdef __linux__
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0) {
            kb = strtoull(line + 6, NULL, 10);
            break;
        }
    if (f)
        fclose(f);
#endif
    return kb * 1024;
}
