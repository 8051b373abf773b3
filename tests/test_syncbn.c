/* Synchronised batch norm on one backend, against plain batch norm of the
 * whole batch computed by the library's own training op:
 *  - a job of one (sums that change nothing) gives glia_batch_norm exactly
 *    enough: output, gradients and running statistics within 1e-5;
 *  - two "ranks" (two threads, each with its own device of the backend and
 *    half the batch; their sums meet at a barrier, as MPI's allreduce would)
 *    give the whole batch's output rows, running statistics, and gradients:
 *    dx is the whole batch's times 2 (each rank's loss is a mean over its
 *    half: twice the weight per sample) and gamma's and beta's are the whole
 *    batch's after the mean over ranks that the gradient reducer takes.
 * Float32 sums over a few hundred values err by ~1e-6 relative; a missing
 * cross-rank term errs by the size of the term (order 1e-1), so 1e-4
 * separates them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "glia/glia.h"
#include "testutil.h"

#define N 4
#define C 3
#define H 5
#define W 6
#define PLANE (C * H * W)
#define TOL 1e-4

typedef struct result {
    float y[N * PLANE], dx[N * PLANE], dg[C], db[C], rm[C], rv[C];
} result;

typedef struct job {
    pthread_barrier_t bar;
    double slot[2][2 * C + 1];
} job;

typedef struct rank_arg {
    job *j;
    int rank, ranks;         /* ranks 0: plain glia_batch_norm */
    const char *spec;
    const float *x, *w, *gamma, *beta;
    result *res;
    glia_status status;
    char msg[512];
} rank_arg;

static glia_status identity(void *user, double *buf, size_t n) { return GLIA_STATUS_OK; }

static glia_status two_ranks(void *user, double *buf, size_t n)
{
    rank_arg *a = user;
    memcpy(a->j->slot[a->rank], buf, n * sizeof *buf);
    pthread_barrier_wait(&a->j->bar);
    for (size_t i = 0; i < n; i++)
        buf[i] = a->j->slot[0][i] + a->j->slot[1][i];
    pthread_barrier_wait(&a->j->bar);   /* both have read before either writes again */
    return GLIA_STATUS_OK;
}

/* Forward with this rank's rows, loss = sum(y * w) / rows, backward. */
static glia_status run_rank(rank_arg *a, glia_device *dev)
{
    int ranks = a->ranks ? a->ranks : 1, rows = N / ranks;
    int64_t xs[4] = {rows, C, H, W}, cs = C;
    size_t off = (size_t)a->rank * rows * PLANE, n = (size_t)rows * PLANE;
    float *wscaled = malloc(n * sizeof *wscaled), ones[C], zeros[C];
    for (size_t i = 0; wscaled && i < n; i++)
        wscaled[i] = a->w[off + i] / (float)rows;
    for (int c = 0; c < C; c++)
        ones[c] = 1.0f, zeros[c] = 0.0f;
    glia_tensor *x = NULL, *wt = NULL, *g = NULL, *b = NULL, *rm = NULL, *rv = NULL, *y = NULL, *p = NULL, *l = NULL;
    glia_status s = wscaled ? GLIA_STATUS_OK : GLIA_STATUS_OUT_OF_MEMORY;
    if (s == GLIA_STATUS_OK && (s = glia_tensor_from_host(dev, 4, xs, a->x + off, &x)) == GLIA_STATUS_OK &&
        (s = glia_tensor_from_host(dev, 4, xs, wscaled, &wt)) == GLIA_STATUS_OK &&
        (s = glia_tensor_from_host(dev, 1, &cs, a->gamma, &g)) == GLIA_STATUS_OK &&
        (s = glia_tensor_from_host(dev, 1, &cs, a->beta, &b)) == GLIA_STATUS_OK &&
        (s = glia_tensor_from_host(dev, 1, &cs, zeros, &rm)) == GLIA_STATUS_OK &&
        (s = glia_tensor_from_host(dev, 1, &cs, ones, &rv)) == GLIA_STATUS_OK &&
        (s = glia_tensor_set_requires_grad(x, 1)) == GLIA_STATUS_OK &&
        (s = glia_tensor_set_requires_grad(g, 1)) == GLIA_STATUS_OK &&
        (s = glia_tensor_set_requires_grad(b, 1)) == GLIA_STATUS_OK) {
        if (!a->ranks)
            s = glia_batch_norm(x, g, b, rm, rv, 1, 0.1f, 1e-5f, &y);
        else
            s = glia_batch_norm_sync(x, g, b, rm, rv, 0.1f, 1e-5f, a->ranks > 1 ? two_ranks : identity, a, &y);
    }
    if (s == GLIA_STATUS_OK && (s = glia_mul(y, wt, &p)) == GLIA_STATUS_OK && (s = glia_sum(p, &l)) == GLIA_STATUS_OK)
        s = glia_backward(l);
    result *r = a->res;
    if (s == GLIA_STATUS_OK && (s = glia_tensor_read(y, r->y + off, n)) == GLIA_STATUS_OK &&
        (s = glia_tensor_read(glia_tensor_grad(x), r->dx + off, n)) == GLIA_STATUS_OK &&
        (s = glia_tensor_read(rm, r->rm, C)) == GLIA_STATUS_OK && (s = glia_tensor_read(rv, r->rv, C)) == GLIA_STATUS_OK) {
        /* gamma's and beta's gradients: the mean over ranks, as the reducer takes it */
        float dg[C], db[C];
        if ((s = glia_tensor_read(glia_tensor_grad(g), dg, C)) == GLIA_STATUS_OK &&
            (s = glia_tensor_read(glia_tensor_grad(b), db, C)) == GLIA_STATUS_OK)
            for (int c = 0; c < C; c++) {
                r->dg[c] += dg[c] / (float)ranks;
                r->db[c] += db[c] / (float)ranks;
            }
    }
    glia_tensor *all[] = {x, wt, g, b, rm, rv, y, p, l};
    for (int i = 0; i < 9; i++)
        glia_tensor_free(all[i]);
    free(wscaled);
    return s;
}

