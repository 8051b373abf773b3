/* Options that take several values ("--weights a b c"), for eval and infer. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include "cli.h"

static int has_suffix(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = suffix ? strlen(suffix) : 0;
    return a >= b && strcmp(s + a - b, suffix ? suffix : "") == 0;
}

int glia_cli_take_list(const char *cmd, const char *flag, const char *suffix, int argc, char **argv,
                       const char ***list, int *nlist, char **rest, int *nrest)
{
    *nlist = 0;
    *nrest = 0;
    *list = malloc(((size_t)argc + 1) * sizeof **list);
    if (!*list)
        return glia_cli_usage_error("%s: out of memory", cmd);
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], flag) != 0) {
            rest[(*nrest)++] = argv[i];
            continue;
        }
        int before = *nlist;
        while (i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0 && has_suffix(argv[i + 1], suffix))
            (*list)[(*nlist)++] = argv[++i];
        if (*nlist == before)
            return glia_cli_usage_error("%s: option %s needs at least one value%s%s", cmd, flag,
                                        suffix ? " ending in " : "", suffix ? suffix : "");
    }
    return 0;
}

int glia_cli_mkdir(const char *cmd, const char *path)
{
    char p[4096];
    if (snprintf(p, sizeof p, "%s", path) >= (int)sizeof p)
        return glia_cli_usage_error("%s: folder name too long: %s", cmd, path);
    for (char *c = p + 1;; c++) {
        int end = *c == '\0';
        if (*c == '/' || end) {
            *c = '\0';
            if (mkdir(p, 0777) != 0 && errno != EEXIST) {
                fprintf(stderr, "glia: %s: cannot create folder %s: %s\n", cmd, p, strerror(errno));
                return 1;
            }
            if (end)
                break;
            *c = '/';
        }
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "glia: %s: %s exists and is not a folder\n", cmd, path);
        return 1;
    }
    return 0;
}
