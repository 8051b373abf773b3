/* glia — Vulkan backend: the push-constant layouts and shader modes, shared by
 * the C dispatch code and the GLSL shaders (both include this file, so the two
 * cannot drift apart). Push constants are 32 words: word i < NB is the element
 * offset of binding i inside its bound window (views are bound at an offset
 * aligned down to minStorageBufferOffsetAlignment); the op's parameters
 * follow. Floats travel as their bit patterns. */
#ifndef GLIA_VK_SHADER_ABI_H
#define GLIA_VK_SHADER_ABI_H

#define VKB_PC_WORDS 32

/* eltwise.comp: 1-D, bindings 0..3; spec 1 = mode */
#define EW_NB 4
#define EW_N 4
#define EW_A 5
#define EW_B 6
#define EW_FLAG 7
#define EW_FILL 0          /* b0 = y; y = a * (flag ? b1[0] : 1) */
#define EW_AXPBYZ 1        /* b0 = x, b1 = y, b2 = z; z = a*x + b*y (y unread if flag == 0) */
#define EW_MUL 2           /* b0 = x, b1 = y, b2 = z */
#define EW_DIV 3
#define EW_AFFINE 4        /* b0 = x, b1 = y */
#define EW_RELU 5
#define EW_SIGMOID 6
#define EW_THRESHOLD 7
#define EW_RELU_BWD 8      /* b0 = y, b1 = dy, b2 = dx */
#define EW_SIGMOID_BWD 9
#define EW_BCE 10          /* b0 = x, b1 = t, b2 = l */
#define EW_BCE_BWD 11      /* b0 = x, b1 = t, b2 = g, b3 = dx; a = scale */
#define EW_GELU 12         /* b0 = x, b1 = y */
#define EW_GELU_BWD 13     /* b0 = x, b1 = dy, b2 = dx */
#define EW_LEAKY_RELU 14   /* b0 = x, b1 = y; a = slope */
#define EW_LEAKY_RELU_BWD 15 /* b0 = y, b1 = dy, b2 = dx; a = slope */

/* optim.comp: 1-D, bindings as the op's slots; spec 1 = mode */
#define OP_NB 4
#define OP_N 4
#define OP_LR 5
#define OP_B1 6            /* SGD: momentum;  Adam: beta1 */
#define OP_B2 7            /* SGD: dampening; Adam: beta2 */
#define OP_EPS 8
#define OP_WD 9
#define OP_BC1 10
#define OP_BC2 11
#define OP_FLAGS 12        /* SGD: 1 nesterov, 2 first step, 4 momentum buffer; Adam: 1 decoupled */
#define OP_SGD 0
#define OP_ADAM 1

/* copy_nd.comp: b0 = src, b1 = dst; per axis k < ndim (last fastest): shape,
 * src and dst strides in elements */
#define CN_NB 2
#define CN_N 2
#define CN_NDIM 3
#define CN_BETA 4
#define CN_SHAPE 5         /* 6 words */
#define CN_SSTRIDE 11      /* 6 words */
#define CN_DSTRIDE 17      /* 6 words */

/* gather.comp: spec 1 = mode; forward b0 = table, b1 = idx, b3 = y (b2 unused);
 * backward b0 = dy, b1 = order, b2 = start, b3 = dtable */
#define GA_NB 4
#define GA_N 4
#define GA_W 5
#define GA_ROWS 6
#define GA_FWD 0
#define GA_BWD 1

/* chanwise.comp: x[A,B,C] with a per-channel (b) operand; bindings = op slots;
 * work-group rows walk the A*B planes. spec 1 = mode */
#define CW_NB 8
#define CW_PLANES 8
#define CW_CH 9
#define CW_INNER 10
#define CW_ALPHA 11
#define CW_BETA 12
#define CW_EPS 13
#define CW_COUNT 14        /* float: elements per channel */
#define CW_BROADCAST 0     /* b0 = x[B], b1 = y */
#define CW_BN_TRAIN 1      /* op slots of BN_FWD_TRAIN */
#define CW_BN_INFER 2      /* op slots of BN_FWD_INFER */
#define CW_BN_BWD 3        /* op slots of BN_BWD (dx only) */
#define CW_DICE_BWD 4      /* b0 = t, b1 = g, b2 = dp */

/* reduce.comp: per-channel sums of x[A,B,C] over a and c, in two passes.
 * b0,b1 inputs, b2,b3 per-channel parameters, b4 partial sums, b5..b7 outputs.
 * spec 1 = mode, spec 2 = pass */
