/* CPU backend: whether OpenBLAS chose kernels older than the processor.
 *
 * Debian's OpenBLAS (DYNAMIC_ARCH) picks its kernels once, when it loads, from
 * its own CPU detection, and a processor it does not know can get far older
 * ones: 0.3.21 (Debian 12) ran its SSE3 Prescott kernels on an AVX-512 Xeon,
 * GEMM 6.7x slower than with its Haswell kernels. Kernels one generation old
 * cost less but still much: on a Zen 4 EPYC, SGEMM 2048^3 runs at 218 GFLOP/s
 * with the Haswell kernels and 392 with SkylakeX. Only OPENBLAS_CORETYPE, read
 * at load, changes the choice, so this only advises: the glia command restarts
 * itself with the advice, library users set the variable. A variable already
 * set is the user's choice and stands. */
#include <cblas.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "glia/device.h"

#if defined(__x86_64__) || defined(__i386__)
static int listed(const char *core, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(core, names[i]) == 0)
            return 1;
    return 0;
}
#endif

const char *glia_blas_coretype_advice(void)
{
#if defined(__x86_64__) || defined(__i386__)
    if (getenv("OPENBLAS_CORETYPE"))
        return NULL;   /* the user chose */
    const char *core = openblas_get_corename();
    __builtin_cpu_init();
    if (!core || !__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma"))
        return NULL;
    /* the SkylakeX kernels use AVX-512 F, CD, BW, DQ and VL */
    int avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") &&
                 __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
                 __builtin_cpu_supports("avx512vl");
    static const char *const pre_avx2[] = {"Prescott", "Core2", "Penryn", "Dunnington", "Nehalem",
                                           "Sandybridge", "Atom", "Opteron", "Barcelona", "Bobcat",
                                           "Bulldozer", "Piledriver", "Steamroller", "Excavator"};
    static const char *const avx2[] = {"Haswell", "Zen"};
    if (listed(core, pre_avx2, sizeof pre_avx2 / sizeof *pre_avx2))
        return avx512 ? "SkylakeX" : "Haswell";
    if (avx512 && listed(core, avx2, sizeof avx2 / sizeof *avx2))
        return "SkylakeX";
#endif
    return NULL;
}
