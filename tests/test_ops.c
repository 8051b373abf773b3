/* The op table test: every case of op_cases.c on every device of one backend
 * (argv[1]), compared with the scalar reference (glia_ref_run_f32) on host
 * copies of the same inputs.
 *
 * Every operand lives at a view offset (the case's off) inside a buffer with a
 * guard tail; both guards must come back untouched, inputs must come back
 * unchanged, float outputs must be within the case's normalised error and
 * index outputs must be equal. For the cpu backend the table also runs with
 * an odd thread count and, for the cheap cases, in reference mode. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "backends/cpu/ref.h"
#include "op_cases.h"
#include "testutil.h"

#define GUARD 16          /* elements after each operand that must stay untouched */
#define MAX_TARGETS 16

static const char *backend_name = "cpu";
static const char *kind_prefix = "";   /* argv[2]: only the kinds whose name starts so */

static int selected(glia_op_kind k) { return strncmp(glia_op_name(k), kind_prefix, strlen(kind_prefix)) == 0; }

typedef struct target {
    const glia_backend *be;
    glia_bctx *ctx;
    char label[96];
    int skip_big;
    int unsupported;     /* cases supports() declined */
    int ran[GLIA_OP_COUNT_]; /* cases run, per kind */
} target;

typedef struct operands {
    glia_op_slot s[8];
    float *init[8];      /* generated contents, off + n + GUARD elements (NULL: unused or alias) */
    float *ref[8];       /* reference results, same layout */
    size_t len[8];
} operands;

static int alias_of(const gt_op_case *c, int slot)
{
    return c->alias_out && c->alias_out - 1 == slot ? c->alias_in : -1;
}

static void free_operands(operands *o)
{
    for (int i = 0; i < 8; i++) {
        free(o->init[i]);
        free(o->ref[i]);
    }
}

/* Generate the inputs and initial outputs of case ci and run the reference. */
static int prepare(const gt_op_case *c, size_t ci, operands *o)
{
    memset(o, 0, sizeof *o);
    gt_op_slots(&c->op, c->omit, o->s);
    float *refp[8] = {0};
    for (int i = 0; i < 8; i++) {
        if (o->s[i].role == GLIA_SLOT_UNUSED || alias_of(c, i) >= 0)
            continue;
        o->len[i] = c->off + o->s[i].n + GUARD;
        o->init[i] = malloc(o->len[i] * sizeof(float));
        o->ref[i] = malloc(o->len[i] * sizeof(float));
        if (!o->init[i] || !o->ref[i])
            return -1;
        uint64_t seed = (uint64_t)ci * 16 + (uint64_t)i + 1;
        gt_fill(o->init[i], o->len[i], seed, o->s[i].lo, o->s[i].hi);
        if (c->coarse)
            for (size_t k = 0; k < o->len[i]; k++)
                o->init[i][k] = roundf(o->init[i][k] * 4.0f) / 4.0f;
        if (o->s[i].type == GLIA_ETYPE_I32 && o->s[i].role == GLIA_SLOT_IN)
            gt_gen_index(&c->op, i, (int32_t *)(o->init[i] + c->off), seed);
        memcpy(o->ref[i], o->init[i], o->len[i] * sizeof(float));
        refp[i] = o->ref[i] + c->off;
    }
    for (int i = 0; i < 8; i++) {
        int a = alias_of(c, i);
        if (a >= 0)
            refp[i] = refp[a];
    }
    glia_op op = c->op;
    glia_status st = glia_ref_run_f32(&op, refp);
    if (st != GLIA_STATUS_OK) {
        printf("ops: %s/%s: reference failed: %s: %s\n", glia_op_name(c->op.kind), c->name,
               glia_status_str(st), glia_last_error());
        return -1;
    }
    return 0;
}

