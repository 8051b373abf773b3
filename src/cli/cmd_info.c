/* glia info: what a checkpoint holds — model, configuration, size, tensors. */
#include <stdio.h>
#include <string.h>
#include "cli.h"

static void print_entry(const glia_st_entry *e, int width)
{
    char shape[160];
    size_t n = (size_t)snprintf(shape, sizeof shape, "[");
    for (int i = 0; i < e->ndim && n < sizeof shape; i++)
        n += (size_t)snprintf(shape + n, sizeof shape - n, "%s%lld", i ? ", " : "", (long long)e->shape[i]);
    if (n < sizeof shape)
        snprintf(shape + n, sizeof shape - n, "]");
    printf("  %-*s %-4s %-20s %12lld\n", width, e->name, e->dtype, shape, (long long)e->numel);
}

/* Every option of the model's field table, "key value" */
static void print_config(const glia_model_config *c)
{
    const glia_model_field *f;
    char value[160];
    printf("config:");
    for (int i = 0; (f = glia_model_field_at(c->arch, i)); i++)
        printf("%s %s %s", i ? "," : "", f->key, glia_model_field_format(c, f, value, sizeof value));
    printf(" (%dD, inputs must be multiples of %d per side)\n", glia_model_config_spatial_dims(c),
           1 << glia_model_config_pool_levels(c));
}

int glia_cmd_info(int argc, char **argv)
{
    const char *pos[1];
    int npos = 0;
    if (glia_cli_parse("info", NULL, 0, argc, argv, pos, 1, &npos))
        return 2;
    if (npos != 1)
        return glia_cli_usage_error("info: give one FILE.safetensors");
    glia_safetensors *st = NULL;
    glia_status s = glia_safetensors_open(pos[0], &st);
    if (s != GLIA_STATUS_OK)
        return glia_cli_lib_error("info", s);
    const glia_meta *meta = glia_safetensors_meta(st);
    glia_model_config cfg;
    int rc = 0;
    printf("file: %s\n", pos[0]);
    if ((s = glia_checkpoint_config(st, &cfg)) != GLIA_STATUS_OK) {
        rc = glia_cli_lib_error("info", s);
    } else {
        const char *ver = glia_meta_get(meta, "glia_version");
        printf("model: %s (%s)\n", glia_model_arch_name(cfg.arch),
               ver                             ? "written by glia"
               : glia_meta_get(meta, "model") ? "glia metadata written by another tool (e.g. python/glia_torch.py)"
                                               : "no glia metadata: configuration inferred from the tensors");
        if (ver)
            printf("glia version: %s\n", ver);
        print_config(&cfg);
        /* the header alone checks every name, shape and dtype: no model is built, so
         * metadata claiming a huge model costs nothing */
        int64_t trainable = 0;
        if ((s = glia_checkpoint_check(st, &cfg, &trainable)) != GLIA_STATUS_OK)
            rc = glia_cli_lib_error("info", s);
        else
            printf("parameters: %lld trainable\n", (long long)trainable);
    }
    for (int i = 0; i < glia_meta_count(meta); i++) {
        const char *k, *v;
        glia_meta_at(meta, i, &k, &v);
        if (strcmp(k, "model") && strcmp(k, "config") && strcmp(k, "glia_version") && strcmp(k, "format"))
            printf("%s: %s\n", k, v);
    }
    int width = 4; /* the longest name: MONAI's run past 60 characters */
    for (int i = 0; i < glia_safetensors_count(st); i++) {
        size_t len = strlen(glia_safetensors_entry(st, i)->name);
        width = len > (size_t)width ? (len < 120 ? (int)len : 120) : width;
    }
    printf("tensors (%d):\n  %-*s %-4s %-20s %12s\n", glia_safetensors_count(st), width, "name", "type", "shape",
           "elements");
    for (int i = 0; i < glia_safetensors_count(st); i++)
        print_entry(glia_safetensors_entry(st, i), width);
    glia_safetensors_close(st);
    return rc;
}
