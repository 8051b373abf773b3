/* The job in a build without MPI: always one process. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dist/dist_priv.h"

struct glia_dist {
    int agreed;
};

int glia_dist_available(void) { return 0; }
int glia_dist_launched(void) { return 0; }

glia_status glia_dist_init(int *argc, char ***argv, glia_dist **out)
{
    if (!out)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_dist_init: out is NULL");
    *out = calloc(1, sizeof **out);
    return *out ? GLIA_STATUS_OK : glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "glia_dist_init");
}

void glia_dist_finalize(glia_dist *d) { free(d); }

void glia_dist_abort(glia_dist *d, int code)
{
    fflush(stdout);
    fflush(stderr);
    exit(code);
}

int glia_dist_rank(const glia_dist *d) { return 0; }
int glia_dist_size(const glia_dist *d) { return 1; }
int glia_dist_local_rank(const glia_dist *d) { return 0; }
int glia_dist_local_size(const glia_dist *d) { return 1; }
const char *glia_dist_library(const glia_dist *d) { return "none"; }
void glia_dist_set_failure_agreed(glia_dist *d, int agreed)
{
    if (d)
        d->agreed = agreed;
}
int glia_dist_failure_agreed(const glia_dist *d) { return d ? d->agreed : 0; }

glia_status glia_dist_allreduce_f64(glia_dist *d, double *buf, size_t n, glia_dist_op op) { return GLIA_STATUS_OK; }
glia_status glia_dist_allreduce_f32(glia_dist *d, float *buf, size_t n, glia_dist_op op) { return GLIA_STATUS_OK; }
glia_status glia_dist_bcast(glia_dist *d, void *buf, size_t bytes, int root) { return GLIA_STATUS_OK; }
glia_status glia_dist_barrier(glia_dist *d) { return GLIA_STATUS_OK; }

glia_status glia_dist_allgather(glia_dist *d, const void *mine, size_t bytes, void *all)
{
    memmove(all, mine, bytes);
    return GLIA_STATUS_OK;
}

glia_status glia_dist_iallreduce_f32(glia_dist *d, float *buf, size_t n, glia_dist_req **req)
{
    *req = NULL;
    return GLIA_STATUS_OK;
}

int glia_dist_test(glia_dist_req *r) { return 1; }
glia_status glia_dist_wait(glia_dist_req *r) { return GLIA_STATUS_OK; }
