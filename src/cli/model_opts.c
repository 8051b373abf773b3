/* The model options on the command line: flags and help come from the model
 * registry's field tables, so the CLI knows no model's options by name. */
#include <stdio.h>
#include <string.h>
#include "cli.h"

const glia_model_field *glia_cli_model_flag(const char *arg, int *negated)
{
    const glia_model_field *f;
    for (int i = 0; (f = glia_model_field_any(i)); i++) {
        *negated = 0;
        if (strcmp(arg, f->flag) == 0)
            return f;
        *negated = 1;
        if (f->type == GLIA_MODEL_FIELD_BOOL && strncmp(arg, "--no-", 5) == 0 && strcmp(arg + 5, f->flag + 2) == 0)
            return f;
    }
    return NULL;
}

int glia_cli_model_has(glia_model_arch arch, const glia_model_field *f)
{
    const glia_model_field *g;
    for (int i = 0; (g = glia_model_field_at(arch, i)); i++)
        if (strcmp(g->key, f->key) == 0)
            return 1;
    return 0;
}

void glia_cli_print_model_options(FILE *out, int with_channels)
{
    fputs("model options (default in brackets):\n", out);
    const char *name;
    for (int a = 0; (name = glia_model_arch_name((glia_model_arch)a)); a++) {
        glia_model_config cfg;
        glia_model_config_default((glia_model_arch)a, &cfg);
        fprintf(out, "  %s:\n", name);
        const glia_model_field *f;
        for (int i = with_channels ? 0 : GLIA_MODEL_COMMON_FIELDS; (f = glia_model_field_at((glia_model_arch)a, i)); i++) {
            char flag[64], value[160];
            snprintf(flag, sizeof flag, "%s%s%s", f->flag,
                     f->type == GLIA_MODEL_FIELD_BOOL ? ", --no-" : f->type == GLIA_MODEL_FIELD_INT ? " N" : " a,b,...",
                     f->type == GLIA_MODEL_FIELD_BOOL ? f->flag + 2 : "");
            fprintf(out, "    %-28s %s [%s]\n", flag, f->help, glia_model_field_format(&cfg, f, value, sizeof value));
        }
    }
}
