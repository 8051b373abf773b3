/* The scalar reference path in float: the oracle of the op table test and the
 * CPU backend's reference mode. */
#define REAL float
#define REF_RUN glia_ref_run_f32
#include "backends/cpu/ref_impl.h"
