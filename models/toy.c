/* The toy segmentation problem and network behind glia_toy_train. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "glia/glia.h"
#include "core/error.h"

/* Images with 1 to 3 bright disks on Gaussian noise; the mask marks the disks. */
static void make_batch(glia_rng *rng, int batch, int size, float *img, float *mask)
{
    for (int b = 0; b < batch; b++) {
        float *im = img + (size_t)b * size * size, *mk = mask + (size_t)b * size * size;
        for (int i = 0; i < size * size; i++) {
            im[i] = 0.3f * glia_rng_normal(rng);
            mk[i] = 0.0f;
        }
        int disks = 1 + (int)(glia_rng_u32(rng) % 3);
        for (int d = 0; d < disks; d++) {
            float r = size * (0.08f + 0.1f * glia_rng_uniform(rng));
            float cy = r + (size - 2 * r) * glia_rng_uniform(rng), cx = r + (size - 2 * r) * glia_rng_uniform(rng);
            for (int y = 0; y < size; y++)
                for (int x = 0; x < size; x++)
                    if ((y - cy) * (y - cy) + (x - cx) * (x - cx) <= r * r) {
                        im[y * size + x] += 1.0f;
                        mk[y * size + x] = 1.0f;
                    }
        }
    }
}

typedef struct toynet {
    glia_params *p;
} toynet;

#define P(name) glia_params_find(net->p, name)

/* conv -> bn -> relu */
static glia_status cbr(toynet *net, const char *conv, const char *bn, glia_tensor *x, int train, glia_tensor **out)
{
    char n[64];
    glia_conv_params pad = {.padding = {1, 1}};
    glia_tensor *c = NULL, *b = NULL;
    glia_status s;
    snprintf(n, sizeof n, "%s.weight", conv);
    glia_tensor *w = P(n);
    snprintf(n, sizeof n, "%s.bias", conv);
    if ((s = glia_conv(x, w, P(n), &pad, &c)) == GLIA_STATUS_OK) {
        char g[64], be[64], rm[64], rv[64];
        snprintf(g, sizeof g, "%s.weight", bn);
        snprintf(be, sizeof be, "%s.bias", bn);
        snprintf(rm, sizeof rm, "%s.running_mean", bn);
        snprintf(rv, sizeof rv, "%s.running_var", bn);
        if ((s = glia_batch_norm(c, P(g), P(be), P(rm), P(rv), train, 0.1f, 1e-5f, &b)) == GLIA_STATUS_OK)
            s = glia_relu(b, out);
    }
    glia_tensor_free(c);
    glia_tensor_free(b);
    return s;
}

/* A two-level U-Net: enc(8) -> pool -> mid(16) -> up(8) -> concat -> dec(8) -> head(1). */
static glia_status forward(toynet *net, glia_tensor *x, int train, glia_tensor **out)
{
    glia_tensor *e = NULL, *pl = NULL, *m = NULL, *u = NULL, *cat = NULL, *d = NULL;
    int k2[2] = {2, 2};
    glia_conv_params s2 = {.stride = {2, 2}};
    glia_status s;
    if ((s = cbr(net, "enc.conv", "enc.bn", x, train, &e)) == GLIA_STATUS_OK &&
        (s = glia_max_pool(e, k2, NULL, &pl)) == GLIA_STATUS_OK &&
        (s = cbr(net, "mid.conv", "mid.bn", pl, train, &m)) == GLIA_STATUS_OK &&
        (s = glia_conv_transpose(m, P("up.weight"), P("up.bias"), &s2, &u)) == GLIA_STATUS_OK) {
        glia_tensor *pair[2] = {e, u};
        if ((s = glia_concat(pair, 2, &cat)) == GLIA_STATUS_OK &&
            (s = cbr(net, "dec.conv", "dec.bn", cat, train, &d)) == GLIA_STATUS_OK)
            s = glia_conv(d, P("head.weight"), P("head.bias"), NULL, out);
    }
    glia_tensor *tmp[] = {e, pl, m, u, cat, d};
    for (size_t i = 0; i < sizeof tmp / sizeof *tmp; i++)
        glia_tensor_free(tmp[i]);
    return s;
}

/* name, kind (0 conv 3x3 + bn, 1 transposed conv 2x2, 2 conv 1x1), in, out */
static const struct layer { const char *name; int kind, cin, cout; } layers[] = {
    {"enc", 0, 1, 8}, {"mid", 0, 8, 16}, {"up", 1, 16, 8}, {"dec", 0, 16, 8}, {"head", 2, 8, 1},
};

