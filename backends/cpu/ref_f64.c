/* The scalar reference path in double, for finite-difference gradient checks. */
#define REAL double
#define REF_RUN glia_ref_run_f64
#include "backends/cpu/ref_impl.h"
