/* Device enumeration across backends, spec parsing, open and close. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core.h"
#include "glia/glia.h"

glia_status glia_devices_list(glia_device_info *out, int max, int *count)
{
    if (!count || max < 0 || (max > 0 && !out))
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT,
                           "glia_devices_list: count is NULL or out/max are inconsistent");
    int total = 0;
    for (int b = 0; glia_backends[b]; b++) {
        int room = max > total ? max - total : 0, n = 0;
        if (glia_backends[b]->enumerate(room ? out + total : NULL, room, &n) != GLIA_STATUS_OK)
            continue; /* a broken driver hides its devices; the others still count */
        for (int i = 0; i < n && total + i < max; i++) {
            strncpy(out[total + i].backend, glia_backends[b]->name, sizeof out->backend - 1);
            out[total + i].backend[sizeof out->backend - 1] = '\0';
            out[total + i].index = i;
        }
        total += n;
    }
    *count = total;
    glia_clear_error();
    return GLIA_STATUS_OK;
}

static int auto_rank(const glia_device_info *d)
{
    if (d->emulated)
        return -1;
    if (d->type == GLIA_DEVICE_TYPE_DISCRETE)
        return 3;
    if (d->type == GLIA_DEVICE_TYPE_INTEGRATED)
        return 2;
    if (strcmp(d->backend, "cpu") == 0)
        return 1;
    return -1;
}

glia_status glia_devices_auto(glia_device_info *info)
{
    if (!info)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_devices_auto: info is NULL");
    glia_device_info list[64];
    int n = 0;
    glia_devices_list(list, 64, &n);
    if (n > 64)
        n = 64;
    int best = -1;
    for (int i = 0; i < n; i++) {
        int r = auto_rank(&list[i]);
        if (r < 0)
            continue;
        if (best < 0 || r > auto_rank(&list[best]) ||
            (r == auto_rank(&list[best]) && list[i].memory_bytes > list[best].memory_bytes))
            best = i;
    }
    if (best < 0)
        return glia_seterr(GLIA_STATUS_NO_DEVICE, "auto: no usable device found");
    *info = list[best];
    return GLIA_STATUS_OK;
}

/* "name" or "name:N" -> backend table and index. */
static glia_status parse_spec(const char *spec, const glia_backend **be, int *index)
{
    const char *colon = strchr(spec, ':');
    size_t len = colon ? (size_t)(colon - spec) : strlen(spec);
    long idx = 0;
    if (colon) {
        char *end = NULL;
        errno = 0;
        idx = strtol(colon + 1, &end, 10);
        if (end == colon + 1 || *end || errno || idx < 0 || idx > 1000000)
            return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT,
                               "device spec '%s': expected backend:N with N a device index", spec);
    }
    for (int b = 0; glia_backends[b]; b++) {
        if (strlen(glia_backends[b]->name) == len && strncmp(spec, glia_backends[b]->name, len) == 0) {
            *be = glia_backends[b];
            *index = (int)idx;
            return GLIA_STATUS_OK;
        }
    }
    const char *known = (len == 6 && strncmp(spec, "opencl", 6) == 0) ||
                                (len == 6 && strncmp(spec, "vulkan", 6) == 0)
                            ? " (this build has no such backend)"
                            : " (expected cpu, opencl:N, vulkan:N or auto)";
    return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "device spec '%s' is not known%s", spec, known);
}

glia_status glia_device_open(const char *spec, const glia_device_options *opts, glia_device **out)
{
    if (!out)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_device_open: out is NULL");
    *out = NULL;
    if (!spec || !*spec)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_device_open: empty device spec");
    glia_device_options defaults = {0};
    if (!opts)
        opts = &defaults;
    if (opts->threads < 0)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_device_open: threads %d < 0", opts->threads);

    const glia_backend *be = NULL;
    int index = 0;
    glia_status s;
    if (strcmp(spec, "auto") == 0) {
        glia_device_info pick;
        if ((s = glia_devices_auto(&pick)) != GLIA_STATUS_OK)
            return s;
        char buf[40];
        snprintf(buf, sizeof buf, "%s:%d", pick.backend, pick.index);
        return glia_device_open(buf, opts, out);
    }
    if ((s = parse_spec(spec, &be, &index)) != GLIA_STATUS_OK)
        return s;
    glia_device_info infos[64];
    int n = 0;
    if ((s = be->enumerate(infos, 64, &n)) != GLIA_STATUS_OK)
        return s;
    if (index >= n || index >= 64)
        return glia_seterr(GLIA_STATUS_NO_DEVICE, "device '%s': backend %s has %d device(s)",
                           spec, be->name, n);
    glia_device *dev = calloc(1, sizeof *dev);
    if (!dev)
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "glia_device_open: no host memory");
    dev->be = be;
    dev->info = infos[index];
    snprintf(dev->info.backend, sizeof dev->info.backend, "%s", be->name);
    dev->info.index = index;
    dev->grad_enabled = 1;
    if ((s = be->open(index, opts, &dev->ctx)) != GLIA_STATUS_OK) {
        free(dev);
        return s;
    }
    *out = dev;
    return GLIA_STATUS_OK;
}

glia_status glia_device_close(glia_device *dev)
{
    if (!dev)
        return GLIA_STATUS_OK;
    glia_tape_clear(dev);
    if (dev->live_tensors > 0)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT,
                           "glia_device_close: %lld tensor(s) of %s:%d are still alive; free them first",
                           (long long)dev->live_tensors, dev->info.backend, dev->info.index);
    dev->be->sync(dev->ctx);
    glia_alloc_destroy(dev);
    glia_tensor_spares_free(dev);
    free(dev->tape.nodes);
    dev->be->close(dev->ctx);
    free(dev);
    return GLIA_STATUS_OK;
}

const glia_device_info *glia_device_get_info(const glia_device *dev)
{
    return dev ? &dev->info : NULL;
}

glia_status glia_device_sync(glia_device *dev)
{
    if (!dev)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_device_sync: device is NULL");
    return dev->be->sync(dev->ctx);
}

int glia_grad_mode(glia_device *dev, int enabled)
{
    if (!dev)
        return 0;
    int old = dev->grad_enabled;
    dev->grad_enabled = enabled != 0;
    return old;
}

const char *glia_version(void) { return GLIA_VERSION_STRING; }
