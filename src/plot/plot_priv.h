/* A tiny RGB raster for glia's pictures (training curves, overlays, bench
 * charts): lines, filled boxes, a 5x8 bitmap font (font.c), round tick values
 * (ticks.c), PNG output. */
#ifndef GLIA_PLOT_PRIV_H
#define GLIA_PLOT_PRIV_H

#include <stdint.h>
#include "glia/status.h"

typedef struct glia_canvas {
    int w, h;
    uint8_t *px;   /* w * h RGB triples, row 0 at the top */
} glia_canvas;

glia_status glia_canvas_init_(glia_canvas *c, int w, int h, const uint8_t bg[3]);
void glia_canvas_free_(glia_canvas *c);
/* Mix rgb into pixel (x, y) with weight alpha in [0, 1]; outside is ignored. */
void glia_canvas_blend_(glia_canvas *c, int x, int y, const uint8_t rgb[3], float alpha);
void glia_canvas_fill_(glia_canvas *c, int x0, int y0, int x1, int y1, const uint8_t rgb[3]);
void glia_canvas_line_(glia_canvas *c, double x0, double y0, double x1, double y1, const uint8_t rgb[3], int width);

/* Characters advance GLIA_GLYPH_ADVANCE font pixels; a line is GLIA_GLYPH_HEIGHT
 * font pixels high (descenders included). */
enum { GLIA_GLYPH_ADVANCE = 6, GLIA_GLYPH_HEIGHT = 8 };
/* Text at (x, y) (top left), each font pixel scale x scale; returns its width in pixels. */
int glia_canvas_text_(glia_canvas *c, int x, int y, const char *s, const uint8_t rgb[3], int scale);
/* Text turned a quarter left, read bottom to top, starting at (x, y) (its
 * bottom left); returns its length in pixels. For vertical axis titles. */
int glia_canvas_text_up_(glia_canvas *c, int x, int y, const char *s, const uint8_t rgb[3], int scale);
/* The width glia_canvas_text_ would draw s with, in pixels. */
int glia_canvas_text_width_(const char *s, int scale);

/* Axis ticks at round values: steps of 1, 2 or 5 times a power of ten, about
 * `want` intervals covering [lo, hi]. The ticks are first, first + step, ...,
 * last (count of them), with first <= lo and last >= hi, so an axis drawn
 * from first to last starts and ends on a labelled tick. */
typedef struct glia_ticks {
    double first, last, step;
    int count;
    int decimals;   /* digits after the point that print every tick exactly */
} glia_ticks;
glia_ticks glia_nice_ticks_(double lo, double hi, int want);
glia_status glia_canvas_save_(const glia_canvas *c, const char *path);

#endif
