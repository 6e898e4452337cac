// Decode GEMV for 4-bit weights (GGUF Q4_0/Q4_1 and Clinfer's int4): y[M, N] = x[M, K] · Wᵀ
// for small M, reading each weight byte once per MR rows of x.
//
// The weights stay in the GGUF nibble order (in each run of 32 elements byte j holds element j
// in its low nibble and element j+16 in its high nibble). Instead of shuffling nibbles, the
// activations are permuted once per call to match what shifting whole 32-bit lanes yields:
// lane l of a block's 4 uints holds bytes 4l…4l+3, and (lane >> 4t) & 15 is element
// e(t, l) = 4l + t/2 (+16 when t is odd). So quant_prepare_x writes xp[t·4 + l] = x[e(t, l)] per
// block, and the GEMV decodes with shifts and masks only. The GEMV works on block pairs (one
// uint8 load, 64 weights) and reads x pair-interleaved: quant_prepare_x_pairs writes, per pair
// p and t, the 4 permuted values of block 2p then the 4 of block 2p + 1 as one float8, so each
// decoded weight vector meets its activations in one aligned load. Per block, Σ q·x is scaled
// by d and the offset m enters as m·Σx with the block sums xs.
//
// quant_prepare_x:        NDRange (K / 32, M): xp [M, K] permuted, xs [M, K / 32] block sums
//                         (the layout Kernels/quant_interleaved.cl reads).
// quant_prepare_x_pairs:  NDRange (ceil(K / 64), M): xp [M, KP] pair-interleaved, KP = K
//                         rounded up to 64 (a missing last block reads as zeros), xs as above.
// quant_gemv_q4:          NDRange (roundup(N, WGN)), local (WGN): one output column per
//                         work-item, reading quant_prepare_x_pairs' output.
// Parameters (-D), with defaults (and A_HALF for fp16 x, quant_common.h):
//   MR 1       rows of x per pass (the host compiles the smallest power of two ≥ M, up to 4:
//              on CPUs 8 and 16 measured no faster)
//   QGROUP 32  elements per scale group (32, 64 or 128)
//   WGN 16     work-group size
#ifndef MR
#define MR 1
#endif
#ifndef QGROUP
#define QGROUP 32
#endif
#ifndef WGN
#define WGN 16
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

__kernel void quant_prepare_x_pairs(const int M, const int K, __global const X_T *x, __global float *xp,
                                    __global float *xs) {
    const int p = get_global_id(0), m = get_global_id(1);
    const int blocks = K / 32, padded = (blocks + 1) / 2 * 64;
    if (p * 64 >= padded || m >= M) return;
    __global float *out = xp + (size_t)m * padded + p * 64;
    for (int second = 0; second < 2; second++) {
        const int b = 2 * p + second;
        if (b >= blocks) {
            for (int i = 0; i < 32; i++) out[(i / 4) * 8 + second * 4 + i % 4] = 0.0f;
            continue;
        }
        const int first = m * K + b * 32;
        float sum = 0.0f;
        for (int t = 0; t < 8; t++)
            for (int l = 0; l < 4; l++) {
                const float v = X_LOAD(x, first + 4 * l + t / 2 + (t & 1) * 16);
                out[t * 8 + second * 4 + l] = v;
                sum += v;
            }
        xs[m * blocks + b] = sum;
    }
}

// One block pair's 64 weights (lanes 0–3: block b, lanes 4–7: block b + 1) decoded to floats
// and scaled, in the permuted order: w[t] lane l is the weight matching the pair-interleaved
// activations xp[t·8 + l]. Decoded once per pass and reused by every row of x.
inline void decode_pair(const uint8 u, const float8 scale, float8 w[8]) {
    UNROLL for (int t = 0; t < 8; t++) w[t] = convert_float8((u >> (uint)(4 * t)) & (uint)15) * scale;
}

// Σ over the pair of the decoded weights times the pair-interleaved activations, per lane.
inline float8 dot_pair(const float8 w[8], __global const float *x) {
    float8 sum = (float8)(0.0f);
    UNROLL for (int t = 0; t < 8; t++) sum = fma(w[t], vload8(t, x), sum);
    return sum;
}

__kernel __attribute__((reqd_work_group_size(WGN, 1, 1)))
void quant_gemv_q4(const int M, const int N, const int K, __global const float *xp, __global const float *xs,
                   __global const uchar *Bq, __global const float *Bd, __global const float *Bm,
                   __global float *y) {
    const int n = get_global_id(0);
    if (n >= N) return;
    const int blocks = K / 32, groups = K / QGROUP, padded = (blocks + 1) / 2 * 64;
    __global const uint *q = (__global const uint *)(Bq + (size_t)n * (K / 2));
    __global const float *d = Bd + (size_t)n * groups, *mins = Bm + (size_t)n * groups;
    for (int m0 = 0; m0 < M; m0 += MR) {
        int rows[MR];
        UNROLL for (int i = 0; i < MR; i++) rows[i] = min(m0 + i, M - 1);
        float8 acc[MR];
        float offset[MR];
        UNROLL for (int i = 0; i < MR; i++) { acc[i] = (float8)(0.0f); offset[i] = 0.0f; }
        for (int b = 0; b < blocks; b += 2) {
            // An odd last block pairs with zero weights (and the zeros padding xp).
            const bool pair = b + 1 < blocks;
            const uint8 u = pair ? vload8(0, q + b * 4) : (uint8)(vload4(0, q + b * 4), (uint4)(0));
            const float d0 = d[b * 32 / QGROUP], d1 = pair ? d[(b + 1) * 32 / QGROUP] : 0.0f;
            const float m0v = mins[b * 32 / QGROUP], m1v = pair ? mins[(b + 1) * 32 / QGROUP] : 0.0f;
            float8 w[8];
            decode_pair(u, (float8)((float4)(d0), (float4)(d1)), w);
            UNROLL for (int i = 0; i < MR; i++) {
                acc[i] += dot_pair(w, xp + (size_t)rows[i] * padded + b * 32);
                const float sum1 = pair ? xs[rows[i] * blocks + b + 1] : 0.0f;
                offset[i] = fma(m0v, xs[rows[i] * blocks + b], fma(m1v, sum1, offset[i]));
            }
        }
        UNROLL for (int i = 0; i < MR; i++)
            if (m0 + i < M) y[(size_t)(m0 + i) * N + n] = HSUM(8, acc[i]) + offset[i];
    }
}
