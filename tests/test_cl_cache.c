/* The OpenCL program cache across process starts.
 *
 * Each "process start" is a forked child that opens opencl:0 with the cache
 * folder, runs a FILL and a REDUCE (two programs), checks the results and
 * reports the cache counters through a pipe. The parent never touches OpenCL
 * itself, so every child starts from a clean driver state, like a new run.
 * Damaged entries (truncated, bit-flipped payload or header, empty, a binary
 * the driver refuses) must be detected, rebuilt and rewritten: no crash, the
 * same results. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include "backends/opencl/cl_cache_file.h"
#include "backends/opencl/cl_testing.h"
#include "testutil.h"

#define N 1000
#define MAX_FILES 32

enum { CHILD_OK, CHILD_NO_DEVICE, CHILD_FAILED };

typedef struct child_report {
    int status;
    glia_cl_cache_counts counts;
    char msg[256];
} child_report;

static char dir[512];

static void child_work(child_report *r)
{
    const glia_backend *be = gt_backend("opencl");
    glia_device_info info;
    int count = 0;
    if (!be || be->enumerate(&info, 1, &count) != GLIA_STATUS_OK || count == 0) {
        r->status = CHILD_NO_DEVICE;
        return;
    }
    glia_device_options opts = {.cache_dir = dir};
    glia_bctx *ctx = NULL;
    glia_bbuf *x = NULL, *sum = NULL;
    float host[N], total = -1.0f;
    glia_status st = be->open(0, &opts, &ctx);
    if (st == GLIA_STATUS_OK)
        st = be->buf_alloc(ctx, N * sizeof(float), &x);
    if (st == GLIA_STATUS_OK)
        st = be->buf_alloc(ctx, sizeof(float), &sum);
    if (st == GLIA_STATUS_OK) {
        glia_op fill = {.kind = GLIA_OP_FILL, .t = {{x, 0}}, .p.fill = {N, 2.5f}};
        st = be->run(ctx, &fill);
    }
    if (st == GLIA_STATUS_OK) {
        glia_op red = {.kind = GLIA_OP_REDUCE, .t = {{x, 0}, {sum, 0}},
                       .p.bcast = {1, 1, N, 1.0f, 0.0f}};
        st = be->run(ctx, &red);
    }
    if (st == GLIA_STATUS_OK)
        st = be->read(ctx, x, 0, host, sizeof host);
    if (st == GLIA_STATUS_OK)
        st = be->read(ctx, sum, 0, &total, sizeof total);
    if (st != GLIA_STATUS_OK) {
        r->status = CHILD_FAILED;
        snprintf(r->msg, sizeof r->msg, "%s: %s", glia_status_str(st), glia_last_error());
    } else {
        int bad = 0;
        for (int i = 0; i < N; i++)
            bad += host[i] != 2.5f;
        /* 2.5 * 1000 is exact in float whatever the summation order */
        if (bad || total != 2500.0f) {
            r->status = CHILD_FAILED;
            snprintf(r->msg, sizeof r->msg, "%d wrong fill values, sum %g", bad, total);
        }
    }
    if (ctx) {
        be->buf_free(ctx, x);
        be->buf_free(ctx, sum);
        be->close(ctx);
    }
    glia_cl_cache_counts_get(&r->counts);
}

/* One process start; fails the test if the child crashed or went wrong. */
static child_report start(void)
{
    child_report r;
    memset(&r, 0, sizeof r);
    int fd[2];
    assert_int_equal(pipe(fd), 0);
    fflush(stdout);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fd[0]);
        child_work(&r);
        ssize_t w = write(fd[1], &r, sizeof r);
        _exit(w == (ssize_t)sizeof r ? 0 : 1);
    }
    close(fd[1]);
    size_t got = 0;
    while (got < sizeof r) {
        ssize_t n = read(fd[0], (char *)&r + got, sizeof r - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd[0]);
    int wst = 0;
    waitpid(pid, &wst, 0);
    if (!WIFEXITED(wst) || WEXITSTATUS(wst) != 0 || got != sizeof r)
        fail_msg("the child process crashed (wait status %d)", wst);
    if (r.status == CHILD_NO_DEVICE) {
        if (gt_backend_required("opencl"))
            fail_msg("no OpenCL device, but GLIA_REQUIRE_BACKENDS requires one");
        skip();
    }
    if (r.status != CHILD_OK)
        fail_msg("child: %s", r.msg);
    printf("cache: built %d, loaded %d, rejected %d\n", r.counts.built, r.counts.loaded,
           r.counts.rejected);
    return r;
}

