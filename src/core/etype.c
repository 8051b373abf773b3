/* The element-type table (GLIA_ETYPES in glia/tensor.h): sizes and names. */
#include "core.h"

#define SIZE_(name, str, bytes) bytes,
static const size_t sizes[] = {GLIA_ETYPES(SIZE_)};
#define NAME_(name, str, bytes) str,
static const char *const names[] = {GLIA_ETYPES(NAME_)};

size_t glia_etype_size(glia_etype e) { return (unsigned)e < GLIA_ETYPE_COUNT_ ? sizes[e] : 0; }

const char *glia_etype_name(glia_etype e) { return (unsigned)e < GLIA_ETYPE_COUNT_ ? names[e] : "?"; }

glia_etype glia_tensor_etype(const glia_tensor *t) { return t ? t->etype : GLIA_ETYPE_F32; }

int64_t glia_tensor_stride(const glia_tensor *t, int i)
{
    if (!t)
        return 0;
    if (i < 0)
        i += t->ndim;
    return i >= 0 && i < t->ndim ? t->stride[i] : 0;
}
