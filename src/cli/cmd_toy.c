/* glia toy: train the tiny U-Net on synthetic disks; a quick end-to-end check of a device. */
#include <stdio.h>
#include "cli.h"

int glia_cmd_toy(int argc, char **argv)
{
    const char *spec = "auto";
    long steps = 80, batch = 8, seed = 0, threads = 0;
    const glia_cli_opt opts[] = {
        GLIA_CLI_DEVICE(&spec),
        {"--steps", GLIA_CLI_INT, &steps, 1, 1000000},
        {"--batch", GLIA_CLI_INT, &batch, 1, 1024},
        {"--seed", GLIA_CLI_INT, &seed, 0, 2147483647.0},
        GLIA_CLI_THREADS(&threads),
    };
    if (glia_cli_parse("toy", opts, sizeof opts / sizeof *opts, argc, argv, NULL, 0, NULL))
        return 2;
    glia_device *dev = NULL;
    if (!glia_cli_open_device(spec, threads, &dev))
        return 1;
    const glia_device_info *info = glia_device_get_info(dev);
    printf("training a tiny U-Net on synthetic disks on %s:%d (%s), %ld steps of %ld images\n", info->backend,
           info->index, info->name, steps, batch);
    fflush(stdout);
    glia_toy_options o = {.steps = (int)steps, .batch = (int)batch, .seed = (uint64_t)seed, .verbose = 1};
    glia_toy_result r;
    glia_status s = glia_toy_train(dev, &o, &r);
    int rc = 0;
    if (s != GLIA_STATUS_OK)
        rc = glia_cli_lib_error("toy", s);
    else
        printf("loss %.4f -> %.4f in %.2f s (%.0f images/s); held-out Dice %.3f\n", r.first_loss, r.last_loss,
               r.seconds, steps * batch / r.seconds, r.dice);
    glia_device_close(dev);
    return rc;
}
