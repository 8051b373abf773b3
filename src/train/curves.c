/* curves.png: training (and validation) loss in the top panel and validation
 * Dice per region in the bottom one, against the epoch. A run without
 * validation (folds 0) has no validation loss or Dice: the picture is then the
 * loss panel alone, not an empty panel that looks like a failed validation.
 * Axes carry titles and round tick values (ticks.c). */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "plot/plot_priv.h"
#include "train/train_priv.h"

enum {
    W = 800, LEFT = 84, RIGHT = 170, TOP = 34, PANEL_H = 250, GAP = 56, BOTTOM = 48,
    TEXT_H = GLIA_GLYPH_HEIGHT   /* scale 1 */
};

static const uint8_t white[3] = {255, 255, 255}, axis[3] = {90, 90, 90}, grid[3] = {225, 225, 225},
                     black[3] = {0, 0, 0};
static const uint8_t palette[][3] = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44}, {214, 39, 40},
                                     {148, 103, 189}, {140, 86, 75}, {227, 119, 194}, {23, 190, 207}};

typedef struct panel {
    int x0, y0, x1, y1;        /* plot area in pixels */
    glia_ticks yt;             /* the value axis runs from yt.first to yt.last */
    int epochs;
} panel;

static double px(const panel *p, double epoch)
{
    return p->epochs > 1 ? p->x0 + (epoch - 1) * (p->x1 - p->x0) / (p->epochs - 1) : (p->x0 + p->x1) / 2.0;
}

static double py(const panel *p, double v)
{
    return p->y1 - (v - p->yt.first) * (p->y1 - p->y0) / (p->yt.last - p->yt.first);
}

/* Grid, round ticks on both axes, the panel's title above it and its value axis title beside it. */
static void frame(glia_canvas *c, const panel *p, const char *title, const char *ytitle)
{
    char buf[32];
    for (int i = 0; i < p->yt.count; i++) {
        double v = p->yt.first + i * p->yt.step;
        int y = (int)lround(py(p, v));
        glia_canvas_line_(c, p->x0, y, p->x1, y, grid, 1);
        snprintf(buf, sizeof buf, "%.*f", p->yt.decimals, v);
        glia_canvas_text_(c, p->x0 - 8 - glia_canvas_text_width_(buf, 1), y - TEXT_H / 2, buf, axis, 1);
    }
    /* epochs: whole numbers, so a step under 1 becomes 1 */
    glia_ticks xt = glia_nice_ticks_(1, p->epochs, 8);
    double step = xt.step < 1 ? 1 : xt.step;
    for (double e = ceil(1 / step) * step; e <= p->epochs + 1e-9; e += step) {
        int x = (int)lround(px(p, e));
        glia_canvas_line_(c, x, p->y1, x, p->y1 + 4, axis, 1);
        snprintf(buf, sizeof buf, "%.0f", e);
        glia_canvas_text_(c, x - glia_canvas_text_width_(buf, 1) / 2, p->y1 + 8, buf, axis, 1);
    }
    glia_canvas_line_(c, p->x0, p->y0, p->x0, p->y1, axis, 1);
    glia_canvas_line_(c, p->x0, p->y1, p->x1, p->y1, axis, 1);
    glia_canvas_text_(c, p->x0, p->y0 - 16, title, black, 1);
    int len = glia_canvas_text_width_(ytitle, 1);
    glia_canvas_text_up_(c, 14, (p->y0 + p->y1 + len) / 2, ytitle, black, 1);
}

/* Which value of an epoch a series shows. */
typedef enum { TRAIN_LOSS, VAL_LOSS, DICE, MEAN_DICE } which;

static double value(const glia_epoch_log *e, which w, int region)
{
    return w == TRAIN_LOSS ? e->train_loss : w == VAL_LOSS ? e->val_loss : w == DICE ? e->dice[region] : e->mean_dice;
}

/* One series (values per epoch, NaN = none) with its legend entry. */
static void series(glia_canvas *c, const panel *p, const glia_history *h, which w, int region, const char *name,
                   const uint8_t rgb[3], int legend_row)
{
    double lx = NAN, ly = NAN;
    for (int i = 0; i < h->n; i++) {
        double v = value(&h->e[i], w, region);
        if (!isfinite(v))
            continue;
        double x = px(p, h->e[i].epoch), y = py(p, v);
        if (isfinite(lx))
            glia_canvas_line_(c, lx, ly, x, y, rgb, 2);
        glia_canvas_fill_(c, (int)x - 2, (int)y - 2, (int)x + 2, (int)y + 2, rgb);
        lx = x;
        ly = y;
    }
    int y = p->y0 + 16 * legend_row;
    glia_canvas_fill_(c, p->x1 + 16, y + 1, p->x1 + 28, y + 6, rgb);
    glia_canvas_text_(c, p->x1 + 34, y, name, axis, 1);
}

/* Whether any epoch has a finite value of w (any region for DICE). */
static int any(const glia_history *h, which w)
{
    for (int i = 0; i < h->n; i++)
        for (int r = 0; r < (w == DICE ? h->e[i].regions : 1); r++)
            if (isfinite(value(&h->e[i], w, r)))
                return 1;
    return 0;
}

glia_status glia_plot_curves_(const glia_history *h, const char *path)
{
    if (!h || h->n < 1)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "curves: no epochs to plot");
    int val_loss = any(h, VAL_LOSS), dice = any(h, DICE) || any(h, MEAN_DICE), panels = 1 + dice;
    int height = TOP + panels * PANEL_H + (panels - 1) * GAP + BOTTOM;
    glia_canvas c;
    glia_status s = glia_canvas_init_(&c, W, height, white);
    if (s != GLIA_STATUS_OK)
        return s;
    int epochs = h->e[h->n - 1].epoch;
    double top = 0;
    for (int i = 0; i < h->n; i++)
        for (which w = TRAIN_LOSS; w <= VAL_LOSS; w++) {
            double v = value(&h->e[i], w, 0);
            top = isfinite(v) && v > top ? v : top;
        }
    panel loss = {LEFT, TOP, W - RIGHT, TOP + PANEL_H, glia_nice_ticks_(0, top > 0 ? top : 1, 5), epochs};
    frame(&c, &loss, val_loss ? "loss: training and validation" : "training loss", "loss");
    series(&c, &loss, h, TRAIN_LOSS, 0, "train", palette[0], 0);
    if (val_loss)
        series(&c, &loss, h, VAL_LOSS, 0, "validation", palette[1], 1);
    if (dice) {
        panel d = {LEFT, loss.y1 + GAP, W - RIGHT, loss.y1 + GAP + PANEL_H, glia_nice_ticks_(0, 1, 5), epochs};
        frame(&c, &d, "validation Dice per region", "Dice");
        const glia_epoch_log *last = &h->e[h->n - 1];
        for (int r = 0; r < last->regions; r++)
            series(&c, &d, h, DICE, r, last->region[r], palette[(2 + r) % 8], r);
        if (last->regions > 1)
            series(&c, &d, h, MEAN_DICE, 0, "mean", black, last->regions);
    }
    const char *xtitle = "epoch";
    glia_canvas_text_(&c, (LEFT + W - RIGHT - glia_canvas_text_width_(xtitle, 1)) / 2, height - BOTTOM / 2 + 4, xtitle,
                      black, 1);
    s = glia_canvas_save_(&c, path);
    glia_canvas_free_(&c);
    return s;
}