/* Compare one read-back operand with the reference; returns 1 on failure. */
static int compare_slot(const target *tg, const gt_op_case *c, const operands *o, int i,
                        const float *got)
{
    const char *op = glia_op_name(c->op.kind);
    size_t off = c->off, n = o->s[i].n;
    /* guards and untouched inputs must be bit-identical */
    int is_out = o->s[i].role == GLIA_SLOT_OUT || (c->alias_out && c->alias_in == i);
    size_t lo = off, hi = is_out ? off + n : off;   /* inputs: the whole buffer */
    for (size_t k = 0; k < o->len[i]; k++) {
        if (k >= lo && k < hi)
            continue;
        if (memcmp(&got[k], &o->init[i][k], sizeof(float)) != 0) {
            printf("ops: %s/%s on %s: slot %d: element %zu %s was modified\n", op, c->name,
                   tg->label, i, k, k < off ? "before the view" : k >= off + n ? "after the view"
                                                                                 : "of an input");
            return 1;
        }
    }
    if (!is_out)
        return 0;
    if (o->s[i].type == GLIA_ETYPE_I32) {
        const int32_t *a = (const int32_t *)(got + off), *b = (const int32_t *)(o->ref[i] + off);
        size_t bad = 0, first = 0;
        for (size_t k = 0; k < n; k++)
            if (a[k] != b[k] && bad++ == 0)
                first = k;
        if (bad) {
            printf("ops: %s/%s on %s: slot %d: %zu of %zu indices differ (first at %zu: %d vs %d)\n",
                   op, c->name, tg->label, i, bad, n, first, (int)a[first], (int)b[first]);
            return 1;
        }
        return 0;
    }
    double err = gt_nerr(got + off, o->ref[i] + off, n);
    if (!(err <= c->tol)) {
        printf("ops: %s/%s on %s: slot %d: normalised error %.3g > tolerance %.3g\n", op, c->name,
               tg->label, i, err, c->tol);
        return 1;
    }
    return 0;
}

/* Run case c on one target and compare; returns the number of failures. */
static int run_on(target *tg, const gt_op_case *c, const operands *o)
{
    const glia_backend *be = tg->be;
    glia_bbuf *buf[8] = {0};
    float *got = NULL;
    int fails = 0, skipped = 0;
    glia_status st = GLIA_STATUS_OK;
    glia_op op = c->op;
    for (int i = 0; i < 8 && st == GLIA_STATUS_OK; i++) {
        if (!o->init[i])
            continue;
        st = be->buf_alloc(tg->ctx, o->len[i] * sizeof(float), &buf[i]);
        if (st == GLIA_STATUS_OK)
            st = be->write(tg->ctx, buf[i], 0, o->init[i], o->len[i] * sizeof(float));
        op.t[i] = (glia_bview){buf[i], c->off, o->s[i].type};
    }
    for (int i = 0; i < 8; i++) {
        int a = alias_of(c, i);
        if (a >= 0)
            op.t[i] = op.t[a];
    }
    /* a backend is judged on what it claims: a supported op must be right */
    if (st == GLIA_STATUS_OK && !be->supports(tg->ctx, &op)) {
        printf("ops: %s/%s on %s: not supported, not run\n", glia_op_name(c->op.kind), c->name, tg->label);
        tg->unsupported++;
        skipped = 1;
    } else if (st == GLIA_STATUS_OK) {
        st = be->run(tg->ctx, &op);
        tg->ran[op.kind]++;
    }
    if (st == GLIA_STATUS_OK)
        st = be->sync(tg->ctx);
    for (int i = 0; i < 8 && st == GLIA_STATUS_OK && !skipped; i++) {
        if (!buf[i])
            continue;
        free(got);
        got = malloc(o->len[i] * sizeof(float));
        if (!got) {
            st = GLIA_STATUS_OUT_OF_MEMORY;
            break;
        }
        st = be->read(tg->ctx, buf[i], 0, got, o->len[i] * sizeof(float));
        if (st == GLIA_STATUS_OK)
            fails += compare_slot(tg, c, o, i, got);
    }
    if (st != GLIA_STATUS_OK) {
        printf("ops: %s/%s on %s: %s: %s\n", glia_op_name(c->op.kind), c->name, tg->label,
               glia_status_str(st), glia_last_error());
        fails++;
    }
    free(got);
    for (int i = 0; i < 8; i++)
        if (buf[i])
            be->buf_free(tg->ctx, buf[i]);
    return fails;
}

