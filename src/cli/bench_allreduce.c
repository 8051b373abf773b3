/* glia bench --suite allreduce: what one gradient allreduce costs the job at
 * each size, in time and bandwidth (NCCL's convention: algorithm bandwidth =
 * bytes / time; bus bandwidth = that x 2(N-1)/N, what each rank's link
 * carries in a ring), and the host staging of as many bytes on this rank's
 * device. Rank 0 prints; run under mpirun (a job of one has nothing to sum). */
#include <stdio.h>
#include "cli.h"

int glia_cli_bench_allreduce(const char *device, long threads, int repeat)
{
    char spec[64];
    glia_device *dev = NULL;
    if (!glia_cli_rank_device("bench", device, &threads, spec, sizeof spec) ||
        !glia_cli_open_device(spec, threads, &dev))
        return 1;
    int ranks = glia_dist_size(glia_cli_dist), lead = glia_dist_rank(glia_cli_dist) == 0;
    const glia_device_info *di = glia_device_get_info(dev);
    if (lead)
        printf("allreduce over %d rank(s) (%s); staging on rank 0's %s:%d (%s); median of %d\n"
               "%12s %12s %12s %12s %14s\n",
               ranks, glia_dist_library(glia_cli_dist), di->backend, di->index, di->name, repeat, "bytes",
               "time ms", "algbw GB/s", "busbw GB/s", "staging ms");
    int rc = 0;
    for (size_t bytes = 4096; bytes <= ((size_t)64 << 20) && !rc; bytes *= 4) {
        double t = 0, st = 0;
        glia_status s = glia_dist_bench_allreduce(glia_cli_dist, dev, bytes, repeat, &t, &st);
        if (s != GLIA_STATUS_OK) {
            rc = glia_cli_lib_error("bench: allreduce", s);
            break;
        }
        double alg = t > 0 ? (double)bytes / t / 1e9 : 0;
        if (lead)
            printf("%12zu %12.3f %12.2f %12.2f %14.3f\n", bytes, 1e3 * t, alg, alg * 2.0 * (ranks - 1) / ranks, 1e3 * st);
    }
    glia_device_close(dev);
    return rc;
}
