/* glia — the op table: the single list every op-kind table is generated from.
 *
 * One row per op kind: X(KIND, name, slots). From it come the glia_op_kind
 * enum (GLIA_OP_<KIND>), the op names (glia_op_name), the operand slots with
 * their roles and sizes (glia_op_slots calls glia_slots_<slots>, in
 * op_table.c), the reference dispatch (op_<name> in ref_impl*.h) and the op
 * test's coverage check. A missing function is a compile error, so a new op is
 * this row, its slot function if no existing one fits, one reference function
 * and one kernel per backend.
 *
 * Operands are glia_op.t[0..7]; each row's comment gives the slots, parameter
 * member p.<...> in brackets. Outputs never alias inputs unless it says so. */
#ifndef GLIA_OP_LIST_H
#define GLIA_OP_LIST_H

#define GLIA_OPS(X) \
    /* ---- data movement and elementwise --------------------------------------- */ \
    /* [fill] t0=y[n]; y = value * (t1.buf ? t1[0] : 1)                               */ \
    X(FILL, fill, fill) \
    /* [copy] t0=src, t1=dst; N-d strided copy: permute, slice, roll, concat (see     \
       glia_copy_desc)                                                                */ \
    X(COPY_ND, copy_nd, copy_nd) \
    /* [gather] t0=table[T,W], t1=idx[n] (int32, < T), t2=y[n,W]; y[i,:] = table[idx[i],:] \
       (relative position bias lookup)                                                 */ \
    X(GATHER_ROWS, gather_rows, gather) \
    /* [gather] t0=dy[n,W], t1=order[n] (int32: the i sorted by idx[i]), t2=start[T+1] \
       (int32: order[start[r] .. start[r+1]) are the i with idx[i] = r), t3=dtable[T,W] \
       (overwritten); dtable[r,:] = sum over those i of dy[i,:], in that fixed order     */ \
    X(GATHER_ROWS_BWD, gather_rows_bwd, gather) \
    /* [axpbyz] t0=x, t1=y (NULL if b==0), t2=z; z = a*x + b*y; z may alias x or y   */ \
    X(AXPBYZ, axpbyz, axpbyz) \
    /* [binary] t0=x, t1=y, t2=z; z = x (mode) y, see op_modes.h; z may alias x      */ \
    X(BINARY, binary, binary) \
    /* [unary] t0=x, t1=y; y = mode(x), see op_modes.h; y may alias x                */ \
    X(UNARY, unary, unary) \
    /* [unary] t0=x or y (what the mode's grad reads), t1=dy, t2=dx; dx = dy*f'(x)    */ \
    X(UNARY_BWD, unary_bwd, unary_bwd) \
    /* [bcast] t0=x[B], t1=y[A,B,C]; y = alpha*x[b] + beta*y (bias add)               */ \
    X(BROADCAST, broadcast, broadcast) \
    /* [bcast] t0=x[A,B,C], t1=out[B]; out = alpha*sum_{a,c} x + beta*out             */ \
    X(REDUCE, reduce, reduce) \
    /* ---- dense algebra ---------------------------------------------------------- */ \
    /* [gemm] t0=A, t1=B, t2=C; row-major, see glia_gemm_desc                          */ \
    X(GEMM, gemm, gemm) \
    /* [conv] t0=x[N,Ci,D,H,W], t1=w[Co,Ci,kD,kH,kW], t2=y[N,Co,oD,oH,oW]              */ \
    X(CONV_FWD, conv_fwd, conv) \
    /* [conv] t0=dy, t1=w, t2=dx (overwritten)                                         */ \
    X(CONV_BWD_DATA, conv_bwd_data, conv) \
    /* [conv] t0=x, t1=dy, t2=dw (overwritten)                                         */ \
    X(CONV_BWD_WEIGHT, conv_bwd_weight, conv) \
    /* ---- normalisation ---------------------------------------------------------- */ \
    /* [bn] t0=x[N,C,S], t1=gamma, t2=beta, t3=y, t4=save_mean[C], t5=save_invstd[C],  \
       t6=running_mean, t7=running_var (t6/t7 may be NULL: no update). Biased var      \
       normalises; running_var gets the unbiased one (n/(n-1)).                       */ \
    X(BN_FWD_TRAIN, bn_fwd_train, bn) \
    /* [bn] t0=x, t1=gamma, t2=beta, t3=y, t6=running_mean, t7=running_var            */ \
    X(BN_FWD_INFER, bn_fwd_infer, bn) \
    /* [bn] t0=x, t1=gamma, t2=dy, t3=save_mean, t4=save_invstd, t5=dx, t6=dgamma,     \
       t7=dbeta (all overwritten)                                                     */ \
    X(BN_BWD, bn_bwd, bn_bwd) \
    /* [ln] t0=x[R,C], t1=gamma[C], t2=beta[C] (each may be NULL: 1 and 0), t3=y,     \
       t4=save_mean[R], t5=save_invstd[R]; per row, biased variance (LayerNorm)       */ \
    X(LN_FWD, ln_fwd, ln) \
    /* [ln] t0=x, t1=gamma (NULL: 1), t2=dy, t3=save_mean, t4=save_invstd, t5=dx,     \
       t6=dgamma, t7=dbeta (each may be NULL: not wanted; all overwritten)            */ \
    X(LN_BWD, ln_bwd, ln) \
    /* ---- pooling and resampling (per plane: N*C planes of D,H,W) ---------------- */ \
    /* [pool] t0=x, t1=y, t2=idx (int32: flat index d*H*W+h*W+w of the max inside its  \
       input plane; first max wins)                                                   */ \
    X(MAXPOOL_FWD, maxpool_fwd, pool) \
    /* [pool] t0=dy, t1=idx, t2=dx (overwritten; gathers every window whose idx points \
       at the element)                                                                */ \
    X(MAXPOOL_BWD, maxpool_bwd, pool) \
    /* [pool] t0=x, t1=y; y[d,h,w] = x[d/sd, h/sh, w/sw]                               */ \
    X(UPSAMPLE_FWD, upsample_fwd, pool) \
    /* [pool] t0=dy, t1=dx; dx = sum of dy over each block                             */ \
    X(UPSAMPLE_BWD, upsample_bwd, pool) \
    /* [chan] t0=x[N,C,S], t1=y; softmax over C                                        */ \
    X(SOFTMAX_FWD, softmax_fwd, chan) \
    /* [chan] t0=y, t1=dy, t2=dx; dx = y*(dy - sum_c dy*y)                             */ \
    X(SOFTMAX_BWD, softmax_bwd, softmax_bwd) \
    /* ---- losses (g = one-element upstream gradient on the device) --------------- */ \
    /* [loss] t0=x, t1=t, t2=l; l = max(x,0) - x*t + log1p(exp(-|x|))                  */ \
    X(BCE_LOGITS, bce_logits, bce) \
    /* [loss] t0=x, t1=t, t2=g, t3=dx; dx = g*scale*(sigmoid(x)-t)                     */ \
    X(BCE_LOGITS_BWD, bce_logits_bwd, bce) \
    /* [chan] t0=x[N,C,S], t1=t (probabilities), t2=l[N,S]; l = -sum_c t*log_softmax(x) */ \
    X(SOFTMAX_CE, softmax_ce, ce) \
    /* [chan] t0=x, t1=t, t2=g, t3=dx; dx = g*scale*(softmax(x)*sum_c t - t)           */ \
    X(SOFTMAX_CE_BWD, softmax_ce_bwd, ce) \
    /* [dice] t0=p[A,B,C], t1=t, t2=out[B*3]: out[3b+0]=sum p*t, out[3b+1]=sum p,       \
       out[3b+2]=sum t over a and c                                                   */ \
    X(DICE_SUMS, dice_sums, dice) \
    /* [dice] t0=t, t1=g[B*3], t2=dp; dp = g[3b]*t + g[3b+1]                           */ \
    X(DICE_SUMS_BWD, dice_sums_bwd, dice) \
    /* ---- optimizers (in place on param and state) ------------------------------- */ \
    /* [sgd] t0=param, t1=grad, t2=momentum buffer (NULL if momentum==0)               */ \
    X(SGD, sgd, sgd) \
    /* [adam] t0=param, t1=grad, t2=exp_avg, t3=exp_avg_sq                             */ \
    X(ADAM, adam, adam) \
    /* ---- selection -------------------------------------------------------------- */ \
    /* [chan] t0=x[N,C,S], t1=y[N,S]; index of the first max as float                 */ \
    X(ARGMAX, argmax, chan)

#endif
