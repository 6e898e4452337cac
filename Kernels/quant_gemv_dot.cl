// Decode GEMV with integer dot products over 4-bit weights: y[M, N] = x[M, K] · Wᵀ for small M
// (decode, M ≤ 16), the activations quantized to XBITS-bit integers once per work-group
// (llama.cpp's q4_1 · q8_1 idea, our own layout).
//
// Weights: the DeviceQuantizedMatrix nibble layout (see quant_gemv.cl): K/2 bytes a row, in a
// block of 32 byte j holds element j (low nibble) and element j + 16 (high nibble); fp32 d and m
// per block (value = q·d + m, q in 0…15; Q4_0 has m = −8·d). Groups of 64 or 128 (INT4-g64/g128)
// read exact x in quant_gemv.cl.
//
// Prologue: the work-group's work-items quantize every row of x into local memory, per block of
// 32: dx = max|x| / XMAX, qx = rint(x / dx), and the exact block sum sx = Σx. A block's
// contribution to y is then dw·dx·Σ q·qx + m·sx: an integer dot of 32 pairs, one convert, one
// fma with the scale, one fma for the offset. int8 x (XBITS 8) is the fastest and moves logits
// most (x keeps 8 bits of its block's range); int16 x (XBITS 16) keeps 16 bits at about half the
// pairs per instruction. qx is stored in chunks of CHUNK blocks (4 for int8, 2 for int16): the
// chunk's elements 0…15 block by block, then its elements 16…31, so that one load of a row's
// nibbles for the chunk (64 or 32 bytes) meets one load of x for the low nibbles and one for the
// high ones. A final chunk of c < CHUNK blocks is laid out the same way with c in place of CHUNK.
//
// Inner loop: on x86 with AVX-512BW (the compiler defines __AVX512BW__, as PoCL does on such
// CPUs) one chunk a step: int8 with vpmaddubsw (nibbles as u8 × qx as s8 → pairs in i16; at most
// 4·15·127 per lane, no saturation) and vpmaddwd, or one vpdpbusd per half with AVX512-VNNI;
// int16 with vpmaddwd on the zero-extended nibbles (vpdpwssd with VNNI). Each block's sum lands in
// 16 / CHUNK int lanes and the scales are applied to 16 lanes at once. Elsewhere (GPUs,
// oclgrind) a portable per-block integer dot (int16 multiply-adds, one horizontal sum).
//
// Work: a work-item owns R consecutive weight rows (with GATED 2·R: gate rows n and up rows
// N + n) for every row of x, MR rows of x per pass over its weights; LK work-items (dimension 0,
// 1 on CPUs) share a row set along K, taking blocks l, l + LK, … and meeting in local memory.
//
// quant_gemv_dot: NDRange (LK, ceil(N / R) rounded up to the work-group), local (LK, WG):
//   xq   local, M · XQ_STRIDE(K) · XBITS / 8 bytes (quantized x);
//   xs   local, 3 · M · K/32 floats (dx, sx, and Σx² per block for NORM);
//   part local, LK · WG · 2R · MR floats (partial sums; unused with LK 1).
//
// Parameters (-D), with defaults (A_HALF for fp16 x, see quant_common.h):
//   XBITS 8    bits of quantized x: 8 or 16; 32 keeps x in fp32 (exact, a float dot per block)
//   NORM 0     1: RMSNorm prologue: x is the raw residual stream, the kernel multiplies it by
//              nw (the norm weight) before quantizing and scales each row's result by
//              1 / sqrt(mean(x²) + eps) (a row's norm is one factor, so it moves past the dot)
//   RESIDUAL 0 1: residual epilogue, y += x·Wᵀ (y is the residual stream) instead of y = x·Wᵀ
//   R 4        weight rows per work-item (independent accumulators, x loads shared)
//   MR 1       rows of x per pass over the weights
//   LK 1       work-items per row set along K (1 on CPUs; 16–32 on GPUs)
//   GATED 0    gated epilogue over stacked gate/up weights: 1 SiLU, 2 tanh GELU
//   X86_DOT 1  use the AVX-512BW inner loop where the compiler targets it (0: portable only)
#ifndef XBITS
#define XBITS 8
#endif
#if XBITS == 8
#define XQ_T char
#define XMAX 127.0f
#define CHUNK 4
#define CONVERT_XQ16 convert_char16_rte
#elif XBITS == 16
#define XQ_T short
#define XMAX 32767.0f
#define CHUNK 2
#define CONVERT_XQ16 convert_short16_rte
#else
// XBITS 32: x kept in fp32 (exact), blocks in natural order; dx is 1.
#define XQ_T float
#define CHUNK 1
#endif
#ifndef NORM
#define NORM 0
#endif
#ifndef RESIDUAL
#define RESIDUAL 0
#endif
#ifndef R
#define R 4
#endif
#ifndef MR
#define MR 1
#endif
#ifndef LK
#define LK 1
#endif
#ifndef GATED
#define GATED 0
#endif
#ifndef X86_DOT
#define X86_DOT 1
#endif
#if GATED
#define WROWS (2 * R)
#else
#define WROWS R
#endif
#if X86_DOT && defined(__AVX512BW__) && LK == 1
#define DOT_AVX512 1
#else
#define DOT_AVX512 0
#endif

