/* glia bench: run the benchmark suites on one device or all of them, print a
 * table, write the JSON report; or merge reports with --compare. The work is
 * in the library (glia/bench.h); this file maps flags and prints. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

enum { MAX_DEVICES = 32, MAX_FILES = 64 };

static void on_start(void *user, const glia_bench_report *r)
{
    const glia_device_info *d = &r->device;
    *(glia_bench_peak *)user = r->peak;
    printf("device %s:%d  %s  (%s)", d->backend, d->index, d->name, d->driver);
    if (r->threads)
        printf(", %d threads", r->threads);
    printf("\n");
    if (r->peak.flops_per_s > 0)
        printf("peak   %.1f GFLOP/s (%s)\n", r->peak.flops_per_s * 1e-9, r->peak.flops_method);
    if (r->peak.bytes_per_s > 0)
        printf("peak   %.1f GB/s (%s)\n", r->peak.bytes_per_s * 1e-9, r->peak.bytes_method);
    if (r->peak.note[0])
        printf("note   %s\n", r->peak.note);
    printf("%-46s %10s %10s %4s %9s %5s %8s %5s %9s %9s\n", "name", "median_s", "min_s", "runs", "GFLOP/s", "%pk",
           "GB/s", "%pk", "items/s", "peak_MB");
    fflush(stdout);
}

static void on_result(void *user, const glia_bench_result *r)
{
    const glia_bench_peak *p = user;
    double t = r->median_s, pf = p->flops_per_s, pb = p->bytes_per_s;
    if (r->error[0]) {
        printf("%-46s failed: %s\n", r->name, r->error);
        fflush(stdout);
        return;
    }
    double gf = r->flops > 0 ? r->flops / t : 0, gb = r->bytes > 0 ? r->bytes / t : 0;
    printf("%-46s %10.6f %10.6f %4d", r->name, t, r->min_s, r->runs);
    if (gf > 0)
        printf(" %9.1f %5.1f", gf * 1e-9, pf > 0 ? 100 * gf / pf : 0);
    else
        printf(" %9s %5s", "-", "-");
    if (gb > 0)
        printf(" %8.1f %5.1f", gb * 1e-9, pb > 0 ? 100 * gb / pb : 0);
    else
        printf(" %8s %5s", "-", "-");
    if (r->items > 0)
        printf(" %9.3f", r->items / t);
    else
        printf(" %9s", "-");
    printf(" %9.0f\n", (double)r->peak_mem_bytes / 1e6);
    fflush(stdout);
}

/* The command line as given, for the report. */
static char *command_line(int argc, char **argv)
{
    size_t n = strlen("glia bench") + 1;
    for (int i = 0; i < argc; i++)
        n += strlen(argv[i]) + 1;
    char *s = malloc(n);
    if (!s)
        return NULL;
    strcpy(s, "glia bench");
    for (int i = 0; i < argc; i++) {
        strcat(s, " ");
        strcat(s, argv[i]);
    }
    return s;
}

static int compare(const char **files, int n, const char *md_path, const char *png)
{
    if (n < 1)
        return glia_cli_usage_error("bench: --compare needs one or more JSON reports");
    FILE *md = md_path ? fopen(md_path, "w") : stdout;
    if (!md) {
        fprintf(stderr, "glia: bench: cannot create %s\n", md_path);
        return 1;
    }
    glia_status s = glia_bench_compare(files, n, md, png);
    if (md != stdout && fclose(md) != 0 && s == GLIA_STATUS_OK)
        s = GLIA_STATUS_IO_ERROR;
    return s == GLIA_STATUS_OK ? 0 : glia_cli_lib_error("bench --compare", s);
}

static int list(const glia_bench_options *o)
{
    int n = 0;
    if (glia_bench_list(o, NULL, 0, &n) != GLIA_STATUS_OK)
        return glia_cli_lib_error("bench", GLIA_STATUS_OUT_OF_MEMORY);
    const char **names = malloc((size_t)(n ? n : 1) * sizeof *names);
    if (!names || glia_bench_list(o, names, n, &n) != GLIA_STATUS_OK) {
        free(names);
        return glia_cli_lib_error("bench", GLIA_STATUS_OUT_OF_MEMORY);
    }
    for (int i = 0; i < n; i++)
        printf("%s\n", names[i]);
    free(names);
    return 0;
}

/* The specs --device names: one, or every device ("all"). */
static int specs(const char *spec, char (*out)[32], int *n)
{
    if (strcmp(spec, "all") != 0) {
        snprintf(out[0], sizeof out[0], "%s", spec);
        *n = 1;
        return 0;
    }
    glia_device_info info[MAX_DEVICES];
    int count = 0;
    glia_status s = glia_devices_list(info, MAX_DEVICES, &count);
    if (s != GLIA_STATUS_OK)
        return glia_cli_lib_error("devices", s);
    *n = count < MAX_DEVICES ? count : MAX_DEVICES;
    for (int i = 0; i < *n; i++)
        snprintf(out[i], sizeof out[i], "%.15s:%d", info[i].backend, info[i].index);
    return 0;
}

