/* The configuration field tables: finding a field, reading and writing it as
 * numbers or text, the checks they imply, and recognising a checkpoint's
 * architecture from its tensors. Everything here is generic over the tables;
 * what a field means is its architecture's file's business. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/error.h"
#include "model_impl.h"

/* The fields every architecture has, listed before its own. */
static const glia_model_field common[] = {
    GLIA_MFIELD("in_channels", "--in-channels", GLIA_MODEL_FIELD_INT, 1, 65536, in_channels,
                "input channels (modalities, or colour planes)"),
    GLIA_MFIELD("out_channels", "--out-channels", GLIA_MODEL_FIELD_INT, 1, 65536, out_channels,
                "output channels (regions or classes)"),
};
enum { NCOMMON = sizeof common / sizeof common[0] };
_Static_assert(NCOMMON == GLIA_MODEL_COMMON_FIELDS, "glia/model.h counts the shared fields");

const glia_model_field *glia_model_field_at(glia_model_arch arch, int i)
{
    const glia_arch *a = glia_arch_get(arch);
    if (!a || i < 0)
        return NULL;
    return i < NCOMMON ? &common[i] : i - NCOMMON < a->nfields ? &a->fields[i - NCOMMON] : NULL;
}

/* key with '-' read as '_' equals name */
static int same_key(const char *name, const char *key)
{
    for (; *name && *key; name++, key++)
        if (*name != *key && !(*name == '-' && *key == '_'))
            return 0;
    return *name == *key;
}

static const glia_model_field *find_in(glia_model_arch arch, const char *key)
{
    const glia_model_field *f;
    for (int i = 0; (f = glia_model_field_at(arch, i)); i++)
        if (same_key(key, f->key))
            return f;
    return NULL;
}

const glia_model_field *glia_model_field_find(glia_model_arch arch, const char *key)
{
    const glia_model_field *f = key ? find_in(arch, key) : NULL;
    for (int a = 0; key && !f && a < GLIA_MODEL_ARCH_COUNT_; a++)
        f = find_in((glia_model_arch)a, key);
    return f;
}

/* Does an architecture before a list a field of this key? */
static int listed_before(int a, const char *key)
{
    for (int b = 0; b < a; b++)
        if (find_in((glia_model_arch)b, key))
            return 1;
    return 0;
}

const glia_model_field *glia_model_field_any(int i)
{
    int n = 0;
    for (int a = 0; a < GLIA_MODEL_ARCH_COUNT_; a++) {
        const glia_model_field *f;
        for (int j = 0; (f = glia_model_field_at((glia_model_arch)a, j)); j++)
            if (!listed_before(a, f->key) && n++ == i)
                return f;
    }
    return NULL;
}

/* ---- values --------------------------------------------------------------------- */
static int *slot(glia_model_config *cfg, size_t off) { return (int *)((char *)cfg + off); }
static const int *cslot(const glia_model_config *cfg, size_t off) { return (const int *)((const char *)cfg + off); }

int glia_model_field_get(const glia_model_config *cfg, const glia_model_field *f, int *v, int max)
{
    if (!cfg || !f || !v)
        return 0;
    int n = f->type == GLIA_MODEL_FIELD_INT_LIST ? *cslot(cfg, f->count_offset) : 1;
    if (n < 0 || n > f->max_count)
        n = n < 0 ? 0 : f->max_count; /* a count out of range: what the list can hold (check says why) */
    n = n < max ? n : max;
    for (int i = 0; i < n; i++)
        v[i] = cslot(cfg, f->offset)[i];
    return n;
}

/* v within the field's range and, where it has one, a multiple of its step. */
static int in_range(const glia_model_field *f, int v)
{
    return v >= f->min && v <= f->max && (f->multiple <= 1 || v % f->multiple == 0);
}

static glia_status bad_value(const glia_model_field *f, const char *what)
{
    if (f->type == GLIA_MODEL_FIELD_BOOL)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "%s: %s is not true or false", f->key, what);
    if (f->type == GLIA_MODEL_FIELD_INT && f->multiple > 1)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "%s: %s is not a multiple of %d from %d to %d", f->key, what,
                           f->multiple, f->min, f->max);
    if (f->type == GLIA_MODEL_FIELD_INT)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "%s: %s is not a whole number from %d to %d", f->key, what,
                           f->min, f->max);
    return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "%s: %s is not %d to %d comma-separated whole numbers from %d to %d",
                       f->key, what, f->min_count, f->max_count, f->min, f->max);
}

