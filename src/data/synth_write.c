/* Writing phantoms in a dataset's own naming: BraTS 2020/2021/2023 NIfTI case
 * folders, or kaggle_3m-style LGG TIFF slices; optional real T1 template. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "data/data_priv.h"
#include "data/synth_priv.h"

float glia_synth_template_contrast_(float t, int m)
{
    /* tissue memberships from the T1 value: dark CSF, mid grey, bright white matter */
    static const float c[3][4] = {{0.22f, 0.24f, 1.0f, 0.1f}, {0.55f, 0.58f, 0.66f, 0.62f}, {0.8f, 0.8f, 0.45f, 0.5f}};
    if (m == 0)
        return t;
    float csf = (0.45f - t) / 0.2f, wm = (t - 0.62f) / 0.16f;
    csf = csf < 0 ? 0 : csf > 1 ? 1 : csf;
    wm = wm < 0 ? 0 : wm > 1 ? 1 : wm;
    float gm = 1 - csf - wm < 0 ? 0 : 1 - csf - wm;
    return csf * c[0][m] + gm * c[1][m] + wm * c[2][m];
}

static glia_status check_options(const glia_synth_options *in, glia_synth_options *o)
{
    if (!in)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_synth: NULL options");
    *o = *in;
    int lgg = o->layout == GLIA_LAYOUT_LGG;
    if (o->layout != GLIA_LAYOUT_BRATS2020 && o->layout != GLIA_LAYOUT_BRATS2021 &&
        o->layout != GLIA_LAYOUT_BRATS2023 && o->layout != GLIA_LAYOUT_NNUNET && !lgg)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_synth: layout %s cannot be synthesised (brats2020, "
                           "brats2021, brats2023, lgg, nnunet)", glia_layout_name(o->layout));
    static const int64_t def[2][3] = {{240, 240, 155}, {256, 256, 24}};
    for (int a = 0; a < 3; a++) {
        if (o->size[a] == 0)
            o->size[a] = def[lgg][a];
        if (o->size[a] < 4 || o->size[a] > 1024)
            return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_synth: size %lld out of range 4..1024",
                               (long long)o->size[a]);
    }
    if (o->cases < 1 || o->cases > 100000 || o->unlabelled < 0 || o->unlabelled > o->cases)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_synth: %d cases with %d unlabelled", o->cases,
                           o->unlabelled);
    return GLIA_STATUS_OK;
}

/* The template T1 resampled to the grid and normalised to ~[0, 1]. */
static glia_status load_template(const char *path, const int64_t *size, float **out)
{
    glia_volume *v = NULL;
    glia_status s = glia_volume_read(path, &v);
    if (s != GLIA_STATUS_OK)
        return s;
    float *f = NULL;
    if (v->ndim > 3 && glia_volume_numel(v) != v->dim[0] * v->dim[1] * v->dim[2])
        s = glia_seterr(GLIA_STATUS_SHAPE_MISMATCH, "%s: a template must be one 3-D T1 volume", path);
    else
        s = glia_volume_to_float(v, &f);
    /* isotropic voxels of 1 mm, or coarser so the head fits a small grid, then
     * centred on the grid: the anatomy keeps its proportions */
    glia_case c = {.channels = 1, .image = f};
    double mm = 1;
    for (int a = 0; s == GLIA_STATUS_OK && a < 3; a++) {
        c.dim[a] = a < v->ndim ? v->dim[a] : 1;
        c.spacing[a] = v->geom.pixdim[a + 1] > 0 ? v->geom.pixdim[a + 1] : 1;
        double need = (double)c.dim[a] * c.spacing[a] / (double)size[a];
        mm = need > mm ? need : mm;
    }
    glia_preprocess p = {.spacing = {mm, mm, mm}, .crop = {size[0], size[1], size[2]}};
    if (s == GLIA_STATUS_OK)
        s = glia_case_preprocess(&c, &p);
    f = c.image;
    if (s == GLIA_STATUS_OK) {
        size_t n = (size_t)(size[0] * size[1] * size[2]);
        float hi = glia_percentile_nonzero_(f, n, 99.5f);
        for (size_t i = 0; i < n; i++) {
            float x = hi > 0 ? f[i] / hi : 0;
            f[i] = x < 0.08f ? 0 : x > 1.2f ? 1.2f : x; /* below 8% of the bright end is air */
        }
        *out = f;
        f = NULL;
    }
    free(f);
    glia_volume_free(v);
    return s;
}

static char *case_name(const glia_synth_options *o, int i)
{
    switch (o->layout) {
    case GLIA_LAYOUT_BRATS2020: return glia_strfmt_("BraTS20_Training_%03d", i + 1);
    case GLIA_LAYOUT_BRATS2021: return glia_strfmt_("BraTS2021_%05d", i);
    case GLIA_LAYOUT_BRATS2023: return glia_strfmt_("BraTS-GLI-%05d-000", i);
    default: /* kaggle_3m: institution, patient, scan date */
        return glia_strfmt_("TCGA_%s_%04d_%04d%02d%02d", (const char *[]){"CS", "DU", "EZ", "FG", "HT"}[i % 5],
                            1000 + i * 37 % 9000, 1995 + i % 10, 1 + i % 12, 1 + i % 28);
    }
}

