/* The run folder's lock: one glia process (rank 0 of a job) trains in a run
 * folder at a time, so two runs started on one folder cannot mix their
 * config, checkpoints and logs. An advisory flock on RUNDIR/.lock, held from
 * before the first write until the run ends (the kernel drops it when the
 * process dies, so a killed run leaves no stale lock); the file holds the
 * holder's PID for the message of the run that is turned away. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>
#include "io/io_priv.h"
#include "train/train_priv.h"

/* The holder's PID as its lock file says, or 0 (not written yet). */
static long holder(int fd)
{
    char buf[32] = "";
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    buf[n > 0 ? n : 0] = '\0';
    long pid = strtol(buf, NULL, 10);
    return pid > 0 ? pid : 0;
}

glia_status glia_run_lock_(glia_run_ *r)
{
    char *path = glia_strfmt_("%s/.lock", r->dir);
    if (!path)
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "%s: the run lock", r->dir);
    /* 0666: the umask decides, as for the run's other files */
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    glia_status s = GLIA_STATUS_OK;
    if (fd < 0) {
        s = glia_seterr(GLIA_STATUS_IO_ERROR, "cannot open the run lock %s: %s", path, strerror(errno));
    } else if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int err = errno;
        long pid = holder(fd);
        char who[48] = "another process";
        if (pid)
            snprintf(who, sizeof who, "another glia (PID %ld)", pid);
        s = err == EWOULDBLOCK
                ? glia_seterr(GLIA_STATUS_INVALID_ARGUMENT,
                              "%s is in use: %s trains in it. Wait for it to end or stop it (Ctrl-C saves), then "
                              "continue it with --resume %s; or choose another --out",
                              r->dir, who, r->dir)
                : glia_seterr(GLIA_STATUS_IO_ERROR, "cannot lock %s: %s", path, strerror(err));
        close(fd);
        fd = -1;
    }
    free(path);
    if (s != GLIA_STATUS_OK)
        return s;
    char pid[32];
    int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)len, 0) != len) {
        /* only the message of a turned-away run needs the PID: no failure */
    }
    r->lock_fd = fd;
    /* under the lock no other run writes here: what killed writers left goes */
    int removed = 0;
    s = glia_tmp_clean_(r->dir, &removed);
    if (s == GLIA_STATUS_OK && removed && r->o.on_note) {
        char note[GLIA_PATH_MAX + 96];
        snprintf(note, sizeof note, "removed %d temporary file(s) that killed writes had left in %s", removed, r->dir);
        r->o.on_note(r->o.user, note);
    }
    return s;
}

void glia_run_unlock_(glia_run_ *r)
{
    if (r->lock_fd >= 0)
        close(r->lock_fd); /* drops the flock */
    r->lock_fd = -1;
}
