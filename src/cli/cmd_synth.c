/* glia synth: write synthetic BraTS-format (or kaggle_3m LGG) brain-MRI phantoms. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

/* "240x240x155" into size; 0 on a malformed size. */
static int parse_size(const char *text, int64_t *size)
{
    long long a, b, c;
    char tail;
    if (sscanf(text, "%lldx%lldx%lld%c", &a, &b, &c, &tail) != 3 || a < 4 || b < 4 || c < 4 || a > 1024 ||
        b > 1024 || c > 1024)
        return 0;
    size[0] = a;
    size[1] = b;
    size[2] = c;
    return 1;
}

int glia_cmd_synth(int argc, char **argv)
{
    const char *layout = "brats2021", *out = NULL, *size = NULL, *templ = NULL;
    long cases = 10, seed = 0, unlabelled = 0, threads = 0;
    double no_tumour = 0.1;
    int strip = 0;
    const glia_cli_opt opts[] = {
        {"--layout", GLIA_CLI_STR, &layout, 0, 0},
        {"--cases", GLIA_CLI_INT, &cases, 1, 100000},
        {"--seed", GLIA_CLI_INT, &seed, 0, 9007199254740991.0},
        {"--size", GLIA_CLI_STR, &size, 0, 0},
        {"--unlabelled", GLIA_CLI_INT, &unlabelled, 0, 100000},
        {"--no-tumour", GLIA_CLI_FLOAT, &no_tumour, 0, 1},
        {"--skull-strip", GLIA_CLI_FLAG, &strip, 0, 0},
        {"--template", GLIA_CLI_STR, &templ, 0, 0},
        GLIA_CLI_THREADS(&threads),
        GLIA_CLI_OUT(&out),
    };
    int rc = glia_cli_parse("synth", opts, sizeof opts / sizeof *opts, argc, argv, NULL, 0, NULL);
    if (rc)
        return rc;
    if (!out)
        return glia_cli_usage_error("synth: name the output folder with -o DIR");
    glia_synth_options o = {.cases = (int)cases, .seed = (uint64_t)seed, .unlabelled = (int)unlabelled,
                            .p_no_tumour = (float)no_tumour, .skull_strip = strip, .template_t1 = templ,
                            .threads = (int)threads};
    if (glia_layout_parse(layout, &o.layout) != GLIA_STATUS_OK)
        return glia_cli_usage_error("synth: %s", glia_last_error());
    if (size && !parse_size(size, o.size))
        return glia_cli_usage_error("synth: --size needs WxHxD with sides 4..1024, got '%s'", size);
    glia_cli_progress bar;
    glia_cli_progress_start(&bar, "writing cases");
    o.on_progress = glia_cli_progress_step;
    o.user = &bar;
    glia_status s = glia_synth_write(out, &o);
    glia_cli_progress_end(&bar);
    if (s != GLIA_STATUS_OK)
        return glia_cli_lib_error("synth", s);
    printf("wrote %ld %s cases to %s\n", cases, glia_layout_name(o.layout), out);
    return 0;
}
