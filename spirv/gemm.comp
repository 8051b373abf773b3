// glia — tiled GEMM through shared memory with register blocking, and the
// convolutions as implicit GEMMs (no im2col buffer) on the same tiles.
//
// Each work-group computes a BM x BN tile of C; each invocation a TM x TN
// micro-tile kept in registers as vec4s (rows/columns 4 at a time, the groups
// of 4 strided so that neighbouring invocations read neighbouring vec4s from
// shared memory). The K loop is double-buffered: one barrier per BK step, and
// the next tile's global loads are issued before the current tile's math.
//
// Modes (the GEMM view of each convolution; KS = kD*kH*kW, IS/OS = spatial sizes):
//   PLAIN            C[b] = alpha*op(A[b])*op(B[b]) + beta*C[b]
//   CONV_FWD         M = Cout, N = n*OS, K = Cin*KS:  A = w, B[(ci,kk)][(n,o)] = x
//   CONV_BWD_DATA    one residue class i = i0 + s*j of dx per dispatch (so no
//                    tap is wasted on strided convolutions):
//                    M = Cin, N = n*|j|, K = Cout*taps: A = w^T, B = dy
//   CONV_BWD_WEIGHT  M = Cout, N = Cin*KS, K = n*OS: A = dy, B[(n,o)][(ci,kk)] = x
// For the convolutions the gathered operand's address is the sum of a per-k
// term and a per-column term, with a bounds test on the summed position; the
// terms live in shared tables (ktab per BK step, ctab per work-group), so the
// inner loops do no integer division.
// SPLIT: C is a workspace [z][M][N] of raw sums; splitk.comp finishes it.
#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#include "vk_shader_abi.h"
#include "vk_common.glsl"

layout(constant_id = 1) const uint BM = 64;
layout(constant_id = 2) const uint BN = 64;
layout(constant_id = 3) const uint BK = 16;
layout(constant_id = 4) const uint TM = 4;
layout(constant_id = 5) const uint TN = 4;
layout(constant_id = 6) const uint MODE = 0;
layout(constant_id = 7) const uint TA = 0;
layout(constant_id = 8) const uint TB = 0;
layout(constant_id = 9) const uint SPLIT = 0;
layout(constant_id = 10) const uint VEC = 0;   // A and B rows 16-byte aligned: vec4 loads in full tiles

layout(std430, binding = 0) readonly buffer BufA { float a[]; };
layout(std430, binding = 1) readonly buffer BufB { float b[]; };
layout(std430, binding = 2) buffer BufC { float c[]; };
layout(std430, binding = 0) readonly buffer BufA4 { vec4 a4[]; };   // the same buffers, by vec4
layout(std430, binding = 1) readonly buffer BufB4 { vec4 b4[]; };

const uint WM = BM / TM;             // invocations along M
const uint WN = BN / TN;             // invocations along N
const uint WG = WM * WN;
const uint AL = BM * BK / WG;        // A elements each invocation loads per step
const uint BL = BK * BN / WG;
const uint AP = BM / 4u + 1u;        // padded rows (in vec4) against bank conflicts
const uint BP = BN / 4u + 1u;
// Loads walk k fastest where memory is contiguous along k.
const bool A_KFAST = (MODE == GM_PLAIN && TA == 0u) || MODE == GM_CONV_FWD || MODE == GM_CONV_BWD_WEIGHT;
const bool B_KFAST = (MODE == GM_PLAIN && TB != 0u) || MODE == GM_CONV_BWD_WEIGHT;
const bool CONV = MODE != GM_PLAIN;

shared vec4 As[2u * BK * AP];        // [stage][k][m/4]
shared vec4 Bs[2u * BK * BP];        // [stage][k][n/4]
shared int ktabA[CONV ? 2u * BK : 1u];
shared ivec4 ktabB[CONV ? 2u * BK : 1u];
shared ivec4 ctab[CONV ? BN : 1u];

uint M, N, K, kbeg, kend, offA, offB;
uint IN_D, IN_H, IN_W, OUT_D, OUT_H, OUT_W, KD, KH, KW, SD, SH, SW, PD, PH, PW, CIN, COUT;
uint I0D, I0H, I0W;                  // backward data: residue class
uint TD, TH, TW;                     // backward data: taps per axis in this class
uint JD, JH, JW;                     // backward data: positions per axis in this class
int QD, QH, QW;
uvec3 bound;                         // box the gathered positions must fall in