glia_status glia_synth_make_dir_(const char *p)
{
    if (mkdir(p, 0777) != 0 && errno != EEXIST)
        return glia_seterr(GLIA_STATUS_IO_ERROR, "%s: cannot create folder: %s", p, strerror(errno));
    return GLIA_STATUS_OK;
}

glia_status glia_synth_write_nifti_(const char *path, const int64_t *size, glia_dtype t, const float *f,
                                    const uint8_t *lab)
{
    glia_volume *v = NULL;
    glia_status s = glia_volume_new(3, size, t, &v);
    if (s != GLIA_STATUS_OK)
        return s;
    size_t n = (size_t)(size[0] * size[1] * size[2]);
    for (size_t i = 0; i < n; i++) {
        if (lab)
            ((uint8_t *)v->data)[i] = lab[i];
        else
            ((int16_t *)v->data)[i] = (int16_t)fminf(32767.0f, nearbyintf(f[i]));
    }
    double A[4][4] = {{-1, 0, 0, 0}, {0, -1, 0, (double)(size[1] - 1)}, {0, 0, 1, 0}, {0, 0, 0, 1}};
    glia_geom_set_affine(&v->geom, A, 1);
    v->geom.xyzt_units = 2;
    s = glia_volume_write(v, path, NULL);
    glia_volume_free(v);
    return s;
}

static glia_status write_brats(const char *dir, const glia_synth_options *o, int i, const float *img,
                               uint8_t *lab)
{
    static const char *const suf20[5] = {"t1", "t1ce", "t2", "flair", "seg"};
    static const char *const suf23[5] = {"t1n", "t1c", "t2w", "t2f", "seg"};
    int v23 = o->layout == GLIA_LAYOUT_BRATS2023;
    char *name = case_name(o, i), *sub = name ? glia_path_join_(dir, name) : NULL;
    glia_status s = sub ? glia_synth_make_dir_(sub) : glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "glia_synth: names");
    size_t n = (size_t)(o->size[0] * o->size[1] * o->size[2]);
    int files = i >= o->cases - o->unlabelled ? 4 : 5;
    for (int m = 0; m < files && s == GLIA_STATUS_OK; m++) {
        char *p = glia_strfmt_("%s/%s%s%s.nii.gz", sub, name, v23 ? "-" : "_", (v23 ? suf23 : suf20)[m]);
        if (!p)
            s = glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "glia_synth: names");
        else if (m < 4)
            s = glia_synth_write_nifti_(p, o->size, GLIA_DTYPE_INT16, img + (size_t)m * n, NULL);
        else
            s = glia_synth_write_nifti_(p, o->size, GLIA_DTYPE_UINT8, NULL, lab);
        free(p);
        if (m == 3 && v23) /* BraTS 2023 numbers enhancing tumour 3, not 4 */
            for (size_t v = 0; v < n; v++)
                if (lab[v] == 4)
                    lab[v] = 3;
    }
    free(sub);
    free(name);
    return s;
}

/* kaggle_3m: per slice an RGB TIFF (pre-contrast, FLAIR, post-contrast) and a 0/255 mask. */
static glia_status write_lgg(const char *dir, const glia_synth_options *o, int i, const float *img,
                             const uint8_t *lab)
{
    char *name = case_name(o, i), *sub = name ? glia_path_join_(dir, name) : NULL;
    glia_status s = sub ? glia_synth_make_dir_(sub) : glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "glia_synth: names");
    const int64_t *d = o->size;
    size_t plane = (size_t)(d[0] * d[1]), n = plane * (size_t)d[2];
    static const int src[3] = {0, 3, 1};
    float hi[3];
    for (int c = 0; c < 3; c++)
        hi[c] = glia_percentile_nonzero_(img + (size_t)src[c] * n, n, 99.5f);
    int64_t rgbdim[3] = {d[0], d[1], 3};
    glia_volume *rgb = NULL, *mask = NULL;
    if (s == GLIA_STATUS_OK)
        s = glia_volume_new(3, rgbdim, GLIA_DTYPE_UINT8, &rgb);
    if (s == GLIA_STATUS_OK)
        s = glia_volume_new(2, rgbdim, GLIA_DTYPE_UINT8, &mask);
    int labelled = i < o->cases - o->unlabelled;
    for (int64_t k = 0; k < d[2] && s == GLIA_STATUS_OK; k++) {
        uint8_t *px = rgb->data, *mk = mask->data;
        for (int c = 0; c < 3; c++)
            for (size_t v = 0; v < plane; v++) {
                float x = img[(size_t)src[c] * n + (size_t)k * plane + v] / (hi[c] > 0 ? hi[c] : 1) * 230.0f;
                px[(size_t)c * plane + v] = (uint8_t)(x < 0 ? 0 : x > 255 ? 255 : nearbyintf(x));
            }
        for (size_t v = 0; v < plane; v++)
            mk[v] = lab[(size_t)k * plane + v] ? 255 : 0;
        char *p = glia_strfmt_("%s/%s_%lld.tif", sub, name, (long long)k + 1);
        char *pm = glia_strfmt_("%s/%s_%lld_mask.tif", sub, name, (long long)k + 1);
        if (!p || !pm)
            s = glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "glia_synth: names");
        if (s == GLIA_STATUS_OK)
            s = glia_volume_write(rgb, p, NULL);
        if (s == GLIA_STATUS_OK && labelled)
            s = glia_volume_write(mask, pm, NULL);
        free(p);
        free(pm);
    }
    glia_volume_free(rgb);
    glia_volume_free(mask);
    free(sub);
    free(name);
    return s;
}

