/* Decoding one case of a dataset into float channels and class-index labels,
 * with the checks that make a bad case fail with its name and the reason. */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "data/data_priv.h"

void glia_case_free(glia_case *c)
{
    if (!c)
        return;
    free(c->image);
    free(c->label);
    glia_volume_free(c->ref);
    free(c);
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* The spatial grid of a volume: (i, j, k) with anything beyond required to be 1 from axis `from`. */
static int grid_of(const glia_volume *v, int from, int64_t g[3])
{
    for (int a = 0; a < 3; a++)
        g[a] = a < v->ndim ? v->dim[a] : 1;
    for (int a = from; a < v->ndim; a++)
        if (v->dim[a] != 1)
            return 0;
    return 1;
}

static glia_status grid_mismatch(const ds_case *c, const char *what, const int64_t *g, const int64_t *want)
{
    return glia_seterr(GLIA_STATUS_SHAPE_MISMATCH,
                       "case %s: %s is %lldx%lldx%lld but the first modality is %lldx%lldx%lld (shapes disagree)",
                       c->id, what, (long long)g[0], (long long)g[1], (long long)g[2], (long long)want[0],
                       (long long)want[1], (long long)want[2]);
}

static glia_status read_vol(const ds_case *c, const char *path, glia_volume **v)
{
    glia_status s = glia_volume_read(path, v);
    if (s != GLIA_STATUS_OK)
        return glia_seterr(s, "case %s: %s", c->id, glia_last_error());
    return s;
}

glia_status glia_image_floats_(const glia_volume *v, float **out)
{
    glia_status s = glia_volume_to_float(v, out);
    if (s != GLIA_STATUS_OK)
        return s;
    size_t n = (size_t)glia_volume_numel(v), nan = 0, inf = 0, first = 0;
    for (size_t i = 0; i < n; i++) {
        float x = (*out)[i];
        if (!isfinite(x) && !nan && !inf)
            first = i;
        nan += isnan(x) != 0;
        inf += isinf(x) != 0;
    }
    if (!nan && !inf)
        return GLIA_STATUS_OK;
    free(*out);
    *out = NULL;
    return glia_seterr(GLIA_STATUS_NUMERIC_ERROR,
                       "%zu NaN and %zu infinite voxel%s (the first at voxel %zu); non-finite input is refused, "
                       "fix or mask the image first",
                       nan, inf, nan + inf > 1 ? "s" : "", first);
}

/* Keep only the header of the first modality: the geometry of predictions. */
static void keep_ref(glia_case *out, glia_volume *v)
{
    free(v->data);
    v->data = NULL;
    out->ref = v;
    for (int a = 0; a < 3; a++)
        out->spacing[a] = v->geom.pixdim[a + 1] > 0 ? v->geom.pixdim[a + 1] : 1;
}

static glia_status alloc_image(glia_case *out, const ds_case *c, int channels, const int64_t g[3])
{
    size_t n = (size_t)(g[0] * g[1] * g[2]);
    out->channels = channels;
    memcpy(out->dim, g, sizeof out->dim);
    memcpy(out->orig_dim, g, sizeof out->dim);
    memcpy(out->box_dim, g, sizeof out->dim);
    memcpy(out->resized, g, sizeof out->dim);
    out->image = malloc(n * (size_t)channels * sizeof(float) + 1);
    if (!out->image)
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "case %s: %zu voxels x %d channels", c->id, n, channels);
    return GLIA_STATUS_OK;
}

/* BraTS, nnU-Net: a 3-D volume per channel, all on one grid. Decathlon: one 4-D volume of 4 channels. */
static glia_status load_nifti_case(const glia_dataset *ds, const ds_case *c, glia_case *out)
{
    int msd = ds->layout == GLIA_LAYOUT_DECATHLON, nch = ds->channels;
    int nfiles = msd ? 1 : nch;
    glia_status s = GLIA_STATUS_OK;
    for (int m = 0; m < nfiles && s == GLIA_STATUS_OK; m++) {
        glia_volume *v = NULL;
        if ((s = read_vol(c, c->files[m], &v)) != GLIA_STATUS_OK)
            break;
        int64_t g[3];
        if (!grid_of(v, msd ? 4 : 3, g) || (msd && (v->ndim < 4 || v->dim[3] != 4))) {
            s = glia_seterr(GLIA_STATUS_SHAPE_MISMATCH, "case %s: %s has %d dimensions (%lld in the 4th); expected %s",
                            c->id, base_name(c->files[m]), v->ndim, (long long)(v->ndim > 3 ? v->dim[3] : 1),
                            msd ? "a 4-D image of 4 modalities" : "a 3-D volume");
        } else if (m == 0) {
            s = alloc_image(out, c, nch, g);
        } else if (memcmp(g, out->dim, sizeof g) != 0) {
            s = grid_mismatch(c, base_name(c->files[m]), g, out->dim);
        }
        float *f = NULL;
        if (s == GLIA_STATUS_OK && (s = glia_image_floats_(v, &f)) != GLIA_STATUS_OK)
            s = glia_seterr(s, "case %s: %s: %s", c->id, base_name(c->files[m]), glia_last_error());
        if (s == GLIA_STATUS_OK) {
            size_t n = (size_t)(g[0] * g[1] * g[2]);
            for (int ch = 0; ch < nch; ch++)
                if (msd || ch == m)
                    memcpy(out->image + (size_t)ch * n, f + (size_t)(msd ? ds->channel_map[ch] : 0) * n,
                           n * sizeof(float));
        }
        free(f);
        if (s == GLIA_STATUS_OK && m == 0)
            keep_ref(out, v);
        else
            glia_volume_free(v);
    }
    return s;
}

