/* glia — a tiny end-to-end self-check: a small conv net learns to segment
 * bright disks on noise. Used by `glia toy` and the training tests; it runs
 * every kind of layer the real models use (conv, batch norm, ReLU, max-pool,
 * transposed conv, concat, Dice + BCE, Adam). */
#ifndef GLIA_TOY_H
#define GLIA_TOY_H

#include "tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct glia_toy_options {
    int steps;        /* training steps; 0 = 80 */
    int batch;        /* images per step; 0 = 8 */
    int size;         /* image side; 0 = 32 (must be even) */
    uint64_t seed;
    int verbose;      /* 1: print the loss every 10 steps to stderr */
} glia_toy_options;

typedef struct glia_toy_result {
    double first_loss, last_loss;
    double dice;      /* Dice of thresholded predictions on held-out images */
    double seconds;   /* wall time of the training loop */
} glia_toy_result;

glia_status glia_toy_train(glia_device *dev, const glia_toy_options *opts, glia_toy_result *result);

#ifdef __cplusplus
}
#endif
#endif
