/* What data parallelism costs per byte: the allreduce over the job and the
 * host staging a device's gradients need (Debian's MPI is not GPU-aware). */
#include <stdlib.h>
#include <string.h>
#include "dist/dist_priv.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

glia_status glia_dist_bench_allreduce(glia_dist *d, glia_device *dev, size_t bytes, int repeat, double *seconds,
                                      double *stage_seconds)
{
    size_t n = bytes / sizeof(float);
    if (repeat < 1 || n == 0)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_dist_bench_allreduce: repeat %d, %zu bytes", repeat,
                           bytes);
    float *buf = malloc(n * sizeof *buf);
    double *t = malloc(2 * (size_t)repeat * sizeof *t);
    glia_tensor *x = NULL;
    int64_t shape = (int64_t)n;
    glia_status s = buf && t ? GLIA_STATUS_OK : glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "allreduce bench");
    if (s == GLIA_STATUS_OK)
        memset(buf, 0, n * sizeof *buf);   /* sums of zeros stay finite however often they repeat */
    if (s == GLIA_STATUS_OK && dev)
        s = glia_tensor_from_host(dev, 1, &shape, buf, &x);
    /* one untimed round first: connections and buffers get set up */
    for (int k = -1; k < repeat && s == GLIA_STATUS_OK; k++) {
        s = glia_dist_barrier(d);
        double t0 = glia_now_();
        if (s == GLIA_STATUS_OK)
            s = glia_dist_allreduce_f32(d, buf, n, GLIA_DIST_SUM);
        double t1 = glia_now_();
        if (s == GLIA_STATUS_OK && x && (s = glia_tensor_read(x, buf, n)) == GLIA_STATUS_OK)
            s = glia_tensor_write(x, buf, n);
        if (s == GLIA_STATUS_OK && x)
            s = glia_device_sync(dev);
        double t2 = glia_now_();
        if (k >= 0) {
            t[k] = t1 - t0;
            t[repeat + k] = x ? t2 - t1 : 0;
        }
    }
    if (s == GLIA_STATUS_OK) {
        *seconds = glia_dist_size(d) > 1 ? median(t, repeat) : 0;
        *stage_seconds = median(t + repeat, repeat);
    }
    glia_tensor_free(x);
    free(buf);
    free(t);
    return s;
}
