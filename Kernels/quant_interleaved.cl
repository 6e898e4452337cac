// Decode GEMV over quantized weights repacked with W rows interleaved: y[M, N] = x[M, K] · Wᵀ for
// small M (decode), and the dequantization of that layout for prefill.
//
// Layout (built once at upload, see QuantizedMatrix.interleavedLayout): rows are taken in tiles
// of W (N padded with zero rows to a multiple of W); within a tile, 32-bit word w of every row is
// stored next to word w of the tile's other rows: q[tile][w][lane]. Scales likewise:
// d[tile][group][lane], m[tile][group][lane] (value = q·d + m; Q8_0 has m = 0).
// Work-item `lane` of a work-group of W computes row tile·W + lane, so at every step the W
// work-items read W consecutive words: one coalesced transaction on a GPU, one vector load on a
// CPU driver that vectorises across work-items (PoCL). The GGUF row-major layout makes those
// same reads a W-way gather, which is what held the plain GEMV to ~0.1× of bandwidth at K = 576.
//
// 4-bit (QBITS 4): words keep the GGUF nibble order; x is the permuted copy written by
// quant_prepare_x, so nibble t of word l of a block pairs with xp[t·4 + l], and xs holds
// per-block sums of x for the m term. Shifting a whole 32-bit lane l of a block's 4 words by 4t
// yields element e(t, l) = 4l + t/2 (+16 when t is odd), so quant_prepare_x writes
// xp[t·4 + l] = x[e(t, l)] per block, and the GEMV decodes with shifts and masks only.
// 8-bit (QBITS 8, Q8_0): byte t of word l of a block is element 4l + t; x is used as is and xs
// is not read.
//
// quant_prepare_x:           NDRange (K / 32, M): xp [M, K] permuted, xs [M, K / 32] block sums.
// quant_gemv_interleaved:    NDRange (N padded to W), local (W).
// quant_dequantize_interleaved: NDRange (N, K / 32): one block per work-item, fp32 [N, K] out.
//
// Parameters (-D), with defaults (and A_HALF for fp16 x, see quant_common.h):
//   QBITS 4    bits per weight: 4 (Q4_0, Q4_1, int4) or 8 (Q8_0)
//   QGROUP 32  elements per scale group (32, 64 or 128)
//   W 16       rows per interleaved tile = work-group size
//   MR 1       rows of x per pass over the weights (a power of two ≥ M, up to 16, is best)
#ifndef QBITS
#define QBITS 4
#endif
#ifndef QGROUP
#define QGROUP 32
#endif
#ifndef W
#define W 16
#endif
#ifndef MR
#define MR 1
#endif

#define WORDS_PER_BLOCK (QBITS)   // 32 elements × QBITS bits / 32 bits

#if QBITS == 4
#define X_PARAM __global const float *x
#define X_AT(p, i) ((p)[(i)])
#else
#define X_PARAM __global const X_T *x
#define X_AT(p, i) X_LOAD(p, i)
#endif

__kernel void quant_prepare_x(const int M, const int K, __global const X_T *x, __global float *xp,
                              __global float *xs) {
    const int b = get_global_id(0), m = get_global_id(1);
    if (b * 32 >= K || m >= M) return;
    const int first = m * K + b * 32;
    __global float *out = xp + first;
    float sum = 0.0f;
    for (int t = 0; t < 8; t++)
        for (int l = 0; l < 4; l++) {
            const float v = X_LOAD(x, first + 4 * l + t / 2 + (t & 1) * 16);
            out[t * 4 + l] = v;
            sum += v;
        }
    xs[m * (K / 32) + b] = sum;
}

