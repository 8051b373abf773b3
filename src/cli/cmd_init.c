/* glia init: write a freshly initialised model to a safetensors checkpoint. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

/* The model's options (as its field table names them) out of argv: applied
 * to cfg, the rest into rest. Prints one line and returns 2 on a flag this
 * architecture lacks or a bad value. */
static int apply_model_flags(glia_model_arch arch, glia_model_config *cfg, int argc, char **argv, char **rest,
                             int *nrest)
{
    *nrest = 0;
    for (int i = 0; i < argc; i++) {
        int negated = 0;
        const glia_model_field *f = glia_cli_model_flag(argv[i], &negated);
        if (!f) {
            rest[(*nrest)++] = argv[i];
            continue;
        }
        if (!glia_cli_model_has(arch, f))
            return glia_cli_usage_error("init: %s is not an option of %s (see 'glia help init')", argv[i],
                                        glia_model_arch_name(arch));
        const char *v = f->type == GLIA_MODEL_FIELD_BOOL ? (negated ? "false" : "true") : i + 1 < argc ? argv[++i] : NULL;
        if (!v)
            return glia_cli_usage_error("init: option %s needs a value", argv[i]);
        if (glia_model_field_set(cfg, f, v) != GLIA_STATUS_OK)
            return glia_cli_usage_error("init: %s", glia_last_error());
    }
    return 0;
}

/* The first argument that is neither an option nor an option's value: the model name. */
static const char *model_name(int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        int negated = 0;
        const glia_model_field *f = glia_cli_model_flag(argv[i], &negated);
        if (argv[i][0] != '-')
            return argv[i];
        if (!f || f->type != GLIA_MODEL_FIELD_BOOL)
            i++; /* skip the value */
    }
    return NULL;
}

int glia_cmd_init(int argc, char **argv)
{
    const char *out = NULL, *pos[1];
    long seed = 0;
    int npos = 0;
    const glia_cli_opt opts[] = {
        {"--seed", GLIA_CLI_INT, &seed, 0, 9007199254740991.0},
        GLIA_CLI_OUT(&out),
    };
    const char *name = model_name(argc, argv);
    glia_model_config cfg;
    glia_model_arch arch;
    if (!name)
        return glia_cli_usage_error("init: give a model name and -o FILE.safetensors (see 'glia help init')");
    glia_status s = glia_model_arch_from_name(name, &arch);
    if (s != GLIA_STATUS_OK)
        return glia_cli_usage_error("init: %s", glia_last_error());
    glia_model_config_default(arch, &cfg);
    char **args = malloc(((size_t)argc + 1) * sizeof *args);
    if (!args)
        return glia_cli_usage_error("init: out of memory");
    int nargs = 0, rc = apply_model_flags(arch, &cfg, argc, argv, args, &nargs);
    if (!rc)
        rc = glia_cli_parse("init", opts, sizeof opts / sizeof *opts, nargs, args, pos, 1, &npos);
    free(args);
    if (rc)
        return rc;
    if (npos != 1 || !out)
        return glia_cli_usage_error("init: give a model name and -o FILE.safetensors (see 'glia help init')");
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
        printf("wrote %s (%lld parameters, seed %ld) to %s\n", name, (long long)glia_params_numel(glia_model_params(m)),
               seed, out);
    glia_model_free(m);
    glia_device_close(dev);
    return rc;
}
