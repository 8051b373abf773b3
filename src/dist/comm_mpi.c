/* The job over MPI: initialisation from the launcher's environment, the
 * shared-memory split for local ranks, and the collectives glia uses. Errors
 * come back as statuses (MPI_ERRORS_RETURN), never as MPI's own abort. */
#include <limits.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dist/dist_priv.h"

struct glia_dist {
    MPI_Comm world, local;
    int rank, size, local_rank, local_size;
    int agreed;
    int mpi;                     /* MPI_Init was called: the job came from a launcher */
    char library[MPI_MAX_LIBRARY_VERSION_STRING];
};

struct glia_dist_req {
    MPI_Request req;
};

int glia_dist_available(void) { return 1; }

int glia_dist_launched(void)
{
    /* Open MPI sets OMPI_COMM_WORLD_SIZE; MPICH's Hydra (and PMI-1 launchers) PMI_SIZE; PMIx ones PMIX_RANK */
    const char *vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS"};
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++)
        if (getenv(vars[i]))
            return 1;
    return 0;
}

static glia_status mpi_err(int rc, const char *what)
{
    char msg[MPI_MAX_ERROR_STRING] = "";
    int len = 0;
    MPI_Error_string(rc, msg, &len);
    return glia_seterr(GLIA_STATUS_COMM_ERROR, "MPI %s failed: %s", what, msg);
}

#define MPI_TRY(call, what)                  \
    do {                                     \
        int rc_ = (call);                    \
        if (rc_ != MPI_SUCCESS)              \
            return mpi_err(rc_, what);       \
    } while (0)

glia_status glia_dist_init(int *argc, char ***argv, glia_dist **out)
{
    if (!out)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_dist_init: out is NULL");
    *out = calloc(1, sizeof **out);
    glia_dist *d = *out;
    if (!d)
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "glia_dist_init");
    d->size = d->local_size = 1;
    snprintf(d->library, sizeof d->library, "none");
    if (!glia_dist_launched())
        return GLIA_STATUS_OK;
    int inited = 0, len = 0, provided = 0;
    MPI_Initialized(&inited);
    /* funneled: the loader's and the CPU backend's threads exist, only this one calls MPI */
    if (!inited && MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
        free(d);
        *out = NULL;
        return glia_seterr(GLIA_STATUS_COMM_ERROR, "MPI_Init failed");
    }
    d->mpi = 1;
    MPI_Comm_dup(MPI_COMM_WORLD, &d->world);
    MPI_Comm_set_errhandler(d->world, MPI_ERRORS_RETURN);
    MPI_Comm_rank(d->world, &d->rank);
    MPI_Comm_size(d->world, &d->size);
    MPI_Comm_split_type(d->world, MPI_COMM_TYPE_SHARED, d->rank, MPI_INFO_NULL, &d->local);
    MPI_Comm_rank(d->local, &d->local_rank);
    MPI_Comm_size(d->local, &d->local_size);
    MPI_Get_library_version(d->library, &len);
    /* the first line: "Open MPI v4.1.4, package: ..." or "MPICH Version: 4.0.2" */
    d->library[strcspn(d->library, "\n,")] = '\0';
    return GLIA_STATUS_OK;
}

void glia_dist_finalize(glia_dist *d)
{
    if (d && d->mpi) {
        MPI_Comm_free(&d->local);
        MPI_Comm_free(&d->world);
        MPI_Finalize();
    }
    free(d);
}

void glia_dist_abort(glia_dist *d, int code)
{
    fflush(stdout);
    fflush(stderr);
    if (d && d->mpi)
        MPI_Abort(MPI_COMM_WORLD, code);
    exit(code);
}

int glia_dist_rank(const glia_dist *d) { return d ? d->rank : 0; }
int glia_dist_size(const glia_dist *d) { return d ? d->size : 1; }
int glia_dist_local_rank(const glia_dist *d) { return d ? d->local_rank : 0; }
int glia_dist_local_size(const glia_dist *d) { return d ? d->local_size : 1; }
const char *glia_dist_library(const glia_dist *d) { return d ? d->library : "none"; }
void glia_dist_set_failure_agreed(glia_dist *d, int agreed)
{
    if (d)
        d->agreed = agreed;
}
int glia_dist_failure_agreed(const glia_dist *d) { return d ? d->agreed : 0; }

