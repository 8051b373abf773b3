/* The raster behind glia's PNG pictures. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "glia/image.h"
#include "plot/plot_priv.h"

glia_status glia_seterr(glia_status s, const char *fmt, ...);

glia_status glia_canvas_init_(glia_canvas *c, int w, int h, const uint8_t bg[3])
{
    c->w = w;
    c->h = h;
    c->px = w > 0 && h > 0 && w <= 16384 && h <= 16384 ? malloc((size_t)w * h * 3) : NULL;
    if (!c->px)
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "picture of %dx%d pixels", w, h);
    for (size_t i = 0; i < (size_t)w * h; i++)
        memcpy(c->px + 3 * i, bg, 3);
    return GLIA_STATUS_OK;
}

void glia_canvas_free_(glia_canvas *c)
{
    free(c->px);
    c->px = NULL;
}

void glia_canvas_blend_(glia_canvas *c, int x, int y, const uint8_t rgb[3], float alpha)
{
    if (x < 0 || y < 0 || x >= c->w || y >= c->h)
        return;
    uint8_t *p = c->px + 3 * ((size_t)y * c->w + x);
    for (int k = 0; k < 3; k++)
        p[k] = (uint8_t)lrintf((float)p[k] * (1 - alpha) + (float)rgb[k] * alpha);
}

void glia_canvas_fill_(glia_canvas *c, int x0, int y0, int x1, int y1, const uint8_t rgb[3])
{
    for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++)
            glia_canvas_blend_(c, x, y, rgb, 1.0f);
}

void glia_canvas_line_(glia_canvas *c, double x0, double y0, double x1, double y1, const uint8_t rgb[3], int width)
{
    if (!isfinite(x0) || !isfinite(y0) || !isfinite(x1) || !isfinite(y1))
        return;
    double dx = x1 - x0, dy = y1 - y0, len = fabs(dx) > fabs(dy) ? fabs(dx) : fabs(dy);
    int steps = (int)ceil(len) + 1, r0 = -(width - 1) / 2, r1 = width / 2;
    for (int i = 0; i <= steps; i++) {
        double t = steps ? (double)i / steps : 0;
        int x = (int)lround(x0 + t * dx), y = (int)lround(y0 + t * dy);
        for (int a = r0; a <= r1; a++)
            for (int b = r0; b <= r1; b++)
                glia_canvas_blend_(c, x + a, y + b, rgb, 1.0f);
    }
}

glia_status glia_canvas_save_(const glia_canvas *c, const char *path)
{
    int64_t dim[3] = {c->w, c->h, 3};
    glia_volume *v = NULL;
    glia_status s = glia_volume_new(3, dim, GLIA_DTYPE_UINT8, &v);
    if (s != GLIA_STATUS_OK)
        return s;
    uint8_t *d = v->data;
    size_t plane = (size_t)c->w * c->h;
    for (size_t i = 0; i < plane; i++)
        for (int k = 0; k < 3; k++)
            d[k * plane + i] = c->px[3 * i + k];
    s = glia_volume_write(v, path, NULL);
    glia_volume_free(v);
    return s;
}
