/* Shared helpers of the test programs. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "glia/glia.h"
#include "testutil.h"

#define NERR_BODY                                                   \
    double num = 0, den = 0;                                        \
    for (size_t i = 0; i < n; i++) {                                \
        double d = (double)a[i] - (double)b[i];                     \
        num += d * d;                                               \
        den += (double)b[i] * (double)b[i];                         \
    }                                                               \
    if (isnan(num)) return INFINITY;                                \
    return sqrt(num) / fmax(sqrt(den), 1e-30);

double gt_nerr(const float *a, const float *b, size_t n) { NERR_BODY }
double gt_nerr_f64(const double *a, const double *b, size_t n) { NERR_BODY }

static double next_unit(uint64_t *s)
{
    /* xorshift64*: enough for test data, and independent of the code under test */
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return (double)((*s * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

void gt_fill(float *x, size_t n, uint64_t seed, float lo, float hi)
{
    uint64_t s = seed * 0x9E3779B97F4A7C15ULL + 1;
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(lo + (hi - lo) * next_unit(&s));
}

void gt_fill_f64(double *x, size_t n, uint64_t seed, double lo, double hi)
{
    uint64_t s = seed * 0x9E3779B97F4A7C15ULL + 1;
    for (size_t i = 0; i < n; i++)
        x[i] = lo + (hi - lo) * next_unit(&s);
}

const glia_backend *gt_backend(const char *name)
{
    for (int i = 0; glia_backends[i]; i++)
        if (strcmp(glia_backends[i]->name, name) == 0)
            return glia_backends[i];
    return NULL;
}

int gt_backend_required(const char *name)
{
    const char *req = getenv("GLIA_REQUIRE_BACKENDS");
    size_t len = strlen(name);
    while (req && *req) {
        const char *end = strchr(req, ',');
        size_t n = end ? (size_t)(end - req) : strlen(req);
        if (n == len && strncmp(req, name, len) == 0)
            return 1;
        req = end ? end + 1 : NULL;
    }
    return 0;
}

const char *gt_cache_dir(void) { return getenv("GLIA_TEST_CACHE_DIR"); }

glia_device *gt_dev, *gt_dev2;

int gt_open_cpu(void **state)
{
    (void)state;
    if (glia_device_open("cpu", NULL, &gt_dev) != GLIA_STATUS_OK ||
        glia_device_open("cpu", NULL, &gt_dev2) != GLIA_STATUS_OK) {
        fprintf(stderr, "cannot open the cpu device: %s\n", glia_last_error());
        return -1;
    }
    return 0;
}

int gt_close_cpu(void **state)
{
    (void)state;
    int rc = 0;
    glia_device *devs[2] = {gt_dev, gt_dev2};
    for (int i = 0; i < 2; i++) {
        if (glia_device_close(devs[i]) != GLIA_STATUS_OK) {
            fprintf(stderr, "device %d does not close (leaked tensors?): %s\n", i, glia_last_error());
            rc = -1;
        }
    }
    gt_dev = gt_dev2 = NULL;
    return rc;
}

const char *gt_backend_name = "cpu";

int gt_backend_open(void **state)
{
    glia_device_options o = {.cache_dir = gt_cache_dir()};
    char name[32];
    snprintf(name, sizeof name, "%s%s", gt_backend_name, strcmp(gt_backend_name, "cpu") ? ":0" : "");
    glia_device *d = NULL;
    *state = glia_device_open(name, &o, &d) == GLIA_STATUS_OK ? d : NULL;
    return 0;
}

int gt_backend_close(void **state)
{
    if (*state)
        assert_int_equal(glia_device_close(*state), GLIA_STATUS_OK);
    return 0;
}

struct glia_device *gt_backend_device(void **state)
{
    if (!*state) {
        if (gt_backend_required(gt_backend_name))
            fail_msg("backend %s is required (GLIA_REQUIRE_BACKENDS) but has no usable device: %s", gt_backend_name,
                     glia_last_error());
        skip();
    }
    return *state;
}

int gt_tmpdir_make(char *dir, size_t len, const char *prefix)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, len, "%s/%s_XXXXXX", tmp ? tmp : "/tmp", prefix);
    return mkdtemp(dir) ? 0 : -1;
}

int gt_tmpdir_remove(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

const char *gt_path(const char *dir, const char *fmt, ...)
{
    static char p[8][512];
    static int k;
    k = (k + 1) % 8;
    int n = snprintf(p[k], sizeof p[k], "%s/", dir);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p[k] + n, sizeof p[k] - (size_t)n, fmt, ap);
    va_end(ap);
    return p[k];
}
