/* A grouped horizontal bar chart written as a PNG: a title and a legend on
 * top, then per benchmark its name on a line of its own and one bar per
 * report, each labelled with its value. Names get their own lines (wrapped
 * at dots, spaces and commas when too long) rather than a column beside the
 * bars, because benchmark names are long and of very different lengths:
 * beside the bars they either overlapped or had to be cut. Layout and
 * drawing are separate so tests can check the layout. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bench_priv.h"
#include "plot/plot_priv.h"

enum {
    SCALE = 2,                              /* font pixels are SCALE x SCALE */
    CW = GLIA_GLYPH_ADVANCE * SCALE,        /* character cell */
    CH = GLIA_GLYPH_HEIGHT * SCALE + 2,     /* a line of text */
    BAR = CH + 2,                           /* a bar's row: its value label fits beside it */
    GAP = 10, PAD = 16,
    BAR_W = 640,                            /* width of the value axis */
    VALUE_W = 9 * CW,                       /* room right of the longest bar for "12345.67x" */
    WIDTH = PAD + BAR_W + VALUE_W + PAD,
};

static const unsigned char palette[8][3] = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44}, {214, 39, 40},
                                            {148, 103, 189}, {140, 86, 75}, {227, 119, 194}, {127, 127, 127}};

static glia_chart_item *add(glia_chart_layout *l, int is_text, int x, int y, int w, int h, int colour)
{
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 64;
        glia_chart_item *it = realloc(l->item, (size_t)cap * sizeof *it);
        if (!it)
            return NULL;
        l->item = it;
        l->cap = cap;
    }
    glia_chart_item *it = &l->item[l->n++];
    *it = (glia_chart_item){is_text, x, y, w, h, colour, ""};
    return it;
}

/* s as lines of at most width pixels from (x, y), broken after a space, else a '.',
 * ',' or '/', in the line's second half, else mid-word; returns the height used, -1 without memory. */
static int wrapped(glia_chart_layout *l, int x, int y, int width, const char *s, int colour)
{
    int per_line = width / CW, lines = 0;
    if (per_line > (int)sizeof l->item->text - 1)
        per_line = (int)sizeof l->item->text - 1;
    do {
        int len = (int)strlen(s);
        if (len > per_line) {
            len = per_line;
            /* a space first (keeps "0.9" whole), then the dots and commas of benchmark names */
            for (int pass = 0; pass < 2 && len == per_line; pass++)
                for (int k = per_line - 1; k >= per_line / 2; k--)
                    if (strchr(pass ? ".,/" : " ", s[k])) {
                        len = k + 1;
                        break;
                    }
        }
        glia_chart_item *it = add(l, 1, x, y + lines * CH, len * CW, CH, colour);
        if (!it)
            return -1;
        memcpy(it->text, s, (size_t)len);
        it->text[len] = '\0';
        s += len;
        while (*s == ' ')
            s++;
        lines++;
    } while (*s);
    return lines * CH;
}

glia_status glia_bench_chart_layout(const char *title, const char *const *rows, int nrows, const char *const *series,
                                    int nseries, const double *v, glia_chart_layout *l)
{
    memset(l, 0, sizeof *l);
    if (nrows < 1 || nseries < 1 || nseries > 64)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "bench chart: nothing to draw (%d rows, %d series)", nrows,
                           nseries);
    double vmax = 1.0;
    for (int i = 0; i < nrows * nseries; i++)
        if (isfinite(v[i]) && v[i] > vmax)
            vmax = v[i];
    l->w = WIDTH;
    int y = PAD, h = wrapped(l, PAD, y, WIDTH - 2 * PAD, title, -1), ok = h >= 0;
    y += h + 8;
    for (int j = 0; j < nseries && ok; j++) {
        ok = add(l, 0, PAD, y + 2, CH - 6, CH - 6, j % 8) != NULL;
        h = ok ? wrapped(l, PAD + CH + 4, y, WIDTH - PAD - (PAD + CH + 4), series[j], -1) : -1;
        ok = h >= 0;
        y += h + 4;
    }
    y += 8;
    l->axis_x = PAD;
    l->axis_y0 = y;
    l->one_x = PAD + (int)lround(1.0 / vmax * BAR_W);
    for (int i = 0; i < nrows && ok; i++) {
        h = wrapped(l, PAD + 4, y, WIDTH - 2 * PAD - 4, rows[i], -1);
        ok = h >= 0;
        y += h + 2;
        for (int j = 0; j < nseries && ok; j++, y += BAR) {
            double x = v[i * nseries + j];
            glia_chart_item *t;
            if (!isfinite(x)) {
                ok = (t = add(l, 1, PAD + 4, y + 1, CW, CH, -2)) != NULL;
                if (ok)
                    strcpy(t->text, "-");
                continue;
            }
            int len = (int)lround(x / vmax * BAR_W);
            ok = add(l, 0, PAD, y + 2, len, BAR - 4, j % 8) != NULL && (t = add(l, 1, PAD + len + 6, y + 1, 0, CH, -1));
            if (ok) {
                snprintf(t->text, sizeof t->text, "%.2fx", x);
                t->w = glia_canvas_text_width_(t->text, SCALE);
            }
        }
        y += GAP;
    }
    l->axis_y1 = y - GAP;
    l->h = y + PAD;
    if (!ok) {
        glia_bench_chart_layout_free(l);
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "bench chart: no host memory for the layout");
    }
    return GLIA_STATUS_OK;
}

void glia_bench_chart_layout_free(glia_chart_layout *l)
{
    free(l->item);
    l->item = NULL;
    l->n = l->cap = 0;
}

glia_status glia_bench_chart_png(const char *path, const char *title, const char *const *rows, int nrows,
                                 const char *const *series, int nseries, const double *v)
{
    static const unsigned char white[3] = {255, 255, 255}, black[3] = {0, 0, 0}, grey[3] = {150, 150, 150};
    if (!path)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "bench chart: no file name");
    glia_chart_layout l;
    glia_status s = glia_bench_chart_layout(title, rows, nrows, series, nseries, v, &l);
    glia_canvas c = {0};
    if (s == GLIA_STATUS_OK)
        s = glia_canvas_init_(&c, l.w, l.h, white);
    if (s == GLIA_STATUS_OK) {
        /* the axis and the 1.0 line (the first report) under the bars */
        glia_canvas_fill_(&c, l.axis_x - 1, l.axis_y0 - 4, l.axis_x - 1, l.axis_y1, black);
        for (int y = l.axis_y0 - 4; y < l.axis_y1; y += 4)
            glia_canvas_fill_(&c, l.one_x, y, l.one_x, y + 1, grey);
        for (int i = 0; i < l.n; i++) {
            const glia_chart_item *it = &l.item[i];
            const unsigned char *rgb = it->colour >= 0 ? palette[it->colour] : it->colour == -1 ? black : grey;
            if (it->is_text)
                glia_canvas_text_(&c, it->x, it->y, it->text, rgb, SCALE);
            else
                glia_canvas_fill_(&c, it->x, it->y, it->x + it->w - 1, it->y + it->h - 1, rgb);
        }
        s = glia_canvas_save_(&c, path);
    }
    glia_canvas_free_(&c);
    glia_bench_chart_layout_free(&l);
    return s;
}
