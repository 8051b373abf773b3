/* Device enumeration and the process-wide per-device state (context, programs). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "backends/opencl/cl_priv.h"
#include "backends/opencl/cl_sources.h"

#define MAX_PLATFORMS 16
#define MAX_SHARED 64

/* File stems of the programs, in glia_cl_prog order. */
static const char *const prog_names[] = {
    [GLIA_CL_PROG_ELEMENTWISE] = "elementwise",
    [GLIA_CL_PROG_REDUCE] = "reduce",
    [GLIA_CL_PROG_NORM] = "norm",
    [GLIA_CL_PROG_POOL] = "pool",
    [GLIA_CL_PROG_CHANNEL] = "channel",
    [GLIA_CL_PROG_LOSS] = "loss",
    [GLIA_CL_PROG_OPTIM] = "optim",
    [GLIA_CL_PROG_IM2COL] = "im2col",
    [GLIA_CL_PROG_LAYERNORM] = "layernorm",
};

_Static_assert(sizeof prog_names / sizeof prog_names[0] == GLIA_CL_PROG_COUNT_,
               "every glia_cl_prog needs its file here");

struct glia_cl_shared {
    cl_device_id dev;
    cl_context cx;
    cl_program prog[GLIA_CL_PROG_COUNT_];
};

/* Contexts live until the process ends: CLBlast caches its compiled kernels per
 * context, and a context per open would recompile them every time. */
static glia_cl_shared shared[MAX_SHARED];
static int shared_count;
static pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;

glia_status glia_cl_device_at(int index, cl_platform_id *plat, cl_device_id *dev, int *count)
{
    cl_platform_id plats[MAX_PLATFORMS];
    cl_uint np = 0;
    int total = 0;
    cl_int e = clGetPlatformIDs(MAX_PLATFORMS, plats, &np);
    if (e != CL_SUCCESS || np == 0) {   /* no ICD or no platform: no devices */
        *count = 0;
        return GLIA_STATUS_OK;
    }
    if (np > MAX_PLATFORMS)
        np = MAX_PLATFORMS;
    for (cl_uint p = 0; p < np; p++) {
        cl_uint nd = 0;
        if (clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, 0, NULL, &nd) != CL_SUCCESS || nd == 0)
            continue;   /* a platform without usable devices contributes none */
        if (index >= total && index < total + (int)nd) {
            cl_device_id *ids = malloc(nd * sizeof *ids);
            if (!ids)
                return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "opencl: out of host memory");
            e = clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, nd, ids, NULL);
            if (e == CL_SUCCESS) {
                *plat = plats[p];
                *dev = ids[index - total];
            }
            free(ids);
            if (e != CL_SUCCESS)
                return glia_cl_fail(e, "clGetDeviceIDs");
        }
        total += (int)nd;
    }
    *count = total;
    return GLIA_STATUS_OK;
}

/* Driver strings can exceed our fields; query in full, then truncate. */
void glia_cl_device_str(cl_device_id dev, cl_device_info param, char *dst, size_t size)
{
    char buf[1024] = "";
    if (clGetDeviceInfo(dev, param, sizeof buf - 1, buf, NULL) != CL_SUCCESS)
        buf[0] = '\0';
    snprintf(dst, size, "%s", buf);
}

void glia_cl_platform_str(cl_platform_id plat, cl_platform_info param, char *dst, size_t size)
{
    char buf[1024] = "";
    if (clGetPlatformInfo(plat, param, sizeof buf - 1, buf, NULL) != CL_SUCCESS)
        buf[0] = '\0';
    snprintf(dst, size, "%s", buf);
}

