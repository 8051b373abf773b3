/* What the job does with its collectives, whatever carries them: agreeing on
 * failure, each rank's device, the parameter checksum and the averaged
 * buffers. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "dist/dist_priv.h"
#include "glia/device.h"

glia_status glia_dist_agree(glia_dist *d, glia_status local)
{
    if (glia_dist_size(d) <= 1)
        return local;
    /* the lowest failing rank and its status in one MIN: rank * 1024 + status */
    double v = local == GLIA_STATUS_OK ? 1e18 : (double)glia_dist_rank(d) * 1024 + (double)local;
    glia_status s = glia_dist_allreduce_f64(d, &v, 1, GLIA_DIST_MIN);
    if (s != GLIA_STATUS_OK)
        return s;
    if (local != GLIA_STATUS_OK) {
        glia_dist_set_failure_agreed(d, 2);
        return local;
    }
    if (v >= 1e18)
        return GLIA_STATUS_OK;
    int64_t k = (int64_t)v;
    glia_dist_set_failure_agreed(d, 1);
    return glia_seterr((glia_status)(k % 1024), "rank %lld failed (see its message)", (long long)(k / 1024));
}

/* Entry i (mod the count) of a comma-separated list into out. */
static glia_status list_entry(const char *spec, int i, char *out, size_t len)
{
    int n = 1;
    for (const char *p = spec; *p; p++)
        n += *p == ',';
    const char *p = spec;
    for (int k = i % n; k > 0; k--)
        p = strchr(p, ',') + 1;
    size_t l = strcspn(p, ",");
    if (l == 0 || l >= len)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "device list '%s': entry %d is %s", spec, i % n + 1,
                           l ? "too long" : "empty");
    memcpy(out, p, l);
    out[l] = '\0';
    return GLIA_STATUS_OK;
}

/* "auto" for one local rank of several: the GPUs of the backend auto prefers,
 * in index order, dealt round the local ranks (one backend, so a card that two
 * APIs both show is not counted twice). */
static glia_status local_gpu(const glia_dist *d, char *out, size_t len)
{
    glia_device_info pick, list[64];
    int n = 0, k = 0, idx[64];
    glia_status s = glia_devices_auto(&pick);
    if (s != GLIA_STATUS_OK)
        return s;
    glia_devices_list(list, 64, &n);
    for (int i = 0; i < n && i < 64; i++)
        if (strcmp(list[i].backend, pick.backend) == 0 && list[i].type == pick.type && !list[i].emulated)
            idx[k++] = list[i].index;
    int chosen = k ? idx[glia_dist_local_rank(d) % k] : pick.index;
    if (strcmp(pick.backend, "cpu") == 0)
        snprintf(out, len, "cpu");
    else
        snprintf(out, len, "%s:%d", pick.backend, chosen);
    return GLIA_STATUS_OK;
}

glia_status glia_dist_device(const glia_dist *d, const char *spec, char *out, size_t len)
{
    if (!spec || !out || len == 0)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_dist_device: NULL argument");
    glia_status s = list_entry(spec, glia_dist_rank(d), out, len);
    if (s == GLIA_STATUS_OK && strcmp(out, "auto") == 0 && glia_dist_local_size(d) > 1)
        s = local_gpu(d, out, len);
    return s;
}

int glia_dist_default_threads(const glia_dist *d)
{
    int local = glia_dist_local_size(d);
    if (local <= 1)
        return 0;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int t = (int)(cores / local);
    return t < 1 ? 1 : t;
}

/* A 64-bit hash of bytes, a word at a time (FNV-style mixing): equal data
 * gives equal sums; a disagreement goes unnoticed with probability ~2^-64. */
