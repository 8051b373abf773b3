/* A tiny RGB raster for glia's pictures (training curves, overlays): lines,
 * filled boxes, a 5x7 bitmap font, PNG output. */
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
/* Text at (x, y) (top left), each font pixel scale x scale; returns its width in pixels. */
int glia_canvas_text_(glia_canvas *c, int x, int y, const char *s, const uint8_t rgb[3], int scale);
glia_status glia_canvas_save_(const glia_canvas *c, const char *path);

#endif
