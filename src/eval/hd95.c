/* The 95th-percentile Hausdorff distance: mask surfaces, an exact Euclidean
 * distance transform with voxel spacing (Felzenszwalb & Huttenlocher's lower
 * envelope of parabolas, one axis at a time), and the percentile of the
 * surface-to-surface distances in both directions. Work is confined to the
 * bounding box of both surfaces: every query and every site lies inside it,
 * so the transform restricted to the box is exact. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "eval/eval_priv.h"

typedef struct box {
    int64_t lo[3], n[3];   /* origin and size within the full grid */
} box;

/* Voxel (x, y, z) of the grid is on the surface of mask m: inside, with a
 * 6-neighbour outside the mask or the grid. Axes of size 1 have no neighbours
 * (a 2-D image is a 2-D problem). */
static int on_surface(const uint8_t *m, const int64_t *dim, int64_t x, int64_t y, int64_t z)
{
    int64_t v = (z * dim[1] + y) * dim[0] + x;
    if (!m[v])
        return 0;
    const int64_t c[3] = {x, y, z}, step[3] = {1, dim[0], dim[0] * dim[1]};
    for (int a = 0; a < 3; a++) {
        if (dim[a] == 1)
            continue;
        if (c[a] == 0 || c[a] == dim[a] - 1 || !m[v - step[a]] || !m[v + step[a]])
            return 1;
    }
    return 0;
}

/* Surface flags of a and b over the box, and the box of both surfaces. 0 if a mask has no voxel. */
static void surfaces(const uint8_t *a, const uint8_t *b, const int64_t *dim, uint8_t *sa, uint8_t *sb, box *bx,
                     int64_t *na, int64_t *nb)
{
    int64_t lo[3] = {dim[0], dim[1], dim[2]}, hi[3] = {-1, -1, -1};
    *na = *nb = 0;
    for (int64_t z = 0; z < dim[2]; z++)
        for (int64_t y = 0; y < dim[1]; y++)
            for (int64_t x = 0; x < dim[0]; x++) {
                int64_t v = (z * dim[1] + y) * dim[0] + x;
                sa[v] = (uint8_t)on_surface(a, dim, x, y, z);
                sb[v] = (uint8_t)on_surface(b, dim, x, y, z);
                if (!sa[v] && !sb[v])
                    continue;
                *na += sa[v];
                *nb += sb[v];
                const int64_t c[3] = {x, y, z};
                for (int k = 0; k < 3; k++) {
                    lo[k] = c[k] < lo[k] ? c[k] : lo[k];
                    hi[k] = c[k] > hi[k] ? c[k] : hi[k];
                }
            }
    for (int k = 0; k < 3; k++) {
        bx->lo[k] = hi[k] >= 0 ? lo[k] : 0;
        bx->n[k] = hi[k] >= 0 ? hi[k] - lo[k] + 1 : 0;
    }
}

/* d[p] = min_q (p - q)^2 * w + f[q] over one line of n values (stride apart),
 * with f = INFINITY where there is no site. v, z, g, out: scratch of n (+1) entries. */
static void edt_line(double *f, int64_t n, int64_t stride, double w, int64_t *v, double *z, double *g, double *out)
{
    int64_t k = -1;
    for (int64_t q = 0; q < n; q++) {
        g[q] = f[q * stride] / w;  /* in index units: minimise (p - q)^2 + g[q] */
        if (isinf(g[q]))
            continue;
        double s = -INFINITY;
        while (k >= 0) {
            s = ((g[q] + (double)q * q) - (g[v[k]] + (double)v[k] * v[k])) / (2.0 * (double)(q - v[k]));
            if (s > z[k])
                break;
            k--;
        }
        k++;
        v[k] = q;
        z[k] = k == 0 ? -INFINITY : s;
        z[k + 1] = INFINITY;
    }
    if (k < 0)
        return; /* no site on this line: everything stays infinite */
    int64_t j = 0;
    for (int64_t p = 0; p < n; p++) {
        while (z[j + 1] < (double)p)
            j++;
        double d = (double)(p - v[j]);
        out[p] = (d * d + g[v[j]]) * w;
    }
    for (int64_t p = 0; p < n; p++)
        f[p * stride] = out[p];
}

