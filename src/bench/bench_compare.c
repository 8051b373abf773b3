/* glia bench --compare: reports from different machines, vendors, backends and
 * PyTorch side by side, as a Markdown table (and a PNG bar chart). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cJSON.h"
#include "bench_priv.h"

enum { MAX_RUNS = 64, MAX_FILE = 64 << 20 };

typedef struct run {
    const cJSON *obj;
    const cJSON *results;
    const char *file;
    char label[200];
} run;

typedef struct cmp {
    cJSON *docs[MAX_RUNS];
    int ndocs;
    run runs[MAX_RUNS];
    int nruns;
    const char **rows;
    int nrows;
} cmp;

static glia_status read_file(const char *path, char **text, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return glia_seterr(GLIA_STATUS_IO_ERROR, "cannot open %s: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    glia_status s = GLIA_STATUS_OK;
    while (buf && s == GLIA_STATUS_OK) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        char *nb = cap < MAX_FILE ? realloc(buf, cap * 2) : NULL;
        if (!nb)
            s = glia_seterr(cap < MAX_FILE ? GLIA_STATUS_OUT_OF_MEMORY : GLIA_STATUS_FORMAT_ERROR,
                            "%s: larger than %d MiB, not a benchmark report", path, MAX_FILE >> 20);
        else
            buf = nb, cap *= 2;
    }
    if (!buf)
        s = glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "%s: no host memory", path);
    if (s == GLIA_STATUS_OK && ferror(f))
        s = glia_seterr(GLIA_STATUS_IO_ERROR, "reading %s failed", path);
    fclose(f);
    if (s != GLIA_STATUS_OK) {
        free(buf);
        return s;
    }
    buf[n] = '\0'; /* the loop ends with n < cap: cJSON's end-of-text check wants the terminator */
    *text = buf;
    *len = n;
    return GLIA_STATUS_OK;
}

/* A number beyond double's range (1e999) parses as infinity: not a value
 * any report holds. */
static int all_finite(const cJSON *v)
{
    if (cJSON_IsNumber(v))
        return isfinite(v->valuedouble);
    const cJSON *c;
    cJSON_ArrayForEach(c, v)
        if (!all_finite(c))
            return 0;
    return 1;
}

/* Reports come from other machines and tools (tools/bench_torch.py): a member
 * missing or of another type reads as the default rather than failing. */
static const cJSON *get(const cJSON *v, const char *key)
{
    return cJSON_IsObject(v) ? cJSON_GetObjectItemCaseSensitive(v, key) : NULL;
}

static double num(const cJSON *v, const char *key, double def)
{
    const cJSON *m = get(v, key);
    return cJSON_IsNumber(m) ? m->valuedouble : def;
}

static const char *str(const cJSON *v, const char *key, const char *def)
{
    const cJSON *m = get(v, key);
    return cJSON_IsString(m) ? m->valuestring : def;
}

static glia_status add_run(cmp *c, const cJSON *obj, const char *file)
{
    const cJSON *res = get(obj, "results");
    if (!cJSON_IsArray(res))
        return glia_seterr(GLIA_STATUS_FORMAT_ERROR, "%s: not a benchmark report (no \"results\" list)", file);
    if (c->nruns == MAX_RUNS)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "bench compare: more than %d reports", MAX_RUNS);
    run *r = &c->runs[c->nruns++];
    r->obj = obj;
    r->results = res;
    r->file = file;
    double threads = num(obj, "threads", 0);
    char thr[32] = "";
    if (threads > 0)
        snprintf(thr, sizeof thr, ", %g threads", threads);
    snprintf(r->label, sizeof r->label, "%s %s%s", str(obj, "backend", "?"), str(obj, "device", "?"), thr);
    return GLIA_STATUS_OK;
}

static glia_status load(cmp *c, const char *path)
{
    char *text = NULL;
    size_t len = 0;
    glia_status s = read_file(path, &text, &len);
    if (s != GLIA_STATUS_OK)
        return s;
    /* len + 1 takes in the terminator, which cJSON requires right after the value
     * (trailing text is an error); a NUL byte inside the file stops it early */
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len + 1, &end, 1);
    if (!root || end != text + len)
        s = glia_seterr(GLIA_STATUS_FORMAT_ERROR, "%s: not valid JSON at byte %td", path, end ? end - text : 0);
    else if (!all_finite(root))
        s = glia_seterr(GLIA_STATUS_FORMAT_ERROR, "%s: a number beyond the range of double", path);
    if (s != GLIA_STATUS_OK)
        cJSON_Delete(root);
    free(text);
    if (s != GLIA_STATUS_OK)
        return s;
    c->docs[c->ndocs++] = root;
    if (!cJSON_IsArray(root))  /* one report, or a list of them (glia bench --json of several devices) */
        return add_run(c, root, path);
    const cJSON *rep;
    cJSON_ArrayForEach(rep, root)
        if ((s = add_run(c, rep, path)) != GLIA_STATUS_OK)
            break;
    return s;
}

