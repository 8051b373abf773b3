/* The on-disk program cache (cl_cache.c), private to backends/opencl. */
#ifndef GLIA_CL_CACHE_FILE_H
#define GLIA_CL_CACHE_FILE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include "backends/opencl/cl_testing.h"

#define GLIA_CL_HASH_SEED 0xcbf29ce484222325ULL

/* File layout: the header (magic "GLIACLB1", source hash, device[128],
 * driver[128], payload length, payload checksum: host byte order, 288 bytes),
 * then the payload (the driver's program binary). */
#define GLIA_CL_CACHE_HEADER_BYTES 288

/* What an entry must match: the hash of source + build options, and the
 * device and driver it was built for (zero-padded strings). */
typedef struct glia_cl_cache_key {
    uint64_t source_hash;
    char device[128];
    char driver[128];
} glia_cl_cache_key;

uint64_t glia_cl_hash(uint64_t h, const void *data, size_t n);
void glia_cl_cache_key_init(glia_cl_cache_key *k, uint64_t source_hash, const char *device,
                            const char *driver);
/* 1: *data (malloc'd, *len bytes) is the valid entry; 0: none; -1: an entry
 * exists but is stale or damaged. */
int glia_cl_cache_load(const char *dir, const glia_cl_cache_key *k, unsigned char **data,
                       size_t *len);
/* Write an entry atomically; failures leave the cache as it was. */
void glia_cl_cache_store(const char *dir, const glia_cl_cache_key *k, const unsigned char *data,
                         size_t len);
void glia_cl_cache_count(int built, int loaded, int rejected);

#endif
