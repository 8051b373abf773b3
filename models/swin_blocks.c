/* SwinUNETR's Swin transformer stages, as MONAI 1.5 computes them (see
 * python/glia_torch.py for the reference and its quirks): windows of 7
 * (the whole axis where it is <= 7), blocks alternating unshifted and shifted
 * by 3, the -100 mask of the shifted windows, and the legacy patch merging.
 * Everything works channels-last, (B, D, H, W, C). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "core/error.h"
#include "swin.h"

#define STEP(v, call) GLIA_SWIN_STEP(s, v, call)
#define W GLIA_SWIN_WINDOW

static const int to_last[5] = {0, 2, 3, 4, 1}, to_first[5] = {0, 4, 1, 2, 3};

glia_status glia_swin_channel_norm(glia_tensor *x, glia_tensor **out)
{
    glia_tensor *cur = NULL;
    glia_status s = glia_permute(x, to_last, &cur);
    STEP(cur, glia_layer_norm(cur, NULL, NULL, 1e-5f, &next_));
    STEP(cur, glia_permute(cur, to_first, &next_));
    *out = cur;
    return s;
}

/* The windows of one stage: the same for both its blocks. */
typedef struct swin_geom {
    int64_t b, size[3], padded[3], nw; /* nw: windows per sample */
    int ws[3], shift[3];               /* shift of the shifted block, 0 on axes <= W */
    int n, shifted;                    /* tokens per window; does any axis shift */
    int32_t *index;                    /* n x n rows of the bias table */
    float *mask_host;                  /* (nw, n, n), NULL when nothing shifts */
    glia_tensor *mask;                 /* (nw, 1, n, n) on the device when it fits one binding, else NULL */
} swin_geom;

/* The scores of all windows at once can outgrow what one device buffer
 * binding reaches (lavapipe: 128 MiB; at 64^3, 125 windows x 3 heads x 343^2
 * floats are 176 MB), so larger window sets go through in groups of at most
 * this many bytes of scores, each inside one sample so that its mask rows are
 * consecutive. A mask above MASK_BYTES (at 128^3, 1000 windows: 470 MB)
 * stays on the host, and each group uploads its rows; at 64^3 the first
 * stage's (59 MB) does, and the second's (13 MB) is sliced on the device, so
 * the tests run both. */
#define SCORE_BYTES ((int64_t)64 << 20)
#define MASK_BYTES ((int64_t)32 << 20)

/* MONAI's relative_position_index of the full W^3 window, of which a shrunk
 * window uses the top-left n x n block (MONAI quirk: not recomputed). */
int32_t glia_swin_rel_index(int i, int j)
{
    int di = i / (W * W), hi = i / W % W, wi = i % W, dj = j / (W * W), hj = j / W % W, wj = j % W;
    return ((di - dj + W - 1) * (2 * W - 1) + (hi - hj + W - 1)) * (2 * W - 1) + (wi - wj + W - 1);
}

/* compute_mask's region of coordinate i on one axis: the slices [:-ws],
 * [-ws:-shift], [-shift:] assigned in turn, so with shift 0 the last (the
 * whole axis) wins. */
static int region(int64_t i, int64_t padded, int ws, int shift)
{
    return shift == 0 ? 2 : i < padded - ws ? 0 : i < padded - shift ? 1 : 2;
}