static int list_entries(char names[MAX_FILES][1024])
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    assert_non_null(d);
    while ((e = readdir(d)) && n < MAX_FILES)
        if (strncmp(e->d_name, "glia-cl-", 8) == 0)
            snprintf(names[n++], 1024, "%s/%s", dir, e->d_name);
    closedir(d);
    return n;
}

static long file_size(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return (long)st.st_size;
}

static void flip_byte(const char *path, long at)
{
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, at, SEEK_SET), 0);
    int c = fgetc(f);
    assert_true(c != EOF);
    assert_int_equal(fseek(f, at, SEEK_SET), 0);
    fputc(c ^ 0x5a, f);
    assert_int_equal(fclose(f), 0);
}

typedef void (*damage_fn)(const char *path);

static void damage_truncate(const char *path)
{
    assert_int_equal(truncate(path, file_size(path) / 2), 0);
}

static void damage_payload(const char *path)
{
    flip_byte(path, GLIA_CL_CACHE_HEADER_BYTES + (file_size(path) - GLIA_CL_CACHE_HEADER_BYTES) / 2);
}

static void damage_header(const char *path)
{
    flip_byte(path, 20);   /* inside the device name: a stale entry */
}

static void damage_empty(const char *path)
{
    assert_int_equal(truncate(path, 0), 0);
}

/* A well-formed entry (valid checksum) whose payload is not a binary at all:
 * the driver must refuse it and the program be rebuilt. */
static void damage_binary(const char *path)
{
    long size = file_size(path);
    size_t len = (size_t)(size - GLIA_CL_CACHE_HEADER_BYTES);
    unsigned char *buf = malloc((size_t)size);
    assert_non_null(buf);
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
    unsigned char *payload = buf + GLIA_CL_CACHE_HEADER_BYTES;
    for (size_t i = 0; i < len; i++)
        payload[i] = (unsigned char)(i * 131 + 7);
    uint64_t sum = glia_cl_hash(GLIA_CL_HASH_SEED, payload, len);
    memcpy(buf + GLIA_CL_CACHE_HEADER_BYTES - sizeof sum, &sum, sizeof sum);
    assert_int_equal(fseek(f, 0, SEEK_SET), 0);
    assert_int_equal(fwrite(buf, 1, (size_t)size, f), (size_t)size);
    assert_int_equal(fclose(f), 0);
    free(buf);
}

static int programs;   /* programs the workload builds, from the first start */

static void test_first_start_builds(void **state)
{
    child_report r = start();
    assert_true(r.counts.built >= 2);   /* elementwise and reduce at least */
    assert_int_equal(r.counts.loaded, 0);
    assert_int_equal(r.counts.rejected, 0);
    char names[MAX_FILES][1024];
    assert_int_equal(list_entries(names), r.counts.built);
    programs = r.counts.built;
}

static void test_second_start_loads(void **state)
{
    child_report r = start();
    assert_int_equal(r.counts.built, 0);
    assert_int_equal(r.counts.loaded, programs);
    assert_int_equal(r.counts.rejected, 0);
}

static void damaged_entries_rebuilt(damage_fn damage)
{
    char names[MAX_FILES][1024];
    int n = list_entries(names);
    assert_int_equal(n, programs);
    for (int i = 0; i < n; i++)
        damage(names[i]);
    child_report r = start();
    assert_int_equal(r.counts.rejected, programs);
    assert_int_equal(r.counts.built, programs);
    assert_int_equal(r.counts.loaded, 0);
    /* the rebuilt entries replaced the damaged ones */
    r = start();
    assert_int_equal(r.counts.loaded, programs);
    assert_int_equal(r.counts.built + r.counts.rejected, 0);
}

static void test_truncated(void **state) { damaged_entries_rebuilt(damage_truncate); }
static void test_payload_bit_flip(void **state) { damaged_entries_rebuilt(damage_payload); }
static void test_stale_header(void **state) { damaged_entries_rebuilt(damage_header); }
static void test_empty(void **state) { damaged_entries_rebuilt(damage_empty); }
static void test_refused_binary(void **state) { damaged_entries_rebuilt(damage_binary); }

static int make_dir(void **state)
{
    const char *base = gt_cache_dir();
    if (base)
        mkdir(base, 0777);
    snprintf(dir, sizeof dir, "%s/cl-cache-test-XXXXXX", base ? base : "/tmp");
    return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state)
{
    char names[MAX_FILES][1024];
    int n = list_entries(names);
    for (int i = 0; i < n; i++)
        remove(names[i]);
    return rmdir(dir);
}

int main(void)
{
    /* in order: each test starts from the entries the previous one left */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_start_builds),
        cmocka_unit_test(test_second_start_loads),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_payload_bit_flip),
        cmocka_unit_test(test_stale_header),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_refused_binary),
    };
    return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
