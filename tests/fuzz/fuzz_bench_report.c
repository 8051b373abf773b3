/* A benchmark report (glia bench --json) through glia_bench_compare, as
 * `glia bench --compare A.json B.json` reads it: against itself, so that the
 * ratio and memory tables run too, with the Markdown to /dev/null and the
 * bar chart into the temporary folder. */
#include <stdio.h>
#include <stdlib.h>
#include "fuzz_util.h"
#include "glia/glia.h"
#include "glia/bench.h"

static FILE *sink;
static char png[512];

void glia_fuzz_setup(void)
{
    sink = fopen("/dev/null", "w");
    if (!sink)
        abort();
    snprintf(png, sizeof png, "%s/compare.png", glia_fuzz_dir());
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = glia_fuzz_write("report.json", data, size);
    const char *paths[2] = {p, p};
    (void)glia_bench_compare(paths, 2, sink, png);
    return 0;
}
