/* NumPy .npy files of float32: reading (versions 1 to 3) and atomic writing. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "core/error.h"
#include "glia/io.h"
#include "image_priv.h"
#include "io_priv.h"

#define MAX_HEADER (1u << 20)

typedef struct npy_header {
    char descr[32];
    int fortran, have_descr, have_fortran, have_shape;
    int ndim;
    int64_t shape[GLIA_NPY_MAX_DIMS];
} npy_header;

/* A cursor over the header's Python dict literal. */
typedef struct cursor {
    const char *p, *end;
} cursor;

static void skip_ws(cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

static int eat(cursor *c, char ch)
{
    skip_ws(c);
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return 1;
    }
    return 0;
}

static int parse_str(cursor *c, char *out, size_t len)
{
    skip_ws(c);
    if (c->p >= c->end || (*c->p != '\'' && *c->p != '"'))
        return 0;
    char q = *c->p++;
    size_t n = 0;
    while (c->p < c->end && *c->p != q) {
        if (n + 1 >= len)
            return 0;
        out[n++] = *c->p++;
    }
    out[n] = '\0';
    return c->p < c->end && *c->p++ == q;
}

static int parse_word(cursor *c, const char *w)
{
    size_t n = strlen(w);
    skip_ws(c);
    if ((size_t)(c->end - c->p) >= n && memcmp(c->p, w, n) == 0) {
        c->p += n;
        return 1;
    }
    return 0;
}

static int parse_shape(cursor *c, npy_header *h)
{
    if (!eat(c, '('))
        return 0;
    h->ndim = 0;
    while (!eat(c, ')')) {
        skip_ws(c);
        int64_t v = 0;
        int digits = 0;
        while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
            if (v > (INT64_MAX - 9) / 10)
                return 0;
            v = v * 10 + (*c->p++ - '0');
            digits++;
        }
        if (c->p < c->end && *c->p == 'L') /* Python 2 longs */
            c->p++;
        if (!digits || h->ndim >= GLIA_NPY_MAX_DIMS)
            return 0;
        h->shape[h->ndim++] = v;
        if (!eat(c, ',')) {
            if (!eat(c, ')'))
                return 0;
            break;
        }
    }
    return 1;
}

static glia_status parse_header(const char *path, const char *text, size_t len, npy_header *h)
{
    cursor c = {text, text + len};
    char key[32];
    if (!eat(&c, '{'))
        return glia_seterr(GLIA_STATUS_FORMAT_ERROR, "%s: .npy header is not a dict", path);
    while (!eat(&c, '}')) {
        if (!parse_str(&c, key, sizeof key) || !eat(&c, ':'))
            return glia_seterr(GLIA_STATUS_FORMAT_ERROR, "%s: malformed .npy header", path);
        int ok;
        if (strcmp(key, "descr") == 0)
            ok = h->have_descr = parse_str(&c, h->descr, sizeof h->descr);
        else if (strcmp(key, "fortran_order") == 0) {
            h->fortran = parse_word(&c, "True");
            ok = h->have_fortran = h->fortran || parse_word(&c, "False");
        } else if (strcmp(key, "shape") == 0)
            ok = h->have_shape = parse_shape(&c, h);
        else
            return glia_seterr(GLIA_STATUS_FORMAT_ERROR, "%s: unknown key '%s' in the .npy header", path, key);
        if (!ok)
            return glia_seterr(GLIA_STATUS_FORMAT_ERROR, "%s: bad value of '%s' in the .npy header%s", path, key,
                               strcmp(key, "descr") == 0 ? " (structured dtypes are not supported)" : "");
        if (!eat(&c, ',')) {
            if (!eat(&c, '}'))
                return glia_seterr(GLIA_STATUS_FORMAT_ERROR, "%s: malformed .npy header", path);
            break;
        }
    }
    skip_ws(&c);
    if (c.p != c.end || !h->have_descr || !h->have_fortran || !h->have_shape)
        return glia_seterr(GLIA_STATUS_FORMAT_ERROR, "%s: .npy header lacks descr, fortran_order or shape", path);
    return GLIA_STATUS_OK;
}

static const char *dtype_words(const char *d)
{
    static const struct {
        const char *code, *words;
    } names[] = {{"f2", "float16"}, {"f8", "float64"}, {"i1", "int8"},   {"i2", "int16"},  {"i4", "int32"},
                 {"i8", "int64"},   {"u1", "uint8"},   {"u2", "uint16"}, {"u4", "uint32"}, {"u8", "uint64"},
                 {"b1", "bool"},    {"c8", "complex64"}};
    const char *code = d[0] == '<' || d[0] == '>' || d[0] == '|' || d[0] == '=' ? d + 1 : d;
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (strcmp(code, names[i].code) == 0)
            return names[i].words;
    return "an unsupported type";
}

