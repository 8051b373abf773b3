/* The on-disk cache of program binaries.
 *
 * One file per (source, build options, device, driver), named by a hash of the
 * four. A header repeats the identity and carries the payload's length and
 * checksum, so a stale entry (driver update), a hash collision, a truncated
 * or damaged file is detected and rebuilt, never handed to the driver. Files
 * are written under a temporary name and renamed, so a concurrent reader never
 * sees half a file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "backends/opencl/cl_cache_file.h"

#define MAGIC "GLIACLB1"
#define MAX_PAYLOAD ((uint64_t)1 << 30)

typedef struct header {
    char magic[8];
    uint64_t source_hash;
    char device[128];
    char driver[128];
    uint64_t length;
    uint64_t checksum;
} header;

_Static_assert(sizeof(header) == GLIA_CL_CACHE_HEADER_BYTES, "cache header layout");

static glia_cl_cache_counts counts;
static pthread_mutex_t counts_lock = PTHREAD_MUTEX_INITIALIZER;

void glia_cl_cache_counts_get(glia_cl_cache_counts *out)
{
    pthread_mutex_lock(&counts_lock);
    *out = counts;
    pthread_mutex_unlock(&counts_lock);
}

void glia_cl_cache_count(int built, int loaded, int rejected)
{
    pthread_mutex_lock(&counts_lock);
    counts.built += built;
    counts.loaded += loaded;
    counts.rejected += rejected;
    pthread_mutex_unlock(&counts_lock);
}

uint64_t glia_cl_hash(uint64_t h, const void *data, size_t n)
{
    /* FNV-1a: detects damage and tells sources apart; not a security boundary */
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

void glia_cl_cache_key_init(glia_cl_cache_key *k, uint64_t source_hash, const char *device,
                            const char *driver)
{
    memset(k, 0, sizeof *k);
    k->source_hash = source_hash;
    snprintf(k->device, sizeof k->device, "%s", device);
    snprintf(k->driver, sizeof k->driver, "%s", driver);
}

static void entry_path(const char *dir, const glia_cl_cache_key *k, char *path, size_t size)
{
    uint64_t h = glia_cl_hash(GLIA_CL_HASH_SEED, &k->source_hash, sizeof k->source_hash);
    h = glia_cl_hash(h, k->device, strlen(k->device));
    h = glia_cl_hash(h, k->driver, strlen(k->driver));
    snprintf(path, size, "%s/glia-cl-%016llx.bin", dir, (unsigned long long)h);
}

int glia_cl_cache_load(const char *dir, const glia_cl_cache_key *k, unsigned char **data,
                       size_t *len)
{
    char path[4096];
    entry_path(dir, k, path, sizeof path);
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    header h;
    int ok = fread(&h, sizeof h, 1, f) == 1 && memcmp(h.magic, MAGIC, 8) == 0 &&
             h.source_hash == k->source_hash &&
             memcmp(h.device, k->device, sizeof h.device) == 0 &&
             memcmp(h.driver, k->driver, sizeof h.driver) == 0 && h.length > 0 &&
             h.length <= MAX_PAYLOAD;
    unsigned char *buf = ok ? malloc((size_t)h.length) : NULL;
    ok = buf && fread(buf, 1, (size_t)h.length, f) == h.length && fgetc(f) == EOF &&
         glia_cl_hash(GLIA_CL_HASH_SEED, buf, (size_t)h.length) == h.checksum;
    fclose(f);
    if (!ok) {
        free(buf);
        return -1;
    }
    *data = buf;
    *len = (size_t)h.length;
    return 1;
}

void glia_cl_cache_store(const char *dir, const glia_cl_cache_key *k, const unsigned char *data,
                         size_t len)
{
    char path[4096], tmp[4200];
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return;   /* no cache folder: run without a disk cache */
    entry_path(dir, k, path, sizeof path);
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    header h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, MAGIC, 8);
    h.source_hash = k->source_hash;
    memcpy(h.device, k->device, sizeof h.device);
    memcpy(h.driver, k->driver, sizeof h.driver);
    h.length = len;
    h.checksum = glia_cl_hash(GLIA_CL_HASH_SEED, data, len);
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return;
    int ok = fwrite(&h, sizeof h, 1, f) == 1 && fwrite(data, 1, len, f) == len;
    ok = (fclose(f) == 0) && ok;
    /* a failed write leaves the old entry (or none): the cache is best effort */
    if (!ok || rename(tmp, path) != 0)
        remove(tmp);
}
