/* glia — counters of the OpenCL program cache (private; read by the tests).
 *
 * Process-wide totals since start: programs compiled from source, programs
 * loaded from the on-disk cache, and cache entries found but rejected (wrong
 * header, checksum, device, driver or source, or a binary the driver refused). */
#ifndef GLIA_CL_CACHE_H
#define GLIA_CL_CACHE_H

typedef struct glia_cl_cache_counts {
    int built;
    int loaded;
    int rejected;
} glia_cl_cache_counts;

void glia_cl_cache_counts_get(glia_cl_cache_counts *out);

#endif
