/* glia — benchmarks: operations (GEMM, every convolution shape of the models,
 * batch norm, pooling, upsampling, elementwise, optimizer steps) and whole
 * models (training step and inference), timed on one device, with each figure
 * set against the device's peak; JSON reports and a comparison of reports from
 * different machines, vendors, backends and PyTorch (tools/bench_torch.py).
 *
 * Timing: each benchmark runs `warmup` untimed runs, then `repeat` timed runs,
 * each ended by glia_device_sync; the median and the minimum are reported.
 *
 * The JSON report (one object per device; `--device all` writes an array of
 * them). Fields are only ever added, never renamed:
 *   schema        "glia-bench-1"
 *   glia_version  "0.1.0" (PyTorch's script: "torch-<version>")
 *   command       the command line that produced the report
 *   machine       {hostname, os, cpu, cores, memory_bytes, loadavg: [1, 5, 15 min]}
 *   device        the device's name; backend ("cpu", "opencl", "vulkan", "torch-cpu",
 *                 "torch-cuda"), driver, device_spec ("cpu:0"), threads
 *   peak          {flops_per_s, flops_method, bytes_per_s, bytes_method, note}: the device's
 *                 peak and how it was found ("measured: ..." or "reported: ..."); note, if not
 *                 empty, names something that skews the figures
 *   results       [{name, median_s, min_s, runs, flops, bytes, peak_mem_bytes,
 *                   peak_rss_bytes, items, unit, items_per_s, flops_per_s, bytes_per_s,
 *                   frac_peak_flops, frac_peak_bytes, error}] (error only when it failed)
 * flops and bytes are per run (0 when not meaningful); bytes counts each operand
 * read or written once (the least traffic the op needs). peak_mem_bytes is the
 * most device memory glia's allocator held during the benchmark (tensors,
 * parameters, optimizer state); peak_rss_bytes the process's peak resident set
 * over the benchmark (Linux; 0 elsewhere). items and unit: images or volumes per
 * run for model benchmarks. */
#ifndef GLIA_BENCH_H
#define GLIA_BENCH_H

#include <stdint.h>
#include <stdio.h>
#include "device.h"
#include "dist.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum glia_bench_suite {
    GLIA_BENCH_SUITE_OPS = 1,      /* op.*: single operations */
    GLIA_BENCH_SUITE_MODELS = 2,   /* model.*: training steps and inference */
    GLIA_BENCH_SUITE_ALL = 3
} glia_bench_suite;

typedef struct glia_bench_result {
    char name[96];             /* "op.gemm.1024x1024x1024", "model.unet2d.train_step" */
    int runs;                  /* timed runs */
    double median_s, min_s;
    double flops;              /* floating-point operations per run (0 = not counted) */
    double bytes;              /* least memory traffic per run (0 = not counted) */
    uint64_t peak_mem_bytes;   /* allocator peak during the benchmark */
    uint64_t peak_rss_bytes;   /* process peak RSS during the benchmark (0 = unknown) */
    double items;              /* images / volumes per run (models), else 0 */
    const char *unit;          /* "images", "volumes" or "" (static storage) */
    char error[192];           /* why the benchmark failed ("" = it ran) */
} glia_bench_result;

typedef struct glia_bench_peak {
    double flops_per_s;        /* 0 = unknown */
    char flops_method[128];    /* "measured: ..." or "reported: ..." */
    double bytes_per_s;
    char bytes_method[128];
    char note[256];            /* a finding that skews the figures ("" = none), e.g. a BLAS
                                  running kernels older than the processor */
} glia_bench_peak;

/* Called after each benchmark (and before the next starts), for progress output. */
typedef void (*glia_bench_callback)(void *user, const glia_bench_result *r);
typedef struct glia_bench_report glia_bench_report;
/* Called once the device is open and its peak known, before the first benchmark;
 * r has no results yet. */
typedef void (*glia_bench_start_callback)(void *user, const glia_bench_report *r);

typedef struct glia_bench_options {
    unsigned suites;           /* glia_bench_suite bits; 0 = all */
    const char *filter;        /* comma-separated patterns; a name matches one if it contains it,
                                  or, for a pattern with * or ?, if it matches it as a glob.
                                  NULL or "" = every benchmark */
    int repeat;                /* timed runs; 0 = 5 */
    int warmup;                /* untimed runs first; 0 = 1, negative = none */
    int batch;                 /* models: 0 = the default (unet2d, r2unet 4; unet3d, swinunetr 1) */
    int size;                  /* models: spatial side; 0 = the default (256; unet3d, swinunetr 128;
                                  swinunetr needs a multiple of 32, or its rows fail) */
    int no_peak;               /* 1: skip measuring the device's peak */
    glia_dist *dist;           /* under mpirun: each rank times model training steps whose gradients are
                                  averaged over the job (glia_reducer), for data-parallel scaling;
                                  every rank runs the same options. NULL: this process alone */
    glia_bench_start_callback on_start;
    glia_bench_callback on_result;
    void *user;                /* passed to both callbacks */
} glia_bench_options;

struct glia_bench_report {
    glia_device_info device;
    int threads;               /* CPU threads used (0 for a GPU) */
    glia_bench_peak peak;
    int count;
    glia_bench_result *results;
};

/* Names of the benchmarks that opts would run (suites, filter, batch, size), in
 * order, into names[0..max-1] (static storage until the next call; not
 * thread-safe); *count gets how many match. */
glia_status glia_bench_list(const glia_bench_options *opts, const char **names, int max, int *count);

/* Run the matching benchmarks on the device of spec ("cpu", "opencl:0", ...)
 * opened with dopts (NULL = defaults). Model benchmarks each open their own
 * device so that their memory peaks are their own. *out is freed with
 * glia_bench_report_free. No match is INVALID_ARGUMENT. A benchmark that fails
 * (a device out of memory, say) gets its error in its result and the others
 * still run: *out is then set and the status is that of the first failure.
 * On any other failure *out is NULL. */
glia_status glia_bench_run(const char *spec, const glia_device_options *dopts, const glia_bench_options *opts,
                           glia_bench_report **out);
void glia_bench_report_free(glia_bench_report *r);

/* Metadata of a report beside the device's. */
typedef struct glia_bench_meta {
    const char *command;       /* the command line; NULL = "" */
} glia_bench_meta;

/* Write reports[0..n-1] as JSON to path (one object for n == 1, else an array),
 * through a temporary file renamed into place. */
glia_status glia_bench_write_json(const glia_bench_report *const *reports, int n, const glia_bench_meta *meta,
                                  const char *path);

/* Merge the JSON reports at paths[0..n-1] (objects or arrays of them, from glia
 * or tools/bench_torch.py) into one Markdown table written to md: a row per
 * benchmark, a column per report with its median time and its speed relative
 * to the first report (the first's time over its own: above 1 = faster), then
 * the model benchmarks' peak memory. png_path (may be NULL): a bar chart of the
 * same speeds. */
glia_status glia_bench_compare(const char *const *paths, int n, FILE *md, const char *png_path);

#ifdef __cplusplus
}
#endif
#endif
