/* PNG read and write through libpng: 8/16-bit grey, grey+alpha, RGB, RGBA.
 * libpng reports errors by longjmp; every call that may fail runs under setjmp
 * and the message goes to glia_seterr, never to stderr. */
#include <errno.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "io/image_priv.h"

/* Lives on the heap: what read_png allocates must survive a longjmp, and
 * locals changed after setjmp would not. */
typedef struct png_ctx {
    char msg[200];
    glia_volume *v;
    unsigned char *row;
} png_ctx;

static void on_error(png_structp png, png_const_charp msg)
{
    png_ctx *c = png_get_error_ptr(png);
    snprintf(c->msg, sizeof c->msg, "%s", msg);
    png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

/* Deflate expands at most about 1032:1, so decoded bytes beyond that ratio
 * mean a lying header: refuse before allocating. */
static int plausible(size_t bytes, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return 1;
    return bytes / 1100 <= (size_t)st.st_size + 4096;
}

static glia_status read_png(FILE *f, const char *path, png_structp png, png_infop info, png_ctx *ctx)
{
    glia_volume **out = &ctx->v;
    unsigned char **row = &ctx->row;
    png_init_io(png, f);
    png_set_user_limits(png, 1u << 20, 1u << 20);
    png_read_info(png, info);
    png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    int bits = png_get_bit_depth(png, info), ct = png_get_color_type(png, info);
    if (ct == PNG_COLOR_TYPE_PALETTE)
        png_set_palette_to_rgb(png);
    if (ct == PNG_COLOR_TYPE_GRAY && bits < 8)
        png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, info, PNG_INFO_tRNS))
        png_set_tRNS_to_alpha(png);
    if (bits == 16)
        png_set_swap(png); /* PNG is big-endian; volumes hold host (little-endian) order */
    png_read_update_info(png, info);
    int c = png_get_channels(png, info);
    bits = png_get_bit_depth(png, info);
    size_t rowbytes = png_get_rowbytes(png, info), es = bits > 8 ? 2 : 1;
    if (rowbytes != (size_t)w * c * es || c < 1 || c > 4)
        return glia_seterr(GLIA_STATUS_FORMAT_ERROR, "%s: unexpected PNG layout (%d channels, %d bits)", path, c,
                           bits);
    if (!plausible(rowbytes * h, path))
        return glia_seterr(GLIA_STATUS_FORMAT_ERROR, "%s: PNG header claims %ux%u pixels, far more than the file holds",
                           path, (unsigned)w, (unsigned)h);
    glia_status s = glia_image2d_new_(path, (int)w, (int)h, c, bits, out);
    if (s != GLIA_STATUS_OK)
        return s;
    *row = malloc(rowbytes);
    if (!*row)
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "%s: PNG row", path);
    int passes = png_set_interlace_handling(png);
    for (int p = 0; p < passes; p++) {
        for (png_uint_32 y = 0; y < h; y++) {
            /* interlaced passes refine rows in place: start each pass from what is there */
            if (p > 0)
                glia_planar_to_row_((*out)->data, es, (int)w, (int)h, c, (int)y, *row);
            png_read_row(png, *row, NULL);
            glia_row_to_planar_((*out)->data, es, (int)w, (int)h, c, (int)y, *row);
        }
    }
    return GLIA_STATUS_OK;
}

glia_status glia_png_read_(const char *path, glia_volume **out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return glia_seterr(GLIA_STATUS_IO_ERROR, "%s: cannot open: %s", path, strerror(errno));
    png_ctx *ctx = calloc(1, sizeof *ctx);
    png_structp png = ctx ? png_create_read_struct(PNG_LIBPNG_VER_STRING, ctx, on_error, on_warning) : NULL;
    png_infop info = png ? png_create_info_struct(png) : NULL;
    volatile glia_status s = GLIA_STATUS_OUT_OF_MEMORY;
    if (!info) {
        glia_seterr(s, "%s: libpng could not start", path);
    } else if (setjmp(png_jmpbuf(png))) {
        s = glia_seterr(GLIA_STATUS_FORMAT_ERROR, "%s: bad PNG: %s", path, ctx->msg);
    } else {
        s = read_png(f, path, png, info, ctx);
    }
    png_destroy_read_struct(png ? &png : NULL, info ? &info : NULL, NULL);
    fclose(f);
    if (ctx) {
        free(ctx->row);
        if (s == GLIA_STATUS_OK)
            *out = ctx->v;
        else
            glia_volume_free(ctx->v);
        free(ctx);
    }
    return s;
}

glia_status glia_png_write_(const glia_volume *v, const char *path, const char *tmp)
{
    int w, h, c;
    glia_status s = glia_image2d_shape_(v, path, 4, &w, &h, &c);
    if (s != GLIA_STATUS_OK)
        return s;
    size_t es = glia_dtype_size(v->dtype);
    unsigned char *row = malloc((size_t)w * c * es);
    FILE *f = row ? fopen(tmp, "wb") : NULL;
    if (!f) {
        free(row);
        return glia_seterr(GLIA_STATUS_IO_ERROR, "%s: cannot create: %s", path, strerror(errno));
    }
    png_ctx ctx = {.v = NULL};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &ctx, on_error, on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    static const int types[] = {0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_COLOR_TYPE_RGB,
                                PNG_COLOR_TYPE_RGB_ALPHA};
    volatile glia_status ws = GLIA_STATUS_OK;
    if (!info) {
        ws = glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "%s: libpng could not start", path);
    } else if (setjmp(png_jmpbuf(png))) {
        ws = glia_seterr(GLIA_STATUS_IO_ERROR, "%s: writing PNG failed: %s", path, ctx.msg);
    } else {
        png_init_io(png, f);
        png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, (int)(8 * es), types[c], PNG_INTERLACE_NONE,
                     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
        png_write_info(png, info);
        if (es == 2)
            png_set_swap(png);
        for (int y = 0; y < h; y++) {
            glia_planar_to_row_(v->data, es, w, h, c, y, row);
            png_write_row(png, row);
        }
        png_write_end(png, NULL);
    }
    png_destroy_write_struct(png ? &png : NULL, info ? &info : NULL);
    s = ws;
    if (fclose(f) != 0 && s == GLIA_STATUS_OK)
        s = glia_seterr(GLIA_STATUS_IO_ERROR, "%s: write failed: %s", path, strerror(errno));
    free(row);
    return s;
}
