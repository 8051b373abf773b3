/* The benchmark runner: filter the case list, set each case up on its device,
 * time warm-up and timed runs (each ended by a device sync), keep medians. */
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "bench_priv.h"
#include "core/core.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- filter ----------------------------------------------------------------------- */

static int match_one(const char *name, const char *pat, size_t len)
{
    char p[128];
    if (len == 0 || len >= sizeof p)
        return len == 0 ? 0 : strstr(name, pat) != NULL;
    memcpy(p, pat, len);
    p[len] = '\0';
    if (strpbrk(p, "*?["))
        return fnmatch(p, name, 0) == 0;
    return strstr(name, p) != NULL;
}

static int matches(const char *name, const char *filter)
{
    if (!filter || !*filter)
        return 1;
    for (const char *p = filter;;) {
        size_t len = strcspn(p, ",");
        if (match_one(name, p, len))
            return 1;
        if (!p[len])
            return 0;
        p += len + 1;
    }
}

static glia_status selected(const glia_bench_options *o, glia_bench_caselist *l)
{
    glia_status s = glia_bench_cases(o, l);
    int k = 0;
    for (int i = 0; i < l->n && s == GLIA_STATUS_OK; i++)
        if (matches(l->v[i].name, o->filter))
            l->v[k++] = l->v[i];
    l->n = k;
    return s;
}

glia_status glia_bench_list(const glia_bench_options *opts, const char **names, int max, int *count)
{
    static glia_bench_caselist keep;   /* owns the names handed out */
    glia_bench_options none = {0};
    if (!count || max < 0 || (max > 0 && !names))
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_bench_list: count is NULL or names/max disagree");
    glia_bench_cases_free(&keep);
    glia_status s = selected(opts ? opts : &none, &keep);
    for (int i = 0; i < keep.n && i < max; i++)
        names[i] = keep.v[i].name;
    *count = s == GLIA_STATUS_OK ? keep.n : 0;
    return s;
}

/* ---- op cases ---------------------------------------------------------------------- */

typedef struct op_state {
    glia_tensor *t[8];
    glia_op op;
} op_state;

/* An int32 tensor of n pooling indices: idx[plane][o] = flat index of the
 * first element of output o's window. */
static glia_status pool_index(glia_device *dev, int64_t n, const glia_pool_desc *d, glia_tensor **out)
{
    int64_t outvol = d->out[0] * d->out[1] * d->out[2];
    int32_t *idx = malloc((size_t)n * sizeof *idx);
    if (!idx)
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "bench: no host memory for %lld pooling indices", (long long)n);
    for (int64_t i = 0; i < n; i++) {
        int64_t o = i % outvol, ow = o % d->out[2], oh = o / d->out[2] % d->out[1], od = o / (d->out[2] * d->out[1]);
        idx[i] = (int32_t)(((od * d->stride[0]) * d->in[1] + oh * d->stride[1]) * d->in[2] + ow * d->stride[2]);
    }
    glia_status s = glia_tensor_from_host_typed(dev, GLIA_ETYPE_I32, 1, &n, idx, out);
    free(idx);
    return s;
}

static void op_free(op_state *st)
{
    for (int i = 0; st && i < 8; i++)
        glia_tensor_free(st->t[i]);
    free(st);
}

static glia_status op_setup(glia_device *dev, const glia_bench_case *c, glia_rng *rng, op_state **out)
{
    op_state *st = calloc(1, sizeof *st);
    if (!st)
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "bench: no host memory");
    st->op = c->op;
    glia_status s = GLIA_STATUS_OK;
    for (int i = 0; i < 8 && s == GLIA_STATUS_OK; i++) {
        if (!c->numel[i])
            continue;
        int64_t n = (int64_t)c->numel[i];
        if (c->init[i] == GLIA_BENCH_INIT_POOL_INDEX)
            s = pool_index(dev, n, &c->op.p.pool, &st->t[i]);
        else
            s = glia_tensor_empty(dev, 1, &n, &st->t[i]);
        if (s != GLIA_STATUS_OK)
            break;
        st->op.t[i] = glia_view(st->t[i]);
        switch (c->init[i]) {
        case GLIA_BENCH_INIT_SIGNED: s = glia_tensor_uniform(st->t[i], rng, -1.0f, 1.0f); break;
        case GLIA_BENCH_INIT_POSITIVE: s = glia_tensor_uniform(st->t[i], rng, 0.5f, 1.5f); break;
        case GLIA_BENCH_INIT_POOL_INDEX:
        case GLIA_BENCH_INIT_NONE: break;
        }
    }
    if (s != GLIA_STATUS_OK) {
        op_free(st);
        return s;
    }
    *out = st;
    return GLIA_STATUS_OK;
}

