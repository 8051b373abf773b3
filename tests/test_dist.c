/* Data parallelism in a job of one (the MPI jobs are tests/mpi/mpi_test.sh):
 *  - glia_backward_hooked reports each leaf once, when its gradient is
 *    complete: the gradient seen in the hook equals the final one, for a leaf
 *    that two nodes take too; a leaf no op took is never reported;
 *  - the reducer, with buckets small enough that every tensor gets its own,
 *    leaves the gradients glia_backward leaves (a job of one averages over 1);
 *  - device lists, agreement, parameter sync and table merging of a job of one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>
#include "glia/glia.h"
#include "testutil.h"

#define N 5

typedef struct seen {
    glia_tensor *leaf[4];
    float grad[4][N];
    int calls[4];
} seen;

static void on_leaf(void *user, glia_tensor *t)
{
    seen *s = user;
    for (int i = 0; i < 4; i++)
        if (s->leaf[i] == t) {
            s->calls[i]++;
            assert_int_equal(glia_tensor_read(glia_tensor_grad(t), s->grad[i], N), GLIA_STATUS_OK);
        }
}

/* loss = sum((x * a) * a + b * x), c untouched: a is taken by two nodes. */
static glia_tensor *build(glia_tensor *x, glia_tensor *a, glia_tensor *b)
{
    glia_tensor *y = NULL, *z = NULL, *w = NULL, *u = NULL, *l = NULL;
    assert_int_equal(glia_mul(x, a, &y), GLIA_STATUS_OK);
    assert_int_equal(glia_mul(y, a, &z), GLIA_STATUS_OK);
    assert_int_equal(glia_mul(b, x, &w), GLIA_STATUS_OK);
    assert_int_equal(glia_add(z, w, &u), GLIA_STATUS_OK);
    assert_int_equal(glia_sum(u, &l), GLIA_STATUS_OK);
    glia_tensor_free(y);
    glia_tensor_free(z);
    glia_tensor_free(w);
    glia_tensor_free(u);
    return l;
}

static void make(glia_params *p, glia_tensor **x, glia_tensor **t)
{
    int64_t n = N;
    float v[N];
    gt_fill(v, N, 1, -1.0f, 1.0f);
    assert_int_equal(glia_tensor_from_host(gt_dev, 1, &n, v, x), GLIA_STATUS_OK);
    const char *names[3] = {"a", "b", "c"};
    for (int i = 0; i < 3; i++) {
        gt_fill(v, N, 2 + (uint64_t)i, -1.0f, 1.0f);
        assert_int_equal(glia_tensor_from_host(gt_dev, 1, &n, v, &t[i]), GLIA_STATUS_OK);
        assert_int_equal(glia_params_add(p, names[i], GLIA_PARAM_TRAINABLE, t[i]), GLIA_STATUS_OK);
    }
}

static void test_hooks_report_complete_gradients(void **state)
{
    glia_params *p = NULL;
    glia_tensor *x = NULL, *t[3];
    assert_int_equal(glia_params_create(&p), GLIA_STATUS_OK);
    make(p, &x, t);
    seen s = {.leaf = {t[0], t[1], t[2], x}};
    glia_tensor *l = build(x, t[0], t[1]);
    glia_backward_hooks h = {.leaf_ready = on_leaf, .user = &s};
    assert_int_equal(glia_backward_hooked(l, &h), GLIA_STATUS_OK);
    float xv[N], av[N];
    assert_int_equal(glia_tensor_read(x, xv, N), GLIA_STATUS_OK);
    assert_int_equal(glia_tensor_read(t[0], av, N), GLIA_STATUS_OK);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(s.calls[i], 1);
        float fin[N];
        assert_int_equal(glia_tensor_read(glia_tensor_grad(t[i]), fin, N), GLIA_STATUS_OK);
        for (int k = 0; k < N; k++) {
            /* d/da (x a^2) = 2 a x, d/db = x: what the hook saw is the whole gradient */
            double want = i == 0 ? 2.0 * av[k] * xv[k] : xv[k];
            assert_true(fabs(s.grad[i][k] - fin[k]) <= 0.0f);
            if (!(fabs(fin[k] - want) <= 1e-5 * (1 + fabs(want))))
                fail_msg("leaf %d element %d: gradient %.7g, expected %.7g", i, k, fin[k], want);
        }
    }
    assert_int_equal(s.calls[2], 0);   /* c: no op took it */
    assert_int_equal(s.calls[3], 0);   /* x: no gradient wanted */
    glia_tensor_free(l);
    glia_tensor_free(x);
    for (int i = 0; i < 3; i++)
        glia_tensor_free(t[i]);
    glia_params_free(p);
}

static void test_reducer_job_of_one(void **state)
{
    float want[2][N], got[2][N];
    for (int pass = 0; pass < 2; pass++) {
        glia_params *p = NULL;
        glia_tensor *x = NULL, *t[3];
        assert_int_equal(glia_params_create(&p), GLIA_STATUS_OK);
        make(p, &x, t);
        glia_tensor *l = build(x, t[0], t[1]);
        glia_reducer *r = NULL;
        if (pass == 0) {
            assert_int_equal(glia_backward(l), GLIA_STATUS_OK);
        } else {
            /* 4 bytes: every tensor a bucket of its own, started as backward completes it */
            assert_int_equal(glia_reducer_new(NULL, p, 4, &r), GLIA_STATUS_OK);
            assert_int_equal(glia_reducer_backward(r, l), GLIA_STATUS_OK);
            const glia_reducer_stats *st = glia_reducer_get_stats(r);
            assert_int_equal(st->buckets, 3);
            assert_int_equal(st->bytes, 3 * N * sizeof(float));
            assert_int_equal(st->steps, 1);
            assert_null(glia_tensor_grad(t[2]));   /* c had none and gets none */
        }
        for (int i = 0; i < 2; i++)
            assert_int_equal(glia_tensor_read(glia_tensor_grad(t[i]), pass ? got[i] : want[i], N), GLIA_STATUS_OK);
        glia_reducer_free(r);
        glia_tensor_free(l);
        glia_tensor_free(x);
        for (int i = 0; i < 3; i++)
            glia_tensor_free(t[i]);
        glia_params_free(p);
    }
    assert_memory_equal(want, got, sizeof want);
}

