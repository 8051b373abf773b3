/* safetensors reading: header validation, raw reads, loading into parameter sets.
 * Every number taken from the file is range-checked before it sizes anything. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "cJSON.h"
#include "core/error.h"
#include "glia/io.h"
#include "io_priv.h"

/* The reference implementation's cap; a larger header is not a checkpoint. */
#define MAX_HEADER_BYTES (100u << 20)

struct glia_safetensors {
    char *path;
    FILE *f;
    uint64_t data_start;
    glia_st_entry *e;   /* sorted by offset */
    int n;
    glia_meta *meta;
};

static const struct {
    const char *name;
    int bytes;
} dtypes[] = {
    {"BOOL", 1}, {"U8", 1}, {"I8", 1}, {"F8_E5M2", 1}, {"F8_E4M3", 1}, {"I16", 2}, {"U16", 2}, {"F16", 2},
    {"BF16", 2}, {"I32", 4}, {"U32", 4}, {"F32", 4},  {"F64", 8},      {"I64", 8},     {"U64", 8},
};

const char *glia_st_dtype(glia_etype e)
{
    switch (e) {
    case GLIA_ETYPE_F32: return "F32";
    case GLIA_ETYPE_F16: return "F16";
    case GLIA_ETYPE_BF16: return "BF16";
    case GLIA_ETYPE_I32: return "I32";
    case GLIA_ETYPE_I64: return "I64";
    case GLIA_ETYPE_U8: return "U8";
    case GLIA_ETYPE_COUNT_: break;
    }
    return "?";
}

void glia_safetensors_close(glia_safetensors *st)
{
    if (!st)
        return;
    if (st->f)
        fclose(st->f);
    for (int i = 0; i < st->n; i++)
        free((char *)st->e[i].name);
    free(st->e);
    glia_meta_free(st->meta);
    free(st->path);
    free(st);
}

/* A non-negative integer that a double holds exactly. */
static int json_uint(const cJSON *j, uint64_t *v)
{
    if (!cJSON_IsNumber(j))
        return 0;
    double d = j->valuedouble;
    if (!(d >= 0 && d <= 9007199254740992.0) || d != (double)(uint64_t)d)
        return 0;
    *v = (uint64_t)d;
    return 1;
}

static glia_status bad(const glia_safetensors *st, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return glia_seterr(GLIA_STATUS_FORMAT_ERROR, "%s: not a valid safetensors file: %s", st->path, msg);
}

static glia_status parse_meta(glia_safetensors *st, const cJSON *obj)
{
    if (!cJSON_IsObject(obj))
        return bad(st, "__metadata__ is not an object");
    for (const cJSON *c = obj->child; c; c = c->next) {
        if (!cJSON_IsString(c))
            return bad(st, "metadata value of '%s' is not a string", c->string);
        if (glia_meta_get(st->meta, c->string))
            return bad(st, "metadata key '%s' appears twice", c->string);
        glia_status s = glia_meta_set(st->meta, c->string, c->valuestring);
        if (s != GLIA_STATUS_OK)
            return s;
    }
    return GLIA_STATUS_OK;
}

static glia_status parse_entry(glia_safetensors *st, const cJSON *j, glia_st_entry *e)
{
    const char *name = j->string;
    if (!cJSON_IsObject(j))
        return bad(st, "entry '%s' is not an object", name);
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(j, "dtype");
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(j, "shape");
    const cJSON *off = cJSON_GetObjectItemCaseSensitive(j, "data_offsets");
    if (!cJSON_IsString(dt) || !cJSON_IsArray(sh) || !cJSON_IsArray(off))
        return bad(st, "entry '%s' lacks a string dtype, a shape array or a data_offsets array", name);
    for (size_t i = 0; i < sizeof dtypes / sizeof *dtypes && !e->elem_bytes; i++)
        if (strcmp(dt->valuestring, dtypes[i].name) == 0) {
            snprintf(e->dtype, sizeof e->dtype, "%s", dtypes[i].name);
            e->elem_bytes = dtypes[i].bytes;
        }
    if (!e->elem_bytes)
        return bad(st, "entry '%s' has unknown dtype '%.20s'", name, dt->valuestring);
    int nd = cJSON_GetArraySize(sh);
    if (nd > GLIA_ST_MAX_DIMS)
        return bad(st, "entry '%s' has %d dimensions (at most %d)", name, nd, GLIA_ST_MAX_DIMS);
    uint64_t numel = 1, v;
    e->ndim = 0;
    for (const cJSON *d = sh->child; d; d = d->next) {
        if (!json_uint(d, &v) || v > (uint64_t)INT64_MAX)
            return bad(st, "entry '%s' has a shape entry that is not a non-negative integer", name);
        if (v && numel > UINT64_MAX / v)
            return bad(st, "entry '%s': the shape's element count overflows", name);
        numel *= v;
        e->shape[e->ndim++] = (int64_t)v;
    }
    uint64_t begin, end;
    if (cJSON_GetArraySize(off) != 2 || !json_uint(off->child, &begin) || !json_uint(off->child->next, &end) ||
        end < begin)
        return bad(st, "entry '%s' has data_offsets that are not two increasing non-negative integers", name);
    if (numel > UINT64_MAX / (uint64_t)e->elem_bytes || numel * (uint64_t)e->elem_bytes != end - begin)
        return bad(st, "entry '%s': %s of %llu elements needs %llu bytes, data_offsets give %llu", name, e->dtype,
                   (unsigned long long)numel, (unsigned long long)(numel * (uint64_t)e->elem_bytes),
                   (unsigned long long)(end - begin));
    e->numel = (int64_t)numel;
    e->offset = begin;
    e->bytes = end - begin;
    size_t nl = strlen(name) + 1;
    char *copy = malloc(nl);
    if (!copy)
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "%s: no host memory for the header", st->path);
    memcpy(copy, name, nl);
    e->name = copy;
    return GLIA_STATUS_OK;
}

