/* A NIfTI-1/2 file (.nii) through glia_volume_read_header, glia_volume_read and glia_volume_to_float. */
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    glia_fuzz_volume(".nii", data, size);
    return 0;
}
