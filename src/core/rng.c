/* Philox-4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3",
 * SC'11): a counter-based generator, so number i of a seed is a pure function of
 * (seed, i) and the stream is the same on every platform. Tensors are filled on
 * the host and uploaded, so every backend sees identical initial weights. */
#include <math.h>
#include <stdlib.h>
#include "core.h"

static void philox_block(uint64_t seed, uint64_t block, uint32_t out[4])
{
    uint32_t c[4] = {(uint32_t)block, (uint32_t)(block >> 32), 0, 0};
    uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
    for (int r = 0; r < 10; r++) {
        uint64_t p0 = (uint64_t)0xD2511F53u * c[0];
        uint64_t p1 = (uint64_t)0xCD9E8D57u * c[2];
        uint32_t n0 = (uint32_t)(p1 >> 32) ^ c[1] ^ k0;
        uint32_t n2 = (uint32_t)(p0 >> 32) ^ c[3] ^ k1;
        c[0] = n0;
        c[1] = (uint32_t)p1;
        c[2] = n2;
        c[3] = (uint32_t)p0;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    for (int i = 0; i < 4; i++)
        out[i] = c[i];
}

void glia_rng_init(glia_rng *rng, uint64_t seed)
{
    if (!rng)
        return;
    rng->seed = seed;
    rng->counter = 0;
}

uint32_t glia_rng_u32(glia_rng *rng)
{
    if (!rng)
        return 0;
    uint32_t block[4];
    philox_block(rng->seed, rng->counter / 4, block);
    return block[rng->counter++ % 4];
}

float glia_rng_uniform(glia_rng *rng)
{
    return (float)(glia_rng_u32(rng) >> 8) * (1.0f / 16777216.0f);
}

float glia_rng_normal(glia_rng *rng)
{
    /* u1 in (0, 1] keeps log finite */
    double u1 = ((glia_rng_u32(rng) >> 8) + 1.0) / 16777216.0;
    double u2 = (glia_rng_u32(rng) >> 8) / 16777216.0;
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

static glia_status fill_host(glia_tensor *t, glia_rng *rng, int normal, float a, float b)
{
    glia_status s = glia_check_tensor(t, "random fill: tensor");
    if (s != GLIA_STATUS_OK)
        return s;
    if (!rng)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "random fill: rng is NULL");
    float *buf = malloc((size_t)t->numel * sizeof *buf);
    if (!buf)
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "random fill: no host memory for %lld floats",
                           (long long)t->numel);
    for (int64_t i = 0; i < t->numel; i++)
        buf[i] = normal ? a + b * glia_rng_normal(rng) : a + (b - a) * glia_rng_uniform(rng);
    s = glia_tensor_write(t, buf, (size_t)t->numel);
    free(buf);
    return s;
}

glia_status glia_tensor_uniform(glia_tensor *t, glia_rng *rng, float lo, float hi)
{
    if (!(lo <= hi))
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_tensor_uniform: lo %g > hi %g", lo, hi);
    return fill_host(t, rng, 0, lo, hi);
}

glia_status glia_tensor_normal(glia_tensor *t, glia_rng *rng, float mean, float std)
{
    if (!(std >= 0))
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_tensor_normal: std %g < 0", std);
    return fill_host(t, rng, 1, mean, std);
}
