/* Interop helper: load a checkpoint, take training steps on one batch (Dice +
 * BCE-with-logits, SGD, Adam or AdamW), print each step's loss and write a
 * training checkpoint (weights, BN statistics, optimizer state). The Python
 * tests do the same in PyTorch and compare. Exit status 3: no such device.
 *   glia_step WEIGHTS X.npy Y.npy OUT {sgd|adam|adamw} LR STEPS ADAM_EPS [DEVICE [WEIGHT_DECAY]] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "glia/glia.h"

static int fail(const char *what, glia_status s)
{
    fprintf(stderr, "glia_step: %s: %s: %s\n", what, glia_status_str(s), glia_last_error());
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 9) {
        fprintf(stderr, "usage: glia_step WEIGHTS X.npy Y.npy OUT {sgd|adam|adamw} LR STEPS ADAM_EPS "
                        "[DEVICE [WEIGHT_DECAY]]\n");
        return 2;
    }
    glia_optim_options oo = {.lr = strtof(argv[6], NULL)};
    if (strcmp(argv[5], "sgd") == 0) {
        oo.kind = GLIA_OPTIM_SGD;
        oo.momentum = 0.9f;
    } else {
        oo.kind = strcmp(argv[5], "adamw") == 0 ? GLIA_OPTIM_ADAMW : GLIA_OPTIM_ADAM;
        oo.weight_decay = argc > 10 ? strtof(argv[10], NULL) : 0.0f;
        oo.beta1 = 0.9f;
        oo.beta2 = 0.999f;
        oo.eps = strtof(argv[8], NULL);
    }
    int steps = atoi(argv[7]), nx, ny;
    int64_t sx[GLIA_NPY_MAX_DIMS], sy[GLIA_NPY_MAX_DIMS];
    float *hx = NULL, *hy = NULL;
    glia_device *dev = NULL;
    glia_model *m = NULL;
    glia_optimizer *opt = NULL;
    glia_tensor *x = NULL, *y = NULL;
    glia_status s;
    if ((s = glia_npy_read_f32(argv[2], &nx, sx, &hx)) != GLIA_STATUS_OK ||
        (s = glia_npy_read_f32(argv[3], &ny, sy, &hy)) != GLIA_STATUS_OK)
        return fail("reading the batch", s);
    if ((s = glia_device_open(argc > 9 ? argv[9] : "cpu", NULL, &dev)) != GLIA_STATUS_OK)
        return fail("device", s) + 2;
    if ((s = glia_model_load_file(argv[1], dev, &m)) != GLIA_STATUS_OK)
        return fail("loading", s);
    if ((s = glia_tensor_from_host(dev, nx, sx, hx, &x)) != GLIA_STATUS_OK ||
        (s = glia_tensor_from_host(dev, ny, sy, hy, &y)) != GLIA_STATUS_OK ||
        (s = glia_optim_create(glia_model_params(m), &oo, &opt)) != GLIA_STATUS_OK)
        return fail("setting up", s);
    for (int i = 0; i < steps; i++) {
        glia_tensor *logits = NULL, *loss = NULL;
        float lv = 0;
        glia_params_zero_grad(glia_model_params(m));
        if ((s = glia_model_forward(m, x, 1, &logits)) != GLIA_STATUS_OK ||
            (s = glia_loss_dice_bce(logits, y, NULL, 1.0f, 1.0f, &loss)) != GLIA_STATUS_OK ||
            (s = glia_tensor_read(loss, &lv, 1)) != GLIA_STATUS_OK || (s = glia_backward(loss)) != GLIA_STATUS_OK ||
            (s = glia_optim_step(opt)) != GLIA_STATUS_OK)
            return fail("training step", s);
        printf("loss %.9g\n", lv);
        glia_tensor_free(logits);
        glia_tensor_free(loss);
    }
    if ((s = glia_checkpoint_save(argv[4], m, opt, &oo, NULL)) != GLIA_STATUS_OK)
        return fail("saving", s);
    glia_tensor_free(x);
    glia_tensor_free(y);
    glia_optim_free(opt);
    glia_model_free(m);
    glia_device_close(dev);
    free(hx);
    free(hy);
    return 0;
}