#define RD_NB 8
#define RD_A 8
#define RD_B 9
#define RD_C 10
#define RD_G 11            /* chunks per channel */
#define RD_CHUNK 12        /* elements per chunk */
#define RD_MAGIC 13        /* 2 words: division by C */
#define RD_ALPHA 15
#define RD_BETA 16
#define RD_EPS 17
#define RD_MOM 18
#define RD_FLAGS 19        /* 1: running statistics present */
#define RD_YBASE 20
#define RD_SUM 0           /* out0[b] = alpha*sum x + beta*out0[b] */
#define RD_DICE 1          /* out0[3b+k] = sum p*t, p, t */
#define RD_BN_MEAN 2       /* out0 = mean */
#define RD_BN_VAR 3        /* out0 = invstd, out1/out2 = running mean/var */
#define RD_BN_BWD 4        /* out0 = dgamma, out1 = dbeta */
#define RD_PASS_DIRECT 0   /* one chunk per channel: sum and finish */
#define RD_PASS_PARTIAL 1  /* partial sums of each chunk */
#define RD_PASS_FINAL 2    /* sum the partials and finish */
#define RD_PASS_COLUMNS 3  /* one invocation per channel (many short channels) */

/* layernorm.comp: x[R,C], bindings = op slots (LN_BWD's partial-sum pass binds
 * its workspace at 5); spec 1 = mode. Row modes run one work-group per row. */
#define LN_NB 8
#define LN_ROWS 8
#define LN_COLS 9
#define LN_EPS 10
#define LN_FLAGS 11
#define LN_CHUNK 12        /* rows per chunk of the partial-sum pass */
#define LN_K 13            /* chunks */
#define LN_HAS_1 1u        /* LN_FWD, LN_BWD_DX: gamma bound; LN_PARAM_FINAL: dgamma */
#define LN_HAS_2 2u        /* LN_FWD: beta bound; LN_PARAM_FINAL: dbeta */
#define LN_FWD 0           /* op slots of LN_FWD */
#define LN_BWD_DX 1        /* op slots of LN_BWD (dx) */
#define LN_PARAM_PART 2    /* b0 = x, b2 = dy, b3 = mean, b4 = invstd, b5 = partial sums */
#define LN_PARAM_FINAL 3   /* b5 = partial sums, b6 = dgamma, b7 = dbeta */

/* channel.comp: per (n, s) over the C channels of x[N,C,S]; spec 1 = mode */
#define CH_NB 4
#define CH_N 4
#define CH_C 5
#define CH_S 6
#define CH_MAGIC 7         /* 2 words: division by S */
#define CH_SCALE 9
#define CH_SOFTMAX 0       /* b0 = x, b1 = y */
#define CH_SOFTMAX_BWD 1   /* b0 = y, b1 = dy, b2 = dx */
#define CH_CE 2            /* b0 = x, b1 = t, b2 = l */
#define CH_CE_BWD 3        /* b0 = x, b1 = t, b2 = g, b3 = dx */
#define CH_ARGMAX 4        /* b0 = x, b1 = y */

/* maxpool_fwd.comp, maxpool_bwd.comp, upsample.comp: bindings = op slots;
 * the 1-D index runs over the output (forward) or the input (backward). */
#define PL_NB 3
#define PL_PLANES 3
#define PL_IN 4            /* 3 words: D, H, W */
#define PL_OUT 7           /* 3 words */
#define PL_K 10            /* 3 words */
#define PL_S 13            /* 3 words */
#define PL_MAGIC 16        /* 6 words: division by W, H, D of the walked tensor */
#define PL_FWD 0
#define PL_BWD 1

/* gemm.comp: b0 = A, b1 = B, b2 = C. spec 1..5 = BM BN BK TM TN, 6 = mode,
 * 7 = trans A, 8 = trans B, 9 = split (C is a workspace of raw sums),
 * 10 = vec4 loads (A, B offsets, leading dimensions and strides multiples of 4) */
#define GM_NB 3
#define GM_M 3
#define GM_N 4
#define GM_K 5
#define GM_ALPHA 6
#define GM_BETA 7
#define GM_KCHUNK 8        /* K range of one split slice (a multiple of BK) */
#define GM_NSPLIT 9
#define GM_XBASE 10        /* added to the work-group ids (dispatches over 65535) */
#define GM_YBASE 11
#define GM_ZBASE 12
#define GM_LDA 13
#define GM_LDB 14
#define GM_LDC 15
#define GM_SA 16
#define GM_SB 17
#define GM_SC 18
#define CV_CIN 13
#define CV_COUT 14
#define CV_IN 15           /* 3 words */
#define CV_OUT 18          /* 3 words */
#define CV_K 21            /* 3 words */
#define CV_S 24            /* 3 words */
#define CV_P 27            /* 3 words */
#define CV_CLS 30          /* backward data: residue class, 10 bits per axis */
#define GM_KBASE 31        /* start of this pass's K range (long K runs in passes) */
#define GM_PLAIN 0
#define GM_CONV_FWD 1
#define GM_CONV_BWD_DATA 2
#define GM_CONV_BWD_WEIGHT 3

/* splitk.comp: b0 = workspace [batch][S][M][N], b1 = C */
#define SK_NB 2
#define SK_M 2
#define SK_N 3
#define SK_S 4
#define SK_LDC 5
#define SK_SC 6
#define SK_ALPHA 7
#define SK_BETA 8
#define SK_BATCH 9
#define SK_MAGIC 10        /* 2 words: division by N */

#endif