int glia_cmd_bench(int argc, char **argv)
{
    const char *spec = "auto", *filter = "", *suite = "all", *json = NULL, *md = NULL, *png = NULL;
    long threads = 0, repeat = 5, warmup = 1, batch = 0, size = 0;
    int do_compare = 0, do_list = 0, no_peak = 0, npos = 0;
    const char *files[MAX_FILES];
    const glia_cli_opt opts[] = {
        GLIA_CLI_DEVICE(&spec),
        {"--filter", GLIA_CLI_STR, &filter, 0, 0},
        {"--suite", GLIA_CLI_STR, &suite, 0, 0},
        {"--repeat", GLIA_CLI_INT, &repeat, 1, 1000},
        {"--warmup", GLIA_CLI_INT, &warmup, 0, 1000},
        GLIA_CLI_THREADS(&threads),
        GLIA_CLI_BATCH(&batch),
        {"--size", GLIA_CLI_INT, &size, 0, 65536},
        {"--json", GLIA_CLI_STR, &json, 0, 0},
        {"--list", GLIA_CLI_FLAG, &do_list, 0, 0},
        {"--no-peak", GLIA_CLI_FLAG, &no_peak, 0, 0},
        {"--compare", GLIA_CLI_FLAG, &do_compare, 0, 0},
        {"--markdown", GLIA_CLI_STR, &md, 0, 0},
        {"--png", GLIA_CLI_STR, &png, 0, 0},
    };
    if (glia_cli_parse("bench", opts, sizeof opts / sizeof *opts, argc, argv, files, MAX_FILES, &npos))
        return 2;
    if (do_compare)
        return compare(files, npos, md, png);
    if (npos)
        return glia_cli_usage_error("bench: unexpected argument '%s' (reports to merge need --compare)", files[0]);
    if (strcmp(suite, "allreduce") == 0)
        return glia_cli_bench_allreduce(spec, threads, (int)repeat);
    glia_bench_options o = {.filter = filter, .repeat = (int)repeat, .warmup = warmup ? (int)warmup : -1,
                            .batch = (int)batch, .size = (int)size, .no_peak = no_peak};
    if (strcmp(suite, "ops") == 0)
        o.suites = GLIA_BENCH_SUITE_OPS;
    else if (strcmp(suite, "models") == 0)
        o.suites = GLIA_BENCH_SUITE_MODELS;
    else if (strcmp(suite, "all") == 0)
        o.suites = GLIA_BENCH_SUITE_ALL;
    else
        return glia_cli_usage_error("bench: --suite is ops, models, all or allreduce, not '%s'", suite);
    int matched = 0;
    if (glia_bench_list(&o, NULL, 0, &matched) != GLIA_STATUS_OK)
        return glia_cli_lib_error("bench", GLIA_STATUS_OUT_OF_MEMORY);
    if (!matched)
        return glia_cli_usage_error("bench: no benchmark matches '%s'", filter);
    if (do_list)
        return list(&o);

    char devs[MAX_DEVICES][32];
    int ndev = 0, rc = 0, ranks = glia_dist_size(glia_cli_dist), lead = glia_dist_rank(glia_cli_dist) == 0;
    if (ranks > 1) { /* one device per rank, from the list as glia train takes it */
        ndev = 1;
        if (!glia_cli_rank_device("bench", spec, &threads, devs[0], sizeof devs[0]))
            return 1;
    } else if ((rc = specs(spec, devs, &ndev)) != 0) {
        return rc;
    }
    glia_bench_report *reps[MAX_DEVICES] = {0};
    glia_device_options dopts = {.threads = (int)threads};
    glia_bench_peak peak;
    o.on_start = lead ? on_start : NULL;   /* rank 0 reports for the job */
    o.on_result = lead ? on_result : NULL;
    o.dist = glia_cli_dist;
    if (lead && ranks > 1)
        printf("data parallel over %d ranks (%s): each model train_step's gradients are averaged over the job "
               "(25 MB buckets); the global batch is %d x the batch below, so samples/s = %d x batch / time\n",
               ranks, glia_dist_library(glia_cli_dist), ranks, ranks);
    o.user = &peak;
    int nrep = 0;
    for (int i = 0; i < ndev; i++) {
        if (i)
            printf("\n");
        glia_bench_report *r = NULL;
        glia_status s = glia_bench_run(devs[i], &dopts, &o, &r);
        if (s != GLIA_STATUS_OK)
            rc = glia_cli_lib_error(devs[i], s);   /* a device that fails does not stop the others */
        if (r)
            reps[nrep++] = r;
    }
    if (json && nrep && lead) {
        char *cmd = command_line(argc, argv);
        glia_bench_meta meta = {.command = cmd};
        glia_status s = glia_bench_write_json((const glia_bench_report *const *)reps, nrep, &meta, json);
        if (s != GLIA_STATUS_OK)
            rc = glia_cli_lib_error("bench --json", s);
        free(cmd);
    }
    for (int i = 0; i < nrep; i++)
        glia_bench_report_free(reps[i]);
    if (!ndev)
        return glia_cli_usage_error("bench: no device found");
    return rc;
}
