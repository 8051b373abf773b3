/* Private parts of inference (src/infer): the public API and the shared app
 * layer. Inference is the bottom of the three apps: it calls neither
 * evaluation nor training. */
#ifndef GLIA_INFER_PRIV_H
#define GLIA_INFER_PRIV_H

#include "app/app_priv.h"
#include "glia/infer.h"

/* Up to `want` overlay PNGs of case c with class map cls into dir as
 * <id>_overlay_<slice>.png; *written counts them. */
glia_status glia_write_overlays_(const glia_label_info *li, const glia_case *c, const uint8_t *cls, int want,
                                 const char *dir, const char *id, int *written);

#endif