/* LGG: one RGB TIFF per axial slice; generic: one image (2-D with colour planes, or NIfTI). */
static glia_status load_image_case(const glia_dataset *ds, const ds_case *c, glia_case *out)
{
    int lgg = ds->layout == GLIA_LAYOUT_LGG;
    int nk = lgg ? c->nslices : 1;
    glia_status s = GLIA_STATUS_OK;
    for (int k = 0; k < nk && s == GLIA_STATUS_OK; k++) {
        const char *path = lgg ? c->slices[k] : c->files[0];
        glia_volume *v = NULL;
        if ((s = read_vol(c, path, &v)) != GLIA_STATUS_OK)
            break;
        int nifti = v->nifti_version > 0;
        int64_t g[3] = {v->dim[0], v->ndim > 1 ? v->dim[1] : 1, nifti && v->ndim > 2 ? v->dim[2] : nk};
        int64_t ch = nifti ? (v->ndim > 3 ? v->dim[3] : 1) : (v->ndim > 2 ? v->dim[2] : 1);
        if (ch != ds->channels || (nifti && v->ndim > 4)) {
            s = glia_seterr(GLIA_STATUS_SHAPE_MISMATCH, "case %s: %s has %lld channels, expected %d", c->id,
                            base_name(path), (long long)ch, ds->channels);
        } else if (k == 0) {
            s = alloc_image(out, c, ds->channels, g);
        } else if (g[0] != out->dim[0] || g[1] != out->dim[1]) {
            s = grid_mismatch(c, base_name(path), g, out->dim);
        }
        float *f = NULL;
        if (s == GLIA_STATUS_OK && (s = glia_image_floats_(v, &f)) != GLIA_STATUS_OK)
            s = glia_seterr(s, "case %s: %s: %s", c->id, base_name(path), glia_last_error());
        if (s == GLIA_STATUS_OK) {
            size_t plane = (size_t)(g[0] * g[1]), vol = plane * (size_t)out->dim[2];
            size_t per = nifti ? vol : plane; /* a 2-D image fills one slice per channel */
            for (int64_t q = 0; q < ch; q++)
                memcpy(out->image + (size_t)q * vol + (size_t)k * plane, f + (size_t)q * per, per * sizeof(float));
        }
        free(f);
        if (s == GLIA_STATUS_OK && k == 0) {
            if (!nifti) { /* slices carry no geometry: unit spacing on the stacked grid */
                v->ndim = 3;
                v->dim[2] = nk;
            }
            keep_ref(out, v);
        } else {
            glia_volume_free(v);
        }
    }
    return s;
}

/* Map one label file's values to class indices at out->label + offset. */
static glia_status map_labels(const glia_dataset *ds, const ds_case *c, const char *path, const float *f, size_t n,
                              uint8_t *dst)
{
    for (size_t i = 0; i < n; i++) {
        float x = f[i];
        int cls = -1;
        for (int k = 0; k < ds->nclasses && cls < 0; k++)
            if (x == (float)ds->label_values[k])
                cls = k;
        if (cls < 0 && ds->accept_255 && x == 255.0f)
            cls = 1;
        if (cls < 0) {
            char vals[64] = "";
            for (int k = 0; k < ds->nclasses; k++)
                snprintf(vals + strlen(vals), sizeof vals - strlen(vals), "%s%d", k ? ", " : "", ds->label_values[k]);
            return glia_seterr(GLIA_STATUS_FORMAT_ERROR,
                               "case %s: %s has label value %g at voxel %zu; expected %s%s", c->id, base_name(path),
                               (double)x, i, vals, ds->accept_255 ? " (or 255)" : "");
        }
        dst[i] = (uint8_t)cls;
    }
    return GLIA_STATUS_OK;
}