glia_status glia_npy_read_f32(const char *path, int *ndim, int64_t *shape, float **data)
{
    if (!path || !ndim || !shape || !data)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_npy_read_f32: NULL argument");
    *data = NULL;
    FILE *f = fopen(path, "rb");
    int64_t size = f ? glia_file_size(f) : -1;
    if (size < 0) {
        glia_status s = glia_seterr(GLIA_STATUS_IO_ERROR, "cannot open %s: %s", path, strerror(errno));
        if (f)
            fclose(f);
        return s;
    }
    unsigned char pre[12];
    char *text = NULL;
    npy_header h = {0};
    uint64_t hlen = 0, start = 0;
    glia_status s = GLIA_STATUS_OK;
    if (size < 10 || (s = glia_read_at(f, path, 0, pre, 10)) != GLIA_STATUS_OK || memcmp(pre, "\x93NUMPY", 6) ||
        pre[6] < 1 || pre[6] > 3) {
        if (s == GLIA_STATUS_OK)
            s = glia_seterr(GLIA_STATUS_FORMAT_ERROR, "%s: not a .npy file (version 1 to 3)", path);
    } else if (pre[6] == 1) {
        hlen = pre[8] | (uint64_t)pre[9] << 8;
        start = 10;
    } else if ((s = glia_read_at(f, path, 0, pre, 12)) == GLIA_STATUS_OK) {
        hlen = pre[8] | (uint64_t)pre[9] << 8 | (uint64_t)pre[10] << 16 | (uint64_t)pre[11] << 24;
        start = 12;
    }
    if (s == GLIA_STATUS_OK && (hlen > MAX_HEADER || start + hlen > (uint64_t)size))
        s = glia_seterr(GLIA_STATUS_FORMAT_ERROR, "%s: truncated or bad .npy header length %llu", path,
                        (unsigned long long)hlen);
    if (s == GLIA_STATUS_OK && !(text = malloc((size_t)hlen + 1)))
        s = glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "%s: no host memory for the header", path);
    if (s == GLIA_STATUS_OK && (s = glia_read_at(f, path, start, text, (size_t)hlen)) == GLIA_STATUS_OK)
        s = parse_header(path, text, (size_t)hlen, &h);
    free(text);
    int swap = 0;
    if (s == GLIA_STATUS_OK) {
        swap = strcmp(h.descr, ">f4") == 0 ? glia_host_is_le() : strcmp(h.descr, "<f4") == 0 ? !glia_host_is_le() : -1;
        if (swap < 0)
            s = glia_seterr(GLIA_STATUS_FORMAT_ERROR,
                            "%s holds '%s' (%s) data; glia needs float32 ('<f4'): convert with .astype(np.float32)",
                            path, h.descr, dtype_words(h.descr));
        else if (h.fortran)
            s = glia_seterr(GLIA_STATUS_FORMAT_ERROR,
                            "%s is in Fortran order; save it with np.ascontiguousarray() first", path);
    }
    uint64_t numel = 1;
    for (int i = 0; s == GLIA_STATUS_OK && i < h.ndim; i++) {
        uint64_t d = (uint64_t)h.shape[i];
        if (d && numel > (UINT64_MAX / 4) / d)
            s = glia_seterr(GLIA_STATUS_FORMAT_ERROR, "%s: the shape's size overflows", path);
        numel *= d;
    }
    uint64_t bytes = numel * 4;
    if (s == GLIA_STATUS_OK)
        s = glia_volume_size_check_(path, h.ndim, h.shape, bytes);
    if (s == GLIA_STATUS_OK && bytes != (uint64_t)size - start - hlen)
        s = glia_seterr(GLIA_STATUS_FORMAT_ERROR, "%s: %s: the shape needs %llu data bytes, the file holds %llu",
                        path, bytes > (uint64_t)size - start - hlen ? "truncated" : "trailing bytes",
                        (unsigned long long)bytes, (unsigned long long)((uint64_t)size - start - hlen));
    if (s == GLIA_STATUS_OK && !(*data = malloc(bytes ? (size_t)bytes : 1)))
        s = glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "%s: no host memory for %llu bytes", path,
                        (unsigned long long)bytes);
    if (s == GLIA_STATUS_OK && (s = glia_read_at(f, path, start + hlen, *data, (size_t)bytes)) == GLIA_STATUS_OK) {
        if (swap)
            glia_byteswap(*data, (size_t)numel, 4);
        *ndim = h.ndim;
        memcpy(shape, h.shape, (size_t)h.ndim * sizeof *shape);
    }
    if (s != GLIA_STATUS_OK) {
        free(*data);
        *data = NULL;
    }
    fclose(f);
    return s;
}

glia_status glia_npy_write_f32(const char *path, int ndim, const int64_t *shape, const float *data)
{
    if (!path || ndim < 0 || ndim > GLIA_NPY_MAX_DIMS || (ndim && !shape) || !data)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_npy_write_f32: NULL argument or %d dimensions", ndim);
    char head[512];
    size_t n = (size_t)snprintf(head + 10, sizeof head - 10, "{'descr': '<f4', 'fortran_order': False, 'shape': (");
    uint64_t numel = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0)
            return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_npy_write_f32: negative size on axis %d", i);
        numel *= (uint64_t)shape[i];
        n += (size_t)snprintf(head + 10 + n, sizeof head - 10 - n, "%lld%s", (long long)shape[i],
                              ndim == 1 ? "," : i + 1 < ndim ? ", " : "");
    }
    n += (size_t)snprintf(head + 10 + n, sizeof head - 10 - n, "), }");
    /* numpy aligns the data to 64 bytes; the header ends with a newline */
    size_t total = (10 + n + 1 + 63) / 64 * 64;
    memset(head + 10 + n, ' ', total - 10 - n - 1);
    head[total - 1] = '\n';
    memcpy(head, "\x93NUMPY\x01\x00", 8);
    head[8] = (char)((total - 10) & 0xff);
    head[9] = (char)((total - 10) >> 8);
    glia_afile a;
    glia_status s = glia_afile_open(&a, path);
    if (s != GLIA_STATUS_OK)
        return s;
    if ((s = glia_afile_write(&a, head, total)) == GLIA_STATUS_OK) {
        if (glia_host_is_le())
            s = glia_afile_write(&a, data, (size_t)numel * 4);
        for (uint64_t i = 0; !glia_host_is_le() && i < numel && s == GLIA_STATUS_OK; i++) {
            float v = data[i];
            glia_byteswap(&v, 1, 4);
            s = glia_afile_write(&a, &v, 4);
        }
    }
    if (s == GLIA_STATUS_OK)
        s = glia_afile_commit(&a);
    else
        glia_afile_abort(&a);
    return s;
}
