/* Max pooling and nearest upsampling over planes of D x H x W. */

/* One item per output element. idx is the flat position d*H*W + h*W + w of
 * the window's first maximum inside its input plane. */
__kernel void maxpool_fwd(__global const float *x, ulong xo, __global float *y, ulong yo,
                          __global int *idx, ulong io, uint planes,
                          uint D, uint H, uint W, uint oD, uint oH, uint oW,
                          int kD, int kH, int kW, int sD, int sH, int sW)
{
    uint i = get_global_id(0);
    if (i >= planes * oD * oH * oW)
        return;
    uint ow = i % oW, t = i / oW;
    uint oh = t % oH;
    t /= oH;
    uint od = t % oD, p = t / oD;
    __global const float *xp = x + xo + (ulong)p * D * H * W;
    uint d0 = od * sD, h0 = oh * sH, w0 = ow * sW;
    uint best_at = (d0 * H + h0) * W + w0;
    float best = xp[best_at];
    for (int kd = 0; kd < kD; kd++)
        for (int kh = 0; kh < kH; kh++)
            for (int kw = 0; kw < kW; kw++) {
                uint at = ((d0 + kd) * H + h0 + kh) * W + w0 + kw;
                float v = xp[at];
                if (v > best) {
                    best = v;
                    best_at = at;
                }
            }
    y[yo + i] = best;
    idx[io + i] = (int)best_at;
}

/* The output windows along one axis that contain input position x: o in [lo, hi). */
void windows(int x, int k, int s, int n_out, int *lo, int *hi)
{
    int l = x - k + 1;
    *lo = l <= 0 ? 0 : (l + s - 1) / s;
    int h = x / s + 1;
    *hi = h < n_out ? h : n_out;
}

/* One item per input element: gathers dy of every window whose argmax is it. */
__kernel void maxpool_bwd(__global const float *dy, ulong dyo, __global const int *idx, ulong io,
                          __global float *dx, ulong dxo, uint planes,
                          uint D, uint H, uint W, uint oD, uint oH, uint oW,
                          int kD, int kH, int kW, int sD, int sH, int sW)
{
    uint i = get_global_id(0);
    if (i >= planes * D * H * W)
        return;
    uint w = i % W, t = i / W;
    uint h = t % H;
    t /= H;
    uint d = t % D, p = t / D;
    int self = (int)((d * H + h) * W + w);
    int dlo, dhi, hlo, hhi, wlo, whi;
    windows((int)d, kD, sD, (int)oD, &dlo, &dhi);
    windows((int)h, kH, sH, (int)oH, &hlo, &hhi);
    windows((int)w, kW, sW, (int)oW, &wlo, &whi);
    ulong base = (ulong)p * oD * oH * oW;
    float s = 0.0f;
    for (int od = dlo; od < dhi; od++)
        for (int oh = hlo; oh < hhi; oh++)
            for (int ow = wlo; ow < whi; ow++) {
                ulong o = base + ((ulong)od * oH + oh) * oW + ow;
                if (idx[io + o] == self)
                    s += dy[dyo + o];
            }
    dx[dxo + i] = s;
}

/* y[d,h,w] = x[d/sD, h/sH, w/sW]; one item per output element */
__kernel void upsample_fwd(__global const float *x, ulong xo, __global float *y, ulong yo,
                           uint planes, uint D, uint H, uint W, uint oD, uint oH, uint oW,
                           int sD, int sH, int sW)
{
    uint i = get_global_id(0);
    if (i >= planes * oD * oH * oW)
        return;
    uint ow = i % oW, t = i / oW;
    uint oh = t % oH;
    t /= oH;
    uint od = t % oD, p = t / oD;
    uint d = od / sD, h = oh / sH, w = ow / sW;
    y[yo + i] = x[xo + (((ulong)p * D + d) * H + h) * W + w];
}

/* dx = sum of dy over each block; one item per input element */
__kernel void upsample_bwd(__global const float *dy, ulong dyo, __global float *dx, ulong dxo,
                           uint planes, uint D, uint H, uint W, uint oD, uint oH, uint oW,
                           int sD, int sH, int sW)
{
    uint i = get_global_id(0);
    if (i >= planes * D * H * W)
        return;
    uint w = i % W, t = i / W;
    uint h = t % H;
    t /= H;
    uint d = t % D, p = t / D;
    float s = 0.0f;
    for (int a = 0; a < sD; a++) {
        uint od = d * sD + a;
        if (od >= oD)
            break;
        for (int b = 0; b < sH; b++) {
            uint oh = h * sH + b;
            if (oh >= oH)
                break;
            for (int c = 0; c < sW; c++) {
                uint ow = w * sW + c;
                if (ow >= oW)
                    break;
                s += dy[dyo + (((ulong)p * oD + od) * oH + oh) * oW + ow];
            }
        }
    }
    dx[dxo + i] = s;
}
