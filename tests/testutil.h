/* Shared helpers of the test programs (cmocka). */
#ifndef GLIA_TESTUTIL_H
#define GLIA_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>
#include "backends/backend.h"

/* ||a - b|| / max(||b||, 1e-30) over n elements, in double. */
double gt_nerr(const float *a, const float *b, size_t n);
double gt_nerr_f64(const double *a, const double *b, size_t n);
/* Uniform [lo, hi) from a small xorshift generator independent of glia's RNG. */
void gt_fill(float *x, size_t n, uint64_t seed, float lo, float hi);
void gt_fill_f64(double *x, size_t n, uint64_t seed, double lo, double hi);
/* The compiled backend of that name, or NULL. */
const glia_backend *gt_backend(const char *name);
/* 1 if GLIA_REQUIRE_BACKENDS (comma-separated) names this backend: its absence
 * must fail the test rather than skip it. */
int gt_backend_required(const char *name);
/* Directory for on-disk caches during tests (GLIA_TEST_CACHE_DIR), or NULL. */
const char *gt_cache_dir(void);
/* Group fixtures of the per-backend tests: the group state is device 0 of
 * backend gt_backend_name ("cpu", "opencl", "vulkan"), opened with the test
 * cache directory, or NULL if it has none. */
extern const char *gt_backend_name;
int gt_backend_open(void **state);
int gt_backend_close(void **state);
/* The group's device; skips the test if there is none, and fails it instead
 * when GLIA_REQUIRE_BACKENDS names the backend. */
struct glia_device *gt_backend_device(void **state);



/* A fresh folder $TMPDIR/<prefix>_XXXXXX into dir (0, or -1 on failure), and
 * the folder removed with everything in it: group fixtures of the file tests. */
int gt_tmpdir_make(char *dir, size_t len, const char *prefix);
int gt_tmpdir_remove(const char *dir);
/* "dir/" followed by the printf-formatted rest, in one of 8 rotating static buffers. */
const char *gt_path(const char *dir, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* cmocka group fixtures: open two separate "cpu" devices into gt_dev and
 * gt_dev2; closing fails (and so fails the group) if any tensor leaked. */
#include "glia/device.h"
extern glia_device *gt_dev, *gt_dev2;
int gt_open_cpu(void **state);
int gt_close_cpu(void **state);
#endif
