/* Atomic file writing (temporary file, fsync, rename) and checked reads. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "core/error.h"
#include "io_priv.h"

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

glia_status glia_afile_open(glia_afile *a, const char *path)
{
    static _Atomic unsigned serial;
    memset(a, 0, sizeof *a);
    size_t n = strlen(path) + 64;
    a->path = dup_str(path);
    a->tmp = malloc(n);
    if (!a->path || !a->tmp) {
        glia_afile_abort(a);
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "%s: no host memory for the file name", path);
    }
    int fd = -1;
    for (int tries = 0; fd < 0 && tries < 100; tries++) {
        snprintf(a->tmp, n, "%s.tmp.%ld.%u", path, (long)getpid(), serial++);
        /* 0666 so the umask decides the final permissions, as for any new file */
        fd = open(a->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    if (fd < 0 || !(a->f = fdopen(fd, "wb"))) {
        glia_status s = glia_seterr(GLIA_STATUS_IO_ERROR, "cannot create %s: %s", a->tmp, strerror(errno));
        if (fd >= 0) {
            close(fd);
            unlink(a->tmp);
        }
        glia_afile_abort(a);
        return s;
    }
    return GLIA_STATUS_OK;
}

glia_status glia_afile_write(glia_afile *a, const void *data, size_t bytes)
{
    if (bytes && fwrite(data, 1, bytes, a->f) != bytes)
        return glia_seterr(GLIA_STATUS_IO_ERROR, "writing %s failed: %s", a->path, strerror(errno));
    return GLIA_STATUS_OK;
}

/* Make the rename itself durable; a failure here loses nothing already written. */
static void sync_dir(const char *path)
{
    char *dir = dup_str(path);
    if (!dir)
        return;
    char *slash = strrchr(dir, '/');
    const char *d = slash ? (slash == dir ? "/" : (*slash = '\0', dir)) : ".";
    int fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(dir);
}

glia_status glia_afile_commit(glia_afile *a)
{
    glia_status s = GLIA_STATUS_OK;
    const char *what = NULL;
    if (fflush(a->f) != 0)
        what = "fflush";
    else if (fsync(fileno(a->f)) != 0)
        what = "fsync";
    int err = errno;
    if (fclose(a->f) != 0 && !what) {
        what = "fclose";
        err = errno;
    }
    a->f = NULL;
    a->committing = 1;
    if (!what && rename(a->tmp, a->path) != 0) {
        what = "rename";
        err = errno;
    }
    if (what) {
        s = glia_seterr(GLIA_STATUS_IO_ERROR, "writing %s: %s failed: %s", a->path, what, strerror(err));
        glia_afile_abort(a);
        return s;
    }
    sync_dir(a->path);
    free(a->tmp);
    free(a->path);
    a->tmp = a->path = NULL;
    return s;
}

void glia_afile_abort(glia_afile *a)
{
    /* the temporary file exists only while it is open, or after a failed commit */
    if (a->f) {
        fclose(a->f);
        unlink(a->tmp);
    } else if (a->committing) {
        unlink(a->tmp);
    }
    free(a->tmp);
    free(a->path);
    memset(a, 0, sizeof *a);
}

int64_t glia_file_size(FILE *f)
{
    struct stat st;
    if (fstat(fileno(f), &st) != 0)
        return -1;
    if (!S_ISREG(st.st_mode)) {
        errno = EINVAL;
        return -1;
    }
    return (int64_t)st.st_size;
}

glia_status glia_read_at(FILE *f, const char *path, uint64_t offset, void *dst, size_t bytes)
{
    if (offset > (uint64_t)INT64_MAX || fseeko(f, (off_t)offset, SEEK_SET) != 0)
        return glia_seterr(GLIA_STATUS_IO_ERROR, "%s: cannot seek to byte %llu: %s", path,
                           (unsigned long long)offset, strerror(errno));
    size_t got = fread(dst, 1, bytes, f);
    if (got != bytes) {
        if (ferror(f))
            return glia_seterr(GLIA_STATUS_IO_ERROR, "%s: read failed: %s", path, strerror(errno));
        return glia_seterr(GLIA_STATUS_FORMAT_ERROR, "%s: truncated: %zu bytes missing at byte %llu", path,
                           bytes - got, (unsigned long long)(offset + got));
    }
    return GLIA_STATUS_OK;
}

int glia_host_is_le(void)
{
    const uint16_t one = 1;
    return *(const unsigned char *)&one == 1;
}

void glia_byteswap(void *data, size_t count, int elem)
{
    unsigned char *p = data;
    for (size_t i = 0; i < count; i++, p += elem)
        for (int a = 0, b = elem - 1; a < b; a++, b--) {
            unsigned char t = p[a];
            p[a] = p[b];
            p[b] = t;
        }
}