/* ---- model cases ------------------------------------------------------------------- */

typedef struct model_state {
    glia_model *m;
    glia_tensor *x, *target;
    glia_optimizer *opt;
    glia_reducer *red;            /* under mpirun: gradients averaged over the job */
    glia_dist *dist;
    int train;
    const glia_bench_case *c;
    float *image, *prob;          /* VOLUME: the host volume and its probabilities */
} model_state;

static void model_free(model_state *st)
{
    if (!st)
        return;
    glia_reducer_free(st->red);
    glia_optim_free(st->opt);
    glia_tensor_free(st->x);
    glia_tensor_free(st->target);
    glia_model_free(st->m);
    free(st->image);
    free(st->prob);
    free(st);
}

/* VOLUME: a normal-noise volume on the host, as glia infer hands glia_predict one. */
static glia_status volume_setup(const glia_bench_case *c, const glia_model_config *cfg, glia_rng *rng,
                                model_state *st)
{
    size_t vox = (size_t)(c->volume[0] * c->volume[1] * c->volume[2]);
    st->image = malloc(vox * (size_t)cfg->in_channels * sizeof *st->image);
    st->prob = malloc(vox * (size_t)cfg->out_channels * sizeof *st->prob);
    if (!st->image || !st->prob)
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "bench: no host memory for a %lldx%lldx%lld volume",
                           (long long)c->volume[0], (long long)c->volume[1], (long long)c->volume[2]);
    for (size_t i = 0; i < vox * (size_t)cfg->in_channels; i++)
        st->image[i] = glia_rng_normal(rng);
    return GLIA_STATUS_OK;
}

static glia_status model_setup(glia_device *dev, const glia_bench_case *c, glia_rng *rng, glia_dist *dist,
                               model_state **out)
{
    model_state *st = calloc(1, sizeof *st);
    if (!st)
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "bench: no host memory");
    st->train = c->kind == GLIA_BENCH_KIND_TRAIN;
    st->dist = dist;
    st->c = c;
    glia_model_config cfg;
    glia_model_config_default(c->arch, &cfg);
    int nd = 2 + glia_model_config_spatial_dims(&cfg);
    int64_t xs[5] = {c->batch, cfg.in_channels, c->size, c->size, c->size};
    int64_t ts[5] = {c->batch, cfg.out_channels, c->size, c->size, c->size};
    glia_tensor *u = NULL;
    glia_optim_options oo = {.kind = GLIA_OPTIM_ADAM, .lr = 1e-4f};
    glia_status s = glia_model_create(dev, &cfg, 0, &st->m);
    if (s == GLIA_STATUS_OK && c->kind == GLIA_BENCH_KIND_VOLUME) {
        if ((s = volume_setup(c, &cfg, rng, st)) != GLIA_STATUS_OK)
            model_free(st);
        else
            *out = st;
        return s;
    }
    if (s == GLIA_STATUS_OK && (s = glia_tensor_zeros(dev, nd, xs, &st->x)) == GLIA_STATUS_OK)
        s = glia_tensor_normal(st->x, rng, 0.0f, 1.0f);
    /* a binary mask with about a quarter of the voxels set */
    if (s == GLIA_STATUS_OK && (s = glia_tensor_zeros(dev, nd, ts, &u)) == GLIA_STATUS_OK &&
        (s = glia_tensor_uniform(u, rng, 0.0f, 1.0f)) == GLIA_STATUS_OK)
        s = glia_threshold(u, 0.75f, &st->target);
    glia_tensor_free(u);
    if (s == GLIA_STATUS_OK && st->train)
        s = glia_optim_create(glia_model_params(st->m), &oo, &st->opt);
    /* DDP's 25 MB buckets, as glia train's default */
    if (s == GLIA_STATUS_OK && st->train && glia_dist_size(dist) > 1)
        s = glia_reducer_new(dist, glia_model_params(st->m), 25000000, &st->red);
    if (s != GLIA_STATUS_OK) {
        model_free(st);
        return s;
    }
    *out = st;
    return GLIA_STATUS_OK;
}

