/* Which way an overlay shows a volume. Overlays are axial slices in the
 * radiological convention: the patient's right on the picture's left (the
 * patient's left on its right), anterior at the top, as if looking up from the
 * feet, which is how radiology reports and BraTS figures show brains. The
 * voxel axes behind that come from the case's affine (sform, else qform, else
 * plain spacing, as NIfTI prescribes), not from how the file happens to store
 * the voxels, so a scan stored with an axis reversed or i and j swapped gives
 * the same picture. Pictures (PNG, TIFF) have no patient frame: they are shown
 * as stored, row 0 at the top, without orientation letters. */
#include <math.h>
#include "infer/infer_priv.h"

/* World axes are NIfTI's RAS+: x to the patient's right, y anterior, z superior.
 * Each voxel axis goes to the world axis its direction is closest to: the
 * assignment (a permutation) with the largest sum of |cosines|. */
static void assign(const double A[4][4], int world_to_voxel[3], int sign[3])
{
    static const int perms[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
    double cosine[3][3]; /* [world][voxel] */
    for (int k = 0; k < 3; k++) {
        double n = sqrt(A[0][k] * A[0][k] + A[1][k] * A[1][k] + A[2][k] * A[2][k]);
        for (int w = 0; w < 3; w++)
            cosine[w][k] = n > 0 ? A[w][k] / n : (w == k);
    }
    int best = 0;
    double best_sum = -1;
    for (int p = 0; p < 6; p++) {
        double sum = 0;
        for (int w = 0; w < 3; w++)
            sum += fabs(cosine[w][perms[p][w]]);
        if (sum > best_sum + 1e-12) {
            best_sum = sum;
            best = p;
        }
    }
    for (int w = 0; w < 3; w++) {
        world_to_voxel[w] = perms[best][w];
        sign[w] = cosine[w][perms[best][w]] < 0 ? -1 : 1;
    }
}

glia_overlay_view glia_overlay_view_(const glia_volume *ref, const int64_t dim[3])
{
    glia_overlay_view v = {{0, 1, 2}, {0, 0, 0}, {dim[0], dim[1], dim[2]}, 0};
    if (!ref || ref->nifti_version <= 0)
        return v;
    double A[4][4];
    glia_geom_affine(&ref->geom, A);
    int axis[3], sign[3];
    assign(A, axis, sign);
    /* columns run to the patient's left (world -x), rows to posterior (-y), slices to superior (+z) */
    static const int want[3] = {-1, -1, 1};
    for (int d = 0; d < 3; d++) {
        v.axis[d] = axis[d];
        v.reversed[d] = sign[d] != want[d];
        v.size[d] = dim[axis[d]];
    }
    v.oriented = 1;
    return v;
}

int64_t glia_overlay_voxel_(const glia_overlay_view *v, const int64_t dim[3], int64_t col, int64_t row, int64_t slice)
{
    int64_t at[3], pos[3] = {col, row, slice};
    for (int d = 0; d < 3; d++)
        at[v->axis[d]] = v->reversed[d] ? v->size[d] - 1 - pos[d] : pos[d];
    return (at[2] * dim[1] + at[1]) * dim[0] + at[0];
}

int64_t glia_overlay_slice_index_(const glia_overlay_view *v, int64_t slice)
{
    return v->reversed[2] ? v->size[2] - 1 - slice : slice;
}