static int open_target(target *tg, const glia_backend *be, int index, const char *what,
                       const glia_device_options *opts)
{
    tg->be = be;
    snprintf(tg->label, sizeof tg->label, "%s:%d%s", be->name, index, what);
    glia_status st = be->open(index, opts, &tg->ctx);
    if (st != GLIA_STATUS_OK) {
        printf("ops: opening %s failed: %s: %s\n", tg->label, glia_status_str(st),
               glia_last_error());
        return -1;
    }
    return 0;
}

static void test_coverage(void **state)
{
    int covered[GLIA_OP_COUNT_] = {0};
    for (size_t i = 0; i < gt_op_case_count; i++) {
        assert_true((unsigned)gt_op_cases[i].op.kind < GLIA_OP_COUNT_);
        covered[gt_op_cases[i].op.kind]++;
        for (size_t j = 0; j < i; j++)
            if (gt_op_cases[j].op.kind == gt_op_cases[i].op.kind &&
                strcmp(gt_op_cases[j].name, gt_op_cases[i].name) == 0)
                fail_msg("duplicate case %s/%s", glia_op_name(gt_op_cases[i].op.kind),
                         gt_op_cases[i].name);
    }
    int missing = 0;
    for (int k = 0; k < GLIA_OP_COUNT_; k++)
        if (covered[k] < 2) {
            printf("ops: op kind %s has %d case(s); every kind needs several\n",
                   glia_op_name((glia_op_kind)k), covered[k]);
            missing++;
        }
    /* every unary mode of the table, and the backward of each that has one */
    for (int m = 0; m < GLIA_UNARY_COUNT_; m++) {
        int fwd = 0, bwd = 0;
        glia_grad_reads g = glia_unary_grad((glia_unary_mode)m);
        for (size_t i = 0; i < gt_op_case_count; i++) {
            const glia_op *op = &gt_op_cases[i].op;
            fwd += op->kind == GLIA_OP_UNARY && (int)op->p.unary.mode == m;
            bwd += op->kind == GLIA_OP_UNARY_BWD && (int)op->p.unary.mode == m;
        }
        int need_bwd = g == GLIA_GRAD_X || g == GLIA_GRAD_Y;
        if (fwd < 1 || (need_bwd && bwd < 1)) {
            glia_op op = {.kind = GLIA_OP_UNARY, .p.unary.mode = (glia_unary_mode)m};
            printf("ops: unary mode %s has %d forward and %d backward case(s)\n", glia_op_mode_name(&op), fwd,
                   bwd);
            missing++;
        }
    }
    assert_int_equal(missing, 0);
}

/* Ops outside the table are refused by supports(), never run. */
static int check_refusals(const target *tg)
{
    glia_op bad[] = {
        {.kind = GLIA_OP_UNARY, .p.unary = {.n = 4, .mode = GLIA_UNARY_COUNT_}},
        {.kind = GLIA_OP_UNARY_BWD, .p.unary = {.n = 4, .mode = GLIA_UNARY_THRESHOLD}},
        {.kind = GLIA_OP_UNARY_BWD, .p.unary = {.n = 4, .mode = GLIA_UNARY_AFFINE}},
        {.kind = GLIA_OP_BINARY, .p.binary = {.n = 4, .mode = GLIA_BINARY_COUNT_}},
        {.kind = GLIA_OP_COUNT_},
    };
    int fails = 0;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (tg->be->supports(tg->ctx, &bad[i])) {
            printf("ops: %s claims the ill-formed op %zu (%s)\n", tg->label, i, glia_op_name(bad[i].kind));
            fails++;
        }
    return fails;
}

