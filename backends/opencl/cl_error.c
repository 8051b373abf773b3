/* cl_int and CLBlast status codes -> glia_status with a message naming the call. */
#include <stdint.h>
#include "backends/opencl/cl_priv.h"

const char *glia_cl_errstr(cl_int e)
{
    switch (e) {
#define C(x) case x: return #x;
    C(CL_SUCCESS) C(CL_DEVICE_NOT_FOUND) C(CL_DEVICE_NOT_AVAILABLE)
    C(CL_COMPILER_NOT_AVAILABLE) C(CL_MEM_OBJECT_ALLOCATION_FAILURE)
    C(CL_OUT_OF_RESOURCES) C(CL_OUT_OF_HOST_MEMORY) C(CL_PROFILING_INFO_NOT_AVAILABLE)
    C(CL_MEM_COPY_OVERLAP) C(CL_IMAGE_FORMAT_MISMATCH) C(CL_IMAGE_FORMAT_NOT_SUPPORTED)
    C(CL_BUILD_PROGRAM_FAILURE) C(CL_MAP_FAILURE) C(CL_MISALIGNED_SUB_BUFFER_OFFSET)
    C(CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST) C(CL_COMPILE_PROGRAM_FAILURE)
    C(CL_LINKER_NOT_AVAILABLE) C(CL_LINK_PROGRAM_FAILURE) C(CL_DEVICE_PARTITION_FAILED)
    C(CL_KERNEL_ARG_INFO_NOT_AVAILABLE)
    C(CL_INVALID_VALUE) C(CL_INVALID_DEVICE_TYPE) C(CL_INVALID_PLATFORM) C(CL_INVALID_DEVICE)
    C(CL_INVALID_CONTEXT) C(CL_INVALID_QUEUE_PROPERTIES) C(CL_INVALID_COMMAND_QUEUE)
    C(CL_INVALID_HOST_PTR) C(CL_INVALID_MEM_OBJECT) C(CL_INVALID_IMAGE_FORMAT_DESCRIPTOR)
    C(CL_INVALID_IMAGE_SIZE) C(CL_INVALID_SAMPLER) C(CL_INVALID_BINARY)
    C(CL_INVALID_BUILD_OPTIONS) C(CL_INVALID_PROGRAM) C(CL_INVALID_PROGRAM_EXECUTABLE)
    C(CL_INVALID_KERNEL_NAME) C(CL_INVALID_KERNEL_DEFINITION) C(CL_INVALID_KERNEL)
    C(CL_INVALID_ARG_INDEX) C(CL_INVALID_ARG_VALUE) C(CL_INVALID_ARG_SIZE)
    C(CL_INVALID_KERNEL_ARGS) C(CL_INVALID_WORK_DIMENSION) C(CL_INVALID_WORK_GROUP_SIZE)
    C(CL_INVALID_WORK_ITEM_SIZE) C(CL_INVALID_GLOBAL_OFFSET) C(CL_INVALID_EVENT_WAIT_LIST)
    C(CL_INVALID_EVENT) C(CL_INVALID_OPERATION) C(CL_INVALID_GL_OBJECT)
    C(CL_INVALID_BUFFER_SIZE) C(CL_INVALID_MIP_LEVEL) C(CL_INVALID_GLOBAL_WORK_SIZE)
    C(CL_INVALID_PROPERTY) C(CL_INVALID_IMAGE_DESCRIPTOR) C(CL_INVALID_COMPILER_OPTIONS)
    C(CL_INVALID_LINKER_OPTIONS) C(CL_INVALID_DEVICE_PARTITION_COUNT)
#undef C
    case -1001: return "CL_PLATFORM_NOT_FOUND_KHR";
    default: return "unknown OpenCL error";
    }
}

static glia_status status_of(cl_int e)
{
    switch (e) {
    case CL_MEM_OBJECT_ALLOCATION_FAILURE:
        return GLIA_STATUS_DEVICE_OOM;
    case CL_OUT_OF_HOST_MEMORY:
        return GLIA_STATUS_OUT_OF_MEMORY;
    case CL_DEVICE_NOT_AVAILABLE:
        return GLIA_STATUS_DEVICE_LOST;
    default:
        return GLIA_STATUS_BACKEND_ERROR;
    }
}

glia_status glia_cl_fail(cl_int e, const char *call)
{
    return glia_seterr(status_of(e), "%s failed: %s (%d)", call, glia_cl_errstr(e), (int)e);
}

glia_status glia_clblast_fail(int e, const char *call)
{
    /* CLBlast passes OpenCL's own codes through and adds its codes below -1000 */
    if (e > -1000)
        return glia_cl_fail((cl_int)e, call);
    const char *what = "CLBlast error";
    switch (e) {
    case -1024: what = "not implemented"; break;
    case -1017: what = "invalid dimension"; break;
    case -1016: case -1015: case -1014: what = "invalid leading dimension"; break;
    case -1011: case -1010: case -1009: what = "buffer too small"; break;
    case -2050: what = "temporary buffer too small"; break;
    case -2049: what = "invalid batch count"; break;
    case -2046: what = "not enough local memory"; break;
    case -2041: what = "device not in the database"; break;
    default: break;
    }
    return glia_seterr(GLIA_STATUS_BACKEND_ERROR, "%s failed: %s (CLBlast status %d)",
                       call, what, e);
}

glia_status glia_cl_check_u32(uint64_t n, const char *what)
{
    /* kernels index within a tensor in 32 bits (64-bit division is slow on
     * GPUs); the headroom covers a work-group's overshoot past n */
    if (n > (uint64_t)UINT32_MAX - 65536)
        return glia_seterr(GLIA_STATUS_UNSUPPORTED,
                           "opencl %s: %llu elements exceed the 32-bit index range of its kernel",
                           what, (unsigned long long)n);
    return GLIA_STATUS_OK;
}
