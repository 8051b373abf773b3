/* The benchmark report as JSON (the format is documented in glia/bench.h), and
 * the description of the machine it ran on. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>
#include "bench_priv.h"
#include "io/io_priv.h"

void glia_bench_machine_get(glia_bench_machine *m)
{
    memset(m, 0, sizeof *m);
    if (gethostname(m->hostname, sizeof m->hostname - 1) != 0)
        m->hostname[0] = '\0';
    struct utsname u;
    if (uname(&u) == 0)
        snprintf(m->os, sizeof m->os, "%s %s %s", u.sysname, u.release, u.machine);
    long cores = sysconf(_SC_NPROCESSORS_ONLN), pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    m->cores = cores > 0 ? (int)cores : 0;
    m->memory_bytes = pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page : 0;
    if (getloadavg(m->loadavg, 3) != 3)
        m->loadavg[0] = m->loadavg[1] = m->loadavg[2] = -1;
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512];
    while (f && fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        if (colon && strncmp(line, "model name", 10) == 0) {
            colon += 1 + strspn(colon + 1, " \t");
            colon[strcspn(colon, "\n")] = '\0';
            snprintf(m->cpu, sizeof m->cpu, "%s", colon);
            break;
        }
    }
    if (f)
        fclose(f);
}

/* ---- writing ----------------------------------------------------------------------- */

static void jstr(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

static void jnum(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, "%.9g", v);
    else
        fputs("null", f);
}

static double ratio(double a, double b) { return b > 0 && a > 0 ? a / b : 0; }

static void result(FILE *f, const glia_bench_result *r, const glia_bench_peak *pk)
{
    double t = r->median_s;
    fputs("    {\"name\": ", f);
    jstr(f, r->name);
    fputs(", \"median_s\": ", f);
    jnum(f, t);
    fputs(", \"min_s\": ", f);
    jnum(f, r->min_s);
    fprintf(f, ", \"runs\": %d, \"flops\": ", r->runs);
    jnum(f, r->flops);
    fputs(", \"bytes\": ", f);
    jnum(f, r->bytes);
    fprintf(f, ", \"peak_mem_bytes\": %llu, \"peak_rss_bytes\": %llu,\n     \"items\": ",
            (unsigned long long)r->peak_mem_bytes, (unsigned long long)r->peak_rss_bytes);
    jnum(f, r->items);
    fputs(", \"unit\": ", f);
    jstr(f, r->unit);
    fputs(", \"items_per_s\": ", f);
    jnum(f, ratio(r->items, t));
    fputs(", \"flops_per_s\": ", f);
    jnum(f, ratio(r->flops, t));
    fputs(", \"bytes_per_s\": ", f);
    jnum(f, ratio(r->bytes, t));
    fputs(", \"frac_peak_flops\": ", f);
    jnum(f, ratio(ratio(r->flops, t), pk->flops_per_s));
    fputs(", \"frac_peak_bytes\": ", f);
    jnum(f, ratio(ratio(r->bytes, t), pk->bytes_per_s));
    if (r->error[0]) {
        fputs(", \"error\": ", f);
        jstr(f, r->error);
    }
    fputc('}', f);
}

static void report(FILE *f, const glia_bench_report *r, const char *command, const glia_bench_machine *m)
{
    const glia_device_info *d = &r->device;
    fputs("{\n  \"schema\": \"glia-bench-1\",\n  \"glia_version\": ", f);
    jstr(f, glia_version());
    fputs(",\n  \"command\": ", f);
    jstr(f, command);
    fputs(",\n  \"machine\": {\"hostname\": ", f);
    jstr(f, m->hostname);
    fputs(", \"os\": ", f);
    jstr(f, m->os);
    fputs(", \"cpu\": ", f);
    jstr(f, m->cpu);
    fprintf(f, ", \"cores\": %d, \"memory_bytes\": %llu, \"loadavg\": [%.2f, %.2f, %.2f]},\n  \"device\": ",
            m->cores, (unsigned long long)m->memory_bytes, m->loadavg[0], m->loadavg[1], m->loadavg[2]);
    jstr(f, d->name);
    fputs(",\n  \"backend\": ", f);
    jstr(f, d->backend);
    fputs(",\n  \"driver\": ", f);
    jstr(f, d->driver);
    fprintf(f, ",\n  \"device_spec\": \"%s:%d\",\n  \"threads\": %d,\n  \"peak\": {\"flops_per_s\": ", d->backend,
            d->index, r->threads);
    jnum(f, r->peak.flops_per_s);
    fputs(", \"flops_method\": ", f);
    jstr(f, r->peak.flops_method);
    fputs(", \"bytes_per_s\": ", f);
    jnum(f, r->peak.bytes_per_s);
    fputs(", \"bytes_method\": ", f);
    jstr(f, r->peak.bytes_method);
    fputs(", \"note\": ", f);
    jstr(f, r->peak.note);
    fputs("},\n  \"results\": [\n", f);
    for (int i = 0; i < r->count; i++) {
        result(f, &r->results[i], &r->peak);
        fputs(i + 1 < r->count ? ",\n" : "\n", f);
    }
    fputs("  ]\n}", f);
}

glia_status glia_bench_write_json(const glia_bench_report *const *reports, int n, const glia_bench_meta *meta,
                                  const char *path)
{
    if (!reports || n < 1 || !path)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_bench_write_json: no reports or no path");
    for (int i = 0; i < n; i++)
        if (!reports[i])
            return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_bench_write_json: report %d is NULL", i);
    glia_bench_machine m;
    glia_bench_machine_get(&m);
    glia_afile a;
    glia_status s = glia_afile_open(&a, path);
    if (s != GLIA_STATUS_OK)
        return s;
    if (n > 1)
        fputs("[\n", a.f);
    for (int i = 0; i < n; i++) {
        report(a.f, reports[i], meta && meta->command ? meta->command : "", &m);
        fputs(n > 1 && i + 1 < n ? ",\n" : "\n", a.f);
    }
    if (n > 1)
        fputs("]\n", a.f);
    if (ferror(a.f)) {
        int err = errno; /* the failed write's: removing the temporary file may change errno */
        glia_afile_abort(&a);
        return glia_seterr(GLIA_STATUS_IO_ERROR, "writing %s failed: %s", path, strerror(err));
    }
    return glia_afile_commit(&a);
}