static int by_offset(const void *a, const void *b)
{
    const glia_st_entry *x = a, *y = b;
    if (x->offset != y->offset)
        return x->offset < y->offset ? -1 : 1;
    return x->bytes < y->bytes ? -1 : x->bytes > y->bytes;
}

static int by_name(const void *a, const void *b)
{
    return strcmp((*(const glia_st_entry *const *)a)->name, (*(const glia_st_entry *const *)b)->name);
}

/* Entries must tile the data section exactly and names must be unique. */
static glia_status check_layout(glia_safetensors *st, uint64_t data_len)
{
    qsort(st->e, (size_t)st->n, sizeof *st->e, by_offset);
    uint64_t pos = 0;
    for (int i = 0; i < st->n; i++) {
        if (st->e[i].offset != pos)
            return bad(st, "entry '%s' starts at data byte %llu, expected %llu (overlap or gap)", st->e[i].name,
                       (unsigned long long)st->e[i].offset, (unsigned long long)pos);
        pos += st->e[i].bytes;
    }
    if (pos != data_len)
        return glia_seterr(GLIA_STATUS_FORMAT_ERROR, "%s: truncated or padded: the header describes %llu data bytes, "
                           "the file holds %llu", st->path, (unsigned long long)pos, (unsigned long long)data_len);
    const glia_st_entry **names = malloc(((size_t)st->n + 1) * sizeof *names);
    if (!names)
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "%s: no host memory for the header", st->path);
    for (int i = 0; i < st->n; i++)
        names[i] = &st->e[i];
    qsort(names, (size_t)st->n, sizeof *names, by_name);
    glia_status s = GLIA_STATUS_OK;
    for (int i = 1; i < st->n && s == GLIA_STATUS_OK; i++)
        if (strcmp(names[i]->name, names[i - 1]->name) == 0)
            s = bad(st, "tensor '%s' appears twice", names[i]->name);
    free(names);
    return s;
}

static glia_status parse_header(glia_safetensors *st, const char *text, size_t len, uint64_t data_len)
{
    cJSON *root = cJSON_ParseWithLength(text, len);
    if (!root || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return bad(st, "the header is not a JSON object");
    }
    int count = cJSON_GetArraySize(root);
    glia_status s = glia_meta_create(&st->meta);
    if (s == GLIA_STATUS_OK && !(st->e = calloc((size_t)count + 1, sizeof *st->e)))
        s = glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "%s: no host memory for %d header entries", st->path, count);
    for (const cJSON *c = root->child; c && s == GLIA_STATUS_OK; c = c->next) {
        if (strcmp(c->string, "__metadata__") == 0)
            s = parse_meta(st, c);
        else if ((s = parse_entry(st, c, &st->e[st->n])) == GLIA_STATUS_OK)
            st->n++;
    }
    cJSON_Delete(root);
    return s == GLIA_STATUS_OK ? check_layout(st, data_len) : s;
}

