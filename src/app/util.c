/* Small file, clock and statistics helpers of the training, evaluation and inference code. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "app/app_priv.h"

glia_status glia_write_text_(const char *path, const char *text)
{
    glia_afile a;
    glia_status s = glia_afile_open(&a, path);
    if (s != GLIA_STATUS_OK)
        return s;
    if ((s = glia_afile_write(&a, text, strlen(text))) != GLIA_STATUS_OK) {
        glia_afile_abort(&a);
        return s;
    }
    return glia_afile_commit(&a);
}

glia_status glia_read_text_(const char *path, size_t max_bytes, char **out)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return glia_seterr(GLIA_STATUS_IO_ERROR, "cannot open %s: %s", path, strerror(errno));
    int64_t n = glia_file_size(f);
    char *buf = n >= 0 && (uint64_t)n <= max_bytes ? malloc((size_t)n + 1) : NULL;
    glia_status s = GLIA_STATUS_OK;
    if (n < 0 || (uint64_t)n > max_bytes)
        s = glia_seterr(GLIA_STATUS_FORMAT_ERROR, "%s: %lld bytes, more than the %zu a text file here may hold", path,
                        (long long)n, max_bytes);
    else if (!buf)
        s = glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "%s: no host memory for %lld bytes", path, (long long)n);
    else if (fread(buf, 1, (size_t)n, f) != (size_t)n)
        s = glia_seterr(GLIA_STATUS_IO_ERROR, "reading %s failed", path);
    fclose(f);
    if (s != GLIA_STATUS_OK) {
        free(buf);
        return s;
    }
    buf[n] = '\0';
    *out = buf;
    return GLIA_STATUS_OK;
}

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
