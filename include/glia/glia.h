/* glia — train and run U-Net-family segmentation networks on any GPU through
 * OpenCL and Vulkan, or on the CPU. This header includes the whole public API. */
#ifndef GLIA_H
#define GLIA_H

#include "status.h"
#include "device.h"
#include "tensor.h"
#include "ops.h"
#include "loss.h"
#include "metrics.h"
#include "params.h"
#include "optim.h"
#include "toy.h"
#include "model.h"
#include "io.h"
#include "image.h"
#include "data.h"
#include "infer.h"
#include "eval.h"
#include "train.h"
#include "dist.h"
#include "bench.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The library version, "MAJOR.MINOR.PATCH". */
const char *glia_version(void);

#ifdef __cplusplus
}
#endif
#endif
