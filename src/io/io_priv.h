/* glia — private helpers of the file readers and writers. */
#ifndef GLIA_IO_PRIV_H
#define GLIA_IO_PRIV_H

#include <stdint.h>
#include <stdio.h>
#include "glia/glia.h"

/* A file being written under a temporary name next to its target. */
typedef struct glia_afile {
    FILE *f;
    char *path, *tmp;
    int committing;     /* closed, not yet renamed */
} glia_afile;

/* Temporary files: GLIA_TMP_PREFIX "PID-N" in the target's folder. */
#define GLIA_TMP_PREFIX ".glia-tmp-"
/* A new temporary name (malloc'd, NULL without memory) for a file written to path. */
char *glia_tmp_name_(const char *path);
/* Remove dir's temporary files whose writer no longer runs (killed mid-write);
 * *removed (may be NULL): how many. Live writers' files are left alone. */
glia_status glia_tmp_clean_(const char *dir, int *removed);

/* Create the temporary file; every failure names the path and errno's text. */
glia_status glia_afile_open(glia_afile *a, const char *path);
glia_status glia_afile_write(glia_afile *a, const void *data, size_t bytes);
/* Flush, fsync, close and rename over the target. On failure the temporary
 * file is removed and the target left as it was. */
glia_status glia_afile_commit(glia_afile *a);
/* Close and remove the temporary file (after an error). Safe to call twice. */
void glia_afile_abort(glia_afile *a);

/* Write text to path atomically (temporary file, fsync, rename); failures say why. */
glia_status glia_write_text_(const char *path, const char *text);
/* Read a whole text file of at most max_bytes; *out is malloc'd and NUL-terminated.
 * A larger file is refused (FORMAT_ERROR) before anything is allocated. */
glia_status glia_read_text_(const char *path, size_t max_bytes, char **out);

/* Size of an open file, or -1 with errno set. */
int64_t glia_file_size(FILE *f);
/* fread of exactly bytes at offset; FORMAT_ERROR "truncated" if the file ends early. */
glia_status glia_read_at(FILE *f, const char *path, uint64_t offset, void *dst, size_t bytes);

/* 1 on a little-endian host. Files hold little-endian data; big-endian hosts swap. */
int glia_host_is_le(void);
/* Reverse the bytes of count elements of size elem (2, 4 or 8) in place. */
void glia_byteswap(void *data, size_t count, int elem);

/* The safetensors dtype of a glia element type ("F32", "I64", ...). */
const char *glia_st_dtype(glia_etype e);
/* "[2, 3]" into buf. */
const char *glia_st_shape_text(int ndim, const int64_t *shape, char *buf, size_t len);

#endif