// Elements of one quantized x row in local memory: whole chunks.
#define XQ_STRIDE(K) ((((K) + 32 * CHUNK - 1) / (32 * CHUNK)) * (32 * CHUNK))

#if A_HALF
#define X_LOAD16(p, i) vload_half16(0, (p) + (i))
#else
#define X_LOAD16(p, i) vload16(0, (p) + (i))
#endif

// Offset of element e (0…31) of block b in a quantized x row (chunks of CHUNK blocks, see above).
inline int xq_offset(const int b, const int e, const int blocks) {
    const int first = b - b % CHUNK, count = min(CHUNK, blocks - first);
    return first * 32 + (e >> 4) * count * 16 + (b - first) * 16 + (e & 15);
}

// Σ over one block of nibble(w) · qx: the portable integer dot (16 bytes of nibbles, the block's
// low-half and high-half x).
#if XBITS == 32
// The float dot: 16 wide partial sums, no horizontal sum per block.
inline float16 dot_block(__global const uchar *w, __local const float *xlo, __local const float *xhi) {
    const uchar16 u = vload16(0, w);
    return fma(convert_float16(u >> (uchar)4), vload16(0, xhi), convert_float16(u & (uchar)15) * vload16(0, xlo));
}
#else
inline int dot_block(__global const uchar *w, __local const XQ_T *xlo, __local const XQ_T *xhi) {
    const uchar16 u = vload16(0, w);
    const int16 p = convert_int16(u & (uchar)15) * convert_int16(vload16(0, xlo))
                    + convert_int16(u >> (uchar)4) * convert_int16(vload16(0, xhi));
    const int8 a = p.lo + p.hi;
    const int4 b = a.lo + a.hi;
    return b.x + b.y + b.z + b.w;
}
#endif

#if XBITS == 32
#undef DOT_AVX512
#define DOT_AVX512 0
#endif

#if DOT_AVX512
typedef char clinfer_i8x64 __attribute__((vector_size(64)));
typedef uchar clinfer_u8x64 __attribute__((vector_size(64), aligned(1)));
typedef uchar clinfer_u8x32 __attribute__((vector_size(32), aligned(1)));
typedef short clinfer_i16x32 __attribute__((vector_size(64)));
typedef int clinfer_i32x16 __attribute__((vector_size(64)));

#if XBITS == 8
// A chunk's weights: 64 bytes of nibbles (4 blocks).
typedef clinfer_u8x64 clinfer_wchunk;
typedef clinfer_i8x64 clinfer_xchunk;

// Per 4-lane group k of the result: Σ over block k's 32 pairs (lo nibbles · xlo, hi · xhi).
inline clinfer_i32x16 dot_chunk(const clinfer_wchunk w, const clinfer_xchunk xlo, const clinfer_xchunk xhi) {
    const clinfer_u8x64 lo = w & (uchar)15, hi = (w >> (uchar)4) & (uchar)15;
#ifdef __AVX512VNNI__
    const clinfer_i32x16 zero = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    return __builtin_ia32_vpdpbusd512(
        __builtin_ia32_vpdpbusd512(zero, (clinfer_i32x16)lo, (clinfer_i32x16)xlo), (clinfer_i32x16)hi,
        (clinfer_i32x16)xhi);
#else
    const clinfer_i16x32 ones = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
                                 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    const clinfer_i16x32 pairs = __builtin_ia32_pmaddubsw512((clinfer_i8x64)lo, xlo)
                                 + __builtin_ia32_pmaddubsw512((clinfer_i8x64)hi, xhi);
    return __builtin_ia32_pmaddwd512(pairs, ones);
#endif
}

// A float4 of per-block values spread over 16 lanes (block k in lanes 4k…4k+3).
#define SPREAD(v) ((float16)((v).xxxx, (v).yyyy, (v).zzzz, (v).wwww))
#define FLOATC float4
#define VLOADC vload4
#else
// A chunk's weights: 32 bytes of nibbles (2 blocks).
typedef clinfer_u8x32 clinfer_wchunk;
typedef clinfer_i16x32 clinfer_xchunk;