static void test_table(void **state)
{
    const glia_backend *be = gt_backend(backend_name);
    int count = 0;
    glia_device_info info[MAX_TARGETS];
    if (be && be->enumerate(info, MAX_TARGETS, &count) != GLIA_STATUS_OK)
        count = 0;
    if (count == 0) {
        if (gt_backend_required(backend_name))
            fail_msg("backend %s has no device but GLIA_REQUIRE_BACKENDS requires it", backend_name);
        printf("ops: backend %s: no device, skipped\n", backend_name);
        skip();
    }
    if (count > MAX_TARGETS - 3)
        count = MAX_TARGETS - 3;
    target tg[MAX_TARGETS] = {0};
    int nt = 0, fails = 0, nsel = 0;
    glia_device_options opts = {.cache_dir = gt_cache_dir()};
    for (int d = 0; d < count; d++) {
        if (open_target(&tg[nt], be, info[d].index, "", &opts) == 0)
            nt++;
        else
            fails++;
    }
    if (strcmp(backend_name, "cpu") == 0) {
        /* one thread takes the CPU backend's chunk-by-chunk paths, an odd count
         * splits loops unevenly; reference mode checks the runner itself */
        glia_device_options o1 = opts, o3 = opts, oref = opts;
        o1.threads = 1;
        o3.threads = 3;
        oref.reference = 1;
        if (open_target(&tg[nt], be, 0, " (threads=1)", &o1) == 0)
            nt++;
        else
            fails++;
        if (open_target(&tg[nt], be, 0, " (threads=3)", &o3) == 0)
            nt++;
        else
            fails++;
        /* reference mode runs no backend kernel: once is enough, not again per kernel variant */
        if (!*kind_prefix) {
            if (open_target(&tg[nt], be, 0, " (reference)", &oref) == 0)
                tg[nt++].skip_big = 1;
            else
                fails++;
        }
    }
    for (size_t ci = 0; ci < gt_op_case_count; ci++) {
        const gt_op_case *c = &gt_op_cases[ci];
        operands o;
        if (!selected(c->op.kind))
            continue;
        nsel++;
        if (prepare(c, ci, &o) != 0) {
            printf("ops: %s/%s: could not prepare the case\n", glia_op_name(c->op.kind), c->name);
            fails++;
        } else {
            for (int t = 0; t < nt; t++)
                if (!(c->big && tg[t].skip_big))
                    fails += run_on(&tg[t], c, &o);
        }
        free_operands(&o);
    }
    for (int t = 0; t < nt; t++) {
        fails += check_refusals(&tg[t]);
        if (tg[t].unsupported)
            printf("ops: %s: %d case(s) not supported\n", tg[t].label, tg[t].unsupported);
        /* declining is for sizes or types a device cannot take, never a whole
         * kind; and the CPU backend, everyone's fallback, declines nothing */
        for (int k = 0; k < GLIA_OP_COUNT_; k++)
            if (!tg[t].ran[k] && selected((glia_op_kind)k)) {
                printf("ops: %s runs no case of %s\n", tg[t].label, glia_op_name((glia_op_kind)k));
                fails++;
            }
        if (strcmp(backend_name, "cpu") == 0 && tg[t].unsupported)
            fails++;
        be->close(tg[t].ctx);
    }
    printf("ops: backend %s: %d of %zu cases (kinds %s*) on %d target(s), %d failure(s)\n", backend_name,
           nsel, gt_op_case_count, kind_prefix, nt, fails);
    assert_int_equal(fails, 0);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        backend_name = argv[1];
    if (argc > 2)
        kind_prefix = argv[2];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_coverage),
        cmocka_unit_test(test_table),
    };
    return cmocka_run_group_tests_name(backend_name, tests, NULL, NULL);
}
