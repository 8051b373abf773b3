/* Interop helper for the SwinUNETR model: build a small glia SwinUNETR
 * (in 2, out 3, feature_size 12, use_v2 0, seed 1), save its weights as
 * DIR/weights.safetensors, run DIR/x.npy through it in evaluation mode and
 * write DIR/y.npy. test_swin_model.py loads the weights into the PyTorch
 * reference (python/glia_torch.py) and compares the outputs. With "load", the other
 * way: read DIR/ref.safetensors (a PyTorch export, no glia metadata, so the
 * configuration is recognised from MONAI's names) and write DIR/y_ref.npy.
 *   glia_swin DIR DEVICE [load] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "glia/glia.h"

static glia_status run(const char *dir, glia_device *dev, int load)
{
    glia_model_config cfg;
    glia_model *m = NULL;
    glia_tensor *x = NULL, *y = NULL;
    float *data = NULL, *out = NULL;
    int nd = 0;
    int64_t shape[GLIA_NPY_MAX_DIMS];
    char path[1024];
    const glia_model_field *f;
    glia_status s = glia_model_config_default(GLIA_MODEL_SWINUNETR, &cfg);
    cfg.in_channels = 2;
    cfg.out_channels = 3;
    if (s == GLIA_STATUS_OK && (f = glia_model_field_find(GLIA_MODEL_SWINUNETR, "feature_size")))
        s = glia_model_field_set(&cfg, f, "12");
    snprintf(path, sizeof path, "%s/%s.safetensors", dir, load ? "ref" : "weights");
    if (s == GLIA_STATUS_OK && load)
        s = glia_model_load_file(path, dev, &m);
    else if (s == GLIA_STATUS_OK && (s = glia_model_create(dev, &cfg, 1, &m)) == GLIA_STATUS_OK)
        s = glia_model_save(m, path, NULL);
    snprintf(path, sizeof path, "%s/x.npy", dir);
    if (s == GLIA_STATUS_OK && (s = glia_npy_read_f32(path, &nd, shape, &data)) == GLIA_STATUS_OK)
        s = glia_tensor_from_host(dev, nd, shape, data, &x);
    clock_t t0 = clock();
    if (s == GLIA_STATUS_OK)
        s = glia_model_forward(m, x, 0, &y);
    int64_t n = y ? glia_tensor_numel(y) : 0;
    if (s == GLIA_STATUS_OK && !(out = malloc((size_t)n * sizeof *out)))
        s = GLIA_STATUS_OUT_OF_MEMORY;
    if (s == GLIA_STATUS_OK)
        s = glia_tensor_read(y, out, (size_t)n);
    fprintf(stderr, "glia_swin: forward %.2f s of CPU time\n", (double)(clock() - t0) / CLOCKS_PER_SEC);
    for (int i = 0; y && i < glia_tensor_ndim(y); i++)
        shape[i] = glia_tensor_dim(y, i);
    snprintf(path, sizeof path, "%s/%s.npy", dir, load ? "y_ref" : "y");
    if (s == GLIA_STATUS_OK)
        s = glia_npy_write_f32(path, glia_tensor_ndim(y), shape, out);
    free(data), free(out);
    glia_tensor_free(x), glia_tensor_free(y);
    glia_model_free(m);
    return s;
}

int main(int argc, char **argv)
{
    if (argc != 3 && !(argc == 4 && strcmp(argv[3], "load") == 0)) {
        fprintf(stderr, "usage: glia_swin DIR DEVICE [load]\n");
        return 2;
    }
    glia_device *dev = NULL;
    if (glia_device_open(argv[2], NULL, &dev) != GLIA_STATUS_OK) {
        fprintf(stderr, "glia_swin: %s: %s\n", argv[2], glia_last_error());
        return 3; /* no such device: the caller decides whether that fails */
    }
    glia_status s = run(argv[1], dev, argc == 4);
    if (s != GLIA_STATUS_OK)
        fprintf(stderr, "glia_swin: %s: %s\n", glia_status_str(s), glia_last_error());
    glia_device_close(dev);
    return s != GLIA_STATUS_OK;
}