typedef struct synth_job {
    const char *dir;
    const glia_synth_options *o;
    const float *templ;
    atomic_int next;
    atomic_int failed;
    glia_status status;
    char message[512];
    pthread_mutex_t lock;
    glia_ticker_ tick;
} synth_job;

static void *synth_worker(void *arg)
{
    synth_job *j = arg;
    const glia_synth_options *o = j->o;
    size_t n = (size_t)(o->size[0] * o->size[1] * o->size[2]);
    float *img = malloc(4 * n * sizeof *img);
    uint8_t *lab = malloc(n);
    for (int i; !atomic_load(&j->failed) && (i = atomic_fetch_add(&j->next, 1)) < o->cases;) {
        glia_status s = img && lab ? glia_synth_phantom_(o, i, j->templ, img, lab)
                                   : glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "glia_synth: %zu voxels", n);
        if (s == GLIA_STATUS_OK)
            s = o->layout == GLIA_LAYOUT_LGG      ? write_lgg(j->dir, o, i, img, lab)
                : o->layout == GLIA_LAYOUT_NNUNET ? glia_synth_nnunet_case_(j->dir, o, i, img, lab)
                                                  : write_brats(j->dir, o, i, img, lab);
        if (s == GLIA_STATUS_OK)
            glia_ticker_tick_(&j->tick);
        if (s != GLIA_STATUS_OK && !atomic_exchange(&j->failed, 1)) {
            /* the message lives in this thread's error slot: hand it over */
            pthread_mutex_lock(&j->lock);
            j->status = s;
            snprintf(j->message, sizeof j->message, "%s", glia_last_error());
            pthread_mutex_unlock(&j->lock);
        }
    }
    free(img);
    free(lab);
    return NULL;
}

glia_status glia_synth_write(const char *dir, const glia_synth_options *opts)
{
    glia_synth_options o;
    glia_status s = dir ? check_options(opts, &o) : glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_synth: NULL dir");
    if (s == GLIA_STATUS_OK)
        s = glia_synth_make_dir_(dir);
    if (s == GLIA_STATUS_OK && o.layout == GLIA_LAYOUT_NNUNET)
        s = glia_synth_nnunet_prepare_(dir, &o);
    float *templ = NULL;
    if (s == GLIA_STATUS_OK && o.template_t1)
        s = load_template(o.template_t1, o.size, &templ);
    if (s != GLIA_STATUS_OK)
        return s;
    synth_job j = {.dir = dir, .o = &o, .templ = templ};
    atomic_init(&j.next, 0);
    atomic_init(&j.failed, 0);
    pthread_mutex_init(&j.lock, NULL);
    glia_ticker_init_(&j.tick, o.on_progress, o.user, o.cases);
    int threads = o.threads > 0 ? o.threads : glia_default_threads_();
    if (threads > o.cases)
        threads = o.cases;
    pthread_t tid[64];
    int started = 0;
    for (int t = 1; t < threads && t < 64; t++)
        if (pthread_create(&tid[started], NULL, synth_worker, &j) == 0)
            started++;
    synth_worker(&j);
    for (int t = 0; t < started; t++)
        pthread_join(tid[t], NULL);
    pthread_mutex_destroy(&j.lock);
    glia_ticker_destroy_(&j.tick);
    free(templ);
    if (atomic_load(&j.failed))
        return glia_seterr(j.status, "%s", j.message);
    return GLIA_STATUS_OK;
}

glia_status glia_synth_case(const glia_synth_options *opts, int index, float **image, uint8_t **label)
{
    glia_synth_options o;
    if (!image || !label)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_synth_case: NULL output");
    glia_status s = check_options(opts, &o);
    if (s != GLIA_STATUS_OK)
        return s;
    size_t n = (size_t)(o.size[0] * o.size[1] * o.size[2]);
    float *templ = NULL;
    if (o.template_t1 && (s = load_template(o.template_t1, o.size, &templ)) != GLIA_STATUS_OK)
        return s;
    *image = malloc(4 * n * sizeof **image);
    *label = malloc(n);
    if (!*image || !*label)
        s = glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "glia_synth_case: %zu voxels", n);
    else
        s = glia_synth_phantom_(&o, index, templ, *image, *label);
    free(templ);
    if (s != GLIA_STATUS_OK) {
        free(*image);
        free(*label);
        *image = NULL;
        *label = NULL;
    }
    return s;
}
