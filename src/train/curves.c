/* curves.png: training and validation loss (top) and validation Dice per
 * region (bottom) against the epoch. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "plot/plot_priv.h"
#include "train/train_priv.h"

enum { W = 800, H = 640, LEFT = 70, RIGHT = 170, TOP = 20, GAP = 50 };

static const uint8_t white[3] = {255, 255, 255}, axis[3] = {90, 90, 90}, grid[3] = {225, 225, 225};
static const uint8_t palette[][3] = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44}, {214, 39, 40},
                                     {148, 103, 189}, {140, 86, 75}, {227, 119, 194}, {23, 190, 207}};

typedef struct panel {
    int x0, y0, x1, y1;        /* plot area in pixels */
    double ymin, ymax;
    int epochs;
} panel;

static double px(const panel *p, double epoch)
{
    return p->epochs > 1 ? p->x0 + (epoch - 1) * (p->x1 - p->x0) / (p->epochs - 1) : (p->x0 + p->x1) / 2.0;
}

static double py(const panel *p, double v) { return p->y1 - (v - p->ymin) * (p->y1 - p->y0) / (p->ymax - p->ymin); }

static void frame(glia_canvas *c, const panel *p, const char *title)
{
    char buf[32];
    for (int i = 0; i <= 4; i++) {
        double v = p->ymin + (p->ymax - p->ymin) * i / 4;
        int y = (int)lround(py(p, v));
        glia_canvas_line_(c, p->x0, y, p->x1, y, grid, 1);
        snprintf(buf, sizeof buf, "%.3g", v);
        glia_canvas_text_(c, p->x0 - 8 - 6 * (int)strlen(buf), y - 3, buf, axis, 1);
    }
    int ticks = p->epochs < 5 ? p->epochs : 5;
    for (int i = 0; i < ticks; i++) {
        int e = ticks > 1 ? 1 + (int)lround((double)(p->epochs - 1) * i / (ticks - 1)) : 1;
        int x = (int)lround(px(p, e));
        glia_canvas_line_(c, x, p->y1, x, p->y1 + 4, axis, 1);
        snprintf(buf, sizeof buf, "%d", e);
        glia_canvas_text_(c, x - 3 * (int)strlen(buf), p->y1 + 8, buf, axis, 1);
    }
    glia_canvas_line_(c, p->x0, p->y0, p->x0, p->y1, axis, 1);
    glia_canvas_line_(c, p->x0, p->y1, p->x1, p->y1, axis, 1);
    glia_canvas_text_(c, p->x0, p->y0 - 14, title, axis, 1);
}

/* One series (values per epoch, NaN = none) with its legend entry. */
static void series(glia_canvas *c, const panel *p, const glia_history *h, int which, int region, const char *name,
                   const uint8_t rgb[3], int legend_row)
{
    double lx = NAN, ly = NAN;
    for (int i = 0; i < h->n; i++) {
        const glia_epoch_log *e = &h->e[i];
        double v = which == 0 ? e->train_loss : which == 1 ? e->val_loss : which == 2 ? e->dice[region] : e->mean_dice;
        if (!isfinite(v))
            continue;
        double x = px(p, e->epoch), y = py(p, v);
        if (isfinite(lx))
            glia_canvas_line_(c, lx, ly, x, y, rgb, 2);
        glia_canvas_fill_(c, (int)x - 2, (int)y - 2, (int)x + 2, (int)y + 2, rgb);
        lx = x;
        ly = y;
    }
    int y = p->y0 + 16 * legend_row;
    glia_canvas_fill_(c, p->x1 + 16, y, p->x1 + 28, y + 6, rgb);
    glia_canvas_text_(c, p->x1 + 34, y, name, axis, 1);
}

glia_status glia_plot_curves_(const glia_history *h, const char *path)
{
    glia_canvas c;
    glia_status s = glia_canvas_init_(&c, W, H, white);
    if (s != GLIA_STATUS_OK)
        return s;
    int epochs = h->e[h->n - 1].epoch, ph = (H - TOP - GAP - 40) / 2;
    panel loss = {LEFT, TOP + 14, W - RIGHT, TOP + 14 + ph, 0, 0, epochs};
    panel dice = {LEFT, loss.y1 + GAP, W - RIGHT, loss.y1 + GAP + ph, 0, 1, epochs};
    for (int i = 0; i < h->n; i++) {
        double a = h->e[i].train_loss, b = h->e[i].val_loss;
        loss.ymax = isfinite(a) && a > loss.ymax ? a : loss.ymax;
        loss.ymax = isfinite(b) && b > loss.ymax ? b : loss.ymax;
    }
    loss.ymax = loss.ymax > 0 ? loss.ymax * 1.05 : 1;
    frame(&c, &loss, "loss");
    frame(&c, &dice, "validation dice");
    series(&c, &loss, h, 0, 0, "train", palette[0], 0);
    series(&c, &loss, h, 1, 0, "validation", palette[1], 1);
    const glia_epoch_log *last = &h->e[h->n - 1];
    for (int r = 0; r < last->regions; r++)
        series(&c, &dice, h, 2, r, last->region[r], palette[(2 + r) % 8], r);
    if (last->regions > 1) {
        static const uint8_t black[3] = {0, 0, 0};
        series(&c, &dice, h, 3, 0, "mean", black, last->regions);
    }
    s = glia_canvas_save_(&c, path);
    glia_canvas_free_(&c);
    return s;
}