static glia_status build(toynet *net, glia_device *dev, glia_rng *rng)
{
    static const int ksize[3][2] = {{3, 3}, {2, 2}, {1, 1}};
    glia_status s = glia_params_create(&net->p);
    for (size_t i = 0; i < sizeof layers / sizeof *layers && s == GLIA_STATUS_OK; i++) {
        const struct layer *l = &layers[i];
        char conv[32], bn[32];
        snprintf(conv, sizeof conv, l->kind ? "%s" : "%s.conv", l->name);
        snprintf(bn, sizeof bn, "%s.bn", l->name);
        s = glia_params_add_conv(net->p, dev, rng, conv, 2, l->cin, l->cout, ksize[l->kind], 1, l->kind == 1);
        if (s == GLIA_STATUS_OK && l->kind == 0)
            s = glia_params_add_batchnorm(net->p, dev, bn, l->cout);
    }
    return s;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

glia_status glia_toy_train(glia_device *dev, const glia_toy_options *opts, glia_toy_result *result)
{
    if (!dev || !result)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_toy_train: %s is NULL", dev ? "result" : "device");
    glia_toy_options o = opts ? *opts : (glia_toy_options){0};
    int steps = o.steps ? o.steps : 80, batch = o.batch ? o.batch : 8, size = o.size ? o.size : 32;
    if (steps < 1 || batch < 1 || size < 8 || size % 2 || size > 1024 || batch > 1024)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT,
                           "glia_toy_train: steps %d (>= 1), batch %d (1 to 1024), size %d (even, 8 to 1024)", steps,
                           batch, size);
    memset(result, 0, sizeof *result);
    glia_rng rng;
    glia_rng_init(&rng, o.seed);
    toynet net = {0};
    glia_optimizer *opt = NULL;
    glia_optim_options oo = {.kind = GLIA_OPTIM_ADAM, .lr = 1e-2f};
    size_t n = (size_t)batch * size * size;
    float *img = malloc(n * sizeof *img), *mask = malloc(n * sizeof *mask);
    int64_t shape[4] = {batch, 1, size, size};
    glia_status s = img && mask ? build(&net, dev, &rng) : GLIA_STATUS_OUT_OF_MEMORY;
    if (s == GLIA_STATUS_OK)
        s = glia_optim_create(net.p, &oo, &opt);
    double t0 = now();
    for (int step = 0; step < steps && s == GLIA_STATUS_OK; step++) {
        glia_tensor *x = NULL, *y = NULL, *logits = NULL, *loss = NULL;
        float lv = 0;
        make_batch(&rng, batch, size, img, mask);
        glia_params_zero_grad(net.p);
        if ((s = glia_tensor_from_host(dev, 4, shape, img, &x)) == GLIA_STATUS_OK &&
            (s = glia_tensor_from_host(dev, 4, shape, mask, &y)) == GLIA_STATUS_OK &&
            (s = forward(&net, x, 1, &logits)) == GLIA_STATUS_OK &&
            (s = glia_loss_dice_bce(logits, y, NULL, 1.0f, 1.0f, &loss)) == GLIA_STATUS_OK &&
            (s = glia_backward(loss)) == GLIA_STATUS_OK && (s = glia_optim_step(opt)) == GLIA_STATUS_OK &&
            (step == 0 || step == steps - 1 || (o.verbose && step % 10 == 0)))
            s = glia_tensor_read(loss, &lv, 1);
        if (s == GLIA_STATUS_OK && step == 0)
            result->first_loss = lv;
        if (s == GLIA_STATUS_OK && step == steps - 1)
            result->last_loss = lv;
        if (s == GLIA_STATUS_OK && o.verbose && step % 10 == 0)
            fprintf(stderr, "step %3d  loss %.4f\n", step, lv);
        glia_tensor *tmp[] = {x, y, logits, loss};
        for (int i = 0; i < 4; i++)
            glia_tensor_free(tmp[i]);
    }
    if (s == GLIA_STATUS_OK)
        s = glia_device_sync(dev);
    result->seconds = now() - t0;
    /* held-out images, eval-mode batch norm, no tape */
    glia_tensor *x = NULL, *y = NULL, *logits = NULL;
    int mode = glia_grad_mode(dev, 0);
    glia_confusion conf;
    glia_confusion_init(&conf, 1);
    if (s == GLIA_STATUS_OK) {
        make_batch(&rng, batch, size, img, mask);
        if ((s = glia_tensor_from_host(dev, 4, shape, img, &x)) == GLIA_STATUS_OK &&
            (s = glia_tensor_from_host(dev, 4, shape, mask, &y)) == GLIA_STATUS_OK &&
            (s = forward(&net, x, 0, &logits)) == GLIA_STATUS_OK &&
            (s = glia_confusion_update(&conf, logits, y, 0.0f)) == GLIA_STATUS_OK)
            result->dice = glia_metrics_from_confusion(&conf, 0).dice;
    }
    glia_grad_mode(dev, mode);
    glia_tensor_free(x);
    glia_tensor_free(y);
    glia_tensor_free(logits);
    glia_optim_free(opt);
    glia_params_free(net.p);
    free(img);
    free(mask);
    return s;
}