void conv_setup()
{
    CIN = pc.p[CV_CIN]; COUT = pc.p[CV_COUT];
    IN_D = pc.p[CV_IN]; IN_H = pc.p[CV_IN + 1]; IN_W = pc.p[CV_IN + 2];
    OUT_D = pc.p[CV_OUT]; OUT_H = pc.p[CV_OUT + 1]; OUT_W = pc.p[CV_OUT + 2];
    KD = pc.p[CV_K]; KH = pc.p[CV_K + 1]; KW = pc.p[CV_K + 2];
    SD = pc.p[CV_S]; SH = pc.p[CV_S + 1]; SW = pc.p[CV_S + 2];
    PD = pc.p[CV_P]; PH = pc.p[CV_P + 1]; PW = pc.p[CV_P + 2];
    bound = uvec3(IN_D, IN_H, IN_W);
    if (MODE == GM_CONV_BWD_DATA) {
        uint cls = pc.p[CV_CLS];
        I0D = cls & 1023u; I0H = (cls >> 10) & 1023u; I0W = cls >> 20;
        // taps kk = kk0 + s*t with kk0 = (i0 + p) mod s; o = j - t + q
        uint k0d = (I0D + PD) % SD, k0h = (I0H + PH) % SH, k0w = (I0W + PW) % SW;
        TD = KD > k0d ? (KD - k0d + SD - 1u) / SD : 0u;
        TH = KH > k0h ? (KH - k0h + SH - 1u) / SH : 0u;
        TW = KW > k0w ? (KW - k0w + SW - 1u) / SW : 0u;
        JD = (IN_D - I0D + SD - 1u) / SD;
        JH = (IN_H - I0H + SH - 1u) / SH;
        JW = (IN_W - I0W + SW - 1u) / SW;
        QD = int((I0D + PD - k0d) / SD); QH = int((I0H + PH - k0h) / SH); QW = int((I0W + PW - k0w) / SW);
        bound = uvec3(OUT_D, OUT_H, OUT_W);
    }
}

// The per-k terms of the gathered operands.
void kinfo(uint k, out int ta, out ivec4 tb)
{
    ta = 0;
    tb = ivec4(0);
    if (k >= kend)
        return;
    uint ks = KD * KH * KW, os = OUT_D * OUT_H * OUT_W, is = IN_D * IN_H * IN_W;
    if (MODE == GM_CONV_FWD) {
        uint ci = k / ks, r = k - ci * ks;
        uint kd = r / (KH * KW), r2 = r - kd * KH * KW;
        uint kh = r2 / KW, kw = r2 - kh * KW;
        tb = ivec4(int(ci * is + (kd * IN_H + kh) * IN_W + kw), int(kd), int(kh), int(kw));
    } else if (MODE == GM_CONV_BWD_DATA) {
        uint nt = TD * TH * TW;
        uint co = k / nt, t = k - co * nt;
        uint td = t / (TH * TW), t2 = t - td * TH * TW;
        uint th = t2 / TW, tw = t2 - th * TW;
        uint kd = (I0D + PD) % SD + SD * td, kh = (I0H + PH) % SH + SH * th, kw = (I0W + PW) % SW + SW * tw;
        ta = int(co * CIN * ks + (kd * KH + kh) * KW + kw);
        tb = ivec4(int(co * os) - int((td * OUT_H + th) * OUT_W + tw), -int(td), -int(th), -int(tw));
    } else if (MODE == GM_CONV_BWD_WEIGHT) {
        uint n = k / os, o = k - n * os;
        uint od = o / (OUT_H * OUT_W), o2 = o - od * OUT_H * OUT_W;
        uint oh = o2 / OUT_W, ow = o2 - oh * OUT_W;
        int pd = int(od * SD) - int(PD), ph = int(oh * SH) - int(PH), pw = int(ow * SW) - int(PW);
        ta = int(n * COUT * os + o);
        tb = ivec4(int(n * CIN * is) + (pd * int(IN_H) + ph) * int(IN_W) + pw, pd, ph, pw);
    }
}

