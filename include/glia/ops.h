/* glia — differentiable operations on tensors.
 *
 * Each op checks its arguments, allocates a new output (the caller owns one
 * reference), records an autograd node when grad mode is on and an input needs
 * a gradient, and enqueues the work on the inputs' device. All inputs must be
 * on the same device. Layout is NCHW for 2D ops (4-D tensors) and NCDHW for 3D
 * ops (5-D tensors); the rank of x picks 2D or 3D. Failures leave *out NULL. */
#ifndef GLIA_OPS_H
#define GLIA_OPS_H

#include "tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Convolution geometry per spatial axis, in the order (D,) H, W.
 * For 2D ops only the first two entries are read. */
typedef struct glia_conv_params {
    int stride[3];   /* 0 means 1 */
    int padding[3];  /* zero padding on both sides */
} glia_conv_params;

/* y = conv(x, w) + b. x: N,Cin,(D,)H,W; w: Cout,Cin,(kD,)kH,kW; b: Cout or NULL.
 * params NULL = stride 1, padding 0. */
glia_status glia_conv(glia_tensor *x, glia_tensor *w, glia_tensor *b,
                      const glia_conv_params *params, glia_tensor **out);
/* Transposed convolution (PyTorch ConvTranspose, output_padding 0).
 * w: Cin,Cout,(kD,)kH,kW (PyTorch's layout); b: Cout or NULL. */
glia_status glia_conv_transpose(glia_tensor *x, glia_tensor *w, glia_tensor *b,
                                const glia_conv_params *params, glia_tensor **out);

/* Batch norm over N and the spatial axes, per channel. gamma, beta: C.
 * training=1: normalise with batch statistics and, if running_mean/var are
 * given, update them in place (momentum, unbiased variance: PyTorch's rule).
 * training=0: normalise with running_mean/var (required). */
glia_status glia_batch_norm(glia_tensor *x, glia_tensor *gamma, glia_tensor *beta,
                            glia_tensor *running_mean, glia_tensor *running_var,
                            int training, float momentum, float eps, glia_tensor **out);

/* Replaces buf[0..n) with its sum over every rank of a data-parallel job (a
 * blocking allreduce, glia/dist.h); 0 on success. */
typedef glia_status (*glia_sum_fn)(void *user, double *buf, size_t n);

/* Training-mode batch norm with statistics over the batches of every rank
 * (PyTorch's SyncBatchNorm): each rank's per-channel count, mean and variance
 * are summed with sums(user, ...) in forward, and the per-channel sums of dy
 * and dy * xhat in backward, so x's gradient is that of the whole batch.
 * gamma's and beta's gradients stay this rank's share (the gradient reducer
 * averages them). Running statistics, if given, get the global mean and
 * unbiased variance. A sums that leaves buf alone gives glia_batch_norm. */
glia_status glia_batch_norm_sync(glia_tensor *x, glia_tensor *gamma, glia_tensor *beta, glia_tensor *running_mean,
                                 glia_tensor *running_var, float momentum, float eps, glia_sum_fn sums, void *user,
                                 glia_tensor **out);

/* Layer norm over the last dimension of x (any rank): PyTorch's LayerNorm with
 * normalized_shape = [C] (biased variance, eps under the square root).
 * gamma, beta: [C], each NULL for none (no scale, no shift). */
glia_status glia_layer_norm(glia_tensor *x, glia_tensor *gamma, glia_tensor *beta, float eps,
                            glia_tensor **out);
/* Instance norm of x[N, C, spatial...] without affine and without running
 * statistics (MONAI's default InstanceNorm): each (n, c) plane normalised over
 * its spatial elements, biased variance. */
glia_status glia_instance_norm(glia_tensor *x, float eps, glia_tensor **out);

glia_status glia_relu(glia_tensor *x, glia_tensor **out);
glia_status glia_sigmoid(glia_tensor *x, glia_tensor **out);
/* GELU, the exact form x * Phi(x) = x/2 * (1 + erf(x/sqrt 2)) (PyTorch's
 * approximate='none', MONAI's default). */
glia_status glia_gelu(glia_tensor *x, glia_tensor **out);
/* LeakyReLU: y = x > 0 ? x : slope * x, slope > 0 (MONAI uses 0.01). */
glia_status glia_leaky_relu(glia_tensor *x, float slope, glia_tensor **out);
/* Softmax over the channel axis (dimension 1). */
glia_status glia_softmax(glia_tensor *x, glia_tensor **out);
/* Softmax over any axis (negative counts from the end; -1 is attention's). */
glia_status glia_softmax_axis(glia_tensor *x, int axis, glia_tensor **out);

