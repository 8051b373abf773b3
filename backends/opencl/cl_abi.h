/* glia — OpenCL backend: kernel modes shared by the host code and the kernels in cl/.
 * Both include it (it is prepended to every program after op_modes.h), so the
 * numbers cannot drift apart. Valid C99 and OpenCL C 1.2. */
#ifndef GLIA_CL_ABI_H
#define GLIA_CL_ABI_H

/* reduce_partial (reduce.cl): the per-group partial sums */
enum glia_cl_partial {
    MODE_SUM,    /* s0 = sum x                                    */
    MODE_SQDEV,  /* s0 = sum (x - stat[b])^2                       */
    MODE_BNBWD,  /* s0 = sum y, s1 = sum y*(x - stat[b])  (y = dy)  */
    MODE_DICE    /* s0 = sum x*y, s1 = sum x, s2 = sum y            */
};

/* reduce_final (reduce.cl): what the partials become */
enum glia_cl_final {
    FINAL_REDUCE, /* o0[b] = alpha*s0 + beta*o0[b]                                    */
    FINAL_MEAN,   /* o0[b] = s0 / count                                                */
    FINAL_VAR,    /* o0[b] = invstd; running stats o1 (mean, from stat) and o2 (var)
                     updated when has_running                                         */
    FINAL_BNBWD,  /* o0[b] = dgamma = s1*stat[b] (invstd), o1[b] = dbeta = s0         */
    FINAL_DICE    /* o0[3b+k] = s_k                                                    */
};

#endif
