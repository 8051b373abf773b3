/* glia — hooks of the OpenCL backend for its tests (private).
 *
 * Program cache counters: process-wide totals since start of programs
 * compiled from source, programs loaded from the on-disk cache, and cache
 * entries found but rejected (wrong header, checksum, device, driver or
 * source, or a binary the driver refused; each rejected entry is rebuilt). */
#ifndef GLIA_CL_TESTING_H
#define GLIA_CL_TESTING_H

#include <stddef.h>
#include "backends/backend.h"

typedef struct glia_cl_cache_counts {
    int built;
    int loaded;
    int rejected;
} glia_cl_cache_counts;

void glia_cl_cache_counts_get(glia_cl_cache_counts *out);

/* Cap the convolution workspace of an opened context at bytes (0 restores the
 * default), so small tests exercise the chunked paths. */
void glia_cl_set_workspace_bound(glia_bctx *ctx, size_t bytes);

#endif