glia_status glia_model_field_set_ints(glia_model_config *cfg, const glia_model_field *f, const int *v, int n)
{
    if (!cfg || !f || (!v && n))
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_model_field_set_ints: NULL argument");
    /* another architecture's option, given as this one's default (records that
       list every key hold those): nothing to set */
    const glia_arch *a = glia_arch_get(cfg->arch);
    if (a && !find_in(cfg->arch, f->key) && n == 1 && f->type != GLIA_MODEL_FIELD_INT_LIST &&
        *cslot(&a->defaults, f->offset) == v[0])
        return GLIA_STATUS_OK;
    int list = f->type == GLIA_MODEL_FIELD_INT_LIST;
    int ok = list ? n >= f->min_count && n <= f->max_count : n == 1;
    for (int i = 0; ok && i < n; i++)
        ok = in_range(f, v[i]);
    if (!ok) {
        char what[96] = "";
        for (int i = 0; i < n && strlen(what) + 16 < sizeof what; i++)
            snprintf(what + strlen(what), sizeof what - strlen(what), "%s%d", i ? "," : "", v[i]);
        return bad_value(f, n ? what : "an empty list");
    }
    int *dst = slot(cfg, f->offset);
    if (list) {
        memset(dst, 0, (size_t)f->max_count * sizeof *dst);
        *slot(cfg, f->count_offset) = n;
    }
    memcpy(dst, v, (size_t)n * sizeof *dst);
    return GLIA_STATUS_OK;
}

glia_status glia_model_field_set(glia_model_config *cfg, const glia_model_field *f, const char *text)
{
    if (!cfg || !f || !text)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_model_field_set: NULL argument");
    char what[80];
    snprintf(what, sizeof what, "'%.70s'", text);
    int v[GLIA_MODEL_MAX_LEVELS + GLIA_MODEL_MAX_EXTRA], n = 0, cap = f->max_count < (int)(sizeof v / sizeof *v)
                                                                      ? f->max_count : (int)(sizeof v / sizeof *v);
    if (f->type == GLIA_MODEL_FIELD_BOOL) {
        if (strcmp(text, "true") && strcmp(text, "false") && strcmp(text, "1") && strcmp(text, "0"))
            return bad_value(f, what);
        v[0] = !strcmp(text, "true") || !strcmp(text, "1");
        return glia_model_field_set_ints(cfg, f, v, 1);
    }
    /* whole numbers separated by commas (a list) */
    for (const char *p = text;;) {
        char *end = NULL;
        double x = strtod(p, &end);
        if (end == p || n == cap || !isfinite(x) || x != floor(x) || x < -1e9 || x > 1e9)
            return bad_value(f, what);
        v[n++] = (int)x;
        while (*end == ' ')
            end++;
        if (!*end)
            break;
        if (*end != ',' || f->type != GLIA_MODEL_FIELD_INT_LIST)
            return bad_value(f, what);
        p = end + 1;
    }
    return glia_model_field_set_ints(cfg, f, v, n);
}

const char *glia_model_field_format(const glia_model_config *cfg, const glia_model_field *f, char *buf, size_t len)
{
    if (!buf || !len)
        return "";
    int v[GLIA_MODEL_MAX_LEVELS + GLIA_MODEL_MAX_EXTRA];
    int n = glia_model_field_get(cfg, f, v, (int)(sizeof v / sizeof *v));
    size_t k = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && k < len; i++)
        k += (size_t)(f->type == GLIA_MODEL_FIELD_BOOL ? snprintf(buf + k, len - k, "%s", v[i] ? "true" : "false")
                                                       : snprintf(buf + k, len - k, "%s%d", i ? "," : "", v[i]));
    if (k >= len)
        buf[0] = '\0';
    return buf;
}

/* ---- checks ------------------------------------------------------------------------ */
static int same_values(const glia_model_config *a, const glia_model_config *b, const glia_model_field *f)
{
    int x[GLIA_MODEL_MAX_LEVELS + GLIA_MODEL_MAX_EXTRA], y[GLIA_MODEL_MAX_LEVELS + GLIA_MODEL_MAX_EXTRA];
    int n = glia_model_field_get(a, f, x, (int)(sizeof x / sizeof *x));
    return n == glia_model_field_get(b, f, y, (int)(sizeof y / sizeof *y)) && !memcmp(x, y, (size_t)n * sizeof *x);
}

