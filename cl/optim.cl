/* Optimizer updates, in place, with PyTorch's formulas (torch.optim.SGD, Adam, AdamW). */

__kernel void sgd(__global float *p, ulong po, __global const float *g, ulong go,
                  __global float *buf, ulong bo, ulong n, float lr, float momentum,
                  float dampening, float weight_decay, int nesterov, int first)
{
    size_t i = get_global_id(0);
    if (i >= n)
        return;
    float w = p[po + i];
    float d = g[go + i];
    if (weight_decay != 0.0f)
        d += weight_decay * w;
    if (momentum != 0.0f) {
        float b = first ? d : momentum * buf[bo + i] + (1.0f - dampening) * d;
        buf[bo + i] = b;
        d = nesterov ? d + momentum * b : b;
    }
    p[po + i] = w - lr * d;
}

__kernel void adam(__global float *p, ulong po, __global const float *g, ulong go,
                   __global float *m, ulong mo, __global float *v, ulong vo, ulong n,
                   float lr, float beta1, float beta2, float eps, float weight_decay,
                   float bias_corr1, float bias_corr2, int decoupled)
{
    size_t i = get_global_id(0);
    if (i >= n)
        return;
    float w = p[po + i];
    float d = g[go + i];
    if (decoupled)
        w *= 1.0f - lr * weight_decay;
    else
        d += weight_decay * w;
    float mm = beta1 * m[mo + i] + (1.0f - beta1) * d;
    float vv = beta2 * v[vo + i] + (1.0f - beta2) * d * d;
    m[mo + i] = mm;
    v[vo + i] = vv;
    float denom = sqrt(vv) / sqrt(bias_corr2) + eps;
    p[po + i] = w - (lr / bias_corr1) * mm / denom;
}
