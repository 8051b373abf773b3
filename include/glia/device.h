/* glia — devices: enumerate every device of every compiled backend, open one.
 *
 * A device is one backend instance on one physical device with one in-order
 * stream: operations enqueue asynchronously and only a read to the host (or
 * glia_device_sync) waits. A device is used from one thread at a time. */
#ifndef GLIA_DEVICE_H
#define GLIA_DEVICE_H

#include <stddef.h>
#include <stdint.h>
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct glia_device glia_device;

typedef enum glia_device_type {
    GLIA_DEVICE_TYPE_CPU = 0,        /* a processor (native CPU backend or a CPU driver) */
    GLIA_DEVICE_TYPE_INTEGRATED,     /* a GPU sharing memory with the host */
    GLIA_DEVICE_TYPE_DISCRETE,       /* a GPU with its own memory */
    GLIA_DEVICE_TYPE_OTHER
} glia_device_type;

/* What glia_devices_list reports for each device. Strings are NUL-terminated. */
typedef struct glia_device_info {
    char backend[16];        /* "cpu", "opencl", "vulkan" */
    int index;               /* N in "backend:N" */
    char vendor[64];
    char name[128];
    char driver[128];        /* driver / platform version as the driver reports it */
    glia_device_type type;
    uint64_t memory_bytes;   /* total memory the device can address */
    int emulated;            /* 1: a CPU implementation of a GPU API (PoCL, lavapipe) */
} glia_device_info;

/* Options for glia_device_open. Zero-initialise, then set what you need. */
typedef struct glia_device_options {
    int threads;             /* CPU backend worker threads; 0 = number of cores */
    int reference;           /* CPU backend: 1 = scalar reference path (slow, the test oracle) */
    const char *cache_dir;   /* kernel/pipeline cache folder; NULL = no on-disk cache */
} glia_device_options;

/* List every device of every compiled backend into out[0..max-1]; *count gets
 * the number found (which may exceed max). A backend whose driver is absent or
 * fails to initialise contributes no devices; it is not an error. */
glia_status glia_devices_list(glia_device_info *out, int max, int *count);

/* Which device "auto" picks: a real GPU if present (discrete before integrated,
 * then by memory), else the native CPU backend, never an emulated driver.
 * Fills *info with its entry. */
glia_status glia_devices_auto(glia_device_info *info);

/* Open a device by spec: "cpu", "opencl:N", "vulkan:N", "auto". opts may be NULL.
 * Fails with GLIA_STATUS_INVALID_ARGUMENT for a malformed spec and
 * GLIA_STATUS_NO_DEVICE for an index that does not exist. */
glia_status glia_device_open(const char *spec, const glia_device_options *opts,
                             glia_device **out);

/* Free a device. Every tensor of the device must have been freed first;
 * tensors still alive are reported (as GLIA_STATUS_INVALID_ARGUMENT) and leaked
 * rather than left dangling. NULL is a no-op returning OK. */
glia_status glia_device_close(glia_device *dev);

/* The device's info entry. */
const glia_device_info *glia_device_get_info(const glia_device *dev);

/* Wait until all work enqueued on the device has finished. */
glia_status glia_device_sync(glia_device *dev);

/* Bytes currently held by tensors, the most ever held, and held in the cache. */
typedef struct glia_memory_stats {
    uint64_t in_use_bytes;
    uint64_t peak_bytes;
    uint64_t cached_bytes;
} glia_memory_stats;
void glia_device_memory_stats(const glia_device *dev, glia_memory_stats *out);

/* Return cached, unused device memory to the driver. */
void glia_device_empty_cache(glia_device *dev);

/* The OPENBLAS_CORETYPE under which the CPU backend's OpenBLAS would run
 * kernels made for this processor, where the ones it chose when it loaded are
 * older (Debian 12's OpenBLAS has run its SSE3 kernels on AVX-512 Xeons: GEMM
 * 6.7x slower); NULL where its choice is right, the variable is already set, or
 * the processor is not x86. OpenBLAS reads the variable only when it loads, so it
 * takes effect in a new process (the glia command restarts itself with it). */
const char *glia_blas_coretype_advice(void);

#ifdef __cplusplus
}
#endif
#endif
