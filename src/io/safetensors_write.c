/* safetensors writing: a JSON header padded to 8 bytes, then the tensors in
 * header order, written atomically. */
#include <stdlib.h>
#include <string.h>
#include "cJSON.h"
#include "core/error.h"
#include "glia/io.h"
#include "io_priv.h"

/* Add one tensor description; *offset advances by its bytes. */
static glia_status describe(cJSON *root, const char *path, const char *name, glia_param_kind kind,
                            const glia_tensor *t, uint64_t *offset, uint64_t *maxbytes)
{
    if (cJSON_GetObjectItemCaseSensitive(root, name))
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "%s: two tensors are named '%s'", path, name);
    cJSON *e = cJSON_CreateObject(), *shape = cJSON_CreateArray(), *offs = cJSON_CreateArray();
    int ok = e && shape && offs;
    uint64_t bytes = kind == GLIA_PARAM_COUNTER ? 8
                                                : (uint64_t)glia_tensor_numel(t) * glia_etype_size(glia_tensor_etype(t));
    for (int i = 0; ok && kind != GLIA_PARAM_COUNTER && i < glia_tensor_ndim(t); i++)
        ok = cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)glia_tensor_dim(t, i)));
    ok = ok && cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)*offset)) &&
         cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)(*offset + bytes))) &&
         cJSON_AddStringToObject(e, "dtype", kind == GLIA_PARAM_COUNTER ? "I64" : glia_st_dtype(glia_tensor_etype(t)));
    if (ok) {
        cJSON_AddItemToObject(e, "shape", shape);
        shape = NULL;
        cJSON_AddItemToObject(e, "data_offsets", offs);
        offs = NULL;
        ok = cJSON_AddItemToObject(root, name, e);
    }
    cJSON_Delete(shape);
    cJSON_Delete(offs);
    if (!ok) {
        cJSON_Delete(e);
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "%s: no host memory for the header", path);
    }
    *offset += bytes;
    if (bytes > *maxbytes)
        *maxbytes = bytes;
    return GLIA_STATUS_OK;
}

static glia_status build_header(const char *path, const glia_st_section *sec, int nsec, const glia_meta *meta,
                                char **text, uint64_t *maxbytes)
{
    cJSON *root = cJSON_CreateObject();
    glia_status s = root ? GLIA_STATUS_OK : glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "%s: no host memory", path);
    if (s == GLIA_STATUS_OK && glia_meta_count(meta)) {
        cJSON *m = cJSON_AddObjectToObject(root, "__metadata__");
        for (int i = 0; m && i < glia_meta_count(meta); i++) {
            const char *k, *v;
            glia_meta_at(meta, i, &k, &v);
            if (!cJSON_AddStringToObject(m, k, v))
                m = NULL;
        }
        if (!m)
            s = glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "%s: no host memory for the metadata", path);
    }
    uint64_t offset = 0;
    char name[320];
    for (int k = 0; k < nsec && s == GLIA_STATUS_OK; k++) {
        const char *prefix = sec[k].prefix ? sec[k].prefix : "";
        for (int i = 0; i < glia_params_count(sec[k].set) && s == GLIA_STATUS_OK; i++) {
            const char *n;
            glia_param_kind kind;
            glia_tensor *t;
            glia_params_get(sec[k].set, i, &n, &kind, &t);
            if ((size_t)snprintf(name, sizeof name, "%s%s", prefix, n) >= sizeof name)
                s = glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "%s: tensor name '%s%s' is too long", path, prefix, n);
            else
                s = describe(root, path, name, kind, t, &offset, maxbytes);
        }
    }
    if (s == GLIA_STATUS_OK && !(*text = cJSON_PrintUnformatted(root)))
        s = glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "%s: no host memory for the header text", path);
    cJSON_Delete(root);
    return s;
}

static glia_status write_data(glia_afile *a, const glia_st_section *sec, int nsec, void *buf)
{
    glia_status s = GLIA_STATUS_OK;
    for (int k = 0; k < nsec && s == GLIA_STATUS_OK; k++)
        for (int i = 0; i < glia_params_count(sec[k].set) && s == GLIA_STATUS_OK; i++) {
            const char *n;
            glia_param_kind kind;
            glia_tensor *t;
            glia_params_get(sec[k].set, i, &n, &kind, &t);
            if (kind == GLIA_PARAM_COUNTER) {
                int64_t v = 0;
                glia_params_counter(sec[k].set, n, &v);
                if (!glia_host_is_le())
                    glia_byteswap(&v, 1, 8);
                s = glia_afile_write(a, &v, 8);
                continue;
            }
            size_t count = (size_t)glia_tensor_numel(t), es = glia_etype_size(glia_tensor_etype(t));
            if ((s = glia_tensor_read_raw(t, buf, count * es)) != GLIA_STATUS_OK)
                break;
            if (!glia_host_is_le() && es > 1)
                glia_byteswap(buf, count, (int)es);
            s = glia_afile_write(a, buf, count * es);
        }
    return s;
}

glia_status glia_safetensors_save(const char *path, const glia_st_section *sections, int nsections,
                                  const glia_meta *meta)
{
    if (!path || (nsections && !sections) || nsections < 0)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_safetensors_save: NULL path or sections");
    for (int k = 0; k < nsections; k++)
        if (!sections[k].set)
            return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_safetensors_save: section %d has no set", k);
    char *text = NULL;
    uint64_t maxbytes = 0;
    glia_status s = build_header(path, sections, nsections, meta, &text, &maxbytes);
    if (s != GLIA_STATUS_OK)
        return s;
    size_t len = strlen(text), padded = (len + 7) / 8 * 8;
    void *buf = malloc(maxbytes ? (size_t)maxbytes : 1);
    unsigned char len8[8];
    for (int i = 0; i < 8; i++)
        len8[i] = (unsigned char)((uint64_t)padded >> (8 * i));
    glia_afile a;
    if (!buf)
        s = glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "%s: no host memory for a %llu-byte tensor", path,
                        (unsigned long long)maxbytes);
    else if ((s = glia_afile_open(&a, path)) == GLIA_STATUS_OK) {
        char spaces[8];
        memset(spaces, ' ', sizeof spaces);
        if ((s = glia_afile_write(&a, len8, 8)) == GLIA_STATUS_OK &&
            (s = glia_afile_write(&a, text, len)) == GLIA_STATUS_OK &&
            (s = glia_afile_write(&a, spaces, padded - len)) == GLIA_STATUS_OK &&
            (s = write_data(&a, sections, nsections, buf)) == GLIA_STATUS_OK)
            s = glia_afile_commit(&a);
        else
            glia_afile_abort(&a);
    }
    free(buf);
    cJSON_free(text);
    return s;
}
