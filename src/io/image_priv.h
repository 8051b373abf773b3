/* Private helpers shared by the image readers and writers (src/io). */
#ifndef GLIA_IMAGE_PRIV_H
#define GLIA_IMAGE_PRIV_H

#include <stdio.h>
#include "glia/image.h"

#include "core/error.h"

/* A zeroed volume header with default geometry (no data). */
glia_volume *glia_volume_alloc_(void);
/* Default geometry: unit spacing, qfac 1, no transform codes. */
void glia_geom_default_(glia_geom *g);
/* *bytes = elsize * product of dim, or 0 when a size is < 1 or the product overflows. */
int glia_volume_bytes_(int ndim, const int64_t *dim, size_t elsize, size_t *bytes);
/* UNSUPPORTED (naming path, the dims and the limit) when a volume of `bytes`
 * bytes, ndim sizes dim, exceeds glia_max_volume_bytes(). */
glia_status glia_volume_size_check_(const char *path, int ndim, const int64_t *dim, uint64_t bytes);

/* Format readers: *out gets a new volume (data NULL when header_only). */
glia_status glia_nifti_read_(const char *path, int header_only, glia_volume **out);
glia_status glia_png_read_(const char *path, glia_volume **out);
glia_status glia_tiff_read_(const char *path, glia_volume **out);
/* Writers write to tmp; the caller renames it to path (named in messages). */
glia_status glia_nifti_write_(const glia_volume *v, const char *path, const char *tmp, int version, int gzip_level);
glia_status glia_png_write_(const glia_volume *v, const char *path, const char *tmp);
glia_status glia_tiff_write_(const glia_volume *v, const char *path, const char *tmp);
/* The (w, h, channels) of a volume PNG/TIFF can hold, or an error naming path. */
glia_status glia_image2d_shape_(const glia_volume *v, const char *path, int maxc, int *w, int *h, int *c);
/* Row y of an interleaved image (w pixels of c samples of es bytes) to and from
 * a planar volume (x fastest, then y, then channel). */
void glia_row_to_planar_(void *data, size_t es, int w, int h, int c, int y, const void *row);
void glia_planar_to_row_(const void *data, size_t es, int w, int h, int c, int y, void *row);
/* A new (w, h) or (w, h, c) uint8/uint16 volume for a decoded image. */
glia_status glia_image2d_new_(const char *path, int w, int h, int c, int bits, glia_volume **out);

#endif
