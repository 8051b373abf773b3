/* Per-thread last-error message and status names. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "glia/status.h"
#include "core/error.h"

static _Thread_local char last_error[512];

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

glia_status glia_seterr(glia_status s, const char *fmt, ...)
{
    /* format into a scratch buffer: callers may pass glia_last_error() as an argument */
    char msg[sizeof last_error];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    memcpy(last_error, msg, sizeof msg);
    return s;
}
