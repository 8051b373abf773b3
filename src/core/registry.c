/* The table of compiled backends. The native CPU backend comes first. */
#include <stddef.h>
#include "backends/backend.h"

extern const glia_backend glia_backend_cpu;
#ifdef GLIA_HAVE_OPENCL
extern const glia_backend glia_backend_opencl;
#endif
#ifdef GLIA_HAVE_VULKAN
extern const glia_backend glia_backend_vulkan;
#endif

const glia_backend *const glia_backends[] = {
    &glia_backend_cpu,
#ifdef GLIA_HAVE_OPENCL
    &glia_backend_opencl,
#endif
#ifdef GLIA_HAVE_VULKAN
    &glia_backend_vulkan,
#endif
    NULL,
};
