/* Interop helper for SwinUNETR's building blocks: for every case below, read
 * DIR/<case>_in<k>.npy (inputs) and DIR/<case>_dy.npy (an upstream gradient),
 * run the op on DEVICE, back-propagate L = sum(y * dy), and write
 * DIR/<case>_y.npy and DIR/<case>_g<k>.npy (dL/d in<k>). The Python side
 * (test_swin_ops.py) computes the same with PyTorch, as MONAI writes it.
 *   glia_ops DEVICE DIR */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "glia/glia.h"

#define WS 2   /* window side of the window cases (MONAI: 7; the contract is the same) */

typedef glia_status (*case_fn)(glia_tensor **in, glia_tensor **out);

static glia_status c_gelu(glia_tensor **in, glia_tensor **out) { return glia_gelu(in[0], out); }
static glia_status c_leaky(glia_tensor **in, glia_tensor **out) { return glia_leaky_relu(in[0], 0.01f, out); }
static glia_status c_layernorm(glia_tensor **in, glia_tensor **out)
{
    return glia_layer_norm(in[0], in[1], in[2], 1e-5f, out);
}
static glia_status c_instnorm(glia_tensor **in, glia_tensor **out) { return glia_instance_norm(in[0], 1e-5f, out); }
static glia_status c_softmax(glia_tensor **in, glia_tensor **out) { return glia_softmax_axis(in[0], -1, out); }
static glia_status c_linear(glia_tensor **in, glia_tensor **out) { return glia_linear(in[0], in[1], in[2], out); }
static glia_status c_mask(glia_tensor **in, glia_tensor **out) { return glia_add_broadcast(in[0], in[1], out); }
/* MONAI pads (B, D, H, W, C) at the end of D, H and W to window multiples */
static glia_status c_pad(glia_tensor **in, glia_tensor **out)
{
    return glia_pad(in[0], (const int64_t[]){0, 0, 0, 0, 0}, (const int64_t[]){0, 1, 0, 2, 0}, out);
}

/* Apply f to *cur and replace it (NULL after a failure). */
static glia_status step(glia_status s, glia_tensor **cur, glia_status (*f)(glia_tensor *, glia_tensor **))
{
    glia_tensor *next = NULL;
    if (s == GLIA_STATUS_OK)
        s = f(*cur, &next);
    glia_tensor_free(*cur);
    *cur = next;
    return s;
}

static glia_status roll_d(glia_tensor *x, glia_tensor **o) { return glia_roll(x, 1, -WS / 2, o); }
static glia_status roll_h(glia_tensor *x, glia_tensor **o) { return glia_roll(x, 2, -WS / 2, o); }
static glia_status roll_w(glia_tensor *x, glia_tensor **o) { return glia_roll(x, 3, -WS / 2, o); }

/* Shifted windows: roll by -WS/2 on D, H, W, then MONAI's window_partition of
 * x (B, D, H, W, C) into (B * windows, WS^3, C), as a 6-D permute. */
static glia_status c_windows(glia_tensor **in, glia_tensor **out)
{
    glia_tensor *x = glia_tensor_retain(in[0]);
    int64_t b = glia_tensor_dim(x, 0), d = glia_tensor_dim(x, 1), h = glia_tensor_dim(x, 2), w = glia_tensor_dim(x, 3),
            c = glia_tensor_dim(x, 4);
    glia_status s = step(GLIA_STATUS_OK, &x, roll_d);
    s = step(s, &x, roll_h);
    s = step(s, &x, roll_w);
    glia_tensor *v = NULL, *p = NULL;
    int64_t six[6] = {b * d / WS, WS, h / WS, WS, w / WS, WS * c}, three[3] = {b * d * h * w / (WS * WS * WS), WS * WS * WS, c};
    if (s == GLIA_STATUS_OK && (s = glia_tensor_reshape(x, 6, six, &v)) == GLIA_STATUS_OK &&
        (s = glia_permute(v, (const int[]){0, 2, 4, 1, 3, 5}, &p)) == GLIA_STATUS_OK)
        s = glia_tensor_reshape(p, 3, three, out);
    glia_tensor_free(x), glia_tensor_free(v), glia_tensor_free(p);
    return s;
}

/* MONAI's relative_position_index for 3-D windows of side WS: for tokens i, j
 * (row-major d, h, w), ((di-dj+WS-1)*(2WS-1) + (hi-hj+WS-1))*(2WS-1) + (wi-wj+WS-1). */
static void relative_index(int32_t *idx)
{
    const int n = WS * WS * WS, m = 2 * WS - 1;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            int di = i / (WS * WS), hi = i / WS % WS, wi = i % WS, dj = j / (WS * WS), hj = j / WS % WS, wj = j % WS;
            idx[i * n + j] = ((di - dj + WS - 1) * m + (hi - hj + WS - 1)) * m + (wi - wj + WS - 1);
        }
}

/* The relative position bias (heads, N, N) from the table ((2WS-1)^3, heads). */
static glia_status c_bias(glia_tensor **in, glia_tensor **out)
{
    enum { N = WS * WS * WS };
    int32_t idx[N * N];
    relative_index(idx);
    int64_t heads = glia_tensor_dim(in[0], 1), nnh[3] = {N, N, heads};
    glia_tensor *g = NULL, *v = NULL;
    glia_status s = glia_gather_rows(in[0], idx, N * N, &g);
    if (s == GLIA_STATUS_OK && (s = glia_tensor_reshape(g, 3, nnh, &v)) == GLIA_STATUS_OK)
        s = glia_permute(v, (const int[]){2, 0, 1}, out);
    glia_tensor_free(g), glia_tensor_free(v);
    return s;
}

