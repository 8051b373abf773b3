/* glia — status codes and the per-thread last-error message.
 *
 * Every fallible glia call returns a glia_status. On failure the library also
 * records a one-line message (what failed and why: the call, the tensor, the
 * shape, the bytes asked for) that glia_last_error() returns on the same thread.
 * The library never exits or aborts on user input or driver failure. */
#ifndef GLIA_STATUS_H
#define GLIA_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum glia_status {
    GLIA_STATUS_OK = 0,            /* success */
    GLIA_STATUS_INVALID_ARGUMENT,  /* a NULL handle, a bad value, an unknown name */
    GLIA_STATUS_SHAPE_MISMATCH,    /* tensor shapes do not fit the operation */
    GLIA_STATUS_DEVICE_MISMATCH,   /* tensors live on different devices */
    GLIA_STATUS_OUT_OF_MEMORY,     /* host allocation failed */
    GLIA_STATUS_DEVICE_OOM,        /* device allocation failed (message gives bytes asked) */
    GLIA_STATUS_DEVICE_LOST,       /* the driver reported a lost device */
    GLIA_STATUS_NO_DEVICE,         /* no device matches the spec */
    GLIA_STATUS_BACKEND_ERROR,     /* any other driver error (message names the call and code) */
    GLIA_STATUS_UNSUPPORTED,       /* valid request this build or device cannot serve */
    GLIA_STATUS_IO_ERROR,          /* a file could not be opened, read or written */
    GLIA_STATUS_FORMAT_ERROR,      /* a file is malformed, truncated or of an unknown kind */
    GLIA_STATUS_NUMERIC_ERROR,     /* NaN or Inf where a finite value is required */
    GLIA_STATUS_INTERNAL,          /* a bug in glia: please report it */
    GLIA_STATUS_COMM_ERROR,        /* an MPI collective failed, or another rank of the job did */
    GLIA_STATUS_COUNT_             /* number of codes; not a status */
} glia_status;

/* Short constant name of a status ("invalid argument"). Never NULL. */
const char *glia_status_str(glia_status s);

/* The message recorded by the last failing glia call on this thread, or ""
 * if none. Valid until the next glia call on this thread. */
const char *glia_last_error(void);

/* Forget the last error message of this thread. */
void glia_clear_error(void);

#ifdef __cplusplus
}
#endif
#endif