static const cJSON *find(const run *r, const char *name)
{
    const cJSON *res;
    cJSON_ArrayForEach(res, r->results) {
        const char *n = str(res, "name", NULL);
        if (n && strcmp(n, name) == 0)
            return res;
    }
    return NULL;
}

static glia_status collect_rows(cmp *c)
{
    int cap = 0;
    for (int k = 0; k < c->nruns; k++)
        cap += cJSON_GetArraySize(c->runs[k].results);
    c->rows = malloc((size_t)(cap ? cap : 1) * sizeof *c->rows);
    if (!c->rows)
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "bench compare: no host memory");
    for (int k = 0; k < c->nruns; k++) {
        const cJSON *res;
        cJSON_ArrayForEach(res, c->runs[k].results) {
            const char *n = str(res, "name", NULL);
            int seen = !n;
            for (int j = 0; j < c->nrows && !seen; j++)
                seen = strcmp(c->rows[j], n) == 0;
            if (!seen)
                c->rows[c->nrows++] = n;
        }
    }
    return GLIA_STATUS_OK;
}

/* ---- Markdown ----------------------------------------------------------------------- */

static void md_text(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '|')
            fputs("\\|", f);
        else if (*s == '\n' || *s == '\r')
            fputc(' ', f);
        else
            fputc(*s, f);
    }
}

static void fmt_time(char *b, size_t n, double t)
{
    if (t >= 1)
        snprintf(b, n, "%.2f s", t);
    else if (t >= 1e-3)
        snprintf(b, n, "%.2f ms", t * 1e3);
    else
        snprintf(b, n, "%.1f us", t * 1e6);
}

static void fmt_bytes(char *b, size_t n, double x)
{
    if (x >= 1e9)
        snprintf(b, n, "%.2f GB", x / 1e9);
    else
        snprintf(b, n, "%.0f MB", x / 1e6);
}

static double median(const cJSON *res)
{
    if (!res || get(res, "error"))
        return NAN;
    double t = num(res, "median_s", NAN);
    return t > 0 ? t : NAN;
}

static char letter(int k) { return (char)(k < 26 ? 'A' + k : 'a' + (k - 26) % 26); }

static void header(FILE *md, const cmp *c)
{
    fputs("| | report | backend | device | driver | threads | machine | load | command |\n"
          "|---|---|---|---|---|---:|---|---:|---|\n", md);
    for (int k = 0; k < c->nruns; k++) {
        const run *r = &c->runs[k];
        const cJSON *m = get(r->obj, "machine"), *loadavg = get(m, "loadavg");
        const cJSON *load = cJSON_IsArray(loadavg) ? cJSON_GetArrayItem(loadavg, 0) : NULL;
        fprintf(md, "| %c | ", letter(k));
        md_text(md, r->file);
        fputs(" | ", md);
        md_text(md, str(r->obj, "backend", ""));
        fputs(" | ", md);
        md_text(md, str(r->obj, "device", ""));
        fputs(" | ", md);
        md_text(md, str(r->obj, "driver", ""));
        fprintf(md, " | %g | ", num(r->obj, "threads", 0));
        md_text(md, str(m, "hostname", ""));
        fputs(", ", md);
        md_text(md, str(m, "cpu", ""));
        fprintf(md, ", %g cores | ", num(m, "cores", 0));
        if (cJSON_IsNumber(load))
            fprintf(md, "%.2f", load->valuedouble);
        fputs(" | `", md);
        md_text(md, str(r->obj, "command", ""));
        fputs("` |\n", md);
    }
}

static void times(FILE *md, const cmp *c)
{
    fputs("\nMedian times; xR is the speed relative to A (A's time over this one: above 1 = faster than A).\n\n"
          "| benchmark |", md);
    for (int k = 0; k < c->nruns; k++)
        fprintf(md, " %c |", letter(k));
    fputs("\n|---|", md);
    for (int k = 0; k < c->nruns; k++)
        fputs("---:|", md);
    fputc('\n', md);
    char b[48];
    for (int i = 0; i < c->nrows; i++) {
        fputs("| ", md);
        md_text(md, c->rows[i]);
        fputs(" |", md);
        double t0 = median(find(&c->runs[0], c->rows[i]));
        for (int k = 0; k < c->nruns; k++) {
            const cJSON *res = find(&c->runs[k], c->rows[i]);
            double t = median(res);
            if (!res)
                fputs(" - |", md);
            else if (isnan(t))
                fputs(" failed |", md);
            else {
                fmt_time(b, sizeof b, t);
                fprintf(md, " %s", b);
                if (k > 0 && !isnan(t0))
                    fprintf(md, " x%.2f", t0 / t);
                fputs(" |", md);
            }
        }
        fputc('\n', md);
    }
}

