/* Per-thread last-error message and status names. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "glia/status.h"
#include "core/error.h"

/* Room for several GLIA_PATH_MAX paths and the reason after them. */
static _Thread_local char last_error[4096];

static const char *const status_names[] = {
    [GLIA_STATUS_OK] = "ok",
    [GLIA_STATUS_INVALID_ARGUMENT] = "invalid argument",
    [GLIA_STATUS_SHAPE_MISMATCH] = "shape mismatch",
    [GLIA_STATUS_DEVICE_MISMATCH] = "device mismatch",
    [GLIA_STATUS_OUT_OF_MEMORY] = "out of host memory",
    [GLIA_STATUS_DEVICE_OOM] = "out of device memory",
    [GLIA_STATUS_DEVICE_LOST] = "device lost",
    [GLIA_STATUS_NO_DEVICE] = "no such device",
    [GLIA_STATUS_BACKEND_ERROR] = "backend error",
    [GLIA_STATUS_UNSUPPORTED] = "unsupported",
    [GLIA_STATUS_IO_ERROR] = "i/o error",
    [GLIA_STATUS_FORMAT_ERROR] = "format error",
    [GLIA_STATUS_NUMERIC_ERROR] = "numeric error",
    [GLIA_STATUS_INTERNAL] = "internal error",
    [GLIA_STATUS_COMM_ERROR] = "communication error",
};
_Static_assert(sizeof status_names / sizeof status_names[0] == GLIA_STATUS_COUNT_,
               "every glia_status needs a name");

const char *glia_status_str(glia_status s)
{
    if ((unsigned)s >= GLIA_STATUS_COUNT_)
        return "unknown status";
    return status_names[s];
}

const char *glia_last_error(void) { return last_error; }

void glia_clear_error(void) { last_error[0] = '\0'; }

/* Fit text (len bytes, len >= cap) into dst[cap] by putting "..." in place of
 * its middle: messages start with what failed and end with why ("PATH: cannot
 * write: No space left on device"), so an overlong path loses its middle, never
 * the reason. The cuts avoid splitting a UTF-8 sequence. */
static void elide_middle(char *dst, size_t cap, const char *text, size_t len)
{
    static const char mark[] = "...";
    size_t head = cap / 4, from = len - (cap - 1 - head - (sizeof mark - 1));
    while (head > 0 && ((unsigned char)text[head] & 0xC0) == 0x80)
        head--;
    while (from < len && ((unsigned char)text[from] & 0xC0) == 0x80)
        from++;
    memcpy(dst, text, head);
    memcpy(dst + head, mark, sizeof mark - 1);
    memcpy(dst + head + sizeof mark - 1, text + from, len - from + 1);
}

glia_status glia_seterr(glia_status s, const char *fmt, ...)
{
    /* format into a scratch buffer: callers may pass glia_last_error() as an argument */
    char msg[sizeof last_error];
    va_list ap, again;
    va_start(ap, fmt);
    va_copy(again, ap);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* too long: format it whole once more to keep its end (without the memory,
     * the truncated start is all there is) */
    char *full = n >= (int)sizeof msg ? malloc((size_t)n + 1) : NULL;
    if (full) {
        vsnprintf(full, (size_t)n + 1, fmt, again);
        elide_middle(last_error, sizeof last_error, full, (size_t)n);
        free(full);
    } else {
        memcpy(last_error, msg, sizeof msg);
    }
    va_end(again);
    return s;
}
