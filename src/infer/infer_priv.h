/* Private parts of inference (src/infer): the public API and the shared app
 * layer. Inference is the bottom of the three apps: it calls neither
 * evaluation nor training. */
#ifndef GLIA_INFER_PRIV_H
#define GLIA_INFER_PRIV_H

#include "app/app_priv.h"
#include "glia/infer.h"

/* How an overlay walks a case (overlay_view.c): picture column, row and
 * slice d run along voxel axis axis[d], backwards where reversed[d]. */
typedef struct glia_overlay_view {
    int axis[3];          /* voxel axis shown as columns, rows, slices */
    int reversed[3];
    int64_t size[3];      /* columns, rows, slices */
    int oriented;         /* 1: from a patient frame (radiological, letters R L A P apply); 0: as stored */
} glia_overlay_view;
/* The view of a case with header ref (NULL or a picture: as stored) and size dim. */
/* Sliding windows of side win along an axis of size voxels (padded up to win
 * when smaller) at overlap: as many as nnU-Net places (glia_predict). */
int64_t glia_predict_window_count_(int64_t size, int64_t win, float overlap);

glia_overlay_view glia_overlay_view_(const glia_volume *ref, const int64_t dim[3]);
/* The voxel (index into dim[0] x dim[1] x dim[2], i fastest) at a column, row, slice. */
int64_t glia_overlay_voxel_(const glia_overlay_view *v, const int64_t dim[3], int64_t col, int64_t row, int64_t slice);
/* The voxel index along the slice axis of a slice (what file names and captions give). */
int64_t glia_overlay_slice_index_(const glia_overlay_view *v, int64_t slice);
/* The colour of class k in overlays and their legends. */
const uint8_t *glia_overlay_colour_(int k);

/* Up to `want` overlay PNGs of case c with class map cls into dir as
 * <id>_overlay_<slice>.png; *written counts them. */
glia_status glia_write_overlays_(const glia_label_info *li, const glia_case *c, const uint8_t *cls, int want,
                                 const char *dir, const char *id, int *written);

#endif