static int multi(const glia_dist *d) { return d && d->size > 1; }

static MPI_Op mpi_op(glia_dist_op op) { return op == GLIA_DIST_MAX ? MPI_MAX : op == GLIA_DIST_MIN ? MPI_MIN : MPI_SUM; }

/* MPI counts are int: longer buffers go in pieces. */
#define CHUNK ((size_t)1 << 30)

glia_status glia_dist_allreduce_f64(glia_dist *d, double *buf, size_t n, glia_dist_op op)
{
    for (size_t i = 0; multi(d) && i < n; i += CHUNK) {
        size_t k = n - i < CHUNK ? n - i : CHUNK;
        MPI_TRY(MPI_Allreduce(MPI_IN_PLACE, buf + i, (int)k, MPI_DOUBLE, mpi_op(op), d->world), "allreduce");
    }
    return GLIA_STATUS_OK;
}

glia_status glia_dist_allreduce_f32(glia_dist *d, float *buf, size_t n, glia_dist_op op)
{
    for (size_t i = 0; multi(d) && i < n; i += CHUNK) {
        size_t k = n - i < CHUNK ? n - i : CHUNK;
        MPI_TRY(MPI_Allreduce(MPI_IN_PLACE, buf + i, (int)k, MPI_FLOAT, mpi_op(op), d->world), "allreduce");
    }
    return GLIA_STATUS_OK;
}

glia_status glia_dist_bcast(glia_dist *d, void *buf, size_t bytes, int root)
{
    for (size_t i = 0; multi(d) && i < bytes; i += CHUNK) {
        size_t k = bytes - i < CHUNK ? bytes - i : CHUNK;
        MPI_TRY(MPI_Bcast((char *)buf + i, (int)k, MPI_BYTE, root, d->world), "broadcast");
    }
    return GLIA_STATUS_OK;
}

glia_status glia_dist_allgather(glia_dist *d, const void *mine, size_t bytes, void *all)
{
    if (!multi(d)) {
        memmove(all, mine, bytes);
        return GLIA_STATUS_OK;
    }
    if (bytes > INT_MAX)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_dist_allgather: %zu bytes per rank (at most %d)",
                           bytes, INT_MAX);
    MPI_TRY(MPI_Allgather(mine, (int)bytes, MPI_BYTE, all, (int)bytes, MPI_BYTE, d->world), "allgather");
    return GLIA_STATUS_OK;
}

glia_status glia_dist_barrier(glia_dist *d)
{
    if (multi(d))
        MPI_TRY(MPI_Barrier(d->world), "barrier");
    return GLIA_STATUS_OK;
}

glia_status glia_dist_iallreduce_f32(glia_dist *d, float *buf, size_t n, glia_dist_req **req)
{
    *req = NULL;
    if (!multi(d))
        return GLIA_STATUS_OK;
    if (n > INT_MAX)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_dist_iallreduce_f32: %zu values (at most %d)", n,
                           INT_MAX);
    glia_dist_req *r = malloc(sizeof *r);
    if (!r)
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "glia_dist_iallreduce_f32");
    int rc = MPI_Iallreduce(MPI_IN_PLACE, buf, (int)n, MPI_FLOAT, MPI_SUM, d->world, &r->req);
    if (rc != MPI_SUCCESS) {
        free(r);
        return mpi_err(rc, "iallreduce");
    }
    *req = r;
    return GLIA_STATUS_OK;
}

int glia_dist_test(glia_dist_req *r)
{
    int done = 1;
    if (r && r->req != MPI_REQUEST_NULL)
        MPI_Test(&r->req, &done, MPI_STATUS_IGNORE);
    return done;
}

glia_status glia_dist_wait(glia_dist_req *r)
{
    if (!r)
        return GLIA_STATUS_OK;
    int rc = r->req != MPI_REQUEST_NULL ? MPI_Wait(&r->req, MPI_STATUS_IGNORE) : MPI_SUCCESS;
    free(r);
    return rc == MPI_SUCCESS ? GLIA_STATUS_OK : mpi_err(rc, "wait");
}