// The per-column term of the gathered operand.
ivec4 cinfo(uint col)
{
    if (col >= N)
        return ivec4(0, -1 << 30, 0, 0);   // outside every bound
    uint ks = KD * KH * KW, os = OUT_D * OUT_H * OUT_W, is = IN_D * IN_H * IN_W;
    if (MODE == GM_CONV_FWD) {
        uint n = col / os, o = col - n * os;
        uint od = o / (OUT_H * OUT_W), o2 = o - od * OUT_H * OUT_W;
        uint oh = o2 / OUT_W, ow = o2 - oh * OUT_W;
        int pd = int(od * SD) - int(PD), ph = int(oh * SH) - int(PH), pw = int(ow * SW) - int(PW);
        return ivec4(int(n * CIN * is) + (pd * int(IN_H) + ph) * int(IN_W) + pw, pd, ph, pw);
    } else if (MODE == GM_CONV_BWD_DATA) {
        uint nj = JD * JH * JW;
        uint n = col / nj, j = col - n * nj;
        uint jd = j / (JH * JW), j2 = j - jd * JH * JW;
        uint jh = j2 / JW, jw = j2 - jh * JW;
        int d = int(jd) + QD, h = int(jh) + QH, w = int(jw) + QW;
        return ivec4(int(n * COUT * os) + (d * int(OUT_H) + h) * int(OUT_W) + w, d, h, w);
    } else {
        uint ci = col / ks, r = col - ci * ks;
        uint kd = r / (KH * KW), r2 = r - kd * KH * KW;
        uint kh = r2 / KW, kw = r2 - kh * KW;
        return ivec4(int(ci * is + (kd * IN_H + kh) * IN_W + kw), int(kd), int(kh), int(kw));
    }
}

// Where output column col of row 0 goes, and the distance between rows.
uint out_col(uint col)
{
    if (MODE == GM_CONV_FWD) {
        uint os = OUT_D * OUT_H * OUT_W, n = col / os;
        return n * COUT * os + (col - n * os);
    } else if (MODE == GM_CONV_BWD_DATA) {
        uint nj = JD * JH * JW, n = col / nj, j = col - n * nj;
        uint jd = j / (JH * JW), j2 = j - jd * JH * JW;
        uint jh = j2 / JW, jw = j2 - jh * JW;
        uint id = I0D + SD * jd, ih = I0H + SH * jh, iw = I0W + SW * jw;
        return n * CIN * IN_D * IN_H * IN_W + (id * IN_H + ih) * IN_W + iw;
    }
    return col;
}

uint out_row_stride()
{
    if (MODE == GM_CONV_FWD)
        return OUT_D * OUT_H * OUT_W;
    if (MODE == GM_CONV_BWD_DATA)
        return IN_D * IN_H * IN_W;
    if (MODE == GM_CONV_BWD_WEIGHT)
        return N;
    return pc.p[GM_LDC];
}

float ra[AL];
float rb[BL];
bool full;                           // the tile being loaded took the vec4 path

// A full tile of 16-byte aligned rows: each invocation loads AL/4 and BL/4
// vec4s along the contiguous axis of A and B.
void load_tiles_vec(uint m0, uint n0, uint k0, uint abase, uint bbase)
{
    uint tid = gl_LocalInvocationIndex;
    [[unroll]] for (uint j = 0u; j < AL / 4u; j++) {
        uint e = tid + j * WG, at;
        if (A_KFAST)
            at = abase + (m0 + e / (BK / 4u)) * pc.p[GM_LDA] + k0 + 4u * (e % (BK / 4u));
        else
            at = abase + (k0 + e / (BM / 4u)) * pc.p[GM_LDA] + m0 + 4u * (e % (BM / 4u));
        vec4 v = a4[(offA + at) / 4u];
        ra[4u * j] = v.x; ra[4u * j + 1u] = v.y; ra[4u * j + 2u] = v.z; ra[4u * j + 3u] = v.w;
    }
    [[unroll]] for (uint j = 0u; j < BL / 4u; j++) {
        uint e = tid + j * WG, at;
        if (B_KFAST)
            at = bbase + (n0 + e / (BK / 4u)) * pc.p[GM_LDB] + k0 + 4u * (e % (BK / 4u));
        else
            at = bbase + (k0 + e / (BN / 4u)) * pc.p[GM_LDB] + n0 + 4u * (e % (BN / 4u));
        vec4 v = b4[(offB + at) / 4u];
        rb[4u * j] = v.x; rb[4u * j + 1u] = v.y; rb[4u * j + 2u] = v.z; rb[4u * j + 3u] = v.w;
    }
}

