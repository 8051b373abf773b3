/* One output row of the direct convolution (cpu_direct.c), written once for
 * each vector ISA: the includer defines
 *   DIRECT_ROW     the function's name
 *   DIRECT_TARGET  its target attribute ("avx2,fma", "avx512f")
 *   VEC, V         the vector type and its width in floats
 *   VZERO, VLOAD(p), VBCAST(p), VFMA(a, b, c) (a * b + c), VSTORE(p, v)
 *   CB, NV         output channels and vectors of output columns per register block
 * Each register block is CB output channels x NV vectors of consecutive output
 * columns; its accumulators stay in registers over every input channel and
 * kernel tap, so every loaded input vector feeds CB FMAs and every broadcast
 * weight NV. */
#define BW (NV * V)

__attribute__((target(DIRECT_TARGET))) static void DIRECT_ROW(const glia_cpu_direct *d, const slab *sl, int64_t i,
                                                               const float *wp, float *y)
{
    const int64_t groups = d->cin * d->k[0], kh = d->k[1], kw = d->k[2], ow = d->out[2];
    const int64_t P = d->out[0] * d->out[1] * ow, blocks = (d->cout + CB - 1) / CB;
    for (int64_t w0 = 0; w0 < ow; w0 += BW) {
        for (int64_t b = 0; b < blocks; b++) {
            VEC acc[CB][NV];
            for (int c = 0; c < CB; c++)
                for (int v = 0; v < NV; v++)
                    acc[c][v] = VZERO;
            const float *wq = wp + b * groups * kh * kw * CB;
            for (int64_t r = 0; r < groups * kh; r++) {
                const float *x = sl->p + ((r / kh) * sl->hr + r % kh + i) * sl->wpad + w0;
                for (int64_t t = 0; t < kw; t++, wq += CB) {
                    VEC xv[NV];
                    for (int v = 0; v < NV; v++)
                        xv[v] = VLOAD(x + t + v * V);
                    for (int c = 0; c < CB; c++) {
                        VEC wv = VBCAST(wq + c);
                        for (int v = 0; v < NV; v++)
                            acc[c][v] = VFMA(wv, xv[v], acc[c][v]);
                    }
                }
            }
            int64_t nc = d->cout - b * CB < CB ? d->cout - b * CB : CB, nw = ow - w0 < BW ? ow - w0 : BW;
            for (int64_t c = 0; c < nc; c++) {
                float *dst = y + (b * CB + c) * P + w0;
                if (nw == BW) {
                    for (int v = 0; v < NV; v++)
                        VSTORE(dst + v * V, acc[c][v]);
                } else { /* the row's ragged end: through a buffer */
                    float tmp[BW];
                    for (int v = 0; v < NV; v++)
                        VSTORE(tmp + v * V, acc[c][v]);
                    memcpy(dst, tmp, (size_t)nw * sizeof *dst);
                }
            }
        }
    }
}

#undef BW
