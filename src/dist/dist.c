/* What the job does with its collectives, whatever carries them: agreeing on
 * failure, each rank's device, the parameter checksum and the averaged
 * buffers. */
#include <math.h>
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

/* Rank 0's values of one tensor into every rank's; *diff, *norm gain the
 * squared distance of this rank's values from them and their squared norm
 * (other element types: bytes that differ count as infinitely far). */
static glia_status adopt(glia_dist *d, glia_tensor *t, void **buf, size_t *cap, double *diff, double *norm)
{
    size_t n = (size_t)glia_tensor_numel(t), bytes = n * glia_etype_size(glia_tensor_etype(t));
    if (2 * bytes > *cap) {
        void *nb = realloc(*buf, 2 * bytes);
        if (!nb)
            return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "weight agreement: %zu bytes", bytes);
        *buf = nb;
        *cap = 2 * bytes;
    }
    unsigned char *mine = *buf, *root = mine + bytes;
    glia_status s = glia_tensor_read_raw(t, mine, bytes);
    if (s == GLIA_STATUS_OK) {
        memcpy(root, mine, bytes);
        s = glia_dist_bcast(d, root, bytes, 0);
    }
    if (s != GLIA_STATUS_OK || memcmp(mine, root, bytes) == 0)
        return s;
    if (glia_tensor_etype(t) != GLIA_ETYPE_F32) {
        *diff = INFINITY;
        return glia_tensor_write_raw(t, root, bytes);
    }
    const float *a = (const float *)mine, *r = (const float *)root;
    for (size_t i = 0; i < n; i++) {
        *diff += ((double)a[i] - r[i]) * ((double)a[i] - r[i]);
        *norm += (double)r[i] * r[i];
    }
    return glia_tensor_write_raw(t, root, bytes);
}

glia_status glia_dist_sync_params(glia_dist *d, glia_params *p, double tol, double *rel)
{
    int n = glia_dist_size(d);
    *rel = 0;
    if (n <= 1)
        return GLIA_STATUS_OK;
    uint64_t mine = 0, *all = calloc((size_t)n, sizeof *all);
    if (!all)
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "weight agreement");
    glia_status s = glia_dist_agree(d, params_hash(p, &mine));
    if (s == GLIA_STATUS_OK)
        s = glia_dist_allgather(d, &mine, sizeof mine, all);
    int same = 1;
    for (int r = 1; s == GLIA_STATUS_OK && r < n; r++)
        same &= all[r] == all[0];
    free(all);
    if (s != GLIA_STATUS_OK || same)
        return s;
    /* every rank takes rank 0's values, measuring how far its own were */
    double sums[2] = {0, 0}, worst = 0;
    void *buf = NULL;
    size_t cap = 0;
    for (int i = 0; i < glia_params_count(p) && s == GLIA_STATUS_OK; i++) {
        const char *name;
        glia_param_kind kind;
        glia_tensor *t;
        if ((s = glia_params_get(p, i, &name, &kind, &t)) == GLIA_STATUS_OK && t)
            s = glia_dist_agree(d, adopt(d, t, &buf, &cap, &sums[0], &sums[1]));
    }
    free(buf);
    worst = sums[1] > 0 ? sqrt(sums[0] / sums[1]) : sums[0] > 0 ? INFINITY : 0;
    if (s == GLIA_STATUS_OK)
        s = glia_dist_allreduce_f64(d, &worst, 1, GLIA_DIST_MAX);
    *rel = worst;
    if (s == GLIA_STATUS_OK && !(worst <= tol)) {
        glia_dist_set_failure_agreed(d, 1);
        s = glia_seterr(GLIA_STATUS_SHAPE_MISMATCH,
                        "the ranks' weights disagree: %.3g of their norm apart (more than rounding, %.3g): the ranks "
                        "did not train the same model (different data or a lost step)",
                        worst, tol);
    }
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
