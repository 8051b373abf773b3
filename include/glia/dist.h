/* glia — data parallelism over MPI: the job a process belongs to, the
 * collectives training and inference need, and the gradient reducer.
 *
 * A process started by mpirun/mpiexec (Open MPI or MPICH) joins the job of
 * every rank that mpirun started; any other process is a job of one, with no
 * MPI call at all. A build without MPI makes every process a job of one. Every
 * function takes a NULL job as a job of one: rank 0 of 1, collectives copy.
 *
 * MPI here is not GPU-aware (Debian's is not): device buffers are staged
 * through host memory. Ranks must run the same architecture (byte order and
 * type sizes), as MPI_BYTE transfers assume. */
#ifndef GLIA_DIST_H
#define GLIA_DIST_H

#include <stddef.h>
#include "params.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct glia_dist glia_dist;

/* 1 when glia was built with MPI. */
int glia_dist_available(void);
/* 1 when this process was started by an MPI launcher (from its environment). */
int glia_dist_launched(void);
/* Join the job: MPI_Init when launched by MPI (argc/argv may be NULL), else a
 * job of one. *out is never NULL on success. */
glia_status glia_dist_init(int *argc, char ***argv, glia_dist **out);
/* Leave the job (MPI_Finalize) and free d. */
void glia_dist_finalize(glia_dist *d);
/* End every rank of the job now with this exit code (MPI_Abort); a job of one
 * exits. For a failure the other ranks cannot know about. */
void glia_dist_abort(glia_dist *d, int code);

int glia_dist_rank(const glia_dist *d);
int glia_dist_size(const glia_dist *d);
/* Rank and rank count among the job's ranks on this machine (shared memory). */
int glia_dist_local_rank(const glia_dist *d);
int glia_dist_local_size(const glia_dist *d);
/* The MPI library's name and version, or "none". */
const char *glia_dist_library(const glia_dist *d);

typedef enum glia_dist_op { GLIA_DIST_SUM = 0, GLIA_DIST_MAX, GLIA_DIST_MIN } glia_dist_op;

/* Blocking collectives over every rank, each called by all ranks in the same order. */
glia_status glia_dist_allreduce_f64(glia_dist *d, double *buf, size_t n, glia_dist_op op);
glia_status glia_dist_allreduce_f32(glia_dist *d, float *buf, size_t n, glia_dist_op op);
glia_status glia_dist_bcast(glia_dist *d, void *buf, size_t bytes, int root);
/* all[r * bytes ..] = rank r's mine[0 .. bytes). */
glia_status glia_dist_allgather(glia_dist *d, const void *mine, size_t bytes, void *all);
glia_status glia_dist_barrier(glia_dist *d);

/* A non-blocking in-place float sum (MPI_Iallreduce). test drives progress
 * and returns 1 when done; wait blocks until done and frees the request. */
typedef struct glia_dist_req glia_dist_req;
glia_status glia_dist_iallreduce_f32(glia_dist *d, float *buf, size_t n, glia_dist_req **req);
int glia_dist_test(glia_dist_req *r);
glia_status glia_dist_wait(glia_dist_req *r);

/* Whether every rank succeeded: each passes its own status; on a failure
 * anywhere every rank returns an error, the failing ranks their own message,
 * the others "rank R failed". A collective. */
glia_status glia_dist_agree(glia_dist *d, glia_status local);
/* Whether the job's failure was decided by all ranks together, so each can
 * end normally rather than abort: 0 no (a rank failed alone: abort the job),
 * 1 yes (another rank's failure, or one every rank saw alike: rank 0 tells),
 * 2 yes, and this rank's own failure (it tells its message). glia_dist_agree
 * sets it on failure. */
void glia_dist_set_failure_agreed(glia_dist *d, int agreed);
int glia_dist_failure_agreed(const glia_dist *d);

/* This rank's device spec from a device option: "a,b,c" gives rank r the entry
 * r mod 3; "auto" (alone or as an entry) picks the local rank's GPU (the
 * (local rank mod count)-th GPU of the backend auto prefers), else the CPU. */
glia_status glia_dist_device(const glia_dist *d, const char *spec, char *out, size_t len);
/* CPU backend threads for this rank when none is asked for: the cores shared
 * among the local ranks (at least 1); 0 (all cores) for a job of one. */
int glia_dist_default_threads(const glia_dist *d);

/* Make every rank hold rank 0's parameters (every tensor of p, trainable
 * and buffers), checking how far they were apart: a 64-bit checksum of each
 * rank's bytes is compared first (equal: nothing moves, *rel = 0). Otherwise
 * rank 0's values are broadcast and *rel is the largest rank's distance
 * ||w_r - w_0|| / ||w_0||. Ranks on different vendors' devices round
 * differently and drift apart by rounding; beyond tol they did not train the
 * same model: SHAPE_MISMATCH (on every rank). A collective. */
glia_status glia_dist_sync_params(glia_dist *d, glia_params *p, double tol, double *rel);
/* Overwrite every rank's buffers (batch-norm running statistics) with their
 * mean over ranks: the ranks' per-rank statistics drift apart otherwise. */
glia_status glia_dist_average_buffers(glia_dist *d, glia_params *p);

/* The median over repeat runs of: a blocking float allreduce of `bytes` over
 * the job (*seconds; a job of one: 0), and on dev (may be NULL: 0) the
 * staging it costs, a device -> host read and host -> device write of as many
 * bytes (*stage_seconds). A collective (glia bench --suite allreduce). */
glia_status glia_dist_bench_allreduce(glia_dist *d, glia_device *dev, size_t bytes, int repeat, double *seconds,
                                      double *stage_seconds);

/* ---- gradient averaging ------------------------------------------------- */
/* The reducer averages the gradients of p's trainable tensors over ranks in
 * buckets of about bucket_bytes (in reverse registration order, the order
 * backward completes them); each bucket's MPI_Iallreduce starts as soon as
 * backward has finished its gradients, so communication overlaps the rest of
 * backward. Use: glia_reducer_backward(r, loss) in place of glia_backward. */
typedef struct glia_reducer glia_reducer;

typedef struct glia_reducer_stats {
    int64_t steps;
    int buckets;                /* per step */
    size_t bytes;               /* gradient bytes per step */
    double stage_seconds;       /* device -> host reads and host -> device writes */
    double wait_seconds;        /* blocked on collectives after backward: communication not hidden */
    double backward_seconds;    /* whole glia_reducer_backward calls */
} glia_reducer_stats;

glia_status glia_reducer_new(glia_dist *d, glia_params *p, size_t bucket_bytes, glia_reducer **out);
void glia_reducer_free(glia_reducer *r);
/* Backward from loss, then the averaged gradients in place of the local ones.
 * loss NULL: no backward, zero gradients into the sums: how a rank whose
 * forward failed still joins the step's collectives, so no rank waits forever. */
glia_status glia_reducer_backward(glia_reducer *r, glia_tensor *loss);
const glia_reducer_stats *glia_reducer_get_stats(const glia_reducer *r);

#ifdef __cplusplus
}
#endif
#endif
