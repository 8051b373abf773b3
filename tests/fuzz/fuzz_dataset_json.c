/* A dataset.json through glia_dataset_open's layout detection and scan: the
 * nnU-Net v2 form ("channel_names", "file_ending") and the Decathlon form
 * ("training", "modality") both go through it. imagesTr/ and labelsTr/ are
 * empty, so that the JSON, not the files, decides what happens. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include "fuzz_util.h"
#include "glia/glia.h"
#include "glia/data.h"

static char dir[512];

void glia_fuzz_setup(void)
{
    char sub[600];
    snprintf(dir, sizeof dir, "%s/ds", glia_fuzz_dir());
    const char *parts[] = {"", "/imagesTr", "/labelsTr"};
    for (int i = 0; i < 3; i++) {
        snprintf(sub, sizeof sub, "%s%s", dir, parts[i]);
        if (mkdir(sub, 0700) != 0)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)glia_fuzz_write("ds/dataset.json", data, size);
    glia_dataset_options o = {.layout = GLIA_LAYOUT_AUTO};
    glia_dataset *ds = NULL;
    if (glia_dataset_open(dir, &o, &ds) == GLIA_STATUS_OK)
        glia_dataset_free(ds);
    return 0;
}
