/* TIFF read and write through libtiff: the first image of the file, stripped,
 * 8/16-bit, 1-4 samples (grey, grey+alpha, RGB, RGBA), contiguous or planar.
 * libtiff's messages go to per-file handlers (TIFFOpenExt), never to stderr. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <tiffio.h>
#include "io/image_priv.h"

typedef struct tiff_ctx {
    char msg[200];
} tiff_ctx;

static int on_error(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap)
{
    (void)tif;
    tiff_ctx *c = user;
    if (!c->msg[0]) {
        char m[160];
        vsnprintf(m, sizeof m, fmt, ap);
        snprintf(c->msg, sizeof c->msg, "%s%s%s", module ? module : "", module ? ": " : "", m);
    }
    return 1;
}

static int on_warning(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap)
{
    (void)tif;
    (void)user;
    (void)module;
    (void)fmt;
    (void)ap;
    return 1;
}

static TIFF *open_tiff(const char *path, const char *mode, tiff_ctx *ctx)
{
    TIFFOpenOptions *o = TIFFOpenOptionsAlloc();
    if (!o)
        return NULL;
    TIFFOpenOptionsSetErrorHandlerExtR(o, on_error, ctx);
    TIFFOpenOptionsSetWarningHandlerExtR(o, on_warning, ctx);
    /* no single libtiff allocation far beyond what the file can hold, whatever its tags claim */
    struct stat st;
    if (mode[0] == 'r' && stat(path, &st) == 0 && st.st_size < ((off_t)1 << 36))
        TIFFOpenOptionsSetMaxSingleMemAlloc(o, ((tmsize_t)64 << 20) + (tmsize_t)st.st_size * 64);
    TIFF *t = TIFFOpenExt(path, mode, o);
    TIFFOpenOptionsFree(o);
    return t;
}

static glia_status bad(const char *path, const tiff_ctx *ctx, const char *what)
{
    return glia_seterr(GLIA_STATUS_FORMAT_ERROR, "%s: bad TIFF: %s%s%s", path, what, ctx->msg[0] ? ": " : "",
                       ctx->msg);
}

static glia_status read_tiff(TIFF *t, const char *path, tiff_ctx *ctx, glia_volume **out)
{
    uint32_t w = 0, h = 0;
    uint16_t bits = 0, spp = 0, planar = PLANARCONFIG_CONTIG, photo = 0, fmt = SAMPLEFORMAT_UINT;
    if (!TIFFGetField(t, TIFFTAG_IMAGEWIDTH, &w) || !TIFFGetField(t, TIFFTAG_IMAGELENGTH, &h))
        return bad(path, ctx, "no image size");
    TIFFGetFieldDefaulted(t, TIFFTAG_BITSPERSAMPLE, &bits);
    TIFFGetFieldDefaulted(t, TIFFTAG_SAMPLESPERPIXEL, &spp);
    TIFFGetFieldDefaulted(t, TIFFTAG_PLANARCONFIG, &planar);
    TIFFGetFieldDefaulted(t, TIFFTAG_SAMPLEFORMAT, &fmt);
    if (!TIFFGetField(t, TIFFTAG_PHOTOMETRIC, &photo))
        photo = spp >= 3 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK;
    if (TIFFIsTiled(t))
        return glia_seterr(GLIA_STATUS_UNSUPPORTED, "%s: tiled TIFF is not supported (use strips)", path);
    if ((bits != 8 && bits != 16) || spp < 1 || spp > 4 || fmt != SAMPLEFORMAT_UINT)
        return glia_seterr(GLIA_STATUS_UNSUPPORTED,
                           "%s: TIFF with %u-bit samples (format %u) x %u is not supported (8/16-bit unsigned, 1-4 "
                           "samples)",
                           path, bits, fmt, spp);
    if (photo != PHOTOMETRIC_MINISBLACK && photo != PHOTOMETRIC_MINISWHITE && photo != PHOTOMETRIC_RGB)
        return glia_seterr(GLIA_STATUS_UNSUPPORTED, "%s: TIFF photometric %u is not supported (grey or RGB)", path,
                           photo);
    if (w == 0 || h == 0 || w > (1u << 20) || h > (1u << 20))
        return bad(path, ctx, "image size out of range");
    size_t es = bits / 8, bytes = (size_t)w * h * spp * es;
    struct stat st;
    /* LZW, the strongest of TIFF's usual codecs, stays under 4096:1 */
    if (stat(path, &st) == 0 && bytes / 4096 > (size_t)st.st_size + 4096)
        return bad(path, ctx, "header claims far more pixels than the file holds");
    int c = spp;
    glia_status s = glia_image2d_new_(path, (int)w, (int)h, c, bits, out);
    if (s != GLIA_STATUS_OK)
        return s;
    tmsize_t sl = TIFFScanlineSize(t);
    size_t want = planar == PLANARCONFIG_CONTIG ? (size_t)w * spp * es : (size_t)w * es;
    if (sl <= 0 || (size_t)sl < want)
        return bad(path, ctx, "scanline size disagrees with the image size");
    unsigned char *row = malloc((size_t)sl);
    if (!row)
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "%s: TIFF row of %lld bytes", path, (long long)sl);
    unsigned char *data = (*out)->data;
    for (int p = 0; p < (planar == PLANARCONFIG_CONTIG ? 1 : c) && s == GLIA_STATUS_OK; p++) {
        for (uint32_t y = 0; y < h; y++) {
            if (TIFFReadScanline(t, row, y, (uint16_t)p) < 0) {
                s = bad(path, ctx, "reading pixel data failed (truncated or corrupt)");
                break;
            }
            if (planar == PLANARCONFIG_CONTIG)
                glia_row_to_planar_(data, es, (int)w, (int)h, c, (int)y, row);
            else
                memcpy(data + ((size_t)p * h + y) * w * es, row, (size_t)w * es);
        }
    }
    free(row);
    if (s == GLIA_STATUS_OK && photo == PHOTOMETRIC_MINISWHITE) {
        size_t n = (size_t)w * h;
        for (size_t i = 0; i < n; i++) {
            if (es == 1)
                data[i] = (unsigned char)(255 - data[i]);
            else
                ((uint16_t *)data)[i] = (uint16_t)(65535 - ((uint16_t *)data)[i]);
        }
    }
    return s;
}

