/* glia init: write a freshly initialised model to a safetensors checkpoint. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

/* "64,128,256" into cfg->features; 0 on a malformed list. */
static int parse_features(const char *text, glia_model_config *cfg)
{
    int n = 0;
    const char *p = text;
    while (*p) {
        char *end = NULL;
        long v = strtol(p, &end, 10);
        if (end == p || v < 1 || v > 32768 || n == GLIA_MODEL_MAX_LEVELS || (*end && *end != ','))
            return 0;
        cfg->features[n++] = (int)v;
        p = *end ? end + 1 : end;
        if (*end && !*p)
            return 0;
    }
    cfg->levels = n;
    return n > 0;
}

int glia_cmd_init(int argc, char **argv)
{
    const char *out = NULL, *features = NULL, *pos[1];
    long in = -1, outc = -1, t = -1, seed = 0;
    int no_bn = 0, npos = 0;
    const glia_cli_opt opts[] = {
        {"--in-channels", GLIA_CLI_INT, &in, 1, 65536},
        {"--out-channels", GLIA_CLI_INT, &outc, 1, 65536},
        {"--features", GLIA_CLI_STR, &features, 0, 0},
        {"--no-batchnorm", GLIA_CLI_FLAG, &no_bn, 0, 0},
        {"--t", GLIA_CLI_INT, &t, 1, 16},
        {"--seed", GLIA_CLI_INT, &seed, 0, 9007199254740991.0},
        {"--output", GLIA_CLI_STR, &out, 0, 0},
    };
    /* -o is the conventional short form of --output */
    char **args = malloc(((size_t)argc + 1) * sizeof *args);
    if (!args)
        return glia_cli_usage_error("init: out of memory");
    for (int i = 0; i < argc; i++)
        args[i] = strcmp(argv[i], "-o") == 0 ? "--output" : argv[i];
    int rc = glia_cli_parse("init", opts, sizeof opts / sizeof *opts, argc, args, pos, 1, &npos);
    free(args);
    if (rc)
        return rc;
    if (npos != 1 || !out)
        return glia_cli_usage_error("init: give a model name and -o FILE.safetensors (see 'glia help init')");
    glia_model_config cfg;
    glia_model_arch arch;
    glia_status s = glia_model_arch_from_name(pos[0], &arch);
    if (s != GLIA_STATUS_OK)
        return glia_cli_usage_error("init: %s", glia_last_error());
    glia_model_config_default(arch, &cfg);
    if (no_bn && arch == GLIA_MODEL_R2UNET)
        return glia_cli_usage_error("init: r2unet always has batch norm (--no-batchnorm is for unet2d and unet3d)");
    if (t >= 0 && arch != GLIA_MODEL_R2UNET)
        return glia_cli_usage_error("init: --t (recurrent steps) is for r2unet only");
    if (in >= 0)
        cfg.in_channels = (int)in;
    if (outc >= 0)
        cfg.out_channels = (int)outc;
    if (t >= 0)
        cfg.t = (int)t;
    if (no_bn)
        cfg.batchnorm = 0;
    if (features && !parse_features(features, &cfg))
        return glia_cli_usage_error("init: --features needs 1 to %d comma-separated sizes from 1 to 32768, got '%s'",
                                    GLIA_MODEL_MAX_LEVELS, features);
    if ((s = glia_model_config_check(&cfg)) != GLIA_STATUS_OK)
        return glia_cli_usage_error("init: %s", glia_last_error());
    /* weights come from the host-side RNG, so the CPU device gives what any device would */
    glia_device *dev = NULL;
    if (!glia_cli_open_device("cpu", 0, &dev))
        return 1;
    glia_model *m = NULL;
    rc = 0;
    if ((s = glia_model_create(dev, &cfg, (uint64_t)seed, &m)) != GLIA_STATUS_OK ||
        (s = glia_model_save(m, out, NULL)) != GLIA_STATUS_OK)
        rc = glia_cli_lib_error("init", s);
    else
        printf("wrote %s (%lld parameters, seed %ld) to %s\n", pos[0], (long long)glia_params_numel(glia_model_params(m)),
               seed, out);
    glia_model_free(m);
    glia_device_close(dev);
    return rc;
}