void store_tiles_vec(uint stage)
{
    uint tid = gl_LocalInvocationIndex;
    [[unroll]] for (uint j = 0u; j < AL / 4u; j++) {
        uint e = tid + j * WG;
        if (A_KFAST) {
            uint r = e / (BK / 4u), k4 = 4u * (e % (BK / 4u));
            [[unroll]] for (uint q = 0u; q < 4u; q++)
                As[(stage * BK + k4 + q) * AP + r / 4u][r % 4u] = ra[4u * j + q];
        } else {
            As[(stage * BK + e / (BM / 4u)) * AP + e % (BM / 4u)] =
                vec4(ra[4u * j], ra[4u * j + 1u], ra[4u * j + 2u], ra[4u * j + 3u]);
        }
    }
    [[unroll]] for (uint j = 0u; j < BL / 4u; j++) {
        uint e = tid + j * WG;
        if (B_KFAST) {
            uint cl = e / (BK / 4u), k4 = 4u * (e % (BK / 4u));
            [[unroll]] for (uint q = 0u; q < 4u; q++)
                Bs[(stage * BK + k4 + q) * BP + cl / 4u][cl % 4u] = rb[4u * j + q];
        } else {
            Bs[(stage * BK + e / (BN / 4u)) * BP + e % (BN / 4u)] =
                vec4(rb[4u * j], rb[4u * j + 1u], rb[4u * j + 2u], rb[4u * j + 3u]);
        }
    }
}

void load_tiles(uint m0, uint n0, uint k0, uint slot, uint abase, uint bbase)
{
    uint tid = gl_LocalInvocationIndex;
    full = VEC != 0u && m0 + BM <= M && n0 + BN <= N && k0 + BK <= kend;
    if (full) {
        load_tiles_vec(m0, n0, k0, abase, bbase);
        return;
    }
    [[unroll]] for (uint j = 0u; j < AL; j++) {
        uint e = tid + j * WG;
        uint r = A_KFAST ? e / BK : e % BM, kl = A_KFAST ? e % BK : e / BM;
        uint m = m0 + r, k = k0 + kl;
        float v = 0.0;
        if (m < M && k < kend) {
            uint at;
            if (MODE == GM_PLAIN)
                at = abase + (TA != 0u ? k * pc.p[GM_LDA] + m : m * pc.p[GM_LDA] + k);
            else if (MODE == GM_CONV_FWD)
                at = m * K + k;
            else if (MODE == GM_CONV_BWD_DATA)
                at = uint(ktabA[slot * BK + kl]) + m * KD * KH * KW;
            else
                at = uint(ktabA[slot * BK + kl]) + m * OUT_D * OUT_H * OUT_W;
            v = a[offA + at];
        }
        ra[j] = v;
    }
    [[unroll]] for (uint j = 0u; j < BL; j++) {
        uint e = tid + j * WG;
        uint cl = B_KFAST ? e / BK : e % BN, kl = B_KFAST ? e % BK : e / BN;
        uint n = n0 + cl, k = k0 + kl;
        float v = 0.0;
        if (MODE == GM_PLAIN) {
            if (n < N && k < kend)
                v = b[offB + bbase + (TB != 0u ? n * pc.p[GM_LDB] + k : k * pc.p[GM_LDB] + n)];
        } else if (k < kend) {
            ivec4 kt = ktabB[slot * BK + kl], ct = ctab[cl];
            uvec3 pos = uvec3(kt.yzw + ct.yzw);   // negative wraps to huge: one test
            if (all(lessThan(pos, bound)))
                v = b[offB + uint(kt.x + ct.x)];
        }
        rb[j] = v;
    }
}

void store_tiles(uint stage)
{
    if (full) {
        store_tiles_vec(stage);
        return;
    }
    uint tid = gl_LocalInvocationIndex;
    [[unroll]] for (uint j = 0u; j < AL; j++) {
        uint e = tid + j * WG;
        uint r = A_KFAST ? e / BK : e % BM, kl = A_KFAST ? e % BK : e / BM;
        As[(stage * BK + kl) * AP + r / 4u][r % 4u] = ra[j];
    }
    [[unroll]] for (uint j = 0u; j < BL; j++) {
        uint e = tid + j * WG;
        uint cl = B_KFAST ? e / BK : e % BN, kl = B_KFAST ? e % BK : e / BN;
        Bs[(stage * BK + kl) * BP + cl / 4u][cl % 4u] = rb[j];
    }
}

void fill_ktab(uint k0, uint slot)
{
    uint tid = gl_LocalInvocationIndex;
    if (CONV && tid < BK) {
        int ta;
        ivec4 tb;
        kinfo(k0 + tid, ta, tb);
        ktabA[slot * BK + tid] = ta;
        ktabB[slot * BK + tid] = tb;
    }
}