glia_status glia_tiff_read_(const char *path, glia_volume **out)
{
    tiff_ctx ctx = {{0}};
    TIFF *t = open_tiff(path, "r", &ctx);
    if (!t)
        return bad(path, &ctx, "cannot open");
    glia_volume *v = NULL;
    glia_status s = read_tiff(t, path, &ctx, &v);
    TIFFClose(t);
    if (s != GLIA_STATUS_OK) {
        glia_volume_free(v);
        return s;
    }
    *out = v;
    return GLIA_STATUS_OK;
}

glia_status glia_tiff_write_(const glia_volume *v, const char *path, const char *tmp)
{
    int w, h, c;
    glia_status s = glia_image2d_shape_(v, path, 4, &w, &h, &c);
    if (s != GLIA_STATUS_OK)
        return s;
    tiff_ctx ctx = {{0}};
    TIFF *t = open_tiff(tmp, "w", &ctx);
    if (!t)
        return glia_seterr(GLIA_STATUS_IO_ERROR, "%s: cannot create: %s", path, ctx.msg);
    size_t es = glia_dtype_size(v->dtype);
    TIFFSetField(t, TIFFTAG_IMAGEWIDTH, (uint32_t)w);
    TIFFSetField(t, TIFFTAG_IMAGELENGTH, (uint32_t)h);
    TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, (uint16_t)(8 * es));
    TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, (uint16_t)c);
    TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    TIFFSetField(t, TIFFTAG_PHOTOMETRIC, c >= 3 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK);
    TIFFSetField(t, TIFFTAG_COMPRESSION, COMPRESSION_LZW);
    TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, TIFFDefaultStripSize(t, 0));
    if (c == 2 || c == 4) {
        uint16_t extra = EXTRASAMPLE_UNASSALPHA;
        TIFFSetField(t, TIFFTAG_EXTRASAMPLES, 1, &extra);
    }
    unsigned char *row = malloc((size_t)w * c * es);
    if (!row)
        s = glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "%s: TIFF row", path);
    for (int y = 0; y < h && s == GLIA_STATUS_OK; y++) {
        glia_planar_to_row_(v->data, es, w, h, c, y, row);
        if (TIFFWriteScanline(t, row, (uint32_t)y, 0) < 0)
            s = glia_seterr(GLIA_STATUS_IO_ERROR, "%s: writing TIFF failed: %s", path, ctx.msg);
    }
    free(row);
    if (s == GLIA_STATUS_OK && !TIFFFlush(t))
        s = glia_seterr(GLIA_STATUS_IO_ERROR, "%s: writing TIFF failed: %s", path, ctx.msg);
    TIFFClose(t);
    return s;
}
