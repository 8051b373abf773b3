/* Synthetic brain-MRI phantoms: a head with scalp, skull, CSF, folded grey
 * matter over white matter, deep nuclei and ventricles; a tumour (necrotic core,
 * enhancing rim, oedema) of random size, shape and place, or none; four
 * modalities with their usual relative contrasts, a bias field and Rician noise.
 * Everything comes from one counter-based stream per case: deterministic. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "glia/tensor.h"
#include "data/data_priv.h"
#include "data/synth_priv.h"

enum { AIR, SCALP, SKULL, CSF, GM, WM, EDEMA, NECROSIS, ENHANCING, NTISSUE };

/* Mean intensity of each tissue in t1, t1ce, t2, flair (scaled to ~1000 later). */
static const float contrast[NTISSUE][4] = {
    [AIR] = {0, 0, 0, 0},
    [SCALP] = {0.85f, 0.85f, 0.55f, 0.6f},
    [SKULL] = {0.12f, 0.12f, 0.08f, 0.08f},
    [CSF] = {0.22f, 0.24f, 1.0f, 0.1f},
    [GM] = {0.55f, 0.58f, 0.66f, 0.62f},
    [WM] = {0.8f, 0.8f, 0.45f, 0.5f},
    [EDEMA] = {0.48f, 0.5f, 0.86f, 0.92f},
    [NECROSIS] = {0.3f, 0.32f, 0.92f, 0.55f},
    [ENHANCING] = {0.52f, 1.0f, 0.7f, 0.78f},
};

/* Smooth random field in [-1, 1]: random values on a coarse (g+1)^3 lattice,
 * interpolated trilinearly onto the grid. */
static float *smooth_field(glia_rng *rng, int g, const int64_t *dim)
{
    int gp = g + 1;
    float *lat = malloc((size_t)gp * gp * gp * sizeof *lat);
    size_t n = (size_t)(dim[0] * dim[1] * dim[2]);
    float *f = malloc(n * sizeof *f);
    if (!lat || !f) {
        free(lat);
        free(f);
        return NULL;
    }
    for (int i = 0; i < gp * gp * gp; i++)
        lat[i] = 2 * glia_rng_uniform(rng) - 1;
    for (int64_t k = 0; k < dim[2]; k++) {
        float z = (float)k * g / (float)(dim[2] > 1 ? dim[2] - 1 : 1);
        int z0 = z >= g ? g - 1 : (int)z;
        float fz = z - z0;
        for (int64_t j = 0; j < dim[1]; j++) {
            float y = (float)j * g / (float)(dim[1] > 1 ? dim[1] - 1 : 1);
            int y0 = y >= g ? g - 1 : (int)y;
            float fy = y - y0;
            for (int64_t i = 0; i < dim[0]; i++) {
                float x = (float)i * g / (float)(dim[0] > 1 ? dim[0] - 1 : 1);
                int x0 = x >= g ? g - 1 : (int)x;
                float fx = x - x0, acc = 0;
                /* smoothstep weights: no creases along the lattice planes */
                float sx = fx * fx * (3 - 2 * fx), sy = fy * fy * (3 - 2 * fy), sz = fz * fz * (3 - 2 * fz);
                for (int c = 0; c < 8; c++) {
                    int dx = c & 1, dy = (c >> 1) & 1, dz = c >> 2;
                    float w = (dx ? sx : 1 - sx) * (dy ? sy : 1 - sy) * (dz ? sz : 1 - sz);
                    acc += w * lat[((z0 + dz) * gp + (y0 + dy)) * gp + (x0 + dx)];
                }
                f[(k * dim[1] + j) * dim[0] + i] = acc;
            }
        }
    }
    free(lat);
    return f;
}