static glia_status make_mask(swin_geom *g, glia_device *dev)
{
    int n = g->n;
    float *mask = malloc((size_t)g->nw * (size_t)n * (size_t)n * sizeof *mask);
    int *label = malloc((size_t)n * sizeof *label);
    if (!mask || !label) {
        free(mask), free(label);
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "swinunetr: no host memory for the attention mask");
    }
    int64_t nh = g->padded[1] / g->ws[1], nwd = g->padded[2] / g->ws[2];
    for (int64_t w = 0; w < g->nw; w++) {
        int64_t o[3] = {w / (nh * nwd) * g->ws[0], w / nwd % nh * g->ws[1], w % nwd * g->ws[2]};
        for (int t = 0; t < n; t++) {
            int64_t c[3] = {o[0] + t / (g->ws[1] * g->ws[2]), o[1] + t / g->ws[2] % g->ws[1], o[2] + t % g->ws[2]};
            label[t] = 0;
            for (int a = 0; a < 3; a++)
                label[t] = 3 * label[t] + region(c[a], g->padded[a], g->ws[a], g->shift[a]);
        }
        float *mw = mask + w * n * n;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                mw[i * n + j] = label[i] == label[j] ? 0.0f : -100.0f;
    }
    free(label);
    g->mask_host = mask;
    if (g->nw * n * n * (int64_t)sizeof *mask > MASK_BYTES)
        return GLIA_STATUS_OK;
    return glia_tensor_from_host(dev, 4, (const int64_t[]){g->nw, 1, n, n}, mask, &g->mask);
}

/* Mask rows first .. first + len - 1 as a (len, 1, n, n) tensor on dev. */
static glia_status mask_rows(const swin_geom *g, glia_device *dev, int64_t first, int64_t len, glia_tensor **out)
{
    if (g->mask && first == 0 && len == g->nw) {
        *out = glia_tensor_retain(g->mask);
        return GLIA_STATUS_OK;
    }
    if (g->mask)
        return glia_slice(g->mask, 0, first, len, out);
    return glia_tensor_from_host(dev, 4, (const int64_t[]){len, 1, g->n, g->n},
                                 g->mask_host + first * g->n * g->n, out);
}

static void geom_free(swin_geom *g)
{
    free(g->index);
    free(g->mask_host);
    glia_tensor_free(g->mask);
}

void glia_swin_axis(int64_t side, int *ws, int *shift, int64_t *padded)
{
    *ws = side <= W ? (int)side : W;
    *shift = side <= W ? 0 : W / 2;
    *padded = (side + *ws - 1) / *ws * *ws;
}

static glia_status geom_init(swin_geom *g, glia_tensor *x)
{
    memset(g, 0, sizeof *g);
    g->b = glia_tensor_dim(x, 0);
    g->n = 1;
    g->nw = 1;
    for (int a = 0; a < 3; a++) {
        g->size[a] = glia_tensor_dim(x, 2 + a);
        glia_swin_axis(g->size[a], &g->ws[a], &g->shift[a], &g->padded[a]);
        g->n *= g->ws[a];
        g->nw *= g->padded[a] / g->ws[a];
        g->shifted |= g->shift[a] > 0;
    }
    g->index = malloc((size_t)g->n * (size_t)g->n * sizeof *g->index);
    if (!g->index)
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "swinunetr: no host memory for the position index");
    for (int i = 0; i < g->n; i++)
        for (int j = 0; j < g->n; j++)
            g->index[i * g->n + j] = glia_swin_rel_index(i, j);
    return g->shifted ? make_mask(g, glia_tensor_device(x)) : GLIA_STATUS_OK;
}

/* Rows 0, 1, 2 of qkv (3, Bw, heads, n, hd) as (Bw * heads, n, hd). */
static glia_status qkv_part(glia_tensor *qkv, int i, glia_tensor **out)
{
    glia_tensor *p = NULL;
    glia_status s = glia_slice(qkv, 0, i, 1, &p);
    int64_t bw = glia_tensor_dim(qkv, 1), heads = glia_tensor_dim(qkv, 2);
    STEP(p, glia_tensor_reshape(p, 3, (const int64_t[]){bw * heads, glia_tensor_dim(qkv, 3), glia_tensor_dim(qkv, 4)},
                                &next_));
    *out = p;
    return s;
}

