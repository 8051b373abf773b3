/* Helpers of the end-to-end tests of train, eval and infer: scratch folders
 * and small synthetic datasets. */
#ifndef GLIA_PRODUCT_UTIL_H
#define GLIA_PRODUCT_UTIL_H

#include <stddef.h>
#include "glia/glia.h"

/* A new empty folder under the test cache (or /tmp); the caller frees the name. */
char *pu_tempdir(const char *tag);
/* rm -rf */
void pu_rmtree(const char *path);
/* "%s/%s" in a static rotating buffer (valid for the next few calls). */
const char *pu_path(const char *dir, const char *name);
/* Write n synthetic BraTS 2021 cases of size (i, j, k), every one with a tumour, into dir. */
void pu_synth(const char *dir, int n, int64_t i, int64_t j, int64_t k, uint64_t seed);
/* 1 if the files hold the same bytes. */
int pu_same_file(const char *a, const char *b);
/* The training tests' group fixture: a scratch root (tag) holding a dataset
 * "data" of `cases` 32x32x16 cases (none if 0; *data NULL then) and a "cpu"
 * device of `threads` threads; 0 on success. The close frees all three and
 * fails when the device does not close (a leaked tensor). */
int pu_fixture_open(const char *tag, int cases, int threads, char **root, char **data, glia_device **dev);
int pu_fixture_close(char *root, char *data, glia_device *dev);
/* Fails the test with glia's message unless s is OK. */
void pu_check(glia_status s);
#endif
