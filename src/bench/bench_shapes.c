/* The convolutions a model's forward pass runs (glia_model_conv_layers, which
 * each model lists in its own file) as backend descriptors: the op benchmarks
 * time each distinct layer shape, and the model benchmarks count their FLOPs
 * from the same list. */
#include "bench_priv.h"

typedef struct conv_list {
    glia_bench_conv *out;
    int max, n, nsp;
    int64_t batch;
} conv_list;

/* A k^nsp convolution (stride 1, pad k/2) from cin to cout at spatial side `side`,
 * or, transposed, the k2 s2 up-convolution from cin channels at side/2 to cout
 * at side (its primitive runs from the large side: cin and cout swap). */
static void add(conv_list *l, int64_t cin, int64_t cout, int64_t side, int k, int transposed, int uses,
                int needs_dx)
{
    if (l->n < l->max) {
        glia_bench_conv *c = &l->out[l->n];
        glia_conv_desc *d = &c->d;
        d->nd = l->nsp;
        d->n = l->batch;
        d->cin = transposed ? cout : cin;
        d->cout = transposed ? cin : cout;
        for (int a = 0; a < 3; a++) {
            int sp = a >= 3 - l->nsp;
            d->in[a] = sp ? side : 1;
            d->k[a] = sp ? k : 1;
            d->stride[a] = sp && transposed ? k : 1;
            d->pad[a] = sp && !transposed ? k / 2 : 0;
            d->out[a] = sp && transposed ? side / k : d->in[a];
        }
        c->uses = uses;
        c->transposed = transposed;
        c->needs_dx = needs_dx;
    }
    l->n++;
}

int glia_bench_model_convs(const glia_model_config *cfg, int64_t batch, int64_t size, glia_bench_conv *out,
                           int max)
{
    conv_list l = {out, max, 0, glia_model_config_spatial_dims(cfg), batch};
    glia_model_conv_layer layers[128];
    int n = glia_model_conv_layers(cfg, size, layers, 128);
    for (int i = 0; i < n && i < 128; i++)
        add(&l, layers[i].cin, layers[i].cout, layers[i].side, layers[i].k, layers[i].transposed, layers[i].uses,
            layers[i].needs_dx);
    return l.n;
}

double glia_bench_conv_flops(const glia_conv_desc *d)
{
    double f = 2.0 * (double)d->n * (double)d->cout * (double)d->cin;
    for (int a = 0; a < 3; a++)
        f *= (double)d->out[a] * d->k[a];
    return f;
}

void glia_bench_model_flops(const glia_model_config *cfg, int64_t batch, int64_t size, double *infer,
                            double *train)
{
    glia_bench_conv c[128];
    int n = glia_bench_model_convs(cfg, batch, size, c, 128);
    *infer = *train = 0;
    for (int i = 0; i < n && i < 128; i++) {
        double f = glia_bench_conv_flops(&c[i].d) * c[i].uses;
        *infer += f;
        *train += f * (c[i].needs_dx ? 3 : 2);   /* forward, backward-weight, backward-data */
    }
}