void main()
{
    M = pc.p[GM_M]; N = pc.p[GM_N]; K = pc.p[GM_K];
    offA = pc.p[0]; offB = pc.p[1];
    uint tid = gl_LocalInvocationIndex;
    uint tx = tid % WN, ty = tid / WN;
    uint n0 = (gl_WorkGroupID.x + pc.p[GM_XBASE]) * BN;
    uint m0 = (gl_WorkGroupID.y + pc.p[GM_YBASE]) * BM;
    uint z = gl_WorkGroupID.z + pc.p[GM_ZBASE];
    uint nsplit = pc.p[GM_NSPLIT];
    uint batch = z / nsplit, slice = z - batch * nsplit;
    kbeg = pc.p[GM_KBASE] + slice * pc.p[GM_KCHUNK];
    kend = min(K, kbeg + pc.p[GM_KCHUNK]);
    uint abase = 0u, bbase = 0u;
    if (MODE == GM_PLAIN) {
        abase = batch * pc.p[GM_SA];
        bbase = batch * pc.p[GM_SB];
    }
    if (CONV) {
        conv_setup();
        fill_ktab(kbeg, 0u);
        fill_ktab(kbeg + BK, 1u);
        for (uint cl = tid; cl < BN; cl += WG)
            ctab[cl] = cinfo(n0 + cl);
        barrier();
    }

    vec4 acc[TM * TN / 4u];
    [[unroll]] for (uint i = 0u; i < TM * TN / 4u; i++)
        acc[i] = vec4(0.0);

    uint nt = kend > kbeg ? (kend - kbeg + BK - 1u) / BK : 0u;
    if (nt > 0u) {
        load_tiles(m0, n0, kbeg, 0u, abase, bbase);
        store_tiles(0u);
        barrier();
    }
    for (uint t = 0u; t < nt; t++) {
        uint st = t & 1u;
        if (t + 1u < nt)
            load_tiles(m0, n0, kbeg + (t + 1u) * BK, (t + 1u) & 1u, abase, bbase);
        [[unroll]] for (uint kk = 0u; kk < BK; kk++) {
            vec4 av[TM / 4u], bv[TN / 4u];
            [[unroll]] for (uint g = 0u; g < TM / 4u; g++)
                av[g] = As[(st * BK + kk) * AP + g * WM + ty];
            [[unroll]] for (uint h = 0u; h < TN / 4u; h++)
                bv[h] = Bs[(st * BK + kk) * BP + h * WN + tx];
            [[unroll]] for (uint g = 0u; g < TM / 4u; g++)
                [[unroll]] for (uint i = 0u; i < 4u; i++)
                    [[unroll]] for (uint h = 0u; h < TN / 4u; h++)
                        acc[(g * 4u + i) * (TN / 4u) + h] += av[g][i] * bv[h];
        }
        if (t + 1u < nt)
            store_tiles(st ^ 1u);
        // the ktab slot of step t was last read by the loads of step t, above
        if (t + 2u < nt)
            fill_ktab(kbeg + (t + 2u) * BK, st);
        barrier();
    }

    uint offC = pc.p[2];
    float alpha = pf(GM_ALPHA), beta = pf(GM_BETA);
    uint rs = out_row_stride();
    uint cbase = MODE == GM_PLAIN ? batch * pc.p[GM_SC] : 0u;
    [[unroll]] for (uint h = 0u; h < TN / 4u; h++) {
        [[unroll]] for (uint q = 0u; q < 4u; q++) {
            uint n = n0 + (h * WN + tx) * 4u + q;
            if (n >= N)
                continue;
            uint oc = SPLIT != 0u ? n : out_col(n);
            [[unroll]] for (uint g = 0u; g < TM / 4u; g++) {
                [[unroll]] for (uint i = 0u; i < 4u; i++) {
                    uint m = m0 + (g * WM + ty) * 4u + i;
                    if (m >= M)
                        continue;
                    float v = acc[(g * 4u + i) * (TN / 4u) + h][q];
                    if (SPLIT != 0u) {
                        c[offC + (z * M + m) * N + oc] = v;
                    } else {
                        uint at = offC + cbase + m * rs + oc;
                        v *= alpha;
                        if (beta != 0.0)
                            v += beta * c[at];
                        c[at] = v;
                    }
                }
            }
        }
    }
}
