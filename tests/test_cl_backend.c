/* The OpenCL backend beyond the op table: device enumeration, rejection of
 * bad requests (no such device, allocations past the device's limits), and
 * convolutions forced through small workspaces so every chunking path (several
 * samples per chunk, output positions split across rows and planes) is
 * compared with the scalar reference. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "backends/cpu/ref.h"
#include "backends/opencl/cl_testing.h"
#include "op_cases.h"
#include "testutil.h"

#define GT_FIXTURE_BACKEND "opencl"
#include "backend_fixture.h"

static void test_enumerate(void **state)
{
    need_device();
    for (int i = 0; i < count && i < 8; i++) {
        printf("opencl:%d: %s | %s | %s | type %d | %llu MiB%s\n", i, info[i].vendor, info[i].name,
               info[i].driver, (int)info[i].type,
               (unsigned long long)(info[i].memory_bytes >> 20),
               info[i].emulated ? " | emulated" : "");
        assert_string_equal(info[i].backend, "opencl");
        assert_int_equal(info[i].index, i);
        assert_true(info[i].name[0] && info[i].vendor[0] && info[i].driver[0]);
        assert_true(info[i].memory_bytes > 0);
        assert_int_equal(info[i].emulated, info[i].type == GLIA_DEVICE_TYPE_CPU);
    }
}

static void test_bad_index(void **state)
{
    glia_bctx *ctx = NULL;
    assert_non_null(be);
    assert_int_equal(be->open(count, NULL, &ctx), GLIA_STATUS_NO_DEVICE);
    assert_int_equal(be->open(-1, NULL, &ctx), GLIA_STATUS_NO_DEVICE);
    assert_null(ctx);
}

static void test_oversized_alloc(void **state)
{
    need_device();
    glia_bctx *ctx;
    assert_int_equal(be->open(0, NULL, &ctx), GLIA_STATUS_OK);
    glia_bbuf *buf = NULL;
    /* more than the device has: past CL_DEVICE_MAX_MEM_ALLOC_SIZE too */
    size_t bytes = (size_t)info[0].memory_bytes * 2 + 4096;
    char want[32];
    snprintf(want, sizeof want, "%zu", bytes);
    assert_int_equal(be->buf_alloc(ctx, bytes, &buf), GLIA_STATUS_DEVICE_OOM);
    assert_null(buf);
    assert_non_null(strstr(glia_last_error(), want));   /* the message names the request */
    /* the context still works after the refusal */
    assert_int_equal(be->buf_alloc(ctx, 64, &buf), GLIA_STATUS_OK);
    be->buf_free(ctx, buf);
    be->close(ctx);
}

/* ---- convolutions through small workspaces ---------------------------------- */

typedef struct conv_case {
    const char *name;
    int64_t n, cin, cout, in[3];
    int k[3], s[3], p[3];
} conv_case;

static const conv_case convs[] = {
    {"2d_k3_p1", 3, 3, 4, {1, 9, 11}, {1, 3, 3}, {1, 1, 1}, {0, 1, 1}},
    {"2d_k3_s2", 2, 2, 3, {1, 10, 7}, {1, 3, 3}, {1, 2, 2}, {0, 0, 0}},
    {"3d_k3_p1", 2, 2, 3, {5, 6, 7}, {3, 3, 3}, {1, 1, 1}, {1, 1, 1}},
    {"3d_k3_s2_p1", 3, 3, 2, {7, 8, 9}, {3, 3, 3}, {2, 2, 2}, {1, 1, 1}},
    {"3d_aniso", 2, 2, 3, {3, 9, 8}, {1, 3, 3}, {1, 2, 2}, {0, 1, 1}},
    {"3d_k2_s2", 2, 3, 2, {6, 4, 8}, {2, 2, 2}, {2, 2, 2}, {0, 0, 0}},
};

static glia_conv_desc make_desc(const conv_case *c)
{
    glia_conv_desc d = {.nd = c->in[0] == 1 && c->k[0] == 1 ? 2 : 3,
                        .n = c->n, .cin = c->cin, .cout = c->cout};
    for (int a = 0; a < 3; a++) {
        d.in[a] = c->in[a];
        d.k[a] = c->k[a];
        d.stride[a] = c->s[a];
        d.pad[a] = c->p[a];
        d.out[a] = (c->in[a] + 2 * c->p[a] - c->k[a]) / c->s[a] + 1;
    }
    return d;
}

/* Element counts of the three operands of kind (x|dy, w|w, y|dx ...). */
static void sizes(const glia_conv_desc *d, glia_op_kind kind, size_t n[3])
{
    size_t x = (size_t)(d->n * d->cin * d->in[0] * d->in[1] * d->in[2]);
    size_t y = (size_t)(d->n * d->cout * d->out[0] * d->out[1] * d->out[2]);
    size_t w = (size_t)(d->cout * d->cin) * (size_t)(d->k[0] * d->k[1] * d->k[2]);
    if (kind == GLIA_OP_CONV_FWD) {
        n[0] = x, n[1] = w, n[2] = y;
    } else if (kind == GLIA_OP_CONV_BWD_DATA) {
        n[0] = y, n[1] = w, n[2] = x;
    } else {
        n[0] = x, n[1] = y, n[2] = w;
    }
}

