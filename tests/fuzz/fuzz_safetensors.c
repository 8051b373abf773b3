/* A safetensors file as a user's checkpoint: the header and every tensor, the
 * model configuration from the metadata (or recognised from the tensor names),
 * the optimiser's record, and a full glia_model_load on the CPU device. */
#include <stdlib.h>
#include "fuzz_util.h"
#include "glia/glia.h"
#include "glia/io.h"
#include "glia/model.h"

/* Opened once: a device per input would dominate the time of each run. */
static glia_device *dev;

void glia_fuzz_setup(void)
{
    glia_device_options o = {.threads = 1};
    if (glia_device_open("cpu", &o, &dev) != GLIA_STATUS_OK)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    glia_safetensors *st = NULL;
    if (glia_safetensors_open(glia_fuzz_write("input.safetensors", data, size), &st) != GLIA_STATUS_OK)
        return 0;
    for (int i = 0; i < glia_safetensors_count(st); i++) {
        const glia_st_entry *e = glia_safetensors_entry(st, i);
        void *buf = malloc(e->bytes ? e->bytes : 1);
        if (buf)
            (void)glia_safetensors_read(st, e, buf, e->bytes);
        free(buf);
    }
    glia_model_config cfg;
    (void)glia_checkpoint_config(st, &cfg);
    glia_optim_options oo;
    (void)glia_checkpoint_optim_options(st, &oo);
    glia_model *m = NULL;
    if (glia_model_load(st, dev, &m) == GLIA_STATUS_OK)
        glia_model_free(m);
    glia_safetensors_close(st);
    return 0;
}
