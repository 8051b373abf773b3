/* The CPU backend's worker pool: persistent threads that sleep on a condition
 * variable between parallel loops, so no thread is created per op and an idle
 * pool costs nothing (the machine may be shared with OpenBLAS's own threads). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include "cpu_impl.h"

struct glia_cpu_pool {
    int threads;                /* including the caller */
    int started;                /* workers actually running */
    pthread_t *workers;
    pthread_mutex_t mu;
    pthread_cond_t work_cv, done_cv;
    unsigned long generation;   /* bumped per loop; workers wait for a change */
    int busy;                   /* workers that have not finished this loop */
    int stop;
    /* the current loop */
    glia_cpu_range_fn fn;
    void *arg;
    size_t n, chunk;
    atomic_size_t next;
};

static void run_chunks(glia_cpu_pool *p)
{
    for (;;) {
        size_t b = atomic_fetch_add_explicit(&p->next, p->chunk, memory_order_relaxed);
        if (b >= p->n)
            return;
        size_t e = p->n - b < p->chunk ? p->n : b + p->chunk;
        p->fn(p->arg, b, e);
    }
}

static void *worker_main(void *arg)
{
    glia_cpu_pool *p = arg;
    unsigned long seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (p->generation == seen && !p->stop)
            pthread_cond_wait(&p->work_cv, &p->mu);
        if (p->stop)
            break;
        seen = p->generation;
        pthread_mutex_unlock(&p->mu);
        run_chunks(p);
        pthread_mutex_lock(&p->mu);
        if (--p->busy == 0)
            pthread_cond_signal(&p->done_cv);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

static void stop_workers(glia_cpu_pool *p)
{
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->work_cv);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->started; i++)
        pthread_join(p->workers[i], NULL);
}

glia_status glia_cpu_pool_create(int threads, glia_cpu_pool **out)
{
    *out = NULL;
    if (threads < 1)
        threads = 1;
    glia_cpu_pool *p = calloc(1, sizeof *p);
    pthread_t *w = threads > 1 ? calloc((size_t)threads - 1, sizeof *w) : NULL;
    if (!p || (threads > 1 && !w)) {
        free(p);
        free(w);
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "cpu backend: malloc of the worker pool failed");
    }
    p->threads = threads;
    p->workers = w;
    atomic_init(&p->next, 0);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work_cv, NULL);
    pthread_cond_init(&p->done_cv, NULL);
    for (int i = 0; i < threads - 1; i++) {
        int rc = pthread_create(&w[i], NULL, worker_main, p);
        if (rc != 0) {
            glia_cpu_pool_destroy(p);
            return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY,
                               "cpu backend: pthread_create of worker %d/%d failed: %s",
                               i + 1, threads - 1, strerror(rc));
        }
        p->started++;
    }
    *out = p;
    return GLIA_STATUS_OK;
}

void glia_cpu_pool_destroy(glia_cpu_pool *p)
{
    if (!p)
        return;
    stop_workers(p);
    pthread_cond_destroy(&p->work_cv);
    pthread_cond_destroy(&p->done_cv);
    pthread_mutex_destroy(&p->mu);
    free(p->workers);
    free(p);
}

void glia_cpu_parallel_for(glia_cpu_pool *p, size_t n, size_t grain,
                           glia_cpu_range_fn fn, void *arg)
{
    if (n == 0)
        return;
    if (grain < 1)
        grain = 1;
    /* A few chunks per thread balance uneven chunks without much contention. */
    size_t want = (size_t)p->threads * 4;
    size_t chunk = (n + want - 1) / want;
    if (chunk < grain)
        chunk = grain;
    if (p->started == 0 || chunk >= n) {
        fn(arg, 0, n);
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->arg = arg;
    p->n = n;
    p->chunk = chunk;
    atomic_store_explicit(&p->next, 0, memory_order_relaxed);
    p->busy = p->started;
    p->generation++;
    pthread_cond_broadcast(&p->work_cv);
    pthread_mutex_unlock(&p->mu);
    run_chunks(p);
    pthread_mutex_lock(&p->mu);
    while (p->busy > 0)
        pthread_cond_wait(&p->done_cv, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

/* ---- reductions ------------------------------------------------------------ */

#define MAX_SEGS 64

typedef struct reduce_job {
    size_t nb, len, nseg, b;
    int nsum;
    glia_cpu_seg_fn seg;
    glia_cpu_fin_fn fin;
    void *arg;
    double part[MAX_SEGS][GLIA_CPU_MAX_SUMS];
} reduce_job;

static void reduce_whole(void *arg, size_t b0, size_t b1)
{
    reduce_job *j = arg;
    for (size_t b = b0; b < b1; b++) {
        double sums[GLIA_CPU_MAX_SUMS] = {0};
        j->seg(j->arg, b, 0, j->len, sums);
        j->fin(j->arg, b, sums);
    }
}

static void reduce_segments(void *arg, size_t i0, size_t i1)
{
    reduce_job *j = arg;
    for (size_t i = i0; i < i1; i++) {
        memset(j->part[i], 0, sizeof j->part[i]);
        j->seg(j->arg, j->b, j->len * i / j->nseg, j->len * (i + 1) / j->nseg, j->part[i]);
    }
}

void glia_cpu_reduce(glia_cpu_pool *p, size_t nb, size_t len, int nsum,
                     glia_cpu_seg_fn seg, glia_cpu_merge_fn merge,
                     glia_cpu_fin_fn fin, void *arg)
{
    reduce_job j = {.nb = nb, .len = len, .nsum = nsum, .seg = seg, .fin = fin, .arg = arg};
    size_t threads = (size_t)p->threads;
    if (nb >= 2 * threads || len < 2 * GLIA_CPU_GRAIN || threads == 1) {
        glia_cpu_parallel_for(p, nb, len ? (GLIA_CPU_GRAIN + len - 1) / len : nb, reduce_whole, &j);
        return;
    }
    /* Few long ranges: split each one so every thread has work. */
    j.nseg = len / GLIA_CPU_GRAIN;
    if (j.nseg > threads * 4)
        j.nseg = threads * 4;
    if (j.nseg > MAX_SEGS)
        j.nseg = MAX_SEGS;
    for (size_t b = 0; b < nb; b++) {
        j.b = b;
        glia_cpu_parallel_for(p, j.nseg, 1, reduce_segments, &j);
        double acc[GLIA_CPU_MAX_SUMS] = {0};
        for (size_t i = 0; i < j.nseg; i++) {
            if (merge)
                merge(acc, j.part[i]);
            else
                for (int k = 0; k < nsum; k++)
                    acc[k] += j.part[i][k];
        }
        fin(arg, b, acc);
    }
}