static uint64_t hash_bytes(uint64_t h, const unsigned char *p, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h = (h ^ w) * 0x100000001b3ull;
        h ^= h >> 29;
    }
    for (; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

static glia_status params_hash(glia_params *p, uint64_t *out)
{
    uint64_t h = 0xcbf29ce484222325ull;
    void *buf = NULL;
    size_t cap = 0;
    glia_status s = GLIA_STATUS_OK;
    for (int i = 0; i < glia_params_count(p) && s == GLIA_STATUS_OK; i++) {
        const char *name;
        glia_param_kind kind;
        glia_tensor *t;
        if ((s = glia_params_get(p, i, &name, &kind, &t)) != GLIA_STATUS_OK || !t)
            continue;
        size_t bytes = (size_t)glia_tensor_numel(t) * glia_etype_size(glia_tensor_etype(t));
        if (bytes > cap) {
            void *nb = realloc(buf, bytes);
            if (!nb) {
                s = glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "parameter checksum: %zu bytes", bytes);
                break;
            }
            buf = nb;
            cap = bytes;
        }
        if ((s = glia_tensor_read_raw(t, buf, bytes)) == GLIA_STATUS_OK)
            h = hash_bytes(hash_bytes(h, (const unsigned char *)name, strlen(name)), buf, bytes);
    }
    free(buf);
    *out = h;
    return s;
}

glia_status glia_dist_check_params(glia_dist *d, glia_params *p)
{
    int n = glia_dist_size(d);
    if (n <= 1)
        return GLIA_STATUS_OK;
    uint64_t mine = 0, *all = calloc((size_t)n, sizeof *all);
    if (!all)
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "parameter checksum");
    glia_status s = glia_dist_agree(d, params_hash(p, &mine));
    if (s == GLIA_STATUS_OK)
        s = glia_dist_allgather(d, &mine, sizeof mine, all);
    char ranks[256] = "";
    size_t used = 0;
    for (int r = 1; s == GLIA_STATUS_OK && r < n; r++)
        if (all[r] != all[0] && used + 16 < sizeof ranks)
            used += (size_t)snprintf(ranks + used, sizeof ranks - used, "%s%d", used ? ", " : "", r);
    if (s == GLIA_STATUS_OK && used)
        s = glia_seterr(GLIA_STATUS_SHAPE_MISMATCH,
                        "the ranks' weights disagree: rank(s) %s differ from rank 0 (checksum %016llx); the ranks "
                        "did not train the same model (a rank's device or driver computed differently, or the job "
                        "lost a step)",
                        ranks, (unsigned long long)all[0]);
    free(all);
    return s;
}

glia_status glia_dist_average_buffers(glia_dist *d, glia_params *p)
{
    int n = glia_dist_size(d);
    glia_status s = GLIA_STATUS_OK;
    for (int i = 0; n > 1 && i < glia_params_count(p) && s == GLIA_STATUS_OK; i++) {
        const char *name;
        glia_param_kind kind;
        glia_tensor *t;
        if ((s = glia_params_get(p, i, &name, &kind, &t)) != GLIA_STATUS_OK || kind != GLIA_PARAM_BUFFER ||
            glia_tensor_etype(t) != GLIA_ETYPE_F32)
            continue;
        size_t k = (size_t)glia_tensor_numel(t);
        float *v = malloc(3 * k * sizeof *v + 1);
        if (!v)
            return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "averaging %s over ranks", name);
        /* values every rank holds alike stay bit-exact (a mean of N equal floats may not be) */
        if ((s = glia_tensor_read(t, v, k)) == GLIA_STATUS_OK) {
            memcpy(v + k, v, k * sizeof *v);
            memcpy(v + 2 * k, v, k * sizeof *v);
        }
        if (s == GLIA_STATUS_OK && (s = glia_dist_allreduce_f32(d, v, k, GLIA_DIST_SUM)) == GLIA_STATUS_OK &&
            (s = glia_dist_allreduce_f32(d, v + k, k, GLIA_DIST_MIN)) == GLIA_STATUS_OK &&
            (s = glia_dist_allreduce_f32(d, v + 2 * k, k, GLIA_DIST_MAX)) == GLIA_STATUS_OK) {
            for (size_t j = 0; j < k; j++)
                v[j] = v[k + j] == v[2 * k + j] ? v[k + j] : v[j] / (float)n;
            s = glia_tensor_write(t, v, k);
        }
        free(v);
    }
    return s;
}