/* Training: forward in training mode, BCE-with-logits, backward (under
 * mpirun with the gradients averaged over the job), Adam, clear the gradients
 * (what tools/bench_torch.py times too). Inference: no tape. */
static glia_status model_run(glia_device *dev, model_state *st)
{
    if (st->c->kind == GLIA_BENCH_KIND_VOLUME) {
        const glia_model_config *cfg = glia_model_get_config(st->m);
        int64_t w = st->c->size;
        glia_predict_options po = {.batch = 1, .window = {w, w, w}, .overlap = 0.5f, .blend = GLIA_BLEND_GAUSSIAN};
        return glia_predict(&st->m, 1, st->image, cfg->in_channels, st->c->volume, &po, st->prob);
    }
    glia_tensor *y = NULL, *loss = NULL;
    int was = glia_grad_mode(dev, st->train);
    glia_status s = glia_model_forward(st->m, st->x, st->train, &y);
    if (st->train) {
        if (s == GLIA_STATUS_OK)
            s = glia_loss_bce_logits(y, st->target, &loss);
        if (st->red) { /* every rank joins the step's collectives, whatever failed before them */
            glia_status b = glia_reducer_backward(st->red, s == GLIA_STATUS_OK ? loss : NULL);
            s = glia_dist_agree(st->dist, s != GLIA_STATUS_OK ? s : b);
        } else if (s == GLIA_STATUS_OK) {
            s = glia_backward(loss);
        }
        if (s == GLIA_STATUS_OK)
            s = glia_optim_step(st->opt);
        glia_params_zero_grad(glia_model_params(st->m));
        if (s != GLIA_STATUS_OK)
            glia_tape_clear(dev);
    }
    glia_tensor_free(y);
    glia_tensor_free(loss);
    glia_grad_mode(dev, was);
    return s;
}

/* ---- the runner -------------------------------------------------------------------- */

typedef struct runner {
    const char *spec;
    glia_device_options dopts;
    const glia_bench_options *o;
    glia_device *shared;          /* op cases share one device */
    glia_rng rng;
} runner;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static glia_status run_case(runner *rn, const glia_bench_case *c, glia_bench_result *r)
{
    const glia_bench_options *o = rn->o;
    int repeat = o->repeat > 0 ? o->repeat : 5, warmup = o->warmup > 0 ? o->warmup : o->warmup < 0 ? 0 : 1;
    int own = c->kind != GLIA_BENCH_KIND_OP;
    glia_device *dev = rn->shared;
    glia_status s = GLIA_STATUS_OK;
    glia_bench_rss_reset();
    if (own || !dev)
        s = glia_device_open(rn->spec, &rn->dopts, &dev);
    if (!own && s == GLIA_STATUS_OK)
        rn->shared = dev;
    op_state *ost = NULL;
    model_state *mst = NULL;
    glia_memory_stats m0, m1;
    if (s == GLIA_STATUS_OK) {
        glia_device_memory_stats(dev, &m0);
        s = own ? model_setup(dev, c, &rn->rng, o->dist, &mst) : op_setup(dev, c, &rn->rng, &ost);
    }
    if (own && c->kind == GLIA_BENCH_KIND_TRAIN) /* the ranks start the case's collectives together */
        s = glia_dist_agree(o->dist, s);
    double *t = calloc((size_t)repeat, sizeof *t);
    if (!t && s == GLIA_STATUS_OK)
        s = glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "bench: no host memory");
    int runs = 0;
    for (int i = -warmup; i < repeat && s == GLIA_STATUS_OK; i++) {
        double t0 = now();
        s = own ? model_run(dev, mst) : glia_run(dev, &ost->op);
        if (s == GLIA_STATUS_OK)
            s = glia_device_sync(dev);
        if (s == GLIA_STATUS_OK && i >= 0)
            t[runs++] = now() - t0;
    }
    if (s == GLIA_STATUS_OK && runs) {
        qsort(t, (size_t)runs, sizeof *t, cmp_double);
        r->runs = runs;
        r->min_s = t[0];
        r->median_s = runs % 2 ? t[runs / 2] : 0.5 * (t[runs / 2 - 1] + t[runs / 2]);
        glia_device_memory_stats(dev, &m1);
        /* a fresh device's peak is the benchmark's; on the shared one, the operands */
        r->peak_mem_bytes = own ? m1.peak_bytes : m1.in_use_bytes - m0.in_use_bytes;
    }
    free(t);
    model_free(mst);
    op_free(ost);
    if (own)
        glia_device_close(dev);
    else if (dev)
        glia_device_empty_cache(dev);
    r->peak_rss_bytes = glia_bench_rss_peak();
    return s;
}

