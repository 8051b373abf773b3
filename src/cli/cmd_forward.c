/* glia forward: run a checkpoint's model on a float32 .npy array, write the logits. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "cli.h"

static void shape_str(int ndim, const int64_t *shape, char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = '\0';
    for (int i = 0; i < ndim && n < len; i++)
        n += (size_t)snprintf(buf + n, len - n, "%s%lld", i ? "x" : "", (long long)shape[i]);
}

/* Upload, run with no tape, download. */
static glia_status run(glia_model *m, int train, int ndim, const int64_t *shape, const float *x, int64_t oshape[5],
                       float **y, size_t *ycount)
{
    glia_device *dev = glia_model_device(m);
    glia_tensor *xt = NULL, *yt = NULL;
    int mode = glia_grad_mode(dev, 0);
    glia_status s = glia_tensor_from_host(dev, ndim, shape, x, &xt);
    if (s == GLIA_STATUS_OK && (s = glia_model_forward(m, xt, train, &yt)) == GLIA_STATUS_OK) {
        *ycount = (size_t)glia_tensor_numel(yt);
        for (int i = 0; i < ndim; i++)
            oshape[i] = glia_tensor_dim(yt, i);
        if (!(*y = malloc(*ycount * sizeof **y))) {
            glia_clear_error(); /* the status says it all; no stale message */
            s = GLIA_STATUS_OUT_OF_MEMORY;
        }
        else
            s = glia_tensor_read(yt, *y, *ycount);
    }
    glia_grad_mode(dev, mode);
    glia_tensor_free(xt);
    glia_tensor_free(yt);
    return s;
}

int glia_cmd_forward(int argc, char **argv)
{
    const char *weights = NULL, *spec = "auto", *pos[2];
    long threads = 0;
    int train = 0, npos = 0;
    const glia_cli_opt opts[] = {
        {"--weights", GLIA_CLI_STR, &weights, 0, 0},
        GLIA_CLI_DEVICE(&spec),
        {"--train-mode", GLIA_CLI_FLAG, &train, 0, 0},
        GLIA_CLI_THREADS(&threads),
    };
    if (glia_cli_parse("forward", opts, sizeof opts / sizeof *opts, argc, argv, pos, 2, &npos))
        return 2;
    if (!weights || npos != 2)
        return glia_cli_usage_error("forward: give --weights FILE, INPUT.npy and OUTPUT.npy (see 'glia help forward')");
    int ndim = 0;
    int64_t shape[GLIA_NPY_MAX_DIMS], oshape[5];
    float *x = NULL, *y = NULL;
    size_t ycount = 0;
    glia_status s = glia_npy_read_f32(pos[0], &ndim, shape, &x);
    if (s != GLIA_STATUS_OK)
        return glia_cli_lib_error("forward", s);
    glia_device *dev = NULL;
    glia_model *m = NULL;
    int rc = 0;
    struct timespec t0, t1;
    if (!glia_cli_open_device(spec, threads, &dev)) {
        free(x);
        return 1;
    }
    if ((s = glia_model_load_file(weights, dev, &m)) != GLIA_STATUS_OK)
        rc = glia_cli_lib_error("forward: loading weights", s);
    else if ((s = glia_model_check_input(m, ndim, shape)) != GLIA_STATUS_OK)
        rc = glia_cli_lib_error(pos[0], s);
    else {
        clock_gettime(CLOCK_MONOTONIC, &t0);
        s = run(m, train, ndim, shape, x, oshape, &y, &ycount);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (s == GLIA_STATUS_OK)
            s = glia_npy_write_f32(pos[1], ndim, oshape, y);
        if (s != GLIA_STATUS_OK)
            rc = glia_cli_lib_error("forward", s);
    }
    if (!rc) {
        char a[96], b[96];
        const glia_device_info *info = glia_device_get_info(dev);
        shape_str(ndim, shape, a, sizeof a);
        shape_str(ndim, oshape, b, sizeof b);
        printf("%s on %s:%d (%s mode): %s -> %s in %.3f s, wrote %s\n",
               glia_model_arch_name(glia_model_get_config(m)->arch), info->backend, info->index,
               train ? "train" : "eval", a, b, (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9,
               pos[1]);
    }
    glia_model_free(m);
    glia_device_close(dev);
    free(x);
    free(y);
    return rc;
}