glia_status glia_mfields_check_(const glia_arch *a, const glia_model_config *cfg)
{
    const glia_model_field *f;
    glia_model_arch arch = cfg->arch;
    for (int i = 0; (f = glia_model_field_at(arch, i)); i++) {
        int n = f->type == GLIA_MODEL_FIELD_INT_LIST ? *cslot(cfg, f->count_offset) : 1;
        if (n < f->min_count || n > f->max_count)
            return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "%s: %d %ss given, %d to %d allowed", a->name, n,
                               f->item, f->min_count, f->max_count);
        for (int j = 0; j < n; j++) {
            int v = cslot(cfg, f->offset)[j];
            if (in_range(f, v))
                continue;
            if (f->type == GLIA_MODEL_FIELD_INT_LIST)
                return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "%s: %s %d is %d, must be %d to %d", a->name, f->item,
                                   j, v, f->min, f->max);
            if (f->multiple > 1)
                return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "%s: %s is %d, must be a multiple of %d from %d to %d",
                                   a->name, f->key, v, f->multiple, f->min, f->max);
            return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "%s: %s is %d, must be %d to %d", a->name, f->key, v,
                               f->min, f->max);
        }
    }
    /* another architecture's option that this one lacks must stay at this one's default */
    char buf[96];
    for (int i = 0; (f = glia_model_field_any(i)); i++)
        if (find_in(arch, f->key) == NULL && !same_values(cfg, &a->defaults, f))
            return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "%s: %s is %s; %s has no option '%s' (it must stay %s)",
                               a->name, f->key, glia_model_field_format(cfg, f, buf, sizeof buf), a->name, f->key,
                               glia_model_field_format(&a->defaults, f, buf + 48, 48));
    return GLIA_STATUS_OK;
}

void glia_mfields_canonical_(glia_model_config *cfg)
{
    const glia_model_field *f;
    for (int i = 0; (f = glia_model_field_any(i)); i++)
        if (f->type == GLIA_MODEL_FIELD_INT_LIST) {
            int n = *cslot(cfg, f->count_offset);
            for (int j = n < 0 ? 0 : n; j < f->max_count; j++)
                slot(cfg, f->offset)[j] = 0;
        }
}

/* ---- recognising a checkpoint ------------------------------------------------------ */
int glia_mhas(glia_model_shape_fn shape_of, void *ctx, const char *name)
{
    int64_t shape[8];
    return shape_of(ctx, name, shape) > 0;
}

static int fits_int(int64_t v) { return v >= 1 && v <= (1 << 16); }

int glia_mrecognise_levels(glia_model_shape_fn shape_of, void *ctx, const char *block, int rank,
                           glia_model_config *cfg)
{
    int64_t shape[8];
    char name[96];
    snprintf(name, sizeof name, "enc.0.%s.weight", block);
    if (shape_of(ctx, name, shape) != rank)
        return 0;
    cfg->in_channels = fits_int(shape[1]) ? (int)shape[1] : 0;
    cfg->out_channels = shape_of(ctx, "head.weight", shape) > 0 && fits_int(shape[0]) ? (int)shape[0] : 0;
    cfg->levels = 0;
    memset(cfg->features, 0, sizeof cfg->features);
    for (int i = 0; i < GLIA_MODEL_MAX_LEVELS; i++) {
        snprintf(name, sizeof name, "enc.%d.%s.weight", i, block);
        if (shape_of(ctx, name, shape) < 1 || !fits_int(shape[0]))
            break;
        cfg->features[cfg->levels++] = (int)shape[0];
    }
    return 1;
}

glia_status glia_model_config_recognise(glia_model_shape_fn shape_of, void *ctx, glia_model_config *cfg)
{
    if (!shape_of || !cfg)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_model_config_recognise: NULL argument");
    for (int i = 0; i < GLIA_MODEL_ARCH_COUNT_; i++) {
        const glia_arch *a = glia_arch_get((glia_model_arch)i);
        *cfg = a->defaults;
        if (!a->recognise(a, shape_of, ctx, cfg))
            continue;
        glia_status s = glia_model_config_check(cfg);
        if (s != GLIA_STATUS_OK)
            s = glia_seterr(s, "the %s configuration read off the tensors is invalid: %s", a->name, glia_last_error());
        return s;
    }
    return glia_seterr(GLIA_STATUS_FORMAT_ERROR, "its tensors match no glia model");
}
