/* glia — helpers prepended to every OpenCL program (OpenCL C 1.2).
 *
 * Conventions of all kernels: a buffer argument is followed by its offset in
 * elements (views are never sub-buffers, whose alignment rules OpenCL 1.2
 * makes awkward); 1-D ranges are rounded up to whole work-groups, so every
 * kernel checks its item index against the element count; positions inside a
 * tensor are 32-bit (the host checks), offsets 64-bit. */

/* Sum of v over the work-group, returned to every item. The group size must be
 * a power of two and scratch must hold one float per item. A fixed tree keeps
 * the result deterministic (OpenCL 1.2 has no float atomics anyway). */
float group_sum(float v, __local float *scratch)
{
    uint l = get_local_id(0);
    scratch[l] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint s = get_local_size(0) / 2; s > 0; s >>= 1) {
        if (l < s)
            scratch[l] += scratch[l + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    float r = scratch[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return r;
}

/* Compensated (Kahan) accumulation: long per-item sums in float stay close to
 * the double-precision reference. */
void kahan_add(float *sum, float *comp, float v)
{
    float y = v - *comp;
    float t = *sum + y;
    *comp = (t - *sum) - y;
    *sum = t;
}

float sigmoidf(float x)
{
    /* split by sign so exp never overflows to inf/inf */
    if (x >= 0.0f)
        return 1.0f / (1.0f + exp(-x));
    float e = exp(x);
    return e / (1.0f + e);
}
