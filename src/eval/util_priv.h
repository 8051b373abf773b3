/* Private helpers shared by evaluation, inference and training (src/eval,
 * src/infer, src/train, src/plot). */
#ifndef GLIA_UTIL_PRIV_H
#define GLIA_UTIL_PRIV_H

#include <stddef.h>
#include "data/data_priv.h"
#include "io/io_priv.h"
#include "glia/eval.h"
#include "glia/train.h"

/* Write text to path atomically (temporary file, fsync, rename). */
glia_status glia_write_text_(const char *path, const char *text);
/* Read a whole text file of at most max_bytes; *out is malloc'd and NUL-terminated. */
glia_status glia_read_text_(const char *path, size_t max_bytes, char **out);
/* Create a folder and its parents (like mkdir -p). */
glia_status glia_mkdirs_(const char *path);
/* Seconds on a monotonic clock. */
double glia_now_(void);
/* The numpy-style (linear) q-th quantile, q in [0, 1], of x[0..n-1]; sorts x. */
double glia_quantile_(double *x, size_t n, double q);

/* "regions", "wt", "labels" and back (INVALID_ARGUMENT listing the names). */
const char *glia_target_name_(glia_target t);
glia_status glia_target_parse_(const char *name, glia_target *out);

#endif