glia_status glia_bench_run(const char *spec, const glia_device_options *dopts, const glia_bench_options *opts,
                           glia_bench_report **out)
{
    glia_bench_options none = {0};
    const glia_bench_options *o = opts ? opts : &none;
    if (!out)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_bench_run: out is NULL");
    *out = NULL;
    if (!spec)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_bench_run: spec is NULL");
    glia_bench_caselist l = {0};
    glia_status s = selected(o, &l);
    if (s == GLIA_STATUS_OK && l.n == 0)
        s = glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "bench: no benchmark matches '%s'", o->filter ? o->filter : "");
    glia_bench_report *rep = s == GLIA_STATUS_OK ? calloc(1, sizeof *rep) : NULL;
    if (s == GLIA_STATUS_OK && (!rep || !(rep->results = calloc((size_t)l.n, sizeof *rep->results))))
        s = glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "bench: no host memory for %d results", l.n);
    runner rn = {.spec = spec, .o = o};
    if (dopts)
        rn.dopts = *dopts;
    glia_rng_init(&rn.rng, 1);
    /* open the shared device first: it names the device and measures the peak */
    if (s == GLIA_STATUS_OK && (s = glia_device_open(spec, &rn.dopts, &rn.shared)) == GLIA_STATUS_OK) {
        rep->device = *glia_device_get_info(rn.shared);
        rep->threads = strcmp(rep->device.backend, "cpu") == 0 ? rn.dopts.threads : 0;
        if (rep->threads == 0 && strcmp(rep->device.backend, "cpu") == 0)
            rep->threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
        if (!o->no_peak)
            s = glia_bench_peak_measure(rn.shared, rep->threads, &rep->peak);
        if (s == GLIA_STATUS_OK && o->on_start)
            o->on_start(o->user, rep);
    }
    int failed = 0;
    for (int i = 0; i < l.n && s == GLIA_STATUS_OK; i++) {
        glia_bench_result *r = &rep->results[rep->count++];
        const glia_bench_case *c = &l.v[i];
        snprintf(r->name, sizeof r->name, "%s", c->name);
        r->flops = c->flops;
        r->bytes = c->bytes;
        r->items = c->items;
        r->unit = c->unit;
        glia_status cs = run_case(&rn, c, r);
        if (cs != GLIA_STATUS_OK) {
            /* one failure (a device out of memory, say) does not end the run */
            snprintf(r->error, sizeof r->error, "%s: %s", glia_status_str(cs), glia_last_error());
            failed = failed ? failed : (int)cs;
            glia_clear_error();
        }
        if (o->on_result)
            o->on_result(o->user, r);
    }
    glia_device_close(rn.shared);
    glia_bench_cases_free(&l);
    if (s != GLIA_STATUS_OK) {
        glia_bench_report_free(rep);
        return s;
    }
    *out = rep;
    return failed ? glia_seterr((glia_status)failed, "bench: some benchmarks failed (their results say why)")
                  : GLIA_STATUS_OK;
}

void glia_bench_report_free(glia_bench_report *r)
{
    if (r)
        free(r->results);
    free(r);
}