/* Box blur along each axis (radius 1): partial-volume edges instead of steps. */
static void blur3(float *x, const int64_t *d, float *tmp)
{
    int64_t stride[3] = {1, d[0], d[0] * d[1]};
    size_t n = (size_t)(d[0] * d[1] * d[2]);
    for (int a = 0; a < 3; a++) {
        if (d[a] < 3)
            continue;
        memcpy(tmp, x, n * sizeof *x);
        for (size_t v = 0; v < n; v++) {
            int64_t pos = (int64_t)(v / (size_t)stride[a]) % d[a];
            float l = pos > 0 ? tmp[v - (size_t)stride[a]] : tmp[v];
            float r = pos < d[a] - 1 ? tmp[v + (size_t)stride[a]] : tmp[v];
            x[v] = 0.25f * l + 0.5f * tmp[v] + 0.25f * r;
        }
    }
}

typedef struct tumour {
    int present;
    double c[3], r;            /* centre (normalised coordinates) and oedema radius */
    double core, necrosis;     /* radii of the enhancing core and the necrosis, relative to r */
    int enhancing;             /* 0: a non-enhancing core (labelled necrosis/NET) */
} tumour;

static void draw_tumour(glia_rng *rng, float p_none, tumour *t)
{
    memset(t, 0, sizeof *t);
    if (glia_rng_uniform(rng) < p_none)
        return;
    t->present = 1;
    /* somewhere in a hemisphere, clear of the midline */
    double side = glia_rng_uniform(rng) < 0.5f ? -1 : 1;
    t->c[0] = side * (0.15 + 0.35 * glia_rng_uniform(rng));
    t->c[1] = -0.45 + 0.9 * glia_rng_uniform(rng);
    t->c[2] = -0.3 + 0.6 * glia_rng_uniform(rng);
    t->r = 0.16 + 0.24 * glia_rng_uniform(rng);
    t->core = 0.45 + 0.3 * glia_rng_uniform(rng);
    t->necrosis = glia_rng_uniform(rng) < 0.75f ? t->core * (0.4 + 0.3 * glia_rng_uniform(rng)) : 0;
    t->enhancing = glia_rng_uniform(rng) < 0.85f;
}