/* Squared distances (mm^2) from every voxel of the box to the nearest site. */
static glia_status edt(const uint8_t *sites, const int64_t *dim, const box *bx, const double *spacing, double *d)
{
    const int64_t *n = bx->n;
    int64_t longest = n[0] > n[1] ? n[0] : n[1];
    longest = longest > n[2] ? longest : n[2];
    int64_t *v = malloc((size_t)longest * sizeof *v);
    double *z = malloc((size_t)(longest + 1) * sizeof *z), *g = malloc((size_t)longest * sizeof *g);
    double *out = malloc((size_t)longest * sizeof *out);
    if (!v || !z || !g || !out) {
        free(v);
        free(z);
        free(g);
        free(out);
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "glia_hd95: distance transform scratch");
    }
    for (int64_t zz = 0; zz < n[2]; zz++)
        for (int64_t y = 0; y < n[1]; y++)
            for (int64_t x = 0; x < n[0]; x++) {
                int64_t gv = ((bx->lo[2] + zz) * dim[1] + bx->lo[1] + y) * dim[0] + bx->lo[0] + x;
                d[(zz * n[1] + y) * n[0] + x] = sites[gv] ? 0.0 : INFINITY;
            }
    const int64_t stride[3] = {1, n[0], n[0] * n[1]};
    for (int a = 0; a < 3; a++) {
        double w = spacing[a] * spacing[a];
        /* every line along axis a: iterate over the other two axes */
        int b = (a + 1) % 3, c = (a + 2) % 3;
        for (int64_t i = 0; i < n[b]; i++)
            for (int64_t j = 0; j < n[c]; j++)
                edt_line(d + i * stride[b] + j * stride[c], n[a], stride[a], w, v, z, g, out);
    }
    free(v);
    free(z);
    free(g);
    free(out);
    return GLIA_STATUS_OK;
}

/* The 95th percentile of the distances from the surface voxels of `from` to the sites of d. */
static glia_status directed(const uint8_t *from, int64_t count, const int64_t *dim, const box *bx, const double *d,
                            double *out)
{
    double *x = malloc((size_t)count * sizeof *x + 1);
    if (!x)
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "glia_hd95: %lld distances", (long long)count);
    const int64_t *n = bx->n;
    size_t k = 0;
    for (int64_t zz = 0; zz < n[2]; zz++)
        for (int64_t y = 0; y < n[1]; y++)
            for (int64_t xx = 0; xx < n[0]; xx++) {
                int64_t gv = ((bx->lo[2] + zz) * dim[1] + bx->lo[1] + y) * dim[0] + bx->lo[0] + xx;
                if (from[gv])
                    x[k++] = sqrt(d[(zz * n[1] + y) * n[0] + xx]);
            }
    *out = glia_quantile_(x, k, 0.95);
    free(x);
    return GLIA_STATUS_OK;
}

glia_status glia_hd95(const uint8_t *a, const uint8_t *b, const int64_t dim[3], const double spacing[3], double *out)
{
    if (!a || !b || !dim || !spacing || !out)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_hd95: NULL argument");
    for (int k = 0; k < 3; k++)
        if (dim[k] < 1 || !(spacing[k] > 0) || !isfinite(spacing[k]))
            return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_hd95: sizes must be >= 1 and spacings positive");
    size_t nv = (size_t)(dim[0] * dim[1] * dim[2]);
    uint8_t *sa = malloc(nv), *sb = malloc(nv);
    if (!sa || !sb) {
        free(sa);
        free(sb);
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "glia_hd95: surfaces of %zu voxels", nv);
    }
    box bx;
    int64_t na, nb;
    surfaces(a, b, dim, sa, sb, &bx, &na, &nb);
    glia_status s = GLIA_STATUS_OK;
    if (na == 0 || nb == 0) {
        double diag = 0;
        for (int k = 0; k < 3; k++)
            diag += (double)dim[k] * spacing[k] * (double)dim[k] * spacing[k];
        *out = na == nb ? 0.0 : sqrt(diag);
    } else {
        size_t nb_vox = (size_t)(bx.n[0] * bx.n[1] * bx.n[2]);
        double *d = malloc(nb_vox * sizeof *d);
        double ab = 0, ba = 0;
        if (!d)
            s = glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "glia_hd95: distances over %zu voxels", nb_vox);
        if (s == GLIA_STATUS_OK && (s = edt(sb, dim, &bx, spacing, d)) == GLIA_STATUS_OK)
            s = directed(sa, na, dim, &bx, d, &ab);
        if (s == GLIA_STATUS_OK && (s = edt(sa, dim, &bx, spacing, d)) == GLIA_STATUS_OK)
            s = directed(sb, nb, dim, &bx, d, &ba);
        if (s == GLIA_STATUS_OK)
            *out = ab > ba ? ab : ba;
        free(d);
    }
    free(sa);
    free(sb);
    return s;
}
