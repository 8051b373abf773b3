/* String key/value metadata (the safetensors "__metadata__" object). */
#include <stdlib.h>
#include <string.h>
#include "core/error.h"
#include "glia/io.h"

typedef struct kv {
    char *key, *value;
} kv;

struct glia_meta {
    kv *e;
    int n, cap;
};

glia_status glia_meta_create(glia_meta **out)
{
    if (!out)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_meta_create: out is NULL");
    *out = calloc(1, sizeof **out);
    return *out ? GLIA_STATUS_OK : glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "glia_meta_create: no host memory");
}

void glia_meta_free(glia_meta *m)
{
    if (!m)
        return;
    for (int i = 0; i < m->n; i++) {
        free(m->e[i].key);
        free(m->e[i].value);
    }
    free(m->e);
    free(m);
}

static int find(const glia_meta *m, const char *key)
{
    for (int i = 0; m && key && i < m->n; i++)
        if (strcmp(m->e[i].key, key) == 0)
            return i;
    return -1;
}

glia_status glia_meta_set(glia_meta *m, const char *key, const char *value)
{
    if (!m || !key || !value)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_meta_set: NULL metadata, key or value");
    size_t vl = strlen(value) + 1;
    char *v = malloc(vl);
    if (!v)
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "glia_meta_set: no host memory for '%s'", key);
    memcpy(v, value, vl);
    int i = find(m, key);
    if (i >= 0) {
        free(m->e[i].value);
        m->e[i].value = v;
        return GLIA_STATUS_OK;
    }
    size_t kl = strlen(key) + 1;
    char *k = malloc(kl);
    if (m->n == m->cap) {
        int cap = m->cap ? 2 * m->cap : 8;
        kv *e = realloc(m->e, (size_t)cap * sizeof *e);
        if (e) {
            m->e = e;
            m->cap = cap;
        }
    }
    if (!k || m->n == m->cap) {
        free(k);
        free(v);
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "glia_meta_set: no host memory for '%s'", key);
    }
    memcpy(k, key, kl);
    m->e[m->n++] = (kv){k, v};
    return GLIA_STATUS_OK;
}

const char *glia_meta_get(const glia_meta *m, const char *key)
{
    int i = find(m, key);
    return i >= 0 ? m->e[i].value : NULL;
}

int glia_meta_count(const glia_meta *m) { return m ? m->n : 0; }

glia_status glia_meta_at(const glia_meta *m, int i, const char **key, const char **value)
{
    if (!m || i < 0 || i >= m->n)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_meta_at: index %d out of range (%d entries)", i,
                           m ? m->n : 0);
    if (key)
        *key = m->e[i].key;
    if (value)
        *value = m->e[i].value;
    return GLIA_STATUS_OK;
}