static void *rank_main(void *arg)
{
    rank_arg *a = arg;
    glia_device_options o = {.cache_dir = gt_cache_dir(), .threads = 1};
    glia_device *dev = NULL;
    a->status = glia_device_open(a->spec, &o, &dev);
    if (a->status == GLIA_STATUS_OK)
        a->status = run_rank(a, dev);
    if (a->status != GLIA_STATUS_OK)
        snprintf(a->msg, sizeof a->msg, "rank %d: %s", a->rank, glia_last_error());
    glia_device_close(dev);
    return NULL;
}

static void expect_close(const float *got, const float *want, size_t n, float k, const char *what)
{
    for (size_t i = 0; i < n; i++) {
        double w = (double)want[i] * k;
        if (!(fabs((double)got[i] - w) <= TOL * (1.0 + fabs(w))))
            fail_msg("%s: element %zu is %.7g, expected %.7g", what, i, (double)got[i], w);
    }
}

static void compare(const result *a, const result *b, float dx_scale, const char *what)
{
    char m[64];
    snprintf(m, sizeof m, "%s: output", what);
    expect_close(a->y, b->y, N * PLANE, 1.0f, m);
    snprintf(m, sizeof m, "%s: dx", what);
    expect_close(a->dx, b->dx, N * PLANE, dx_scale, m);
    snprintf(m, sizeof m, "%s: dgamma", what);
    expect_close(a->dg, b->dg, C, 1.0f, m);
    snprintf(m, sizeof m, "%s: dbeta", what);
    expect_close(a->db, b->db, C, 1.0f, m);
    snprintf(m, sizeof m, "%s: running mean", what);
    expect_close(a->rm, b->rm, C, 1.0f, m);
    snprintf(m, sizeof m, "%s: running var", what);
    expect_close(a->rv, b->rv, C, 1.0f, m);
}

static void test_sync_bn(void **state)
{
    glia_device *dev = gt_backend_device(state);
    (void)dev;
    static float x[N * PLANE], w[N * PLANE];
    float gamma[C], beta[C];
    gt_fill(x, N * PLANE, 11, -2.0f, 3.0f);
    for (int i = 0; i < N * PLANE; i++)   /* channels with different means and spreads */
        x[i] = x[i] * (1.0f + (float)(i / (H * W) % C)) + 0.5f * (float)(i / (H * W) % C);
    gt_fill(w, N * PLANE, 12, -1.0f, 1.0f);
    gt_fill(gamma, C, 13, 0.5f, 1.5f);
    gt_fill(beta, C, 14, -0.5f, 0.5f);
    char spec[32];
    snprintf(spec, sizeof spec, "%s%s", gt_backend_name, strcmp(gt_backend_name, "cpu") ? ":0" : "");
    static result plain, one, two, two1;
    job j;
    pthread_barrier_init(&j.bar, NULL, 2);
    rank_arg a[4] = {
        {&j, 0, 0, spec, x, w, gamma, beta, &plain, 0, ""},
        {&j, 0, 1, spec, x, w, gamma, beta, &one, 0, ""},
        {&j, 0, 2, spec, x, w, gamma, beta, &two, 0, ""},
        {&j, 1, 2, spec, x, w, gamma, beta, &two1, 0, ""},
    };
    rank_main(&a[0]);
    rank_main(&a[1]);
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, rank_main, &a[2 + i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&j.bar);
    for (int i = 0; i < 4; i++)
        if (a[i].status != GLIA_STATUS_OK)
            fail_msg("%s", a[i].msg);
    /* the whole batch from the ranks' halves; both ranks keep the same running statistics */
    size_t half = (size_t)N / 2 * PLANE;
    memcpy(two.y + half, two1.y + half, half * sizeof(float));
    memcpy(two.dx + half, two1.dx + half, half * sizeof(float));
    for (int c = 0; c < C; c++) {
        two.dg[c] += two1.dg[c];
        two.db[c] += two1.db[c];
    }
    expect_close(two1.rm, two.rm, C, 1.0f, "rank 1's running mean");
    expect_close(two1.rv, two.rv, C, 1.0f, "rank 1's running var");
    compare(&one, &plain, 1.0f, "one rank");
    compare(&two, &plain, 2.0f, "two ranks");
}

int main(int argc, char **argv)
{
    gt_backend_name = argc > 1 ? argv[1] : "cpu";
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_sync_bn)};
    return cmocka_run_group_tests(tests, gt_backend_open, gt_backend_close);
}
