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

/* A k^nsp convolution (stride 1, pad k/2) from cin to cout at spatial side
 * `side`; or, transposed, the k2 s2 up-convolution from cin channels at side/2
 * to cout at side (its primitive runs from the large side: cin and cout swap);
 * or, strided, the stride-k convolution from side to side/k. */
static void add(conv_list *l, const glia_model_conv_layer *y)
{
    if (l->n < l->max) {
        glia_bench_conv *c = &l->out[l->n];
        glia_conv_desc *d = &c->d;
        int down = y->transposed || y->strided;   /* the primitive goes from side to side/k */
        d->nd = l->nsp;
        d->n = l->batch;
        d->cin = y->transposed ? y->cout : y->cin;
        d->cout = y->transposed ? y->cin : y->cout;
        for (int a = 0; a < 3; a++) {
            int sp = a >= 3 - l->nsp;
            d->in[a] = sp ? y->side : 1;
            d->k[a] = sp ? y->k : 1;
            d->stride[a] = sp && down ? y->k : 1;
            d->pad[a] = sp && !down ? y->k / 2 : 0;
            d->out[a] = sp && down ? y->side / y->k : d->in[a];
        }
        c->uses = y->uses;
        c->transposed = y->transposed;
        c->needs_dx = y->needs_dx;
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
        add(&l, &layers[i]);
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
    /* every matrix product's operands need gradients (they follow the first
       layer): a backward GEMM for each, so training is three times forward */
    double mm = glia_model_matmul_flops(cfg, batch, size);
    *infer = mm;
    *train = 3 * mm;
    for (int i = 0; i < n && i < 128; i++) {
        double f = glia_bench_conv_flops(&c[i].d) * c[i].uses;
        *infer += f;
        *train += f * (c[i].needs_dx ? 3 : 2);   /* forward, backward-weight, backward-data */
    }
}
