/* Evaluation tables of a data-parallel job merged: rank r evaluates cases
 * r, r + N, r + 2N, ...; the rows go round every rank with one allgather and
 * come back in case order, so the means are those one process computes. */
#include <stdlib.h>
#include <string.h>
#include "eval/eval_priv.h"

glia_status glia_eval_table_gather(glia_dist *d, const glia_eval_table *mine, int n, const char *const *ids,
                                   const double *extra, glia_eval_table *out, double *all_extra)
{
    int N = glia_dist_size(d), rank = glia_dist_rank(d), k = (n + N - 1) / N;
    int regions = glia_eval_table_regions(mine);
    if (!mine || !out || !ids || n < 0 || regions != glia_eval_table_regions(out) ||
        glia_eval_table_cases(mine) != (n - rank + N - 1) / N)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT,
                           "glia_eval_table_gather: rank %d holds %d cases of %d; it should hold every %dth", rank,
                           glia_eval_table_cases(mine), n, N);
    size_t rec = sizeof(double) + (size_t)regions * sizeof(glia_seg_metrics), block = (size_t)k * rec;
    unsigned char *send = calloc(1, block + 1), *all = calloc((size_t)N, block + 1);
    glia_status s = send && all ? GLIA_STATUS_OK : glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "gathering %d cases", n);
    for (int j = 0; s == GLIA_STATUS_OK && j < glia_eval_table_cases(mine); j++) {
        double e = extra ? extra[j] : 0;
        memcpy(send + j * rec, &e, sizeof e);
        for (int r = 0; r < regions; r++)
            memcpy(send + j * rec + sizeof e + r * sizeof(glia_seg_metrics), glia_eval_table_get(mine, j, r),
                   sizeof(glia_seg_metrics));
    }
    if (s == GLIA_STATUS_OK)
        s = glia_dist_allgather(d, send, block, all);
    glia_seg_metrics *row = malloc((size_t)regions * sizeof *row + 1);
    if (s == GLIA_STATUS_OK && !row)
        s = glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "gathering %d cases", n);
    for (int i = 0; s == GLIA_STATUS_OK && i < n; i++) {
        const unsigned char *p = all + (size_t)(i % N) * block + (size_t)(i / N) * rec;
        if (all_extra)
            memcpy(&all_extra[i], p, sizeof(double));
        memcpy(row, p + sizeof(double), (size_t)regions * sizeof *row);
        s = glia_eval_table_add_metrics(out, ids[i], row);
    }
    free(row);
    free(send);
    free(all);
    return s;
}