/* Run one conv on the device with the given workspace bound; 1 on mismatch. */
static int conv_on(glia_bctx *ctx, const conv_case *c, glia_op_kind kind, size_t bound,
                   const char *bound_name)
{
    glia_op op = {.kind = kind, .p.conv = make_desc(c)};
    size_t n[3];
    sizes(&op.p.conv, kind, n);
    float *host[3], *ref[3];
    glia_bbuf *buf[3];
    for (int i = 0; i < 3; i++) {
        host[i] = malloc(n[i] * sizeof(float));
        ref[i] = malloc(n[i] * sizeof(float));
        assert_true(host[i] && ref[i]);
        gt_fill(host[i], n[i], (uint64_t)(i + 1) * 7919 + (uint64_t)kind, -1.0f, 1.0f);
        memcpy(ref[i], host[i], n[i] * sizeof(float));
        assert_int_equal(be->buf_alloc(ctx, n[i] * sizeof(float), &buf[i]), GLIA_STATUS_OK);
        assert_int_equal(be->write(ctx, buf[i], 0, host[i], n[i] * sizeof(float)),
                         GLIA_STATUS_OK);
        op.t[i] = (glia_bview){buf[i], 0, GLIA_ETYPE_F32};
    }
    float *const refp[8] = {ref[0], ref[1], ref[2]};
    glia_op rop = op;
    assert_int_equal(glia_ref_run_f32(&rop, refp), GLIA_STATUS_OK);
    glia_cl_set_workspace_bound(ctx, bound);
    glia_status st = be->run(ctx, &op);
    if (st != GLIA_STATUS_OK)
        fail_msg("%s %s (%s): %s", c->name, kind == GLIA_OP_CONV_FWD ? "fwd" : "bwd", bound_name,
                 glia_last_error());
    assert_int_equal(be->read(ctx, buf[2], 0, host[2], n[2] * sizeof(float)), GLIA_STATUS_OK);
    double err = gt_nerr(host[2], ref[2], n[2]);
    int bad = !(err <= GT_TOL_MM);
    if (bad)
        printf("conv %s kind %d workspace %s: normalised error %.3g\n", c->name, (int)kind,
               bound_name, err);
    for (int i = 0; i < 3; i++) {
        be->buf_free(ctx, buf[i]);
        free(host[i]);
        free(ref[i]);
    }
    glia_cl_set_workspace_bound(ctx, 0);
    return bad;
}

static void test_conv_chunks(void **state)
{
    need_device();
    glia_bctx *ctx;
    glia_device_options opts = {.cache_dir = gt_cache_dir()};
    assert_int_equal(be->open(0, &opts, &ctx), GLIA_STATUS_OK);
    static const glia_op_kind kinds[] = {GLIA_OP_CONV_FWD, GLIA_OP_CONV_BWD_DATA,
                                         GLIA_OP_CONV_BWD_WEIGHT};
    int fails = 0, runs = 0;
    for (size_t ci = 0; ci < sizeof convs / sizeof convs[0]; ci++) {
        glia_conv_desc d = make_desc(&convs[ci]);
        size_t K = (size_t)(d.cin * d.k[0] * d.k[1] * d.k[2]);
        size_t P = (size_t)(d.out[0] * d.out[1] * d.out[2]);
        size_t f = sizeof(float);
        /* positions per chunk: 3 (splits rows and planes anywhere), a row and
         * a half, one sample; then two samples, with and without dy gathered */
        const struct { size_t bytes; const char *name; } bounds[] = {
            {K * 3 * f, "3 columns"},
            {K * (size_t)d.out[2] * 3 / 2 * f, "1.5 rows"},
            {K * P * f, "1 sample"},
            {K * P * 2 * f, "2 samples"},
            {(K + (size_t)d.cout) * P * 4 * f, "all samples, dy gathered"},
            {0, "default"},
        };
        for (size_t k = 0; k < 3; k++)
            for (size_t b = 0; b < sizeof bounds / sizeof bounds[0]; b++) {
                fails += conv_on(ctx, &convs[ci], kinds[k], bounds[b].bytes, bounds[b].name);
                runs++;
            }
    }
    be->close(ctx);
    printf("conv chunks: %d runs, %d failures\n", runs, fails);
    assert_int_equal(fails, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_enumerate),
        cmocka_unit_test(test_bad_index),
        cmocka_unit_test(test_oversized_alloc),
        cmocka_unit_test(test_conv_chunks),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