glia_status glia_cl_shared_get(cl_device_id dev, glia_cl_shared **out, cl_context *cx)
{
    glia_status s = GLIA_STATUS_OK;
    pthread_mutex_lock(&shared_lock);
    int i;
    for (i = 0; i < shared_count; i++)
        if (shared[i].dev == dev)
            break;
    if (i == shared_count) {
        if (shared_count == MAX_SHARED) {
            s = glia_seterr(GLIA_STATUS_UNSUPPORTED, "opencl: more than %d devices", MAX_SHARED);
        } else {
            cl_int e;
            cl_context c = clCreateContext(NULL, 1, &dev, NULL, NULL, &e);
            if (e != CL_SUCCESS) {
                s = glia_cl_fail(e, "clCreateContext");
            } else {
                memset(&shared[i], 0, sizeof shared[i]);
                shared[i].dev = dev;
                shared[i].cx = c;
                shared_count++;
            }
        }
    }
    if (s == GLIA_STATUS_OK) {
        *out = &shared[i];
        *cx = shared[i].cx;
    }
    pthread_mutex_unlock(&shared_lock);
    return s;
}

static const char *embedded(const char *name)
{
    for (int i = 0; i < glia_cl_source_count; i++)
        if (strcmp(glia_cl_sources[i].name, name) == 0)
            return glia_cl_sources[i].text;
    return NULL;
}

#ifdef GLIA_CL_LIVE_DIR
/* Development build: read cl/NAME.cl from the source tree. */
static char *read_live(const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.cl", GLIA_CL_LIVE_DIR, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *text = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long n = ftell(f);
        if (n >= 0 && fseek(f, 0, SEEK_SET) == 0 && (text = malloc((size_t)n + 1))) {
            if (fread(text, 1, (size_t)n, f) != (size_t)n) {
                free(text);
                text = NULL;
            } else {
                text[n] = '\0';
            }
        }
    }
    fclose(f);
    return text;
}
#endif

/* The headers shared with the C code (backends/op_modes.h and
 * backends/opencl/cl_abi.h), then common.cl, then the program's file, in one
 * malloc'd string. The headers are always the embedded copies: the C side was
 * compiled against those. */
#define NPARTS 4
static glia_status program_source(glia_cl_prog p, char **out)
{
    const char *parts[NPARTS] = {"op_modes", "cl_abi", "common", prog_names[p]};
    const char *text[NPARTS];
    char *owned[NPARTS] = {NULL};
    glia_status s = GLIA_STATUS_OK;
    size_t total = 1;
    for (int i = 0; i < NPARTS && s == GLIA_STATUS_OK; i++) {
        text[i] = embedded(parts[i]);
#ifdef GLIA_CL_LIVE_DIR
        if (i > 1) {
            owned[i] = read_live(parts[i]);
            text[i] = owned[i];
        }
#endif
        if (!text[i])
            s = glia_seterr(GLIA_STATUS_IO_ERROR, "opencl: kernel source %s not found", parts[i]);
        else
            total += strlen(text[i]) + 1;
    }
    char *src = s == GLIA_STATUS_OK ? malloc(total) : NULL;
    if (s == GLIA_STATUS_OK && !src)
        s = glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "opencl: out of host memory");
    if (src) {
        size_t at = 0;
        for (int i = 0; i < NPARTS; i++) {
            size_t n = strlen(text[i]);
            memcpy(src + at, text[i], n);
            src[at + n] = '\n';
            at += n + 1;
        }
        src[at] = '\0';
        *out = src;
    }
    for (int i = 0; i < NPARTS; i++)
        free(owned[i]);
    return s;
}

glia_status glia_cl_program_get(glia_cl_shared *sh, glia_cl_prog p, const char *cache_dir,
                                cl_program *out)
{
    glia_status s = GLIA_STATUS_OK;
    /* one lock for all devices: builds are rare (once per program and process) */
    pthread_mutex_lock(&shared_lock);
    if (!sh->prog[p]) {
        char *src = NULL;
        s = program_source(p, &src);
        if (s == GLIA_STATUS_OK)
            s = glia_cl_program_build(sh->cx, sh->dev, src, cache_dir, &sh->prog[p]);
        free(src);
    }
    if (s == GLIA_STATUS_OK)
        *out = sh->prog[p];
    pthread_mutex_unlock(&shared_lock);
    return s;
}
