/* CPU backend: what the Winograd files share (cpu_winograd.c drives the
 * chunks and holds F(2x2,3x3) and F(3x3,2x2); cpu_winograd43.c holds the
 * transforms of F(4x4,3x3)). Not installed. */
#ifndef GLIA_CPU_WINOGRAD_H
#define GLIA_CPU_WINOGRAD_H
#include "cpu_impl.h"

/* Tiles per run: bounds the stack rows of a run (at most 6 rows of 4*RUN+2 floats). */
#define GLIA_WINO_RUN 256

typedef struct glia_wino_job {
    const glia_cpu_wino *s;
    const float *x, *w, *dy;
    float *y, *u, *v, *m;     /* weight gradient: u accumulates the sums, m holds dy's transform */
    int ts;                   /* output tile side: 2 or 4 (the rest follows from it, in setup) */
    int64_t xi;               /* transformed values per tile: (ts + 2)^2 */
    int64_t th, tw;           /* tiles per column and row of one sample */
    int64_t n, t0, tc;        /* the chunk: tiles [t0, t0 + tc) of sample n */
    int64_t splits;           /* column (row, for the weight gradient) blocks per xi in the GEMM phase */
} glia_wino_job;

/* One run of a chunk: tiles [t, t + cnt) in tile row ty from tile column tx
 * of sample n, channel c; k0 is the run's first column in V and M. */
typedef void (*glia_wino_run_fn)(const glia_wino_job *j, int64_t c, int64_t n, int64_t ty, int64_t tx,
                                 int64_t cnt, int64_t k0);

/* F(4x4, 3x3): U[xi][co][ci] = (G g G^T)[xi] over output channels [c0, c1). */
void glia_wino43_filter_task(void *arg, size_t c0, size_t c1);
/* V[xi][ci][k] = (B^T d B)[xi] of the 6x6 input patches of a run. */
void glia_wino43_input_run(const glia_wino_job *j, int64_t ci, int64_t n, int64_t ty, int64_t tx, int64_t cnt,
                           int64_t k0);
/* The 4x4 output tiles A^T M A of a run, clipped to the output. */
void glia_wino43_output_run(const glia_wino_job *j, int64_t co, int64_t n, int64_t ty, int64_t tx, int64_t cnt,
                            int64_t k0);
/* The input rows under a run, zero outside the image: rows[i] gets width floats
 * of input row iy0 + i from column ix0 of plane (h x w). */
void glia_wino_rows(const float *plane, int64_t h, int64_t w, int64_t iy0, int64_t ix0, int nrows,
                    int64_t width, float *rows, int64_t stride);
#endif
