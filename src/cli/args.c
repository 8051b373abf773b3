/* Shared option parsing and error printing of the glia command. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

int glia_cli_usage_error(const char *fmt, ...)
{
    if (glia_dist_rank(glia_cli_dist) != 0)
        return 2;   /* every rank has the same arguments: rank 0 tells */
    va_list ap;
    va_start(ap, fmt);
    fputs("glia: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 2;
}

int glia_cli_lib_error(const char *what, glia_status s)
{
    const char *msg = glia_last_error();
    char rank[32] = "";
    if (glia_dist_size(glia_cli_dist) > 1) {
        if (glia_dist_failure_agreed(glia_cli_dist) == 1 && glia_dist_rank(glia_cli_dist) != 0)
            return 1;
        snprintf(rank, sizeof rank, "rank %d: ", glia_dist_rank(glia_cli_dist));
    }
    fprintf(stderr, "glia: %s%s: %s%s%s\n", rank, what, glia_status_str(s), *msg ? ": " : "", msg);
    return 1;
}

int glia_cli_open_device(const char *spec, long threads, glia_device **dev)
{
    glia_device_options o = {.threads = (int)threads};
    glia_status s = glia_device_open(spec, &o, dev);
    if (s != GLIA_STATUS_OK) {
        glia_cli_lib_error("device", s);
        return 0;
    }
    return 1;
}

int glia_cli_rank_device(const char *cmd, const char *spec, long *threads, char *out, size_t len)
{
    glia_status s = glia_dist_device(glia_cli_dist, spec, out, len);
    if (s != GLIA_STATUS_OK) {
        glia_cli_lib_error(cmd, s);
        return 0;
    }
    if (*threads == 0)
        *threads = glia_dist_default_threads(glia_cli_dist);
    return 1;
}

char **glia_cli_normalize(int *argc, char **argv)
{
    /* each "--opt=value" can become two: at most twice as many */
    char **out = malloc(((size_t)*argc * 2 + 1) * sizeof *out);
    int n = 0, rest = 0;
    if (!out)
        return NULL;
    for (int i = 0; i < *argc; i++) {
        char *a = argv[i];
        if (rest || strcmp(a, "--") == 0) { /* after "--" every argument is taken as it is */
            rest = 1;
            out[n++] = a;
            continue;
        }
        char *eq = strncmp(a, "--", 2) == 0 ? strchr(a, '=') : NULL;
        if (eq)
            *eq = '\0';   /* argv's strings are the program's to change (C11 5.1.2.2.1) */
        out[n++] = strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0 ? (char *)"--out" : a;
        if (eq)
            out[n++] = eq + 1;
    }
    out[n] = NULL;
    *argc = n;
    return out;
}

int glia_cli_wants_help(int argc, char **argv)
{
    for (int i = 0; i < argc && strcmp(argv[i], "--"); i++)
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return 1;
    return 0;
}

static int set_value(const char *cmd, const glia_cli_opt *o, const char *v)
{
    char *end = NULL;
    errno = 0;
    if (o->kind == GLIA_CLI_STR) {
        *(const char **)o->dst = v;
        return 0;
    }
    double x = o->kind == GLIA_CLI_INT ? (double)strtol(v, &end, 10) : strtod(v, &end);
    if (!*v || *end || errno || !isfinite(x) || x < o->min || x > o->max) {
        return glia_cli_usage_error("%s: %s needs %s from %g to %g, got '%s'", cmd, o->flag,
                                    o->kind == GLIA_CLI_INT ? "a whole number" : "a number", o->min, o->max, v);
    }
    if (o->kind == GLIA_CLI_INT)
        *(long *)o->dst = (long)x;
    else
        *(double *)o->dst = x;
    return 0;
}

int glia_cli_parse(const char *cmd, const glia_cli_opt *opts, int nopts, int argc, char **argv, const char **pos,
                   int maxpos, int *npos)
{
    int np = 0, i = 0;
    while (i < argc) {
        const char *a = argv[i++];
        if (strncmp(a, "--", 2) != 0 || strcmp(a, "--") == 0) {
            if (np >= maxpos)
                return glia_cli_usage_error("%s: unexpected argument '%s' (see 'glia help %s')", cmd, a, cmd);
            pos[np++] = a;
            continue;
        }
        const glia_cli_opt *o = NULL;
        for (int k = 0; k < nopts && !o; k++)
            if (strcmp(opts[k].flag, a) == 0)
                o = &opts[k];
        if (!o)
            return glia_cli_usage_error("%s: unknown option '%s' (see 'glia help %s')", cmd, a, cmd);
        if (o->kind == GLIA_CLI_FLAG) {
            *(int *)o->dst = 1;
            continue;
        }
        if (i >= argc)
            return glia_cli_usage_error("%s: option %s needs a value", cmd, a);
        if (set_value(cmd, o, argv[i++]))
            return 2;
    }
    if (npos)
        *npos = np;
    return 0;
}
