/* glia — recording an error message (private): shared by every layer below
 * the public API (core, backends, io, models, data), which report failures as
 * a status plus a message for glia_last_error. */
#ifndef GLIA_CORE_ERROR_H
#define GLIA_CORE_ERROR_H

#include "glia/status.h"

/* Record an error message (printf-style) for glia_last_error and return s. */
glia_status glia_seterr(glia_status s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#endif
