/* Scratch folders and synthetic data for the end-to-end tests. */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "product_util.h"

char *pu_tempdir(const char *tag)
{
    const char *base = getenv("GLIA_TEST_CACHE_DIR");
    char *p = malloc(4096);
    assert_non_null(p);
    snprintf(p, 4096, "%s/glia-%s-XXXXXX", base && *base ? base : "/tmp", tag);
    if (base && *base) {
        char mk[4200];
        snprintf(mk, sizeof mk, "mkdir -p '%s'", base);
        assert_int_equal(system(mk), 0);
    }
    assert_non_null(mkdtemp(p));
    return p;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void pu_rmtree(const char *path)
{
    if (path)
        nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

const char *pu_path(const char *dir, const char *name)
{
    static char buf[8][4096];
    static int next;
    char *b = buf[next++ % 8];
    snprintf(b, sizeof buf[0], "%s/%s", dir, name);
    return b;
}

void pu_synth(const char *dir, int n, int64_t i, int64_t j, int64_t k, uint64_t seed)
{
    glia_synth_options o = {.layout = GLIA_LAYOUT_BRATS2021, .cases = n, .seed = seed, .size = {i, j, k},
                            .p_no_tumour = 0, .threads = 2};
    glia_status s = glia_synth_write(dir, &o);
    if (s != GLIA_STATUS_OK)
        fail_msg("synth: %s", glia_last_error());
}

int pu_same_file(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int same = fa && fb;
    while (same) {
        int ca = fgetc(fa), cb = fgetc(fb);
        same = ca == cb;
        if (ca == EOF || cb == EOF)
            break;
    }
    if (fa)
        fclose(fa);
    if (fb)
        fclose(fb);
    return same;
}

int pu_fixture_open(const char *tag, int cases, int threads, char **root, char **data, glia_device **dev)
{
    *root = pu_tempdir(tag);
    *data = NULL;
    if (cases > 0) {
        *data = strdup(pu_path(*root, "data"));
        pu_synth(*data, cases, 32, 32, 16, 3);
    }
    glia_device_options o = {.threads = threads};
    return glia_device_open("cpu", &o, dev) == GLIA_STATUS_OK ? 0 : -1;
}

int pu_fixture_close(char *root, char *data, glia_device *dev)
{
    pu_rmtree(root);
    free(root);
    free(data);
    return glia_device_close(dev) == GLIA_STATUS_OK ? 0 : -1;
}

void pu_check(glia_status s)
{
    if (s != GLIA_STATUS_OK)
        fail_msg("%s: %s", glia_status_str(s), glia_last_error());
}
