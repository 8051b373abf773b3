/* A .npy file through both readers: glia_npy_read_f32 (arrays: checkpoints'
 * companions, test oracles) and glia_volume_read_npy (a volume from an array). */
#include <stdlib.h>
#include "fuzz_util.h"
#include "glia/glia.h"
#include "glia/image.h"
#include "glia/io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = glia_fuzz_write("input.npy", data, size);
    int nd;
    int64_t shape[GLIA_NPY_MAX_DIMS];
    float *f = NULL;
    if (glia_npy_read_f32(p, &nd, shape, &f) == GLIA_STATUS_OK)
        free(f);
    glia_volume *v = NULL;
    if (glia_volume_read_npy(p, &v) == GLIA_STATUS_OK)
        glia_volume_free(v);
    return 0;
}
