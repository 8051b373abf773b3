/* glia convert: between NIfTI, PNG/TIFF and .npy. NIfTI -> .npy writes the
 * scaled values as float32 with shape (i, j, k[, t]) in C order, the array
 * nibabel's get_fdata() returns; .npy -> NIfTI takes that shape back and
 * --like copies a reference's geometry. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "cli.h"

static int is_npy(const char *p)
{
    size_t n = strlen(p);
    return n >= 4 && strcasecmp(p + n - 4, ".npy") == 0;
}

int glia_cmd_convert(int argc, char **argv)
{
    const char *like = NULL, *dtype = NULL, *pos[2];
    long version = 0, slice = -1;
    int npos = 0;
    const glia_cli_opt opts[] = {
        {"--like", GLIA_CLI_STR, &like, 0, 0},
        {"--dtype", GLIA_CLI_STR, &dtype, 0, 0},
        {"--nifti", GLIA_CLI_INT, &version, 1, 2},
        {"--slice", GLIA_CLI_INT, &slice, 0, 1e9},
    };
    if (glia_cli_parse("convert", opts, sizeof opts / sizeof *opts, argc, argv, pos, 2, &npos))
        return 2;
    if (npos != 2)
        return glia_cli_usage_error("convert: needs IN and OUT (see 'glia help convert')");
    static const struct { const char *name; glia_dtype t; } types[] = {
        {"uint8", GLIA_DTYPE_UINT8},   {"int8", GLIA_DTYPE_INT8},     {"int16", GLIA_DTYPE_INT16},
        {"uint16", GLIA_DTYPE_UINT16}, {"int32", GLIA_DTYPE_INT32},   {"uint32", GLIA_DTYPE_UINT32},
        {"int64", GLIA_DTYPE_INT64},   {"float32", GLIA_DTYPE_FLOAT32}, {"float64", GLIA_DTYPE_FLOAT64},
    };
    int ti = -1;
    for (size_t i = 0; dtype && i < sizeof types / sizeof types[0]; i++)
        if (strcmp(dtype, types[i].name) == 0)
            ti = (int)i;
    if (dtype && ti < 0)
        return glia_cli_usage_error("convert: unknown --dtype '%s' (uint8, int8, int16, uint16, int32, uint32, int64, "
                                    "float32, float64)", dtype);
    glia_volume *v = NULL, *ref = NULL;
    glia_status s = is_npy(pos[0]) ? glia_volume_read_npy(pos[0], &v) : glia_volume_read(pos[0], &v);
    if (s == GLIA_STATUS_OK && slice >= 0) {
        glia_volume *sl = NULL;
        s = glia_volume_slice(v, slice, &sl);
        glia_volume_free(v);
        v = sl;
    }
    if (s == GLIA_STATUS_OK && like) {
        s = glia_volume_read_header(like, &ref);
        if (s == GLIA_STATUS_OK)
            s = glia_volume_copy_geometry(v, ref);
        if (s != GLIA_STATUS_OK) {
            fprintf(stderr, "glia: convert: --like %s: %s\n", like, glia_last_error());
            glia_volume_free(v);
            glia_volume_free(ref);
            return 1;
        }
    }
    if (s == GLIA_STATUS_OK && ti >= 0)
        s = glia_volume_convert(v, types[ti].t);
    if (s == GLIA_STATUS_OK) {
        if (is_npy(pos[1])) {
            s = glia_volume_write_npy(v, pos[1]);
        } else {
            glia_image_write_options wo = {.nifti_version = (int)version};
            s = glia_volume_write(v, pos[1], &wo);
        }
    }
    glia_volume_free(v);
    glia_volume_free(ref);
    if (s != GLIA_STATUS_OK)
        return glia_cli_lib_error("convert", s);
    return 0;
}
