/* A saved split (glia dataset --save-split, a run's split.json, train --split)
 * through glia_split_load, matched against a synthetic nnU-Net dataset of 4
 * cases (GLIA_000..GLIA_003: the ids tests/fuzz/seeds.sh's seed split names). */
#include <stdio.h>
#include <stdlib.h>
#include "fuzz_util.h"
#include "glia/glia.h"
#include "glia/data.h"

static glia_dataset *ds;

void glia_fuzz_setup(void)
{
    char d[512];
    snprintf(d, sizeof d, "%s/data", glia_fuzz_dir());
    glia_synth_options o = {.layout = GLIA_LAYOUT_NNUNET, .cases = 4, .size = {8, 8, 4}, .threads = 1};
    glia_dataset_options dopt = {.layout = GLIA_LAYOUT_AUTO};
    if (glia_synth_write(d, &o) != GLIA_STATUS_OK || glia_dataset_open(d, &dopt, &ds) != GLIA_STATUS_OK) {
        fprintf(stderr, "glia fuzz: the split target's dataset: %s\n", glia_last_error());
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    glia_split s = {0};
    if (glia_split_load(ds, glia_fuzz_write("split.json", data, size), &s) == GLIA_STATUS_OK)
        glia_split_free(&s);
    return 0;
}
