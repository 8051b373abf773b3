/* CPU backend: the transforms of Winograd's F(4x4, 3x3) (Lavin and Gray 2016,
 * interpolation points 0, +-1, +-2 and infinity):
 *     Y = A^T [ (G g G^T) .* (B^T d B) ] A
 * over 6x6 input patches d, 36 multiplications per 4x4 output tile and channel
 * pair instead of 144 (F(2x2, 3x3) needs 64 for the same outputs). The price is
 * rounding: the transforms scale by up to 8 and 1/24, so a 1024-channel layer
 * errs by ~3e-6 relative against ~5e-7 for F(2x2, 3x3) (float32 against a
 * float64 reference, in line with cuDNN and oneDNN, which use it too).
 *
 *   B^T = [4  0 -5  0 1 0;  0 -4 -4  1 1 0;  0 4 -4 -1 1 0;
 *          0 -2 -1  2 1 0;  0  2 -1 -2 1 0;  0 4  0 -5 0 1]
 *   G   = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1]
 *   A^T = [1 1 1 1 1 0;  0 1 -1 2 -2 0;  0 1 1 4 4 0;  0 1 -1 8 -8 1] */
#include <string.h>
#include "cpu_winograd.h"

#define RUN GLIA_WINO_RUN
#define XI 36

/* G applied to the 3 taps g[0], g[s], g[2s]. */
static void g6(const float *g, int64_t s, float u[6])
{
    float a = g[0], b = g[s], c = g[2 * s];
    u[0] = 0.25f * a;
    u[1] = -(a + b + c) / 6.0f;
    u[2] = -(a - b + c) / 6.0f;
    u[3] = a / 24.0f + b / 12.0f + c / 6.0f;
    u[4] = a / 24.0f - b / 12.0f + c / 6.0f;
    u[5] = c;
}

void glia_wino43_filter_task(void *arg, size_t c0, size_t c1)
{
    glia_wino_job *j = arg;
    int64_t cin = j->s->cin, cout = j->s->cout;
    for (size_t co = c0; co < c1; co++)
        for (int64_t ci = 0; ci < cin; ci++) {
            const float *g = j->w + ((int64_t)co * cin + ci) * 9;
            float t[3][6], u[6];   /* t[c] = G applied down column c */
            for (int c = 0; c < 3; c++)
                g6(g + c, 3, t[c]);
            for (int r = 0; r < 6; r++) {   /* (G g) G^T: row r of G g is t[0..2][r] */
                float row[3] = {t[0][r], t[1][r], t[2][r]};
                g6(row, 1, u);
                for (int c = 0; c < 6; c++)
                    j->u[((int64_t)(6 * r + c) * cout + (int64_t)co) * cin + ci] = u[c];
            }
        }
}

void glia_wino43_input_run(const glia_wino_job *j, int64_t ci, int64_t n, int64_t ty, int64_t tx, int64_t cnt,
                           int64_t k0)
{
    const glia_cpu_wino *s = j->s;
    int64_t width = 4 * cnt + 2;
    float r[6][4 * RUN + 2], a[6][4 * RUN + 2];
    glia_wino_rows(j->x + (n * s->cin + ci) * s->h * s->w, s->h, s->w, 4 * ty - s->ph, 4 * tx - s->pw, 6,
                   width, r[0], 4 * RUN + 2);
    for (int64_t x = 0; x < width; x++) {   /* B^T d, down the columns */
        float d0 = r[0][x], d1 = r[1][x], d2 = r[2][x], d3 = r[3][x], d4 = r[4][x], d5 = r[5][x];
        a[0][x] = 4.0f * d0 - 5.0f * d2 + d4;
        a[1][x] = d3 + d4 - 4.0f * (d1 + d2);
        a[2][x] = d4 - d3 + 4.0f * (d1 - d2);
        a[3][x] = d4 - d2 + 2.0f * (d3 - d1);
        a[4][x] = d4 - d2 - 2.0f * (d3 - d1);
        a[5][x] = 4.0f * d1 - 5.0f * d3 + d5;
    }
    size_t vs = (size_t)(s->cin * j->tc);   /* stride between xi planes of V */
    float *v = j->v + ci * j->tc + k0;
    for (int i = 0; i < 6; i++) {           /* (B^T d) B, along the rows */
        float *p = v + (size_t)(6 * i) * vs;
        const float *ai = a[i];
        for (int64_t k = 0; k < cnt; k++) {
            const float *d = ai + 4 * k;
            p[k] = 4.0f * d[0] - 5.0f * d[2] + d[4];
            p[vs + k] = d[3] + d[4] - 4.0f * (d[1] + d[2]);
            p[2 * vs + k] = d[4] - d[3] + 4.0f * (d[1] - d[2]);
            p[3 * vs + k] = d[4] - d[2] + 2.0f * (d[3] - d[1]);
            p[4 * vs + k] = d[4] - d[2] - 2.0f * (d[3] - d[1]);
            p[5 * vs + k] = 4.0f * d[1] - 5.0f * d[3] + d[5];
        }
    }
}

void glia_wino43_output_run(const glia_wino_job *j, int64_t co, int64_t n, int64_t ty, int64_t tx, int64_t cnt,
                            int64_t k0)
{
    const glia_cpu_wino *s = j->s;
    size_t ms = (size_t)(s->cout * j->tc);
    const float *m = j->m + co * j->tc + k0;
    float t[4][6][RUN], y[4][4 * RUN];
    for (int c = 0; c < 6; c++) {           /* A^T M, down the columns */
        const float *m0 = m + (size_t)c * ms, *m1 = m0 + 6 * ms, *m2 = m1 + 6 * ms, *m3 = m2 + 6 * ms,
                    *m4 = m3 + 6 * ms, *m5 = m4 + 6 * ms;
        for (int64_t k = 0; k < cnt; k++) {
            float p = m1[k] + m2[k], q = m1[k] - m2[k], u = m3[k] + m4[k], w = m3[k] - m4[k];
            t[0][c][k] = m0[k] + p + u;
            t[1][c][k] = q + 2.0f * w;
            t[2][c][k] = p + 4.0f * u;
            t[3][c][k] = q + 8.0f * w + m5[k];
        }
    }
    for (int r = 0; r < 4; r++)             /* (A^T M) A, along the rows */
        for (int64_t k = 0; k < cnt; k++) {
            float p = t[r][1][k] + t[r][2][k], q = t[r][1][k] - t[r][2][k];
            float u = t[r][3][k] + t[r][4][k], w = t[r][3][k] - t[r][4][k];
            y[r][4 * k] = t[r][0][k] + p + u;
            y[r][4 * k + 1] = q + 2.0f * w;
            y[r][4 * k + 2] = p + 4.0f * u;
            y[r][4 * k + 3] = q + 8.0f * w + t[r][5][k];
        }
    float *plane = j->y + (n * s->cout + co) * s->oh * s->ow;
    int64_t ox = 4 * tx, len = 4 * cnt < s->ow - ox ? 4 * cnt : s->ow - ox;
    for (int r = 0; r < 4 && 4 * ty + r < s->oh; r++)
        memcpy(plane + (4 * ty + r) * s->ow + ox, y[r], (size_t)len * sizeof(float));
}