glia_status glia_safetensors_open(const char *path, glia_safetensors **out)
{
    if (!out)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_safetensors_open: out is NULL");
    *out = NULL;
    if (!path)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_safetensors_open: path is NULL");
    glia_safetensors *st = calloc(1, sizeof *st);
    size_t pl = strlen(path) + 1;
    if (!st || !(st->path = malloc(pl))) {
        free(st);
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "glia_safetensors_open: no host memory");
    }
    memcpy(st->path, path, pl);
    glia_status s = GLIA_STATUS_OK;
    char *header = NULL;
    int64_t size = -1;
    unsigned char len8[8];
    uint64_t hlen = 0;
    if (!(st->f = fopen(path, "rb")) || (size = glia_file_size(st->f)) < 0)
        s = glia_seterr(GLIA_STATUS_IO_ERROR, "cannot open %s: %s", path, strerror(errno));
    else if (size < 8)
        s = glia_seterr(GLIA_STATUS_FORMAT_ERROR, "%s: truncated: %lld bytes, fewer than the 8-byte header length",
                        path, (long long)size);
    else if ((s = glia_read_at(st->f, path, 0, len8, 8)) == GLIA_STATUS_OK) {
        for (int i = 7; i >= 0; i--)
            hlen = hlen << 8 | len8[i];
        if (hlen > (uint64_t)size - 8)
            s = glia_seterr(GLIA_STATUS_FORMAT_ERROR, "%s: truncated: the header needs %llu bytes, %lld follow",
                            path, (unsigned long long)hlen, (long long)size - 8);
        else if (hlen > MAX_HEADER_BYTES || hlen < 2)
            s = bad(st, "header length %llu (2 to %u bytes allowed)", (unsigned long long)hlen, MAX_HEADER_BYTES);
        else if (!(header = malloc((size_t)hlen)))
            s = glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "%s: no host memory for a %llu-byte header", path,
                            (unsigned long long)hlen);
        else if ((s = glia_read_at(st->f, path, 8, header, (size_t)hlen)) == GLIA_STATUS_OK) {
            st->data_start = 8 + hlen;
            s = parse_header(st, header, (size_t)hlen, (uint64_t)size - st->data_start);
        }
    }
    free(header);
    if (s != GLIA_STATUS_OK) {
        glia_safetensors_close(st);
        return s;
    }
    *out = st;
    return GLIA_STATUS_OK;
}

const char *glia_safetensors_path(const glia_safetensors *st) { return st ? st->path : NULL; }
int glia_safetensors_count(const glia_safetensors *st) { return st ? st->n : 0; }

const glia_st_entry *glia_safetensors_entry(const glia_safetensors *st, int i)
{
    return st && i >= 0 && i < st->n ? &st->e[i] : NULL;
}

const glia_st_entry *glia_safetensors_find(const glia_safetensors *st, const char *name)
{
    for (int i = 0; st && name && i < st->n; i++)
        if (strcmp(st->e[i].name, name) == 0)
            return &st->e[i];
    return NULL;
}

const glia_meta *glia_safetensors_meta(const glia_safetensors *st) { return st ? st->meta : NULL; }

glia_status glia_safetensors_read(const glia_safetensors *st, const glia_st_entry *e, void *dst, size_t bytes)
{
    if (!st || !e || (!dst && bytes) || bytes != e->bytes)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_safetensors_read: NULL argument or %zu bytes asked "
                           "for a %llu-byte entry", bytes, e ? (unsigned long long)e->bytes : 0ULL);
    glia_status s = glia_read_at(st->f, st->path, st->data_start + e->offset, dst, bytes);
    if (s == GLIA_STATUS_OK && !glia_host_is_le() && e->elem_bytes > 1)
        glia_byteswap(dst, (size_t)e->numel, e->elem_bytes);
    return s;
}

/* ---- loading into a parameter set ------------------------------------------ */
typedef struct mismatches {
    int count, cut;
    char summary[360];   /* the first ones, for the one-line error */
    char *report;
    size_t report_len, report_used;
} mismatches;

