/* A small JSON reader for benchmark reports (RFC 8259 values; \u escapes
 * decoded to UTF-8, surrogate pairs included). Depth is bounded. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "bench_priv.h"

enum { MAX_DEPTH = 64 };

typedef struct parser {
    const char *s;
    size_t n, i;
    const char *what;
    glia_status st;
} parser;

static int fail(parser *p, const char *why)
{
    if (p->st == GLIA_STATUS_OK)
        p->st = glia_seterr(GLIA_STATUS_FORMAT_ERROR, "%s: not valid JSON at byte %zu: %s", p->what, p->i, why);
    return 0;
}

static void ws(parser *p)
{
    while (p->i < p->n && strchr(" \t\r\n", p->s[p->i]) && p->s[p->i])
        p->i++;
}

static int lit(parser *p, const char *w)
{
    size_t k = strlen(w);
    if (p->n - p->i < k || memcmp(p->s + p->i, w, k) != 0)
        return fail(p, "unexpected character");
    p->i += k;
    return 1;
}

static int hex4(parser *p, unsigned *out)
{
    *out = 0;
    if (p->n - p->i < 4)
        return fail(p, "short \\u escape");
    for (int k = 0; k < 4; k++) {
        char c = p->s[p->i++];
        unsigned v = c >= '0' && c <= '9' ? (unsigned)(c - '0') : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                   : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10) : 16u;
        if (v > 15)
            return fail(p, "bad \\u escape");
        *out = *out * 16 + v;
    }
    return 1;
}

static size_t utf8(unsigned cp, char *o)
{
    if (cp < 0x80)
        return o[0] = (char)cp, 1;
    if (cp < 0x800)
        return o[0] = (char)(0xC0 | cp >> 6), o[1] = (char)(0x80 | (cp & 0x3F)), 2;
    if (cp < 0x10000)
        return o[0] = (char)(0xE0 | cp >> 12), o[1] = (char)(0x80 | (cp >> 6 & 0x3F)),
               o[2] = (char)(0x80 | (cp & 0x3F)), 3;
    return o[0] = (char)(0xF0 | cp >> 18), o[1] = (char)(0x80 | (cp >> 12 & 0x3F)),
           o[2] = (char)(0x80 | (cp >> 6 & 0x3F)), o[3] = (char)(0x80 | (cp & 0x3F)), 4;
}

/* A string starting at the opening quote; the decoded text never exceeds the source. */
static char *string(parser *p)
{
    size_t start = ++p->i, end = start;
    while (end < p->n && p->s[end] != '"')
        end += p->s[end] == '\\' ? 2 : 1;
    if (end >= p->n)
        return fail(p, "unterminated string"), NULL;
    char *out = malloc(end - start + 1), *o = out;
    if (!out) {
        p->st = glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "%s: no host memory", p->what);
        return NULL;
    }
    while (p->i < end) {
        char c = p->s[p->i++];
        if ((unsigned char)c < 0x20)
            return free(out), fail(p, "control character in a string"), NULL;
        if (c != '\\') {
            *o++ = c;
            continue;
        }
        c = p->s[p->i++];
        static const char pairs[] = "\"\"\\\\//b\bf\fn\nr\rt\t";   /* escape letter, character */
        const char *esc = c ? strchr(pairs, c) : NULL;
        if (c == 'u') {
            unsigned cp, lo;
            if (!hex4(p, &cp))
                return free(out), NULL;
            if (cp >= 0xD800 && cp < 0xDC00 && p->i + 6 <= end && p->s[p->i] == '\\' && p->s[p->i + 1] == 'u') {
                p->i += 2;
                if (!hex4(p, &lo))
                    return free(out), NULL;
                cp = lo >= 0xDC00 && lo < 0xE000 ? 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00) : 0xFFFD;
            } else if (cp >= 0xD800 && cp < 0xE000) {
                cp = 0xFFFD;
            }
            o += utf8(cp, o);
        } else if (esc && (esc - pairs) % 2 == 0) {
            *o++ = esc[1];
        } else {
            return free(out), fail(p, "bad escape"), NULL;
        }
    }
    *o = '\0';
    p->i = end + 1;
    return out;
}

static int value(parser *p, glia_jval *v, int depth);

