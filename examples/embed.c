/* Embedding glia: open the CPU device, build a small 2-D U-Net and run one
 * forward pass on random input. Build against an installed glia with
 *   cc embed.c $(pkg-config --cflags --libs glia) -o embed */
#include <glia/glia.h>
#include <stdio.h>
#include <stdlib.h>

/* Every fallible call returns a status; glia_last_error() says what failed. */
#define CHECK(call) do { if ((call) != GLIA_STATUS_OK) { \
    fprintf(stderr, "%s failed: %s\n", #call, glia_last_error()); exit(1); } } while (0)

int main(void) {
    glia_device *dev; glia_model *model; glia_tensor *x, *y;
    glia_model_config cfg;
    glia_rng rng;
    CHECK(glia_device_open("cpu", NULL, &dev));
    CHECK(glia_model_config_default(GLIA_MODEL_UNET2D, &cfg));
    cfg.levels = 2, cfg.features[0] = 8, cfg.features[1] = 16;   /* a small one */
    CHECK(glia_model_create(dev, &cfg, 42, &model));

    int64_t shape[4] = {1, cfg.in_channels, 32, 32};
    CHECK(glia_tensor_zeros(dev, 4, shape, &x));
    glia_rng_init(&rng, 7);
    CHECK(glia_tensor_normal(x, &rng, 0.0f, 1.0f));
    glia_grad_mode(dev, 0);                        /* inference: record no tape */
    CHECK(glia_model_forward(model, x, 0, &y));

    printf("glia %s: unet2d output", glia_version());
    for (int i = 0; i < glia_tensor_ndim(y); i++)
        printf("%s%lld", i ? "x" : " ", (long long)glia_tensor_dim(y, i));
    printf("\n");
    glia_tensor_free(y), glia_tensor_free(x), glia_model_free(model);
    CHECK(glia_device_close(dev));
    return 0;
}
