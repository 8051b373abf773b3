/* Atomic file writing (temporary file, fsync, rename) and checked reads. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
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

/* The temporary name lives in the target's folder (so the rename stays on one
 * file system) but is short and of fixed shape, whatever the target's name:
 * a target of up to NAME_MAX bytes stays writable, and the PID in it lets
 * glia_tmp_clean_ tell a dead writer's leftovers from a live one's. */
char *glia_tmp_name_(const char *path)
{
    static _Atomic unsigned serial;
    const char *slash = strrchr(path, '/');
    int dirlen = slash ? (int)(slash - path) + 1 : 0;
    size_t n = (size_t)dirlen + sizeof GLIA_TMP_PREFIX + 48;
    char *tmp = malloc(n);
    if (tmp)
        snprintf(tmp, n, "%.*s" GLIA_TMP_PREFIX "%ld-%u", dirlen, path, (long)getpid(), serial++);
    return tmp;
}

glia_status glia_afile_open(glia_afile *a, const char *path)
{
    memset(a, 0, sizeof *a);
    a->path = dup_str(path);
    if (!a->path) {
        glia_afile_abort(a);
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "%s: no host memory for the file name", path);
    }
    int fd = -1;
    errno = 0;
    for (int tries = 0; fd < 0 && tries < 100; tries++) {
        free(a->tmp);
        if (!(a->tmp = glia_tmp_name_(path))) {
            glia_afile_abort(a);
            return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "%s: no host memory for the file name", path);
        }
        /* 0666 so the umask decides the final permissions, as for any new file */
        fd = open(a->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    if (fd < 0 || !(a->f = fdopen(fd, "wb"))) {
        glia_status s = glia_seterr(GLIA_STATUS_IO_ERROR, "cannot create %s (a temporary file for %s): %s", a->tmp,
                                    path, strerror(errno));
        if (fd >= 0) {
            close(fd);
            unlink(a->tmp);
        }
        glia_afile_abort(a);
        return s;
    }
    return GLIA_STATUS_OK;
}

/* The writer's PID in a temporary name of ours (".glia-tmp-PID-N"), or in
 * the "NAME.tmp.PID.N" of earlier versions; 0 for any other name. */
static long tmp_writer(const char *name)
{
    const char *p = NULL;
    if (strncmp(name, GLIA_TMP_PREFIX, strlen(GLIA_TMP_PREFIX)) == 0)
        p = name + strlen(GLIA_TMP_PREFIX);
    for (const char *t = strstr(name, ".tmp."); !p && t; t = strstr(t + 1, ".tmp."))
        if (t > name)
            p = t + 5;
    if (!p)
        return 0;
    char *end;
    long pid = strtol(p, &end, 10);
    if (pid <= 0 || end == p || (*end != '-' && *end != '.'))
        return 0;
    p = end + 1;
    if (*p < '0' || *p > '9')
        return 0;
    (void)strtoul(p, &end, 10);
    return *end == '\0' ? pid : 0;
}

glia_status glia_tmp_clean_(const char *dir, int *removed)
{
    if (removed)
        *removed = 0;
    DIR *d = opendir(dir);
    if (!d)
        return glia_seterr(GLIA_STATUS_IO_ERROR, "cannot list %s: %s", dir, strerror(errno));
    struct dirent *e;
    while ((e = readdir(d))) {
        long pid = tmp_writer(e->d_name);
        /* ESRCH only: EPERM means the writer lives (as another user) */
        if (pid <= 0 || pid == (long)getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        if (unlinkat(dirfd(d), e->d_name, 0) == 0 && removed)
            (*removed)++;
    }
    closedir(d);
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
