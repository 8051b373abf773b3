/* Whole small text files (JSON: splits, configurations, logs, tables), read
 * with a size limit and written atomically; here, below data and the
 * application layer, so that both write them one way. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/error.h"
#include "io/io_priv.h"

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
    if (n < 0)
        s = glia_seterr(GLIA_STATUS_IO_ERROR, "%s: cannot find its size: %s", path, strerror(errno));
    else if ((uint64_t)n > max_bytes)
        s = glia_seterr(GLIA_STATUS_FORMAT_ERROR, "%s: %lld bytes, more than the %zu a text file here may hold", path,
                        (long long)n, max_bytes);
    else if (!buf)
        s = glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "%s: no host memory for %lld bytes", path, (long long)n);
    else if (fread(buf, 1, (size_t)n, f) != (size_t)n)
        s = glia_seterr(GLIA_STATUS_IO_ERROR, "reading %s failed: %s", path,
                        ferror(f) ? strerror(errno) : "the file shrank while being read");
    fclose(f);
    if (s != GLIA_STATUS_OK) {
        free(buf);
        return s;
    }
    buf[n] = '\0';
    *out = buf;
    return GLIA_STATUS_OK;
}
