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

/* mkdir that accepts an existing folder. */
glia_status glia_synth_make_dir_(const char *path);
/* One NIfTI volume in BraTS's grid: 1 mm, LPS-flipped i and j like the
 * challenge's files; int16 from f, or uint8 from lab when lab is not NULL. */
glia_status glia_synth_write_nifti_(const char *path, const int64_t *size, glia_dtype t, const float *f,
                                    const uint8_t *lab);
/* nnU-Net v2 (src/data/synth_nnunet.c): the folders and dataset.json, then each case. */
glia_status glia_synth_nnunet_prepare_(const char *dir, const glia_synth_options *o);
glia_status glia_synth_nnunet_case_(const char *dir, const glia_synth_options *o, int i, const float *img,
                                    uint8_t *lab);
#endif