/* The block's relative position bias (heads, n, n): the same for all its windows. */
static glia_status position_bias(const glia_swin_block *bk, int heads, const swin_geom *g, glia_tensor **out)
{
    int64_t n = g->n;
    glia_tensor *bias = NULL;
    glia_status s = glia_gather_rows(bk->table, g->index, n * n, &bias);
    STEP(bias, glia_tensor_reshape(bias, 3, (const int64_t[]){n, n, heads}, &next_));
    STEP(bias, glia_permute(bias, (const int[]){2, 0, 1}, &next_));
    *out = bias;
    return s;
}

/* WindowAttention of windows x (Bw, n, C) with the block's position bias;
 * mask NULL for an unshifted block. */
static glia_status attention(const glia_swin_block *bk, int heads, glia_tensor *x, const swin_geom *g,
                             glia_tensor *bias, glia_tensor *mask, glia_tensor **out)
{
    int64_t bw = glia_tensor_dim(x, 0), n = g->n, c = glia_tensor_dim(x, 2), hd = c / heads;
    glia_tensor *qkv = NULL, *q = NULL, *k = NULL, *v = NULL, *a = NULL;
    glia_status s = glia_linear(x, bk->qkv.w, bk->qkv.b, &qkv);
    STEP(qkv, glia_tensor_reshape(qkv, 5, (const int64_t[]){bw, n, 3, heads, hd}, &next_));
    STEP(qkv, glia_permute(qkv, (const int[]){2, 0, 3, 1, 4}, &next_));
    if (s == GLIA_STATUS_OK && (s = qkv_part(qkv, 0, &q)) == GLIA_STATUS_OK &&
        (s = qkv_part(qkv, 1, &k)) == GLIA_STATUS_OK)
        s = qkv_part(qkv, 2, &v);
    STEP(q, glia_affine(q, (float)pow((double)hd, -0.5), 0.0f, &next_));
    if (s == GLIA_STATUS_OK)
        s = glia_matmul(q, k, 0, 1, &a);
    STEP(a, glia_tensor_reshape(a, 4, (const int64_t[]){bw, heads, n, n}, &next_));
    STEP(a, glia_add_broadcast(a, bias, &next_));
    if (mask) {
        /* windows are sample-major, so (Bw) splits as (samples, mw) and the
           mask (mw, 1, n, n) broadcasts over samples and heads */
        int64_t mw = glia_tensor_dim(mask, 0);
        STEP(a, glia_tensor_reshape(a, 5, (const int64_t[]){bw / mw, mw, heads, n, n}, &next_));
        STEP(a, glia_add_broadcast(a, mask, &next_));
    }
    STEP(a, glia_softmax_axis(a, -1, &next_));
    STEP(a, glia_tensor_reshape(a, 3, (const int64_t[]){bw * heads, n, n}, &next_));
    STEP(a, glia_matmul(a, v, 0, 0, &next_));
    STEP(a, glia_tensor_reshape(a, 4, (const int64_t[]){bw, heads, n, hd}, &next_));
    STEP(a, glia_permute(a, (const int[]){0, 2, 1, 3}, &next_));
    STEP(a, glia_tensor_reshape(a, 3, (const int64_t[]){bw, n, c}, &next_));
    STEP(a, glia_linear(a, bk->proj.w, bk->proj.b, &next_));
    glia_tensor_free(qkv), glia_tensor_free(q), glia_tensor_free(k), glia_tensor_free(v);
    *out = a;
    return s;
}

/* Attention over x's windows in groups of at most SCORE_BYTES of scores;
 * shifted: with the mask. */
