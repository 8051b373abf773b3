/* Private parts of evaluation (src/eval): the public API and the shared app
 * layer. Evaluation may run the predictor (inference), never training. */
#ifndef GLIA_EVAL_PRIV_H
#define GLIA_EVAL_PRIV_H

#include "app/app_priv.h"
#include "glia/eval.h"

#endif
