/* Folder, clock and statistics helpers of the training, evaluation and inference code (text files: io/text.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "app/app_priv.h"

glia_status glia_mkdirs_(const char *path)
{
    char *p = glia_strdup_(path);
    if (!p)
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "mkdir %s", path);
    for (char *c = p + 1;; c++) {
        int end = *c == '\0';
        if (*c == '/' || end) {
            *c = '\0';
            if (mkdir(p, 0777) != 0 && errno != EEXIST) {
                glia_status s = glia_seterr(GLIA_STATUS_IO_ERROR, "cannot create folder %s: %s", p, strerror(errno));
                free(p);
                return s;
            }
            if (end)
                break;
            *c = '/';
        }
    }
    free(p);
    if (!glia_is_dir_(path))
        return glia_seterr(GLIA_STATUS_IO_ERROR, "%s exists and is not a folder", path);
    return GLIA_STATUS_OK;
}

double glia_now_(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double glia_quantile_(double *x, size_t n, double q)
{
    if (n == 0)
        return 0;
    qsort(x, n, sizeof *x, cmp_double);
    double pos = q * (double)(n - 1);
    size_t lo = (size_t)pos;
    if (lo + 1 >= n)
        return x[n - 1];
    return x[lo] + (pos - (double)lo) * (x[lo + 1] - x[lo]);
}