static glia_status attention_grouped(const glia_swin_block *bk, int heads, glia_tensor *x, const swin_geom *g,
                                     int shifted, glia_tensor **out)
{
    int64_t bw = glia_tensor_dim(x, 0), per = (int64_t)heads * g->n * g->n * (int64_t)sizeof(float);
    glia_tensor *bias = NULL, *mask = NULL;
    glia_status s = position_bias(bk, heads, g, &bias);
    if (s == GLIA_STATUS_OK && bw * per <= SCORE_BYTES) {
        if (shifted)
            s = mask_rows(g, glia_tensor_device(x), 0, g->nw, &mask);
        if (s == GLIA_STATUS_OK)
            s = attention(bk, heads, x, g, bias, mask, out);
    }
    if (s != GLIA_STATUS_OK || bw * per <= SCORE_BYTES) {
        glia_tensor_free(bias);
        glia_tensor_free(mask);
        return s;
    }
    int64_t group = SCORE_BYTES / per > 0 ? SCORE_BYTES / per : 1, w0 = 0;
    glia_tensor *part[64] = {0}, *xs = NULL, *ms = NULL;
    int np = 0;
    while (w0 < bw && s == GLIA_STATUS_OK) {
        int64_t first = w0 % g->nw, len = group < g->nw - first ? group : g->nw - first;
        s = glia_slice(x, 0, w0, len, &xs);
        if (s == GLIA_STATUS_OK && shifted)
            s = mask_rows(g, glia_tensor_device(x), first, len, &ms);
        if (s == GLIA_STATUS_OK)
            s = attention(bk, heads, xs, g, bias, ms, &part[np++]);
        glia_mreplace(&xs, NULL);
        glia_mreplace(&ms, NULL);
        w0 += len;
        if (np == 64 && s == GLIA_STATUS_OK) { /* glia_cat takes 64 at most: fold them into one */
            glia_tensor *all = NULL;
            s = glia_cat(part, np, 0, &all);
            for (int i = 0; i < np; i++)
                glia_mreplace(&part[i], NULL);
            part[0] = all;
            np = 1;
        }
    }
    if (s == GLIA_STATUS_OK)
        s = glia_cat(part, np, 0, out);
    for (int i = 0; i < np; i++)
        glia_tensor_free(part[i]);
    glia_tensor_free(bias);
    return s;
}

/* forward_part1 of x (B, D, H, W, C): norm1, pad the far ends to window
 * multiples, shift, attend within windows, and undo each step. */
static glia_status attend(const glia_swin_block *bk, int heads, glia_tensor *x, const swin_geom *g, int shifted,
                          glia_tensor **out)
{
    int64_t b = g->b, c = glia_tensor_dim(x, 4), pd = g->padded[0], ph = g->padded[1], pw = g->padded[2];
    int64_t nd = pd / g->ws[0], nh = ph / g->ws[1], nwd = pw / g->ws[2];
    int pad = pd != g->size[0] || ph != g->size[1] || pw != g->size[2];
    glia_tensor *cur = NULL;
    glia_status s = glia_layer_norm(x, bk->norm1.w, bk->norm1.b, 1e-5f, &cur);
    if (pad)
        STEP(cur, glia_pad(cur, (const int64_t[]){0, 0, 0, 0, 0},
                           (const int64_t[]){0, pd - g->size[0], ph - g->size[1], pw - g->size[2], 0}, &next_));
    for (int a = 0; a < 3 && shifted; a++)
        if (g->shift[a])
            STEP(cur, glia_roll(cur, 1 + a, -g->shift[a], &next_));
    /* window_partition as one 6-D permute (batch folded into the D windows) */
    STEP(cur, glia_tensor_reshape(cur, 6, (const int64_t[]){b * nd, g->ws[0], nh, g->ws[1], nwd, g->ws[2] * c},
                                  &next_));
    STEP(cur, glia_permute(cur, (const int[]){0, 2, 4, 1, 3, 5}, &next_));
    STEP(cur, glia_tensor_reshape(cur, 3, (const int64_t[]){b * g->nw, g->n, c}, &next_));
    STEP(cur, attention_grouped(bk, heads, cur, g, shifted, &next_));
    /* window_reverse */
    STEP(cur, glia_tensor_reshape(cur, 6, (const int64_t[]){b * nd, nh, nwd, g->ws[0], g->ws[1], g->ws[2] * c},
                                  &next_));
    STEP(cur, glia_permute(cur, (const int[]){0, 3, 1, 4, 2, 5}, &next_));
    STEP(cur, glia_tensor_reshape(cur, 5, (const int64_t[]){b, pd, ph, pw, c}, &next_));
    for (int a = 0; a < 3 && shifted; a++)
        if (g->shift[a])
            STEP(cur, glia_roll(cur, 1 + a, g->shift[a], &next_));
    for (int a = 0; a < 3; a++)
        if (g->padded[a] != g->size[a])
            STEP(cur, glia_slice(cur, 1 + a, 0, g->size[a], &next_));
    *out = cur;
    return s;
}