glia_status glia_synth_phantom_(const glia_synth_options *o, int index, const float *template_t1, float *image,
                                uint8_t *label)
{
    const int64_t *d = o->size;
    size_t n = (size_t)(d[0] * d[1] * d[2]);
    glia_rng rng;
    glia_rng_init(&rng, glia_mix_seed_(o->seed, (uint64_t)index, 0x5e7));
    tumour t;
    draw_tumour(&rng, o->p_no_tumour < 0 ? 0.1f : o->p_no_tumour, &t);
    /* head size and placement vary a little between cases */
    double ax[3] = {0.86 + 0.06 * glia_rng_uniform(&rng), 0.9 + 0.06 * glia_rng_uniform(&rng),
                    0.88 + 0.06 * glia_rng_uniform(&rng)};
    double shift[3] = {0.03 * (2 * glia_rng_uniform(&rng) - 1), 0.03 * (2 * glia_rng_uniform(&rng) - 1), 0.02};
    float *shape = smooth_field(&rng, 4, d), *folds = smooth_field(&rng, 12, d), *texture = smooth_field(&rng, 24, d);
    float *tshape = smooth_field(&rng, 14, d), *tissue = malloc(n * sizeof *tissue), *tmp = malloc(n * sizeof *tmp);
    glia_status s = GLIA_STATUS_OK;
    if (!shape || !folds || !texture || !tshape || !tissue || !tmp) {
        s = glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "glia_synth: %zu voxels", n);
        goto done;
    }
    for (int64_t k = 0; k < d[2]; k++)
        for (int64_t j = 0; j < d[1]; j++)
            for (int64_t i = 0; i < d[0]; i++) {
                size_t v = (size_t)((k * d[1] + j) * d[0] + i);
                double p[3] = {2.0 * i / (d[0] - 1 > 0 ? d[0] - 1 : 1) - 1, 2.0 * j / (d[1] - 1 > 0 ? d[1] - 1 : 1) - 1,
                               2.0 * k / (d[2] - 1 > 0 ? d[2] - 1 : 1) - 1};
                double q[3], r2 = 0;
                for (int a = 0; a < 3; a++) {
                    q[a] = (p[a] - shift[a]) / ax[a];
                    r2 += q[a] * q[a];
                }
                double r = sqrt(r2) * (1 + 0.04 * shape[v]);
                int cls = AIR;
                if (template_t1) {
                    cls = template_t1[v] > 0 ? WM : AIR; /* anatomy comes from the template below */
                } else if (r < 1) {
                    double gm_wm = 0.64 + 0.1 * folds[v] + 0.04 * texture[v];
                    cls = r > 0.93 ? SCALP : r > 0.86 ? SKULL : r > 0.82 ? CSF : r > gm_wm ? GM : WM;
                    /* sulci: thin CSF clefts through the cortex where the fine field crosses zero */
                    if (cls == GM && fabs(texture[v]) < 0.05 && r > gm_wm + 0.02)
                        cls = CSF;
                    /* interhemispheric fissure in the upper brain */
                    if (cls >= CSF && fabs(q[0]) < 0.012 + 0.01 * fabs(folds[v]) && q[2] > -0.2 && r > 0.25)
                        cls = CSF;
                    /* deep grey nuclei and the lateral ventricles */
                    for (int sd = -1; sd <= 1; sd += 2) {
                        double nx = (q[0] - 0.2 * sd) / 0.1, ny = (q[1] + 0.05) / 0.16, nz = (q[2] + 0.05) / 0.14;
                        if (cls == WM && nx * nx + ny * ny + nz * nz < 1)
                            cls = GM;
                        double vx = (q[0] - (0.1 + 0.08 * q[1]) * sd) / 0.09, vy = (q[1] - 0.05) / 0.34;
                        double vz = (q[2] - 0.1 - 0.25 * q[1] * q[1]) / 0.13;
                        if (cls >= GM && vx * vx + vy * vy + vz * vz < 1 + 0.2 * folds[v])
                            cls = CSF;
                    }
                }
                if (o->skull_strip && (cls == SCALP || cls == SKULL))
                    cls = AIR;
                uint8_t lab = 0;
                if (t.present && (template_t1 || r < 0.8)) {
                    double dd = 0;
                    for (int a = 0; a < 3; a++)
                        dd += (q[a] - t.c[a]) * (q[a] - t.c[a]);
                    dd = sqrt(dd) / t.r * (1 + 0.35 * tshape[v] + 0.15 * folds[v]);
                    if (dd < t.necrosis) {
                        cls = NECROSIS;
                        lab = 1;
                    } else if (dd < t.core) {
                        cls = t.enhancing ? ENHANCING : NECROSIS;
                        lab = t.enhancing ? 4 : 1;
                    } else if (dd < 1) {
                        cls = EDEMA;
                        lab = 2;
                    }
                }
                label[v] = lab;
                tissue[v] = (float)cls;
            }
    /* bias field: one smooth multiplicative field per case, slightly different per modality */
    float *bias = smooth_field(&rng, 2, d);
    if (!bias) {
        s = glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "glia_synth: bias field");
        goto done;
    }
    for (int m = 0; m < 4; m++) {
        float *x = image + (size_t)m * n;
        float gain = 0.9f + 0.2f * glia_rng_uniform(&rng);
        for (size_t v = 0; v < n; v++) {
            int cls = (int)tissue[v];
            float val = contrast[cls][m];
            if (template_t1 && cls == WM)
                val = glia_synth_template_contrast_(template_t1[v], m);
            x[v] = val * (1 + 0.06f * texture[v]);
        }
        blur3(x, d, tmp);
        float noise = 0.015f + 0.01f * glia_rng_uniform(&rng);
        for (size_t v = 0; v < n; v++) {
            if (tissue[v] == AIR) {
                x[v] = 0; /* BraTS-style zero background: z-scoring uses the non-zero voxels */
                continue;
            }
            float b = expf(0.25f * bias[v] * (1 + 0.1f * (float)m));
            float re = x[v] * b + noise * glia_rng_normal(&rng), im = noise * glia_rng_normal(&rng);
            x[v] = 1000.0f * gain * sqrtf(re * re + im * im); /* magnitude images have Rician noise */
        }
    }
    free(bias);
done:
    free(shape);
    free(folds);
    free(texture);
    free(tshape);
    free(tissue);
    free(tmp);
    return s;
}