/* Members of an array or object up to the closing bracket. */
static int members(parser *p, glia_jval *v, int depth, int object)
{
    char close = object ? '}' : ']';
    int cap = 0;
    p->i++;
    ws(p);
    if (p->i < p->n && p->s[p->i] == close)
        return p->i++, 1;
    for (;;) {
        if (v->nkids == cap) {
            int nc = cap ? 2 * cap : 8;
            glia_jval *k = realloc(v->kids, (size_t)nc * sizeof *k);
            if (!k) {
                p->st = glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "%s: no host memory", p->what);
                return 0;
            }
            v->kids = k;
            cap = nc;
        }
        glia_jval *kid = &v->kids[v->nkids];
        memset(kid, 0, sizeof *kid);
        v->nkids++;
        ws(p);
        if (object) {
            if (p->i >= p->n || p->s[p->i] != '"')
                return fail(p, "expected a key");
            if (!(kid->key = string(p)))
                return 0;
            ws(p);
            if (p->i >= p->n || p->s[p->i++] != ':')
                return fail(p, "expected ':'");
        }
        if (!value(p, kid, depth + 1))
            return 0;
        ws(p);
        if (p->i < p->n && p->s[p->i] == ',') {
            p->i++;
            continue;
        }
        if (p->i < p->n && p->s[p->i] == close)
            return p->i++, 1;
        return fail(p, object ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static int value(parser *p, glia_jval *v, int depth)
{
    if (depth > MAX_DEPTH)
        return fail(p, "nested too deeply");
    ws(p);
    if (p->i >= p->n)
        return fail(p, "unexpected end");
    char c = p->s[p->i];
    switch (c) {
    case '{': v->type = GLIA_J_OBJ; return members(p, v, depth, 1);
    case '[': v->type = GLIA_J_ARR; return members(p, v, depth, 0);
    case '"': v->type = GLIA_J_STR; return (v->str = string(p)) != NULL;
    case 't': v->type = GLIA_J_BOOL; v->num = 1; return lit(p, "true");
    case 'f': v->type = GLIA_J_BOOL; return lit(p, "false");
    case 'n': v->type = GLIA_J_NULL; return lit(p, "null");
    default: break;
    }
    char buf[64], *end;
    size_t k = 0;
    while (p->i + k < p->n && k < sizeof buf - 1 && strchr("+-0123456789.eE", p->s[p->i + k]) && p->s[p->i + k])
        k++;
    memcpy(buf, p->s + p->i, k);
    buf[k] = '\0';
    v->type = GLIA_J_NUM;
    v->num = strtod(buf, &end);
    if (k == 0 || end != buf + k || !isfinite(v->num))
        return fail(p, "bad value");
    p->i += k;
    return 1;
}

static void release(glia_jval *v)
{
    for (int i = 0; i < v->nkids; i++)
        release(&v->kids[i]);
    free(v->kids);
    free(v->str);
    free(v->key);
}

void glia_json_free(glia_jval *root)
{
    if (root)
        release(root);
    free(root);
}

glia_status glia_json_parse(const char *text, size_t len, const char *what, glia_jval **root)
{
    parser p = {text, len, 0, what ? what : "JSON", GLIA_STATUS_OK};
    glia_jval *v = calloc(1, sizeof *v);
    *root = NULL;
    if (!v)
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "%s: no host memory", p.what);
    if (value(&p, v, 0)) {
        ws(&p);
        if (p.i != p.n)
            fail(&p, "text after the value");
    }
    if (p.st != GLIA_STATUS_OK) {
        glia_json_free(v);
        return p.st;
    }
    *root = v;
    return GLIA_STATUS_OK;
}

const glia_jval *glia_json_get(const glia_jval *v, const char *key)
{
    for (int i = 0; v && v->type == GLIA_J_OBJ && i < v->nkids; i++)
        if (strcmp(v->kids[i].key, key) == 0)
            return &v->kids[i];
    return NULL;
}

double glia_json_num(const glia_jval *v, const char *key, double def)
{
    const glia_jval *m = glia_json_get(v, key);
    return m && m->type == GLIA_J_NUM ? m->num : def;
}

const char *glia_json_str(const glia_jval *v, const char *key, const char *def)
{
    const glia_jval *m = glia_json_get(v, key);
    return m && m->type == GLIA_J_STR ? m->str : def;
}
