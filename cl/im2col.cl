/* Column matrices for convolution as GEMM, for a chunk of nb samples and of
 * output positions [p0, p0+pc). Column layout: row r = ci*kvol + kk (kk the
 * kernel offset), column b*pc + q, row length ldcol = nb*pc. 2D is D = kD = 1.
 * x and dx offsets already point at the chunk's first sample. */

/* One item per (ci, b, q): writes its kvol column entries. */
__kernel void vol2col(__global const float *x, ulong xo, __global float *col, ulong co,
                      uint Ci, uint D, uint H, uint W, uint oH, uint oW,
                      int kD, int kH, int kW, int sD, int sH, int sW, int pD, int pH, int pW,
                      uint nb, uint p0, uint pc)
{
    uint i = get_global_id(0);
    if (i >= Ci * nb * pc)
        return;
    uint q = i % pc, t = i / pc;
    uint b = t % nb, ci = t / nb;
    uint p = p0 + q;
    uint ow = p % oW;
    t = p / oW;
    uint oh = t % oH, od = t / oH;
    int d0 = (int)od * sD - pD, h0 = (int)oh * sH - pH, w0 = (int)ow * sW - pW;
    __global const float *xp = x + xo + ((ulong)b * Ci + ci) * D * H * W;
    ulong ldcol = (ulong)nb * pc;
    __global float *cp = col + co + (ulong)ci * kD * kH * kW * ldcol + (ulong)b * pc + q;
    for (int kd = 0; kd < kD; kd++) {
        int d = d0 + kd;
        for (int kh = 0; kh < kH; kh++) {
            int h = h0 + kh;
            int row_ok = d >= 0 && d < (int)D && h >= 0 && h < (int)H;
            for (int kw = 0; kw < kW; kw++) {
                int w = w0 + kw;
                float v = 0.0f;
                if (row_ok && w >= 0 && w < (int)W)
                    v = xp[((ulong)d * H + h) * W + w];
                *cp = v;
                cp += ldcol;
            }
        }
    }
}

/* Input positions o whose stride/pad relation x = o*s - pad + k holds, for k in
 * [0, kernel): visited by the caller as o = (x + pad - k) / s. */
int out_pos(int x, int pad, int k, int s, int n_out)
{
    int num = x + pad - k;
    if (num < 0 || num % s != 0)
        return -1;
    int o = num / s;
    return o < n_out ? o : -1;
}

/* One item per input element j0 + q of each (b, ci) plane: gathers the column
 * entries vol2col made from it, for output positions inside the chunk.
 * accumulate 0 overwrites dx (the chunk covers every position), 1 adds. */
__kernel void col2vol(__global const float *col, ulong co, __global float *dx, ulong xo,
                      uint Ci, uint D, uint H, uint W, uint oD, uint oH, uint oW,
                      int kD, int kH, int kW, int sD, int sH, int sW, int pD, int pH, int pW,
                      uint nb, uint p0, uint pc, uint j0, uint jn, int accumulate)
{
    uint i = get_global_id(0);
    if (i >= Ci * nb * jn)
        return;
    uint q = i % jn, t = i / jn;
    uint b = t % nb, ci = t / nb;
    uint j = j0 + q;
    int w = (int)(j % W);
    t = j / W;
    int h = (int)(t % H), d = (int)(t / H);
    ulong ldcol = (ulong)nb * pc;
    __global const float *cp = col + co + (ulong)ci * kD * kH * kW * ldcol + (ulong)b * pc;
    float s = 0.0f;
    for (int kd = 0; kd < kD; kd++) {
        int od = out_pos(d, pD, kd, sD, (int)oD);
        if (od < 0)
            continue;
        for (int kh = 0; kh < kH; kh++) {
            int oh = out_pos(h, pH, kh, sH, (int)oH);
            if (oh < 0)
                continue;
            for (int kw = 0; kw < kW; kw++) {
                int ow = out_pos(w, pW, kw, sW, (int)oW);
                if (ow < 0)
                    continue;
                uint p = ((uint)od * oH + (uint)oh) * oW + (uint)ow;
                if (p < p0 || p - p0 >= pc)
                    continue;
                uint r = (kd * kH + kh) * kW + kw;
                s += cp[(ulong)r * ldcol + (p - p0)];
            }
        }
    }
    ulong at = xo + ((ulong)b * Ci + ci) * D * H * W + j;
    dx[at] = accumulate ? dx[at] + s : s;
}