/* Max pooling, no padding. kernel and stride per spatial axis ((D,)H,W);
 * stride NULL = kernel. Output size floor((in - k) / s) + 1. */
glia_status glia_max_pool(glia_tensor *x, const int *kernel, const int *stride,
                          glia_tensor **out);
/* Nearest-neighbour upsampling by an integer factor per spatial axis. */
glia_status glia_upsample_nearest(glia_tensor *x, const int *scale, glia_tensor **out);

/* ---- layout: one strided copy each, differentiable ------------------------
 * A negative axis counts from the end, as in PyTorch. */
/* y = x.permute(perm): y's dimension i is x's dimension perm[i]. */
glia_status glia_permute(glia_tensor *x, const int *perm, glia_tensor **out);
/* Elements [start, start+length) of x along axis (x.narrow(axis, start, length)). */
glia_status glia_slice(glia_tensor *x, int axis, int64_t start, int64_t length, glia_tensor **out);
/* length elements start, start+step, ... along axis (x[..., start::step] cut to
 * length): the even/odd voxels of patch merging. */
glia_status glia_slice_step(glia_tensor *x, int axis, int64_t start, int64_t length, int64_t step,
                            glia_tensor **out);
/* Cyclic shift along axis, y[i] = x[(i - shift) mod n] (torch.roll(x, shift, axis)). */
glia_status glia_roll(glia_tensor *x, int axis, int64_t shift, glia_tensor **out);
/* Concatenate 1 to 64 tensors along axis; the other dimensions must agree. */
glia_status glia_cat(glia_tensor *const *xs, int count, int axis, glia_tensor **out);
/* Zero padding: before[k] and after[k] zeros around axis k (F.pad with
 * zeros), e.g. a feature map padded to window multiples. */
glia_status glia_pad(glia_tensor *x, const int64_t *before, const int64_t *after, glia_tensor **out);
/* y = x + b, b broadcast to x's shape (NumPy rules: b aligned to x's last axes,
 * each of b's axes 1 or x's size): attention's bias and mask addition. */
glia_status glia_add_broadcast(glia_tensor *x, glia_tensor *b, glia_tensor **out);
/* y[i,:] = table[idx[i],:] for a table [rows, width] and n host indices in
 * [0, rows): window attention's relative position bias. Gradients flow to the
 * table, summed per row in a fixed order (deterministic on every backend). */
glia_status glia_gather_rows(glia_tensor *table, const int32_t *idx, int64_t n, glia_tensor **out);
/* glia_cat along channels (dimension 1). */
glia_status glia_concat(glia_tensor *const *xs, int count, glia_tensor **out);
/* glia_slice of channels [start, start+count). */
glia_status glia_slice_channels(glia_tensor *x, int64_t start, int64_t count,
                                glia_tensor **out);

/* Elementwise on tensors of identical shape. */
glia_status glia_add(glia_tensor *a, glia_tensor *b, glia_tensor **out);
glia_status glia_sub(glia_tensor *a, glia_tensor *b, glia_tensor **out);
glia_status glia_mul(glia_tensor *a, glia_tensor *b, glia_tensor **out);
glia_status glia_div(glia_tensor *a, glia_tensor *b, glia_tensor **out);
/* y = a*x + b (scalars). */
glia_status glia_affine(glia_tensor *x, float a, float b, glia_tensor **out);

/* Sum or mean of all elements: a one-element tensor of shape [1]. */
glia_status glia_sum(glia_tensor *x, glia_tensor **out);
glia_status glia_mean(glia_tensor *x, glia_tensor **out);

/* Matrix product of the last two dimensions, batched over a leading one:
 * a: [B,]M,K (or K,M if trans_a), b: [B,]K,N (or N,K if trans_b) -> [B,]M,N. */
glia_status glia_matmul(glia_tensor *a, glia_tensor *b, int trans_a, int trans_b,
                        glia_tensor **out);
/* nn.Linear over the last axis: y[..., o] = sum_i x[..., i] w[o, i] + b[o]
 * (weight [out, in], bias [out] or NULL). */
glia_status glia_linear(glia_tensor *x, glia_tensor *w, glia_tensor *b, glia_tensor **out);

/* Not differentiable: index of the largest channel (N,1,spatial...) as float,
 * and x > threshold as 0/1. */
glia_status glia_argmax_channels(glia_tensor *x, glia_tensor **out);
glia_status glia_threshold(glia_tensor *x, float threshold, glia_tensor **out);

#ifdef __cplusplus
}
#endif
#endif