/* SwinTransformerBlock: x + attention part, then + mlp(norm2(.)). */
static glia_status block_fwd(const glia_swin_block *bk, int heads, glia_tensor *x, const swin_geom *g, int shifted,
                             glia_tensor **out)
{
    glia_tensor *cur = NULL, *h = NULL;
    glia_status s = attend(bk, heads, x, g, shifted, &h);
    if (s == GLIA_STATUS_OK)
        s = glia_add(x, h, &cur);
    STEP(h, glia_layer_norm(cur, bk->norm2.w, bk->norm2.b, 1e-5f, &next_));
    STEP(h, glia_linear(h, bk->fc1.w, bk->fc1.b, &next_));
    STEP(h, glia_gelu(h, &next_));
    STEP(h, glia_linear(h, bk->fc2.w, bk->fc2.b, &next_));
    STEP(cur, glia_add(cur, h, &next_));
    glia_tensor_free(h);
    *out = cur;
    return s;
}

/* MONAI quirk (legacy "merging", the default): the (d, h, w) offsets of the
 * eight strided slices, entries 5 and 6 repeating 2 and 3. */
static const int merge_offsets[8][3] = {{0, 0, 0}, {1, 0, 0}, {0, 1, 0}, {0, 0, 1},
                                        {1, 0, 1}, {0, 1, 0}, {0, 0, 1}, {1, 1, 1}};

/* PatchMerging of x (B, D, H, W, C) with even sides: cat of the slices, norm, reduction. */
static glia_status merge(const glia_swin_stage *st, glia_tensor *x, glia_tensor **out)
{
    glia_tensor *part[8] = {0}, *cur = NULL;
    glia_status s = GLIA_STATUS_OK;
    for (int k = 0; k < 8 && s == GLIA_STATUS_OK; k++) {
        part[k] = glia_tensor_retain(x);
        for (int a = 0; a < 3; a++)
            STEP(part[k], glia_slice_step(part[k], 1 + a, merge_offsets[k][a], glia_tensor_dim(x, 1 + a) / 2, 2,
                                          &next_));
    }
    if (s == GLIA_STATUS_OK)
        s = glia_cat(part, 8, -1, &cur);
    STEP(cur, glia_layer_norm(cur, st->merge_norm.w, st->merge_norm.b, 1e-5f, &next_));
    STEP(cur, glia_linear(cur, st->reduction.w, NULL, &next_));
    for (int k = 0; k < 8; k++)
        glia_tensor_free(part[k]);
    *out = cur;
    return s;
}

glia_status glia_swin_stage_fwd(const glia_swin_stage *st, glia_tensor *x, glia_tensor **out)
{
    swin_geom g;
    glia_tensor *cur = NULL;
    glia_status s = geom_init(&g, x);
    if (s == GLIA_STATUS_OK)
        s = glia_permute(x, to_last, &cur);
    for (int j = 0; j < GLIA_SWIN_DEPTH; j++)
        STEP(cur, block_fwd(&st->blk[j], st->heads, cur, &g, j % 2 == 1 && g.shifted, &next_));
    STEP(cur, merge(st, cur, &next_));
    STEP(cur, glia_permute(cur, to_first, &next_));
    geom_free(&g);
    *out = cur;
    return s;
}
