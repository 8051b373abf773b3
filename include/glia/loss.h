/* glia — losses. Each returns a one-element tensor (shape [1]) that
 * glia_backward can start from. logits and target have the same shape
 * N, C, spatial...; targets are not differentiated. */
#ifndef GLIA_LOSS_H
#define GLIA_LOSS_H

#include "tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Mean binary cross-entropy of sigmoid(logits) against target in [0,1]
 * (PyTorch BCEWithLogitsLoss, reduction mean). */
glia_status glia_loss_bce_logits(glia_tensor *logits, glia_tensor *target, glia_tensor **out);

/* Mean over N and spatial positions of -sum_c target*log_softmax(logits) over
 * channels; target holds one-hot (or soft) class probabilities
 * (PyTorch CrossEntropyLoss with probability targets, reduction mean). */
glia_status glia_loss_softmax_ce(glia_tensor *logits, glia_tensor *target, glia_tensor **out);

/* Mean squared error (PyTorch MSELoss, reduction mean), on any tensors of one shape. */
glia_status glia_loss_mse(glia_tensor *pred, glia_tensor *target, glia_tensor **out);

typedef enum glia_dice_activation {
    GLIA_DICE_SIGMOID = 0,  /* logits -> sigmoid per channel (binary / overlapping regions) */
    GLIA_DICE_SOFTMAX,      /* logits -> softmax over channels (exclusive labels) */
    GLIA_DICE_NONE          /* input already holds probabilities */
} glia_dice_activation;

/* Soft Dice options. Zero-initialised = sigmoid, smooth 1e-5, penalty 1,
 * per-sample-and-channel Dice averaged (MONAI's DiceLoss defaults). */
typedef struct glia_dice_options {
    glia_dice_activation activation;
    float smooth;       /* s, added to numerator and denominator; 0 = 1e-5 */
    float penalty;      /* p of the BraTS study's eq. (2); 0 = 1 (plain Dice) */
    int batch;          /* 1: sum over the batch before the ratio (one Dice per channel) */
} glia_dice_options;

/* 1 - mean over (n, c) of (2*p*I + s) / (T + p*P + s), where I = sum(P*T),
 * P = sum of predicted probabilities, T = sum of target, over spatial axes
 * (and N if batch). p = 1 is the ordinary soft Dice loss. opts may be NULL. */
glia_status glia_loss_dice(glia_tensor *logits, glia_tensor *target, const glia_dice_options *opts,
                           glia_tensor **out);

/* w_dice * Dice + w_bce * BCE-with-logits (Dice with sigmoid). opts may be NULL. */
glia_status glia_loss_dice_bce(glia_tensor *logits, glia_tensor *target, const glia_dice_options *opts,
                               float w_dice, float w_bce, glia_tensor **out);
/* w_dice * Dice + w_ce * softmax cross-entropy (Dice with softmax). */
glia_status glia_loss_dice_ce(glia_tensor *logits, glia_tensor *target, const glia_dice_options *opts,
                              float w_dice, float w_ce, glia_tensor **out);

#ifdef __cplusplus
}
#endif
#endif
