/* glia — private declarations of the benchmark module: the case list, the
 * peak and memory probes, the machine description, the chart writer. */
#ifndef GLIA_BENCH_PRIV_H
#define GLIA_BENCH_PRIV_H

#include <stddef.h>
#include <stdint.h>
#include "glia/glia.h"
#include "glia/bench.h"
#include "backends/backend.h"

/* ---- cases (bench_cases.c, bench_shapes.c) --------------------------------- */

typedef enum glia_bench_kind {
    GLIA_BENCH_KIND_OP,        /* one backend op on random operands */
    GLIA_BENCH_KIND_TRAIN,     /* a model's training step */
    GLIA_BENCH_KIND_INFER,     /* a model's inference on a batch */
    GLIA_BENCH_KIND_VOLUME     /* sliding-window inference of a BraTS-sized volume (glia_predict) */
} glia_bench_kind;

/* Operand slot initial contents. */
typedef enum glia_bench_init {
    GLIA_BENCH_INIT_SIGNED = 0,  /* U(-1, 1) */
    GLIA_BENCH_INIT_POSITIVE,    /* U(0.5, 1.5): variances, inverse deviations */
    GLIA_BENCH_INIT_POOL_INDEX,  /* int32 pooling argmax: the first element of each window */
    GLIA_BENCH_INIT_NONE         /* outputs: left as allocated */
} glia_bench_init;

typedef struct glia_bench_case {
    char name[96];
    unsigned suite;
    glia_bench_kind kind;
    glia_op op;                  /* OP: kind and parameters; views are filled at setup */
    size_t numel[8];             /* OP: elements per slot, 0 = unused */
    glia_bench_init init[8];
    glia_model_arch arch;        /* TRAIN, INFER */
    int64_t batch, size;
    int64_t volume[3];           /* VOLUME: the volume's sides (i, j, k); windows are size^3 */
    double flops, bytes, items;
    const char *unit;
} glia_bench_case;

typedef struct glia_bench_caselist {
    glia_bench_case *v;
    int n, cap;
} glia_bench_caselist;

/* Append a zeroed case named by fmt; NULL if the host is out of memory. */
glia_bench_case *glia_bench_add(glia_bench_caselist *l, unsigned suite, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* Every benchmark for these options (before filtering), in run order. */
glia_status glia_bench_cases(const glia_bench_options *o, glia_bench_caselist *l);
void glia_bench_cases_free(glia_bench_caselist *l);

/* The convolutions of a model's forward pass for input batch x size^nsp, each
 * with how many times the forward applies it and whether its input needs a
 * gradient (the first layer's does not). */
typedef struct glia_bench_conv {
    glia_conv_desc d;
    int uses;
    int transposed;              /* a transposed conv: forward = the primitive's backward-data */
    int needs_dx;
} glia_bench_conv;

/* Fills out[0..max-1], returns the number of convolutions (may exceed max). */
int glia_bench_model_convs(const glia_model_config *cfg, int64_t batch, int64_t size, glia_bench_conv *out,
                           int max);
/* 2 * MACs of one application of the primitive d. */
double glia_bench_conv_flops(const glia_conv_desc *d);
/* Forward and training-step FLOPs of a model: its convolutions and its other
 * matrix products (glia_model_matmul_flops), nothing elementwise. */
void glia_bench_model_flops(const glia_model_config *cfg, int64_t batch, int64_t size, double *infer,
                            double *train);

/* ---- peak (bench_peak.c) ------------------------------------------------------- */

/* Measure or look up the device's peak FLOP/s and bandwidth. */
glia_status glia_bench_peak_measure(glia_device *dev, int threads, glia_bench_peak *out);

/* ---- process memory (bench_peak.c) ----------------------------------------------- */

/* Reset the process's peak-RSS mark where the OS allows it (Linux). */
void glia_bench_rss_reset(void);
/* The process's peak RSS in bytes since the last reset, 0 if unknown. */
uint64_t glia_bench_rss_peak(void);

/* ---- machine description (bench_json.c) ------------------------------------------- */

typedef struct glia_bench_machine {
    char hostname[128], os[256], cpu[128];
    int cores;
    uint64_t memory_bytes;
    double loadavg[3];
} glia_bench_machine;

void glia_bench_machine_get(glia_bench_machine *m);

/* ---- chart (bench_chart.c) ------------------------------------------------------------ */

/* A grouped horizontal bar chart: rows labelled rows[i], series labelled
 * series[j], value v[i*nseries+j] >= 0 (NaN = missing), written as a PNG. */
glia_status glia_bench_chart_png(const char *path, const char *title, const char *const *rows, int nrows,
                                 const char *const *series, int nseries, const double *v);

/* The chart's layout before drawing: every text line and box with its place,
 * so that nothing overlaps can be checked without reading pixels. */
typedef struct glia_chart_item {
    int is_text;
    int x, y, w, h;              /* the box it covers, in pixels */
    int colour;                  /* palette index; -1 black, -2 grey */
    char text[96];               /* one line */
} glia_chart_item;
typedef struct glia_chart_layout {
    int w, h;                    /* the picture */
    int axis_x, axis_y0, axis_y1, one_x;   /* the value axis and the 1.0 line */
    int n, cap;
    glia_chart_item *item;
} glia_chart_layout;
glia_status glia_bench_chart_layout(const char *title, const char *const *rows, int nrows, const char *const *series,
                                    int nseries, const double *v, glia_chart_layout *out);
void glia_bench_chart_layout_free(glia_chart_layout *l);

#endif
