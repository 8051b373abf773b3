/* The shared helpers of the fuzz targets (see fuzz_util.h). */
#include "fuzz_util.h"
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "glia/glia.h"
#include "glia/image.h"

static char dir[256];
static char path[512];

/* Children first (FTW_DEPTH), links not followed (FTW_PHYS): the dataset
 * targets leave sub-folders here. */
static int remove_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(p);
}

static void cleanup(void)
{
    if (dir[0])
        nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

const char *glia_fuzz_dir(void)
{
    if (!dir[0]) {
        const char *tmp = getenv("TMPDIR");
        snprintf(dir, sizeof dir, "%s/glia-fuzz-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(dir)) {
            perror("glia fuzz: mkdtemp");
            abort();
        }
        atexit(cleanup);
    }
    return dir;
}

const char *glia_fuzz_write(const char *name, const uint8_t *data, size_t size)
{
    snprintf(path, sizeof path, "%s/%s", glia_fuzz_dir(), name);
    FILE *f = fopen(path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
        perror(path);
        abort();
    }
    return path;
}

char *glia_fuzz_text(const uint8_t *data, size_t size)
{
    char *t = malloc(size + 1);
    if (!t)
        abort();
    if (size)
        memcpy(t, data, size);
    t[size] = 0;
    return t;
}

void glia_fuzz_volume(const char *suffix, const uint8_t *data, size_t size)
{
    char name[32];
    snprintf(name, sizeof name, "input%s", suffix);
    const char *p = glia_fuzz_write(name, data, size);
    glia_volume *v = NULL;
    if (glia_volume_read_header(p, &v) == GLIA_STATUS_OK)
        glia_volume_free(v);
    v = NULL;
    if (glia_volume_read(p, &v) == GLIA_STATUS_OK) {
        float *f = NULL;
        if (glia_volume_to_float(v, &f) == GLIA_STATUS_OK)
            free(f);
    }
    glia_volume_free(v);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    glia_set_max_volume_bytes((uint64_t)64 << 20);
    (void)glia_fuzz_dir();
    if (glia_fuzz_setup)
        glia_fuzz_setup();
    return 0;
}
