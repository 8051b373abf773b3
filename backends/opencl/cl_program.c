/* Building one program: from the on-disk cache when a valid entry exists,
 * otherwise from source (then stored for the next process). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "backends/opencl/cl_priv.h"
#include "backends/opencl/cl_cache_file.h"

/* No fast-math: results are compared with a double-accumulating reference. */
static const char build_options[] = "-cl-std=CL1.2";

static glia_status build_failure(cl_program prog, cl_device_id dev, cl_int e)
{
    char log[400] = "";
    size_t n = 0;
    if (clGetProgramBuildInfo(prog, dev, CL_PROGRAM_BUILD_LOG, sizeof log - 1, log, &n) !=
        CL_SUCCESS) {
        /* log longer than our buffer: keep its head, it names the first error */
        char *full = n ? malloc(n) : NULL;
        if (full && clGetProgramBuildInfo(prog, dev, CL_PROGRAM_BUILD_LOG, n, full, NULL) ==
                        CL_SUCCESS)
            snprintf(log, sizeof log, "%s", full);
        free(full);
    }
    for (char *c = log; *c; c++)
        if (*c == '\n')
            *c = ' ';
    return glia_seterr(e == CL_OUT_OF_HOST_MEMORY ? GLIA_STATUS_OUT_OF_MEMORY
                                                  : GLIA_STATUS_BACKEND_ERROR,
                       "clBuildProgram failed: %s (%d): %s", glia_cl_errstr(e), (int)e, log);
}

/* What a cache entry must have been built for: the device's name, and the
 * platform and driver versions (a driver update invalidates the entry). */
static glia_status device_identity(cl_device_id dev, char *name, char *driver)
{
    char plat_version[128], drv[128];
    cl_platform_id plat;
    cl_int e = clGetDeviceInfo(dev, CL_DEVICE_PLATFORM, sizeof plat, &plat, NULL);
    if (e != CL_SUCCESS)
        return glia_cl_fail(e, "clGetDeviceInfo");
    glia_cl_device_str(dev, CL_DEVICE_NAME, name, 128);
    glia_cl_device_str(dev, CL_DRIVER_VERSION, drv, sizeof drv);
    glia_cl_platform_str(plat, CL_PLATFORM_VERSION, plat_version, sizeof plat_version);
    snprintf(driver, 128, "%.70s / %.50s", plat_version, drv);
    return GLIA_STATUS_OK;
}

static glia_status from_source(cl_context cx, cl_device_id dev, const char *src,
                               cl_program *out)
{
    cl_int e;
    cl_program prog = clCreateProgramWithSource(cx, 1, &src, NULL, &e);
    if (e != CL_SUCCESS)
        return glia_cl_fail(e, "clCreateProgramWithSource");
    e = clBuildProgram(prog, 1, &dev, build_options, NULL, NULL);
    if (e != CL_SUCCESS) {
        glia_status s = build_failure(prog, dev, e);
        clReleaseProgram(prog);
        return s;
    }
    *out = prog;
    return GLIA_STATUS_OK;
}

/* 1: built from the binary; 0: the driver refused it (caller builds from source). */
static int from_binary(cl_context cx, cl_device_id dev, const unsigned char *bin, size_t len,
                       cl_program *out)
{
    cl_int e, bin_status = CL_SUCCESS;
    cl_program prog = clCreateProgramWithBinary(cx, 1, &dev, &len, &bin, &bin_status, &e);
    if (e != CL_SUCCESS || bin_status != CL_SUCCESS)
        return 0;
    if (clBuildProgram(prog, 1, &dev, build_options, NULL, NULL) != CL_SUCCESS) {
        clReleaseProgram(prog);
        return 0;
    }
    *out = prog;
    return 1;
}

static void store_binary(cl_program prog, const char *dir, const glia_cl_cache_key *key)
{
    size_t len = 0;
    if (clGetProgramInfo(prog, CL_PROGRAM_BINARY_SIZES, sizeof len, &len, NULL) != CL_SUCCESS ||
        len == 0)
        return;   /* a driver without binaries: run uncached */
    unsigned char *bin = malloc(len);
    if (!bin)
        return;
    if (clGetProgramInfo(prog, CL_PROGRAM_BINARIES, sizeof bin, &bin, NULL) == CL_SUCCESS)
        glia_cl_cache_store(dir, key, bin, len);
    free(bin);
}

glia_status glia_cl_program_build(cl_context cx, cl_device_id dev, const char *src,
                                  const char *cache_dir, cl_program *out)
{
    glia_cl_cache_key key;
    if (cache_dir) {
        char name[128], driver[128];
        glia_status s = device_identity(dev, name, driver);
        if (s != GLIA_STATUS_OK)
            return s;
        uint64_t h = glia_cl_hash(GLIA_CL_HASH_SEED, build_options, sizeof build_options);
        h = glia_cl_hash(h, src, strlen(src));
        glia_cl_cache_key_init(&key, h, name, driver);
        unsigned char *bin = NULL;
        size_t len = 0;
        int found = glia_cl_cache_load(cache_dir, &key, &bin, &len);
        int ok = found == 1 && from_binary(cx, dev, bin, len, out);
        free(bin);
        if (ok) {
            glia_cl_cache_count(0, 1, 0);
            return GLIA_STATUS_OK;
        }
        if (found != 0)
            glia_cl_cache_count(0, 0, 1);
    }
    glia_status s = from_source(cx, dev, src, out);
    if (s != GLIA_STATUS_OK)
        return s;
    glia_cl_cache_count(1, 0, 0);
    if (cache_dir)
        store_binary(*out, cache_dir, &key);
    return GLIA_STATUS_OK;
}
