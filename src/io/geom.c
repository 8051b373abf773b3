/* NIfTI geometry: the voxel-to-world affine from the sform or the qform, and
 * the reverse (affine to quaternion), following the NIfTI-1 standard's text. */
#include <math.h>
#include <string.h>
#include "io/image_priv.h"

static void qform_affine(const glia_geom *g, double A[4][4])
{
    double b = g->quatern_b, c = g->quatern_c, d = g->quatern_d;
    double a = 1.0 - (b * b + c * c + d * d);
    if (a < 1e-7) {
        /* a 180-degree rotation: the standard says renormalise (b, c, d) */
        double n = sqrt(b * b + c * c + d * d);
        if (n > 0) {
            b /= n;
            c /= n;
            d /= n;
        }
        a = 0;
    } else {
        a = sqrt(a);
    }
    double R[3][3] = {
        {a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c)},
        {2 * (b * c + a * d), a * a + c * c - b * b - d * d, 2 * (c * d - a * b)},
        {2 * (b * d - a * c), 2 * (c * d + a * b), a * a + d * d - c * c - b * b},
    };
    double qfac = g->pixdim[0] < 0 ? -1 : 1;
    double s[3] = {g->pixdim[1], g->pixdim[2], g->pixdim[3] * qfac};
    for (int r = 0; r < 3; r++)
        for (int k = 0; k < 3; k++)
            A[r][k] = R[r][k] * (s[k] > 0 || s[k] < 0 ? s[k] : 1);
    A[0][3] = g->qoffset_x;
    A[1][3] = g->qoffset_y;
    A[2][3] = g->qoffset_z;
}

void glia_geom_affine(const glia_geom *g, double A[4][4])
{
    memset(A, 0, sizeof(double) * 16);
    A[3][3] = 1;
    if (g->sform_code > 0) {
        for (int r = 0; r < 3; r++)
            for (int k = 0; k < 4; k++)
                A[r][k] = g->srow[r][k];
    } else if (g->qform_code > 0) {
        qform_affine(g, A);
    } else {
        for (int k = 0; k < 3; k++)
            A[k][k] = g->pixdim[k + 1] > 0 ? g->pixdim[k + 1] : 1;
    }
}

void glia_geom_set_affine(glia_geom *g, const double A[4][4], int code)
{
    double R[3][3], sp[3];
    for (int k = 0; k < 3; k++) {
        sp[k] = sqrt(A[0][k] * A[0][k] + A[1][k] * A[1][k] + A[2][k] * A[2][k]);
        if (sp[k] == 0)
            sp[k] = 1;
        for (int r = 0; r < 3; r++)
            R[r][k] = A[r][k] / sp[k];
    }
    /* Gram-Schmidt: the quaternion needs a proper rotation; any shear stays in the sform only */
    for (int k = 1; k < 3; k++) {
        for (int j = 0; j < k; j++) {
            double dot = R[0][k] * R[0][j] + R[1][k] * R[1][j] + R[2][k] * R[2][j];
            for (int r = 0; r < 3; r++)
                R[r][k] -= dot * R[r][j];
        }
        double n = sqrt(R[0][k] * R[0][k] + R[1][k] * R[1][k] + R[2][k] * R[2][k]);
        for (int r = 0; r < 3; r++)
            R[r][k] = n > 0 ? R[r][k] / n : (r == k);
    }
    double det = R[0][0] * (R[1][1] * R[2][2] - R[1][2] * R[2][1]) - R[0][1] * (R[1][0] * R[2][2] - R[1][2] * R[2][0]) +
                 R[0][2] * (R[1][0] * R[2][1] - R[1][1] * R[2][0]);
    double qfac = 1;
    if (det < 0) {
        qfac = -1;
        for (int r = 0; r < 3; r++)
            R[r][2] = -R[r][2];
    }
    double a = R[0][0] + R[1][1] + R[2][2] + 1, b, c, d;
    if (a > 0.5) {
        a = 0.5 * sqrt(a);
        b = 0.25 * (R[2][1] - R[1][2]) / a;
        c = 0.25 * (R[0][2] - R[2][0]) / a;
        d = 0.25 * (R[1][0] - R[0][1]) / a;
    } else {
        double xd = 1.0 + R[0][0] - (R[1][1] + R[2][2]);
        double yd = 1.0 + R[1][1] - (R[0][0] + R[2][2]);
        double zd = 1.0 + R[2][2] - (R[0][0] + R[1][1]);
        if (xd > 1.0) {
            b = 0.5 * sqrt(xd);
            c = 0.25 * (R[0][1] + R[1][0]) / b;
            d = 0.25 * (R[0][2] + R[2][0]) / b;
            a = 0.25 * (R[2][1] - R[1][2]) / b;
        } else if (yd > 1.0) {
            c = 0.5 * sqrt(yd);
            b = 0.25 * (R[0][1] + R[1][0]) / c;
            d = 0.25 * (R[1][2] + R[2][1]) / c;
            a = 0.25 * (R[0][2] - R[2][0]) / c;
        } else {
            d = 0.5 * sqrt(zd);
            b = 0.25 * (R[0][2] + R[2][0]) / d;
            c = 0.25 * (R[1][2] + R[2][1]) / d;
            a = 0.25 * (R[1][0] - R[0][1]) / d;
        }
        if (a < 0) {
            b = -b;
            c = -c;
            d = -d;
        }
    }
    g->quatern_b = b;
    g->quatern_c = c;
    g->quatern_d = d;
    g->qoffset_x = A[0][3];
    g->qoffset_y = A[1][3];
    g->qoffset_z = A[2][3];
    g->pixdim[0] = qfac;
    for (int k = 0; k < 3; k++)
        g->pixdim[k + 1] = sp[k];
    for (int r = 0; r < 3; r++)
        for (int k = 0; k < 4; k++)
            g->srow[r][k] = A[r][k];
    g->qform_code = code;
    g->sform_code = code;
}