__kernel __attribute__((reqd_work_group_size(W, 1, 1)))
void quant_gemv_interleaved(const int M, const int N, const int K, X_PARAM, __global const float *xs,
                            __global const uint *q, __global const float *d, __global const float *mn,
                            __global float *y) {
    const int lane = get_local_id(0), tile = get_group_id(0), n = tile * W + lane;
    const int blocks = K / 32, groups = K / QGROUP;
    __global const uint *qt = q + (size_t)tile * blocks * WORDS_PER_BLOCK * W + lane;
    __global const float *dt = d + (size_t)tile * groups * W + lane;
#if QBITS == 4
    __global const float *mt = mn + (size_t)tile * groups * W + lane;
#endif
    for (int m0 = 0; m0 < M; m0 += MR) {
        float acc[MR];
        UNROLL for (int i = 0; i < MR; i++) acc[i] = 0.0f;
        for (int b = 0; b < blocks; b++) {
            float dot[MR];
            UNROLL for (int i = 0; i < MR; i++) dot[i] = 0.0f;
            UNROLL for (int l = 0; l < WORDS_PER_BLOCK; l++) {
                const uint u = qt[(size_t)(b * WORDS_PER_BLOCK + l) * W];
#if QBITS == 4
                UNROLL for (int t = 0; t < 8; t++) {
                    const float v = (float)((u >> (4 * t)) & 15u);
                    UNROLL for (int i = 0; i < MR; i++) dot[i] = fma(v, X_AT(x, (size_t)min(m0 + i, M - 1) * K + b * 32 + t * 4 + l), dot[i]);
                }
#else
                UNROLL for (int t = 0; t < 4; t++) {
                    const float v = (float)(((int)(u << (24 - 8 * t))) >> 24);
                    UNROLL for (int i = 0; i < MR; i++) dot[i] = fma(v, X_AT(x, (size_t)min(m0 + i, M - 1) * K + b * 32 + l * 4 + t), dot[i]);
                }
#endif
            }
            const int g = b * 32 / QGROUP;
            const float scale = dt[(size_t)g * W];
#if QBITS == 4
            const float offset = mt[(size_t)g * W];
            UNROLL for (int i = 0; i < MR; i++) acc[i] = fma(offset, xs[(size_t)min(m0 + i, M - 1) * blocks + b], fma(scale, dot[i], acc[i]));
#else
            UNROLL for (int i = 0; i < MR; i++) acc[i] = fma(scale, dot[i], acc[i]);
#endif
        }
        if (n < N) {
            UNROLL for (int i = 0; i < MR; i++)
                if (m0 + i < M) y[(size_t)(m0 + i) * N + n] = acc[i];
        }
    }
}

__kernel void quant_dequantize_interleaved(const int N, const int K, __global const uint *q, __global const float *d,
                                           __global const float *mn, __global float *out) {
    const int n = get_global_id(0), b = get_global_id(1);
    const int tile = n / W, lane = n % W, blocks = K / 32, groups = K / QGROUP, g = b * 32 / QGROUP;
    __global const uint *qt = q + (size_t)tile * blocks * WORDS_PER_BLOCK * W + lane;
    const float scale = d[((size_t)tile * groups + g) * W + lane];
#if QBITS == 4
    const float offset = mn[((size_t)tile * groups + g) * W + lane];
#else
    const float offset = 0.0f;
#endif
    __global float *row = out + (size_t)n * K + b * 32;
    for (int l = 0; l < WORDS_PER_BLOCK; l++) {
        const uint u = qt[(size_t)(b * WORDS_PER_BLOCK + l) * W];
#if QBITS == 4
        for (int t = 0; t < 4; t++) {   // byte t of word l: element 4l + t (low nibble) and 4l + t + 16 (high)
            row[4 * l + t] = fma((float)((u >> (8 * t)) & 15u), scale, offset);
            row[4 * l + t + 16] = fma((float)((u >> (8 * t + 4)) & 15u), scale, offset);
        }
#else
        for (int t = 0; t < 4; t++) row[4 * l + t] = ((int)(u << (24 - 8 * t)) >> 24) * scale;
#endif
    }
}