static glia_status load_labels(const glia_dataset *ds, const ds_case *c, glia_case *out)
{
    int lgg = ds->layout == GLIA_LAYOUT_LGG;
    int nfiles = lgg ? c->nslices : 1;
    size_t plane = (size_t)(out->dim[0] * out->dim[1]), n = plane * (size_t)out->dim[2];
    out->label = malloc(n + 1);
    if (!out->label)
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "case %s: %zu labels", c->id, n);
    glia_status s = GLIA_STATUS_OK;
    for (int k = 0; k < nfiles && s == GLIA_STATUS_OK; k++) {
        const char *path = lgg ? c->masks[k] : c->label;
        glia_volume *v = NULL;
        if ((s = read_vol(c, path, &v)) != GLIA_STATUS_OK)
            break;
        int64_t g[3];
        int image2d = v->nifti_version == 0;
        /* a 2-D mask may carry identical colour planes: use the first */
        int ok = grid_of(v, image2d ? 2 : 3, g) || image2d;
        if (image2d)
            g[2] = lgg ? out->dim[2] : 1;
        float *f = NULL;
        if (!ok || g[0] != out->dim[0] || g[1] != out->dim[1] || g[2] != out->dim[2])
            s = grid_mismatch(c, base_name(path), g, out->dim);
        else if ((s = glia_volume_to_float(v, &f)) != GLIA_STATUS_OK)
            s = glia_seterr(s, "case %s: %s: %s", c->id, base_name(path), glia_last_error());
        else
            s = map_labels(ds, c, path, f, lgg ? plane : n, out->label + (lgg ? (size_t)k * plane : 0));
        free(f);
        glia_volume_free(v);
    }
    return s;
}

glia_status glia_dataset_load(const glia_dataset *ds, int i, glia_case **out)
{
    if (!ds || !out || i < 0 || i >= ds->ncases)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_dataset_load: no case %d", i);
    *out = NULL;
    const ds_case *c = &ds->cases[i];
    if (c->problem)
        return glia_seterr(GLIA_STATUS_FORMAT_ERROR, "case %s: %s", c->id, c->problem);
    glia_case *k = calloc(1, sizeof *k);
    if (!k)
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "case %s", c->id);
    glia_status s = ds->layout == GLIA_LAYOUT_LGG || ds->layout == GLIA_LAYOUT_GENERIC ? load_image_case(ds, c, k)
                                                                                         : load_nifti_case(ds, c, k);
    if (s == GLIA_STATUS_OK && glia_dataset_case_labelled(ds, i))
        s = load_labels(ds, c, k);
    if (s != GLIA_STATUS_OK) {
        glia_case_free(k);
        return s;
    }
    *out = k;
    return GLIA_STATUS_OK;
}

typedef struct inspect_job {
    const glia_dataset *ds;
    glia_case_report *reports;
    atomic_int next;
    glia_ticker_ tick;
} inspect_job;

static void inspect_one(const glia_dataset *ds, int i, glia_case_report *r)
{
    memset(r, 0, sizeof *r);
    r->labelled = glia_dataset_case_labelled(ds, i);
    glia_case *c = NULL;
    if (glia_dataset_load(ds, i, &c) != GLIA_STATUS_OK) {
        snprintf(r->message, sizeof r->message, "%s", glia_last_error());
        return;
    }
    r->ok = 1;
    memcpy(r->dim, c->dim, sizeof r->dim);
    memcpy(r->spacing, c->spacing, sizeof r->spacing);
    if (c->label) {
        size_t n = (size_t)(c->dim[0] * c->dim[1] * c->dim[2]);
        int64_t counts[256] = {0};
        for (size_t v = 0; v < n; v++)
            counts[c->label[v]]++;
        for (int k = 0; k < ds->nclasses; k++)
            r->label_counts[ds->label_values[k] & 255] += counts[k];
    }
    glia_case_free(c);
}

static void *inspect_worker(void *arg)
{
    inspect_job *j = arg;
    for (int i; (i = atomic_fetch_add(&j->next, 1)) < j->ds->ncases;) {
        inspect_one(j->ds, i, &j->reports[i]);
        glia_ticker_tick_(&j->tick);
    }
    return NULL;
}

glia_status glia_dataset_inspect(const glia_dataset *ds, int threads, glia_case_report *reports)
{
    return glia_dataset_inspect_progress(ds, threads, reports, NULL, NULL);
}

glia_status glia_dataset_inspect_progress(const glia_dataset *ds, int threads, glia_case_report *reports,
                                          glia_progress_fn on_progress, void *user)
{
    if (!ds || !reports)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_dataset_inspect: NULL dataset or reports");
    if (threads <= 0)
        threads = glia_default_threads_();
    if (threads > ds->ncases)
        threads = ds->ncases;
    inspect_job j = {.ds = ds, .reports = reports};
    atomic_init(&j.next, 0);
    glia_ticker_init_(&j.tick, on_progress, user, ds->ncases);
    pthread_t tid[64];
    int started = 0;
    for (int t = 1; t < threads && t < 64; t++)
        if (pthread_create(&tid[started], NULL, inspect_worker, &j) == 0)
            started++;
    inspect_worker(&j);
    for (int t = 0; t < started; t++)
        pthread_join(tid[t], NULL);
    glia_ticker_destroy_(&j.tick);
    return GLIA_STATUS_OK;
}
