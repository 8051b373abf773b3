/* glia — the scalar reference path (private).
 *
 * Straightforward loops over host memory for every op of backend.h, written
 * once (ref_impl.h) and compiled for float and for double. The float version
 * is the oracle of the op table test and the CPU backend's `reference` mode;
 * the double version lets the gradient checks use finite differences in
 * double precision. Operands are host pointers in the slot order of backend.h
 * (t[i] already advanced by the view offset). The int32 pooling index slot is
 * passed through the same pointer array and cast by the implementation.
 * Accumulations use double in both versions. */
#ifndef GLIA_REF_H
#define GLIA_REF_H

#include "backends/backend.h"

glia_status glia_ref_run_f32(const glia_op *op, float *const t[8]);
glia_status glia_ref_run_f64(const glia_op *op, double *const t[8]);

#endif