static void note(mismatches *mm, const char *fmt, ...)
{
    char line[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    size_t used = strlen(mm->summary);
    if (!mm->cut && used + strlen(line) + 2 < sizeof mm->summary)
        snprintf(mm->summary + used, sizeof mm->summary - used, "%s%s", mm->count ? "; " : "", line);
    else
        mm->cut = 1;
    if (mm->report && mm->report_used + 1 < mm->report_len) {
        int w = snprintf(mm->report + mm->report_used, mm->report_len - mm->report_used, "%s\n", line);
        if (w > 0)
            mm->report_used += (size_t)w;
        if (mm->report_used >= mm->report_len)
            mm->report_used = mm->report_len - 1;
    }
    mm->count++;
}

const char *glia_st_shape_text(int ndim, const int64_t *shape, char *buf, size_t len)
{
    size_t used = (size_t)snprintf(buf, len, "[");
    for (int i = 0; i < ndim && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%lld", i ? ", " : "", (long long)shape[i]);
    if (used < len)
        snprintf(buf + used, len - used, "]");
    return buf;
}

/* The file entry matching a set entry, or NULL after noting the mismatch. */
static const glia_st_entry *match(const glia_safetensors *st, const char *fname, glia_param_kind kind,
                                  const glia_tensor *t, mismatches *mm)
{
    const glia_st_entry *e = glia_safetensors_find(st, fname);
    if (!e) {
        note(mm, "missing '%s'", fname);
        return NULL;
    }
    int64_t want[GLIA_MAX_DIMS];
    int nd = kind == GLIA_PARAM_COUNTER ? 0 : glia_tensor_ndim(t);
    for (int i = 0; i < nd; i++)
        want[i] = glia_tensor_dim(t, i);
    const char *dtype = kind == GLIA_PARAM_COUNTER ? "I64" : glia_st_dtype(glia_tensor_etype(t));
    int same = strcmp(e->dtype, dtype) == 0 && e->ndim == nd;
    for (int i = 0; same && i < nd; i++)
        same = e->shape[i] == want[i];
    if (!same) {
        char a[128], b[128];
        note(mm, "'%s' is %s %s in the file, the model has %s %s", fname, e->dtype,
             glia_st_shape_text(e->ndim, e->shape, a, sizeof a), dtype, glia_st_shape_text(nd, want, b, sizeof b));
        return NULL;
    }
    return e;
}

static int set_has(const glia_params *set, const char *name)
{
    const char *n;
    for (int i = 0, count = glia_params_count(set); i < count; i++)
        if (glia_params_get(set, i, &n, NULL, NULL) == GLIA_STATUS_OK && strcmp(n, name) == 0)
            return 1;
    return 0;
}

static int starts_with(const char *s, const char *prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

glia_status glia_safetensors_load(const glia_safetensors *st, glia_params *set, const glia_st_load_options *opts)
{
    if (!st || !set)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_safetensors_load: NULL file or set");
    glia_st_load_options o = opts ? *opts : (glia_st_load_options){0};
    const char *prefix = o.prefix ? o.prefix : "";
    mismatches mm = {.report = o.report, .report_len = o.report_len};
    if (mm.report && mm.report_len)
        mm.report[0] = '\0';
    int n = glia_params_count(set);
    const glia_st_entry **found = calloc((size_t)n + 1, sizeof *found);
    if (!found)
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "glia_safetensors_load: no host memory");
    char fname[320];
    uint64_t maxbytes = 0;
    for (int i = 0; i < n; i++) {
        const char *name;
        glia_param_kind kind;
        glia_tensor *t;
        glia_params_get(set, i, &name, &kind, &t);
        snprintf(fname, sizeof fname, "%s%s", prefix, name);
        found[i] = match(st, fname, kind, t, &mm);
        if (found[i] && found[i]->bytes > maxbytes)
            maxbytes = found[i]->bytes;
    }
    size_t plen = strlen(prefix);
    for (int i = 0; o.strict && i < st->n; i++) {
        const char *fn = st->e[i].name;
        if (!starts_with(fn, prefix) || (o.exclude && *o.exclude && starts_with(fn, o.exclude)))
            continue;
        if (!set_has(set, fn + plen))
            note(&mm, "unexpected '%s'", fn);
    }
    glia_status s = GLIA_STATUS_OK;
    if (mm.count) {
        s = glia_seterr(GLIA_STATUS_SHAPE_MISMATCH, "%s does not fit: %d mismatch%s: %s%s", st->path, mm.count,
                        mm.count > 1 ? "es" : "", mm.summary, mm.cut ? "; ..." : "");
        free(found);
        return s;
    }
    void *buf = maxbytes ? malloc((size_t)maxbytes) : NULL;
    if (maxbytes && !buf)
        s = glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "%s: no host memory for a %llu-byte tensor", st->path,
                        (unsigned long long)maxbytes);
    for (int i = 0; i < n && s == GLIA_STATUS_OK; i++) {
        const char *name;
        glia_param_kind kind;
        glia_tensor *t;
        glia_params_get(set, i, &name, &kind, &t);
        int64_t counter = 0;
        if (kind == GLIA_PARAM_COUNTER) {
            if ((s = glia_safetensors_read(st, found[i], &counter, sizeof counter)) == GLIA_STATUS_OK)
                s = glia_params_set_counter(set, name, counter);
        } else if ((s = glia_safetensors_read(st, found[i], buf, (size_t)found[i]->bytes)) == GLIA_STATUS_OK) {
            s = glia_tensor_write_raw(t, buf, (size_t)found[i]->bytes);
        }
    }
    free(buf);
    free(found);
    return s;
}