/* Patch merging's gather of x (B, D, H, W, C): the 8 parities of (d, h, w), in
 * binary order with d slowest, concatenated on channels (PatchMergingV2's
 * order; MONAI's default "merging" repeats two of them, see python/glia_torch.py). */
static glia_status c_merge(glia_tensor **in, glia_tensor **out)
{
    glia_tensor *part[8] = {0};
    glia_status s = GLIA_STATUS_OK;
    for (int k = 0; k < 8 && s == GLIA_STATUS_OK; k++) {
        glia_tensor *cur = glia_tensor_retain(in[0]), *next = NULL;
        for (int a = 0; a < 3 && s == GLIA_STATUS_OK; a++) {
            int axis = 1 + a, parity = (k >> (2 - a)) & 1;
            s = glia_slice_step(cur, axis, parity, glia_tensor_dim(cur, axis) / 2, 2, &next);
            glia_tensor_free(cur);
            cur = next;
        }
        part[k] = cur;
    }
    if (s == GLIA_STATUS_OK)
        s = glia_cat(part, 8, -1, out);
    for (int k = 0; k < 8; k++)
        glia_tensor_free(part[k]);
    return s;
}

static const struct {
    const char *name;
    case_fn fn;
    int nin;
} cases[] = {
    {"gelu", c_gelu, 1},       {"leaky", c_leaky, 1},     {"layernorm", c_layernorm, 3}, {"instnorm", c_instnorm, 1},
    {"softmax", c_softmax, 1}, {"linear", c_linear, 3},   {"mask", c_mask, 2},           {"windows", c_windows, 1},
    {"bias", c_bias, 1},       {"merge", c_merge, 1},     {"pad", c_pad, 1},
};

static glia_tensor *load(glia_device *dev, const char *dir, const char *name, const char *what, glia_status *s)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s_%s.npy", dir, name, what);
    int nd = 0;
    int64_t shape[GLIA_NPY_MAX_DIMS];
    float *data = NULL;
    glia_tensor *t = NULL;
    if (*s == GLIA_STATUS_OK && (*s = glia_npy_read_f32(path, &nd, shape, &data)) == GLIA_STATUS_OK)
        *s = glia_tensor_from_host(dev, nd, shape, data, &t);
    free(data);
    return t;
}

static glia_status save(const char *dir, const char *name, const char *what, glia_tensor *t)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s_%s.npy", dir, name, what);
    int nd = glia_tensor_ndim(t);
    int64_t shape[GLIA_MAX_DIMS], n = glia_tensor_numel(t);
    for (int i = 0; i < nd; i++)
        shape[i] = glia_tensor_dim(t, i);
    float *h = malloc((size_t)n * sizeof *h);
    glia_status s = h ? glia_tensor_read(t, h, (size_t)n) : GLIA_STATUS_OUT_OF_MEMORY;
    if (s == GLIA_STATUS_OK)
        s = glia_npy_write_f32(path, nd, shape, h);
    free(h);
    return s;
}

static glia_status run_case(glia_device *dev, const char *dir, int c)
{
    const char *name = cases[c].name;
    glia_tensor *in[3] = {0}, *y = NULL, *dy = NULL, *prod = NULL, *loss = NULL;
    glia_status s = GLIA_STATUS_OK;
    for (int k = 0; k < cases[c].nin; k++) {
        char what[8];
        snprintf(what, sizeof what, "in%d", k);
        in[k] = load(dev, dir, name, what, &s);
        if (s == GLIA_STATUS_OK)
            s = glia_tensor_set_requires_grad(in[k], 1);
    }
    dy = load(dev, dir, name, "dy", &s);
    if (s == GLIA_STATUS_OK && (s = cases[c].fn(in, &y)) == GLIA_STATUS_OK && (s = save(dir, name, "y", y)) == GLIA_STATUS_OK &&
        (s = glia_mul(y, dy, &prod)) == GLIA_STATUS_OK && (s = glia_sum(prod, &loss)) == GLIA_STATUS_OK)
        s = glia_backward(loss);
    for (int k = 0; k < cases[c].nin && s == GLIA_STATUS_OK; k++) {
        char what[8];
        snprintf(what, sizeof what, "g%d", k);
        glia_tensor *g = glia_tensor_grad(in[k]);
        s = g ? save(dir, name, what, g) : GLIA_STATUS_INTERNAL;
    }
    for (int k = 0; k < 3; k++)
        glia_tensor_free(in[k]);
    glia_tensor_free(y), glia_tensor_free(dy), glia_tensor_free(prod), glia_tensor_free(loss);
    if (s != GLIA_STATUS_OK)
        fprintf(stderr, "glia_ops: %s: %s: %s\n", name, glia_status_str(s), glia_last_error());
    return s;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: glia_ops DEVICE DIR\n");
        return 2;
    }
    glia_device *dev = NULL;
    glia_status s = glia_device_open(argv[1], NULL, &dev);
    if (s != GLIA_STATUS_OK) {
        fprintf(stderr, "glia_ops: %s: %s\n", argv[1], glia_last_error());
        return 3;   /* no such device: the caller decides whether that fails */
    }
    int failed = 0;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
        failed |= run_case(dev, argv[2], (int)c) != GLIA_STATUS_OK;
    glia_device_close(dev);
    return failed;
}
