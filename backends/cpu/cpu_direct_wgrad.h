/* One group of output rows' share of the direct weight gradient (cpu_direct.c), for
 * kernels 3 wide, written once per vector ISA with the macros of
 * cpu_direct_row.h (DIRECT_WROW names the function). For every input row r of
 * the slab (channel, kd, kh) and every block of CB output channels, the
 * CB x 3 dot products dy[c][.] . slab[r][. + kw] along the group's rows stay
 * in registers as vectors of partial sums and are added into acc
 * ([cout rounded to CB][rows][3][V]), reduced over lanes and slots at the end. */
__attribute__((target(DIRECT_TARGET))) static void DIRECT_WROW(const glia_cpu_direct *d, const slab *sl, int64_t rows,
                                                                const float *dy, int64_t dstride, float *acc)
{
    const int64_t kh = d->k[1], nr = d->cin * d->k[0] * kh, blocks = (d->cout + CB - 1) / CB;
    const int64_t nvec = (d->out[2] + V - 1) / V, chans = blocks * CB;
    for (int64_t b = 0; b < blocks; b++)
        for (int64_t r = 0; r < nr; r++) {
            VEC a[CB][3];
            for (int c = 0; c < CB; c++)
                for (int t = 0; t < 3; t++)
                    a[c][t] = VZERO;
            /* the group's output rows i read slab rows kh + i: sums stay in registers over all of them */
            for (int64_t i = 0; i < rows; i++) {
                const float *x = sl->p + ((r / kh) * sl->hr + r % kh + i) * sl->wpad;
                const float *g = dy + (i * chans + b * CB) * dstride;
                for (int64_t v = 0; v < nvec; v++, x += V, g += V) {
                    VEC x0 = VLOAD(x), x1 = VLOAD(x + 1), x2 = VLOAD(x + 2);
                    for (int c = 0; c < CB; c++) {
                        VEC gv = VLOAD(g + c * dstride);
                        a[c][0] = VFMA(gv, x0, a[c][0]);
                        a[c][1] = VFMA(gv, x1, a[c][1]);
                        a[c][2] = VFMA(gv, x2, a[c][2]);
                    }
                }
            }
            for (int c = 0; c < CB; c++)
                for (int t = 0; t < 3; t++) {
                    float *m = acc + (((b * CB + c) * nr + r) * 3 + t) * V;
                    VSTORE(m, VADD(VLOAD(m), a[c][t]));
                }
        }
}
