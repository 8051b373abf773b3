/* A TIFF file (.tif) through glia_volume_read_header, glia_volume_read and glia_volume_to_float. */
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    glia_fuzz_volume(".tif", data, size);
    return 0;
}
