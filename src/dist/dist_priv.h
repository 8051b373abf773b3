/* Private parts of data parallelism (src/dist). */
#ifndef GLIA_DIST_PRIV_H
#define GLIA_DIST_PRIV_H

#include "app/app_priv.h"
#include "glia/dist.h"

#endif
