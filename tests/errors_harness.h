/* Shared harness of the rejection tests (test_errors*.c): expectations that
 * check status, message words and *out, counted rather than stopping a test. */
#ifndef GLIA_ERRORS_HARNESS_H
#define GLIA_ERRORS_HARNESS_H
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "glia/glia.h"
#include "testutil.h"

#define OK GLIA_STATUS_OK
#define INV GLIA_STATUS_INVALID_ARGUMENT
#define SHAPE GLIA_STATUS_SHAPE_MISMATCH
#define DEVM GLIA_STATUS_DEVICE_MISMATCH
#define NODEV GLIA_STATUS_NO_DEVICE

static int failures; /* per test program */
static const char *label; /* names the table entry being checked, in loops */

/* words: space-separated; each must appear in the message (any case). */
static inline void check_status(glia_status got, glia_status want, const char *words, const char *call, int line)
{
    const char *msg = glia_last_error();
    char where[80] = "";
    if (label)
        snprintf(where, sizeof where, " [%s]", label);
    if (got != want) {
        print_error("line %d%s: %s -> %s, expected %s (message \"%s\")\n", line, where, call,
                    glia_status_str(got), glia_status_str(want), msg);
        failures++;
        return;
    }
    if (want == OK)
        return;
    if (!msg || !msg[0]) {
        print_error("line %d%s: %s -> %s with an empty message\n", line, where, call, glia_status_str(got));
        failures++;
        return;
    }
    for (const char *w = words; w && *w;) {
        size_t len = strcspn(w, " ");
        char word[48];
        snprintf(word, sizeof word, "%.*s", (int)len, w);
        if (len && !strcasestr(msg, word)) {
            print_error("line %d%s: %s: message \"%s\" does not mention \"%.*s\"\n", line, where, call, msg,
                        (int)len, w);
            failures++;
        }
        w += len + (w[len] == ' ');
    }
}

static char stale_byte;
#define STALE ((glia_tensor *)(void *)&stale_byte)

static inline void check_out_cleared(glia_tensor **out, int line)
{
    if (*out == STALE) {
        print_error("line %d%s%s: *out left unset after a failure\n", line, label ? " " : "", label ? label : "");
        failures++;
    } else if (*out) {
        glia_tensor_free(*out);
    }
    *out = NULL;
}

/* The error is cleared first so a stale message cannot satisfy the check. */
#define EXPECT(want, words, call) (glia_clear_error(), check_status((call), (want), (words), #call, __LINE__))
/* For calls that write a tensor to `out`: it starts as garbage and must end NULL. */
#define EXPECT_OUT(want, words, call)              \
    do {                                           \
        out = STALE;                               \
        EXPECT(want, words, call);                 \
        check_out_cleared(&out, __LINE__);         \
    } while (0)

typedef struct fx {
    glia_device *dev, *dev2;
} fx;

static inline int setup(void **state)
{
    static fx f;
    memset(&f, 0, sizeof f);
    failures = 0;
    label = NULL;
    if (gt_open_cpu(state))
        return -1;
    f.dev = gt_dev;
    f.dev2 = gt_dev2;
    *state = &f;
    return 0;
}

/* Every test frees what it made: a device that will not close has leaked tensors. */
#define teardown gt_close_cpu

static inline void finish(void) { assert_int_equal(failures, 0); }

/* A tensor of shape "2x3x8x8" with values in (0.1, 0.9) (valid targets too). */
static inline glia_tensor *mk(glia_device *dev, const char *spec)
{
    int64_t dims[GLIA_MAX_DIMS];
    int n = 0;
    for (const char *p = spec; *p && n < GLIA_MAX_DIMS;) {
        char *end;
        dims[n++] = strtoll(p, &end, 10);
        p = *end == 'x' ? end + 1 : end;
    }
    int64_t numel = 1;
    for (int i = 0; i < n; i++)
        numel *= dims[i];
    float *data = malloc((size_t)numel * sizeof *data);
    assert_non_null(data);
    gt_fill(data, (size_t)numel, (uint64_t)numel, 0.1f, 0.9f);
    glia_tensor *t = NULL;
    glia_status s = glia_tensor_from_host(dev, n, dims, data, &t);
    free(data);
    if (s != OK)
        print_error("mk(%s): %s\n", spec, glia_last_error());
    assert_int_equal(s, OK);
    return t;
}

static inline void free_all(glia_tensor **ts, size_t n)
{
    for (size_t i = 0; i < n; i++)
        glia_tensor_free(ts[i]);
}
#define FREE_ALL(...)                                        \
    do {                                                     \
        glia_tensor *all_[] = {__VA_ARGS__};                 \
        free_all(all_, sizeof all_ / sizeof all_[0]);        \
    } while (0)


#endif
