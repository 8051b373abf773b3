/* The op table test's cases (tests/op_cases.c), shared unchanged by every
 * backend: each case is an op with its parameters; the runner (test_ops.c)
 * derives the operands from gt_op_slots, generates them, runs the op on a
 * backend and on the scalar reference, and compares the outputs. */
#ifndef GLIA_OP_CASES_H
#define GLIA_OP_CASES_H

#include <stddef.h>
#include <stdint.h>
#include "backends/backend.h"

/* Tolerances on the normalised error ||out - ref|| / ||ref|| of one output,
 * for float32 (unit roundoff u = 2^-24 = 6e-8):
 * - GT_TOL_EW: elementwise ops, a few roundings per element and library
 *   exp/log within a few ulp, or sums over at most a handful of channels;
 *   1e-6 is ~16u.
 * - GT_TOL_RED: reductions over up to ~10^6 elements (and what is computed
 *   from them, like batch-norm outputs), whose summation order differs from
 *   the reference's double accumulation; a blocked float32 sum errs by about
 *   sqrt(blocks) u, so 1e-5 leaves room without hiding a wrong term
 *   (one element wrong in 10^6 already gives ~1e-3).
 * - GT_TOL_MM: GEMM and convolutions, float32 dot products of length up to a
 *   few 10^4 (backward-weight reduces over the batch and all voxels) in the
 *   BLAS's blocked order: ~sqrt(block count * block) u, so 2e-5. */
#define GT_TOL_EW 1e-6
#define GT_TOL_RED 1e-5
#define GT_TOL_MM 2e-5

typedef struct gt_op_case {
    const char *name;  /* unique among the cases of its op kind */
    double tol;        /* max normalised error of each float output */
    glia_op op;        /* kind and parameters; the runner sets the views */
    size_t off;        /* view offset (elements) of every operand: tests offsets */
    int alias_out;     /* 1 + slot that shares the view of slot alias_in; 0 = none */
    int alias_in;
    unsigned omit;     /* bit i: leave optional slot i NULL */
    int big;           /* large (exercises chunking): expensive on slow paths */
    int coarse;        /* round generated data to multiples of 1/4: ties and exact
                          zeros, as after a ReLU (first-max-wins, y > 0 tests) */
} gt_op_case;

extern const gt_op_case gt_op_cases[];
extern const size_t gt_op_case_count;

/* The operand slots of op from the op table (glia_op_slots), with omit applied. */
void gt_op_slots(const glia_op *op, unsigned omit, glia_op_slot s[8]);
/* Valid int32 data for an index slot: for MAXPOOL_BWD one random position
 * inside each window; for GATHER_ROWS rows of the table, none used more than
 * ceil(n/rows) times; for GATHER_ROWS_BWD that index's inverse (slot 1 the
 * order, slot 2 the row starts). */
void gt_gen_index(const glia_op *op, int slot, int32_t *idx, uint64_t seed);

#endif