static void test_job_of_one(void **state)
{
    char spec[32];
    assert_int_equal(glia_dist_size(NULL), 1);
    assert_int_equal(glia_dist_rank(NULL), 0);
    assert_int_equal(glia_dist_device(NULL, "opencl:0,vulkan:0", spec, sizeof spec), GLIA_STATUS_OK);
    assert_string_equal(spec, "opencl:0");
    assert_int_equal(glia_dist_device(NULL, "cpu", spec, sizeof spec), GLIA_STATUS_OK);
    assert_string_equal(spec, "cpu");
    assert_int_equal(glia_dist_device(NULL, ",cpu", spec, sizeof spec), GLIA_STATUS_INVALID_ARGUMENT);
    assert_non_null(strstr(glia_last_error(), "entry 1 is empty"));
    assert_int_equal(glia_dist_device(NULL, "", spec, sizeof spec), GLIA_STATUS_INVALID_ARGUMENT);
    assert_int_equal(glia_dist_device(NULL, "vulkan:00000000000000000000000000000000000000", spec, sizeof spec),
                     GLIA_STATUS_INVALID_ARGUMENT);
    assert_int_equal(glia_dist_agree(NULL, GLIA_STATUS_IO_ERROR), GLIA_STATUS_IO_ERROR);
    assert_int_equal(glia_dist_agree(NULL, GLIA_STATUS_OK), GLIA_STATUS_OK);
    assert_int_equal(glia_dist_default_threads(NULL), 0);
    double v[2] = {1.5, -2};
    assert_int_equal(glia_dist_allreduce_f64(NULL, v, 2, GLIA_DIST_SUM), GLIA_STATUS_OK);
    assert_true(v[0] == 1.5 && v[1] == -2);
    glia_params *p = NULL;
    assert_int_equal(glia_params_create(&p), GLIA_STATUS_OK);
    double rel = -1;
    assert_int_equal(glia_dist_sync_params(NULL, p, 1e-3, &rel), GLIA_STATUS_OK);
    assert_true(rel == 0);
    assert_int_equal(glia_dist_average_buffers(NULL, p), GLIA_STATUS_OK);
    glia_params_free(p);
}

/* A job of one merges its own table: the same rows in the same order, under the given names. */
static void test_table_gather_job_of_one(void **state)
{
    glia_label_info li;
    memset(&li, 0, sizeof li);
    li.channels = 1;
    li.region_classes[0] = 0x2;   /* class 1 */
    snprintf(li.names[0], sizeof li.names[0], "tumour");
    glia_eval_table *mine = NULL, *all = NULL;
    assert_int_equal(glia_eval_table_create(&li, 0, &mine), GLIA_STATUS_OK);
    assert_int_equal(glia_eval_table_create(&li, 0, &all), GLIA_STATUS_OK);
    uint8_t pred[8] = {1, 1, 0, 0, 1, 0, 0, 0}, ref[8] = {1, 0, 0, 0, 1, 1, 0, 0};
    int64_t dim[3] = {2, 2, 2};
    double sp[3] = {1, 1, 1}, extra[2] = {0.25, 0.5}, got[2];
    assert_int_equal(glia_eval_table_add(mine, "a", pred, ref, dim, sp), GLIA_STATUS_OK);
    assert_int_equal(glia_eval_table_add(mine, "b", ref, ref, dim, sp), GLIA_STATUS_OK);
    const char *ids[2] = {"A", "B"};
    assert_int_equal(glia_eval_table_gather(NULL, mine, 2, ids, extra, all, got), GLIA_STATUS_OK);
    assert_int_equal(glia_eval_table_cases(all), 2);
    assert_string_equal(glia_eval_table_case(all, 1), "B");
    assert_true(got[0] == 0.25 && got[1] == 0.5);
    /* Dice of case a: 2 TP / (3 + 3) */
    assert_true(fabs(glia_eval_table_get(all, 0, 0)->dice - 4.0 / 6.0) < 1e-12);
    assert_true(glia_eval_table_get(all, 1, 0)->dice == 1.0);
    assert_true(glia_eval_table_mean_dice(all, -1) == glia_eval_table_mean_dice(mine, -1));
    /* a table that does not hold this rank's share is refused */
    assert_int_equal(glia_eval_table_gather(NULL, mine, 3, ids, NULL, all, NULL), GLIA_STATUS_INVALID_ARGUMENT);
    glia_eval_table_free(mine);
    glia_eval_table_free(all);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hooks_report_complete_gradients),
        cmocka_unit_test(test_reducer_job_of_one),
        cmocka_unit_test(test_job_of_one),
        cmocka_unit_test(test_table_gather_job_of_one),
    };
    return cmocka_run_group_tests(tests, gt_open_cpu, gt_close_cpu);
}
