/* glia bench: times GEMM and U-Net-shaped convolutions on a device through the
 * public API and reports GFLOP/s. Each figure is the median of --repeat timed
 * runs after warm-up runs, every run ended by a device sync. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cli.h"

typedef struct bench_case {
    const char *name;
    int kind;                 /* 0 gemm M=N=K=a; 1 conv fwd; 2 conv fwd+bwd (data and weight) */
    int64_t a;                /* gemm size */
    int64_t n, c, k, d, h, w; /* conv: batch, in channels, out channels, D (1 = 2D), H, W; 3x3(x3), pad 1 */
} bench_case;

static const bench_case cases[] = {
    {"op.gemm.1024x1024x1024", 0, 1024, 0, 0, 0, 0, 0, 0},
    {"op.gemm.2048x2048x2048", 0, 2048, 0, 0, 0, 0, 0, 0},
    {"op.gemm.4096x4096x4096", 0, 4096, 0, 0, 0, 0, 0, 0},
    {"op.conv2d.fwd.n4c64k64.256x256", 1, 0, 4, 64, 64, 1, 256, 256},
    {"op.conv2d.fwdbwd.n4c64k64.256x256", 2, 0, 4, 64, 64, 1, 256, 256},
    {"op.conv2d.fwd.n4c512k512.32x32", 1, 0, 4, 512, 512, 1, 32, 32},
    {"op.conv3d.fwd.n1c32k32.64x64x64", 1, 0, 1, 32, 32, 64, 64, 64},
    {"op.conv3d.fwdbwd.n1c32k32.64x64x64", 2, 0, 1, 32, 32, 64, 64, 64},
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* One timed run of a case on prepared inputs; the result is freed before returning. */
static glia_status run_once(const bench_case *bc, glia_tensor **in, glia_device *dev)
{
    glia_tensor *y = NULL, *s = NULL;
    glia_conv_params p = {.padding = {1, 1, 1}};
    glia_status st = bc->kind == 0 ? glia_matmul(in[0], in[1], 0, 0, &y) : glia_conv(in[0], in[1], in[2], &p, &y);
    if (st == GLIA_STATUS_OK && bc->kind == 2 && (st = glia_sum(y, &s)) == GLIA_STATUS_OK) {
        st = glia_backward(s);
        glia_tensor_zero_grad(in[0]);
        glia_tensor_zero_grad(in[1]);
    }
    if (st == GLIA_STATUS_OK)
        st = glia_device_sync(dev);
    glia_tensor_free(y);
    glia_tensor_free(s);
    return st;
}

/* A tensor of U(-1, 1) values. */
static glia_status rand_tensor(glia_device *dev, int nd, const int64_t *shape, glia_rng *rng,
                                         glia_tensor **out)
{
    glia_status s = glia_tensor_zeros(dev, nd, shape, out);
    if (s == GLIA_STATUS_OK && (s = glia_tensor_uniform(*out, rng, -1.0f, 1.0f)) != GLIA_STATUS_OK) {
        glia_tensor_free(*out);
        *out = NULL;
    }
    return s;
}

static glia_status bench_one(glia_device *dev, const bench_case *bc, glia_rng *rng, int repeat, double *median,
                             double *flops)
{
    glia_tensor *in[3] = {NULL, NULL, NULL};
    glia_status st;
    int sp = bc->d > 1 ? 3 : 2;
    if (bc->kind == 0) {
        int64_t sh[2] = {bc->a, bc->a};
        *flops = 2.0 * bc->a * bc->a * bc->a;
        if ((st = rand_tensor(dev, 2, sh, rng, &in[0])) == GLIA_STATUS_OK)
            st = rand_tensor(dev, 2, sh, rng, &in[1]);
    } else {
        int64_t xs[5] = {bc->n, bc->c, bc->d, bc->h, bc->w}, ws[5] = {bc->k, bc->c, 3, 3, 3}, bs = bc->k;
        if (sp == 2) {
            xs[2] = bc->h, xs[3] = bc->w;
        }
        double macs = (double)bc->n * bc->k * bc->c * bc->d * bc->h * bc->w * (sp == 3 ? 27 : 9);
        *flops = 2.0 * macs * (bc->kind == 2 ? 3 : 1);
        if ((st = rand_tensor(dev, 2 + sp, xs, rng, &in[0])) == GLIA_STATUS_OK &&
            (st = rand_tensor(dev, 2 + sp, ws, rng, &in[1])) == GLIA_STATUS_OK)
            st = rand_tensor(dev, 1, &bs, rng, &in[2]);
        for (int i = 0; i < 2 && st == GLIA_STATUS_OK && bc->kind == 2; i++)
            st = glia_tensor_set_requires_grad(in[i], 1);
    }
    double *t = calloc((size_t)repeat, sizeof *t);
    if (!t)
        st = GLIA_STATUS_OUT_OF_MEMORY;
    for (int r = -2; r < repeat && st == GLIA_STATUS_OK; r++) { /* two warm-up runs */
        double t0 = now();
        st = run_once(bc, in, dev);
        if (r >= 0)
            t[r] = now() - t0;
    }
    if (st == GLIA_STATUS_OK) {
        qsort(t, (size_t)repeat, sizeof *t, cmp_double);
        *median = t[repeat / 2];
    }
    free(t);
    for (int i = 0; i < 3; i++)
        glia_tensor_free(in[i]);
    return st;
}

int glia_cmd_bench(int argc, char **argv)
{
    const char *spec = "auto", *filter = "";
    long threads = 0, repeat = 5;
    const glia_cli_opt opts[] = {
        {"--device", GLIA_CLI_STR, &spec, 0, 0},
        {"--filter", GLIA_CLI_STR, &filter, 0, 0},
        {"--repeat", GLIA_CLI_INT, &repeat, 1, 1000},
        {"--threads", GLIA_CLI_INT, &threads, 0, 4096},
    };
    if (glia_cli_parse("bench", opts, sizeof opts / sizeof *opts, argc, argv, NULL, 0, NULL))
        return 2;
    glia_device *dev = NULL;
    if (!glia_cli_open_device(spec, threads, &dev))
        return 1;
    const glia_device_info *info = glia_device_get_info(dev);
    printf("device %s:%d  %s  (%s)\n%-40s %12s %12s\n", info->backend, info->index, info->name, info->driver,
           "name", "median_s", "GFLOP/s");
    glia_rng rng;
    glia_rng_init(&rng, 1);
    int rc = 0, matched = 0;
    for (size_t i = 0; i < sizeof cases / sizeof *cases && rc == 0; i++) {
        if (!strstr(cases[i].name, filter))
            continue;
        matched++;
        double med = 0, flops = 0;
        glia_status s = bench_one(dev, &cases[i], &rng, (int)repeat, &med, &flops);
        if (s != GLIA_STATUS_OK)
            rc = glia_cli_lib_error(cases[i].name, s);
        else
            printf("%-40s %12.6f %12.1f\n", cases[i].name, med, flops / med * 1e-9);
        fflush(stdout);
    }
    glia_device_close(dev);
    if (!matched && rc == 0)
        return glia_cli_usage_error("bench: no benchmark matches '%s'", filter);
    return rc;
}