// Per 8-lane half k of the result: Σ over block k's 32 pairs (nibbles widened to int16).
inline clinfer_i32x16 dot_chunk(const clinfer_wchunk w, const clinfer_xchunk xlo, const clinfer_xchunk xhi) {
    const clinfer_i16x32 wide = __builtin_convertvector(w, clinfer_i16x32);
    const clinfer_i16x32 lo = wide & (short)15, hi = wide >> (short)4;
    return __builtin_ia32_pmaddwd512(lo, xlo) + __builtin_ia32_pmaddwd512(hi, xhi);
}

// A float2 of per-block values spread over 16 lanes (block k in lanes 8k…8k+7).
#define SPREAD(v) ((float16)((v).xxxx, (v).xxxx, (v).yyyy, (v).yyyy))
#define FLOATC float2
#define VLOADC vload2
#endif
#endif

__kernel void quant_gemv_dot(const int M, const int N, const int K, __global const X_T *x, __global const uchar *q,
                             __global const float *d, __global const float *mn, __global float *y,
                             __global const float *nw, const float eps, __local XQ_T *xq, __local float *xs,
                             __local float *part) {
    const int blocks = K / 32, stride = XQ_STRIDE(K);
    const int items = get_local_size(0) * get_local_size(1);
    const int item = get_local_id(1) * get_local_size(0) + get_local_id(0);
    __local float *dxs = xs, *sxs = xs + M * blocks, *sss = xs + 2 * M * blocks;

    // Prologue: quantize every row of x, one block per work-item at a time.
    for (int t = item; t < M * blocks; t += items) {
        const int m = t / blocks, b = t % blocks;
        float16 lo = X_LOAD16(x, (size_t)m * K + b * 32), hi = X_LOAD16(x, (size_t)m * K + b * 32 + 16);
#if NORM
        sss[t] = clinfer_hsum16(fma(lo, lo, hi * hi));
        lo *= vload16(0, nw + b * 32);
        hi *= vload16(0, nw + b * 32 + 16);
#endif
        __local XQ_T *row = xq + m * stride;
        const float16 s = lo + hi;
        sxs[t] = clinfer_hsum16(s);
#if XBITS == 32
        vstore16(lo, 0, row + b * 32);
        vstore16(hi, 0, row + b * 32 + 16);
        dxs[t] = 1.0f;
#else
        const float16 a = fmax(fabs(lo), fabs(hi));
        const float amax = fmax(fmax(fmax(a.s0, a.s1), fmax(a.s2, a.s3)), fmax(fmax(a.s4, a.s5), fmax(a.s6, a.s7)));
        const float bmax = fmax(fmax(fmax(a.s8, a.s9), fmax(a.sa, a.sb)), fmax(fmax(a.sc, a.sd), fmax(a.se, a.sf)));
        const float dx = fmax(amax, bmax) / XMAX, inverse = dx > 0.0f ? 1.0f / dx : 0.0f;
        vstore16(CONVERT_XQ16(lo * inverse), 0, row + xq_offset(b, 0, blocks));
        vstore16(CONVERT_XQ16(hi * inverse), 0, row + xq_offset(b, 16, blocks));
        dxs[t] = dx;
#endif
    }
    barrier(CLK_LOCAL_MEM_FENCE);

    const int lane = get_local_id(0), n0 = get_global_id(1) * R;
    const size_t rowBytes = (size_t)K / 2;
    int rows[WROWS];
    UNROLL for (int r = 0; r < R; r++) rows[r] = min(n0 + r, N - 1);
#if GATED
    UNROLL for (int r = 0; r < R; r++) rows[R + r] = rows[r] + N;
#endif
    for (int m0 = 0; m0 < M; m0 += MR) {
        int xRows[MR];
        UNROLL for (int i = 0; i < MR; i++) xRows[i] = min(m0 + i, M - 1);
        float acc[WROWS][MR];
        UNROLL for (int r = 0; r < WROWS; r++) UNROLL for (int i = 0; i < MR; i++) acc[r][i] = 0.0f;
        int b = lane;
#if DOT_AVX512
        float16 wide[WROWS][MR];
        FLOATC offsets[WROWS][MR];
        UNROLL for (int r = 0; r < WROWS; r++) UNROLL for (int i = 0; i < MR; i++) {
            wide[r][i] = (float16)(0.0f);
            offsets[r][i] = (FLOATC)(0.0f);
        }
        for (; b + CHUNK <= blocks; b += CHUNK) {
            clinfer_xchunk xlo[MR], xhi[MR];
            FLOATC dx[MR], sx[MR];
            UNROLL for (int i = 0; i < MR; i++) {
                __local const XQ_T *chunk = xq + xRows[i] * stride + b * 32;
                xlo[i] = *(__local const clinfer_xchunk *)chunk;
                xhi[i] = *(__local const clinfer_xchunk *)(chunk + CHUNK * 16);
                dx[i] = VLOADC(0, dxs + xRows[i] * blocks + b);
                sx[i] = VLOADC(0, sxs + xRows[i] * blocks + b);
            }
            UNROLL for (int r = 0; r < WROWS; r++) {
                const clinfer_wchunk w = *(__global const clinfer_wchunk *)(q + rows[r] * rowBytes + b * 16);
                const FLOATC dw = VLOADC(0, d + (size_t)rows[r] * blocks + b);
                const FLOATC mw = VLOADC(0, mn + (size_t)rows[r] * blocks + b);
                UNROLL for (int i = 0; i < MR; i++) {
                    const clinfer_i32x16 s = dot_chunk(w, xlo[i], xhi[i]);
                    const FLOATC scale = dw * dx[i];
                    wide[r][i] = fma(__builtin_convertvector(s, float16), SPREAD(scale), wide[r][i]);
                    offsets[r][i] = fma(mw, sx[i], offsets[r][i]);
                }
            }
        }
        UNROLL for (int r = 0; r < WROWS; r++) UNROLL for (int i = 0; i < MR; i++) {
            const FLOATC o = offsets[r][i];
#if XBITS == 8
            acc[r][i] = clinfer_hsum16(wide[r][i]) + (o.x + o.y) + (o.z + o.w);
#else
            acc[r][i] = clinfer_hsum16(wide[r][i]) + (o.x + o.y);
#endif
        }
#endif
#if XBITS == 32
        float16 dots[WROWS][MR];
        UNROLL for (int r = 0; r < WROWS; r++) UNROLL for (int i = 0; i < MR; i++) dots[r][i] = (float16)(0.0f);
#endif
        for (; b < blocks; b += LK) {
            const int lo = xq_offset(b, 0, blocks), hi = xq_offset(b, 16, blocks);
            UNROLL for (int r = 0; r < WROWS; r++) {
                const size_t g = (size_t)rows[r] * blocks + b;
                const float dw = d[g], mw = mn[g];
                __global const uchar *w = q + rows[r] * rowBytes + b * 16;
                UNROLL for (int i = 0; i < MR; i++) {
                    const int t = xRows[i] * blocks + b;
                    __local const XQ_T *row = xq + xRows[i] * stride;
#if XBITS == 32
                    dots[r][i] = fma(dot_block(w, row + lo, row + hi), (float16)(dw), dots[r][i]);
                    acc[r][i] = fma(mw, sxs[t], acc[r][i]);
#else
                    const int s = dot_block(w, row + lo, row + hi);
                    acc[r][i] = fma((float)s, dw * dxs[t], fma(mw, sxs[t], acc[r][i]));
#endif
                }
            }
        }
#if XBITS == 32
        UNROLL for (int r = 0; r < WROWS; r++) UNROLL for (int i = 0; i < MR; i++) acc[r][i] += clinfer_hsum16(dots[r][i]);
#endif
#if NORM
        // Each x row's RMSNorm factor, from the prologue's per-block Σx².
        float inverseRMS[MR];
        UNROLL for (int i = 0; i < MR; i++) {
            float total = 0.0f;
            for (int k = 0; k < blocks; k++) total += sss[xRows[i] * blocks + k];
            inverseRMS[i] = rsqrt(total / K + eps);
        }
        UNROLL for (int r = 0; r < WROWS; r++) UNROLL for (int i = 0; i < MR; i++) acc[r][i] *= inverseRMS[i];
#endif
#if LK > 1
        const int set = get_local_id(1) * LK;
        UNROLL for (int r = 0; r < WROWS; r++) UNROLL for (int i = 0; i < MR; i++)
            part[((set + lane) * WROWS + r) * MR + i] = acc[r][i];
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int o = lane; o < R * MR; o += LK) {
            const int r = o / MR, i = o % MR;
            float total = 0.0f;
            for (int l = 0; l < LK; l++) total += part[((set + l) * WROWS + r) * MR + i];
#if GATED
            float up = 0.0f;
            for (int l = 0; l < LK; l++) up += part[((set + l) * WROWS + R + r) * MR + i];
            total = clinfer_gate(total, GATED) * up;
#endif
            const int n = n0 + r, m = m0 + i;
#if RESIDUAL
            if (n < N && m < M) y[(size_t)m * N + n] += total;
#else
            if (n < N && m < M) y[(size_t)m * N + n] = total;
#endif
        }
        barrier(CLK_LOCAL_MEM_FENCE);
#else
        UNROLL for (int r = 0; r < R; r++) UNROLL for (int i = 0; i < MR; i++) {
            if (n0 + r >= N || m0 + i >= M) continue;
            float total = acc[r][i];
#if GATED
            total = clinfer_gate(total, GATED) * acc[R + r][i];
#endif
#if RESIDUAL
            y[(size_t)(m0 + i) * N + n0 + r] += total;
#else
            y[(size_t)(m0 + i) * N + n0 + r] = total;
#endif
        }
#endif
    }
}
