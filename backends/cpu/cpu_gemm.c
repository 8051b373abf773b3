/* CPU backend: batched strided GEMM through OpenBLAS. */
#include <cblas.h>
#include "cpu_impl.h"

void glia_cpu_gemm(glia_bctx *ctx, const glia_op *op, glia_cpu_ptrs t)
{
    const glia_gemm_desc *g = &op->p.gemm;
    if (g->m <= 0 || g->n <= 0)
        return;
    glia_cpu_blas_threads(ctx);
    for (int64_t b = 0; b < g->batch; b++) {
        float *c = t[2] + b * g->stride_c;
        if (g->k <= 0) {
            /* BLAS would do the same, but not every BLAS accepts k = 0 */
            for (int64_t i = 0; i < g->m; i++)
                for (int64_t j = 0; j < g->n; j++)
                    c[i * g->ldc + j] = g->beta == 0.0f ? 0.0f : g->beta * c[i * g->ldc + j];
            continue;
        }
        cblas_sgemm(CblasRowMajor, g->trans_a ? CblasTrans : CblasNoTrans,
                    g->trans_b ? CblasTrans : CblasNoTrans, (blasint)g->m, (blasint)g->n,
                    (blasint)g->k, g->alpha, t[0] + b * g->stride_a, (blasint)g->lda,
                    t[1] + b * g->stride_b, (blasint)g->ldb, g->beta, c, (blasint)g->ldc);
    }
}
