/* Private interface between the phantom generator and its writer. */
#ifndef GLIA_SYNTH_PRIV_H
#define GLIA_SYNTH_PRIV_H

#include "glia/data.h"

/* Fill image (4 x size: t1, t1ce, t2, flair) and label (BraTS 2021 values) of
 * case `index`; o->size must be set. template_t1, when not NULL, is a T1 image
 * on the same grid normalised to about [0, 1] (0 = outside the head). */
glia_status glia_synth_phantom_(const glia_synth_options *o, int index, const float *template_t1, float *image,
                                uint8_t *label);
/* Intensity of modality m for a normalised template T1 value. */
float glia_synth_template_contrast_(float t1, int m);

#endif