/* Peak memory of the model benchmarks: glia's allocator peak and the process's RSS. */
static void memory(FILE *md, const cmp *c)
{
    int any = 0;
    char a[32], r[32];
    for (int i = 0; i < c->nrows; i++) {
        if (strncmp(c->rows[i], "model.", 6) != 0)
            continue;
        if (!any++) {
            fputs("\nPeak memory per model benchmark: device allocator peak / process peak RSS.\n\n| benchmark |", md);
            for (int k = 0; k < c->nruns; k++)
                fprintf(md, " %c |", letter(k));
            fputs("\n|---|", md);
            for (int k = 0; k < c->nruns; k++)
                fputs("---:|", md);
            fputc('\n', md);
        }
        fputs("| ", md);
        md_text(md, c->rows[i]);
        fputs(" |", md);
        for (int k = 0; k < c->nruns; k++) {
            const cJSON *res = find(&c->runs[k], c->rows[i]);
            double pm = num(res, "peak_mem_bytes", 0), pr = num(res, "peak_rss_bytes", 0);
            fmt_bytes(a, sizeof a, pm);
            fmt_bytes(r, sizeof r, pr);
            fprintf(md, " %s / %s |", pm > 0 ? a : "-", pr > 0 ? r : "-");
        }
        fputc('\n', md);
    }
}

/* ---- chart -------------------------------------------------------------------------- */

static glia_status chart(const cmp *c, const char *png)
{
    double *v = malloc((size_t)c->nrows * (size_t)c->nruns * sizeof *v);
    const char **rows = malloc((size_t)c->nrows * sizeof *rows), *series[MAX_RUNS];
    char labels[MAX_RUNS][220];
    glia_status s = GLIA_STATUS_OK;
    if (!v || !rows)
        s = glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "bench compare: no host memory for the chart");
    int n = 0;
    for (int i = 0; i < c->nrows && s == GLIA_STATUS_OK; i++) {
        double t0 = median(find(&c->runs[0], c->rows[i]));
        int others = 0;
        for (int k = 1; k < c->nruns; k++)
            others += !isnan(median(find(&c->runs[k], c->rows[i])));
        if (isnan(t0) || (c->nruns > 1 && !others))
            continue;
        for (int k = 0; k < c->nruns; k++)
            v[n * c->nruns + k] = t0 / median(find(&c->runs[k], c->rows[i]));
        rows[n++] = c->rows[i];
    }
    for (int k = 0; k < c->nruns; k++) {
        snprintf(labels[k], sizeof labels[k], "%c: %s", letter(k), c->runs[k].label);
        series[k] = labels[k];
    }
    if (s == GLIA_STATUS_OK && n == 0)
        s = glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "bench compare: no benchmark has a time in A and another report");
    if (s == GLIA_STATUS_OK)
        s = glia_bench_chart_png(png, "speed relative to A (higher is faster)", rows, n, series, c->nruns, v);
    free(v);
    free(rows);
    return s;
}

glia_status glia_bench_compare(const char *const *paths, int n, FILE *md, const char *png_path)
{
    if (!paths || n < 1 || !md)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_bench_compare: no reports or no output");
    cmp *c = calloc(1, sizeof *c);
    if (!c)
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "bench compare: no host memory");
    glia_status s = GLIA_STATUS_OK;
    for (int i = 0; i < n && s == GLIA_STATUS_OK; i++)
        s = c->ndocs < MAX_RUNS ? load(c, paths[i])
                                : glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "bench compare: more than %d files", MAX_RUNS);
    if (s == GLIA_STATUS_OK && c->nruns == 0)
        s = glia_seterr(GLIA_STATUS_FORMAT_ERROR, "bench compare: the files hold no reports");
    if (s == GLIA_STATUS_OK)
        s = collect_rows(c);
    if (s == GLIA_STATUS_OK) {
        header(md, c);
        times(md, c);
        memory(md, c);
        if (ferror(md))
            s = glia_seterr(GLIA_STATUS_IO_ERROR, "bench compare: writing the table failed: %s", strerror(errno));
    }
    if (s == GLIA_STATUS_OK && png_path)
        s = chart(c, png_path);
    for (int i = 0; i < c->ndocs; i++)
        cJSON_Delete(c->docs[i]);
    free(c->rows);
    free(c);
    return s;
}
