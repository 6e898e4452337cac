// Decode GEMV for 4-bit weights (GGUF Q4_0/Q4_1 and Clinfer's int4): y[M, N] = x[M, K] · Wᵀ
// for small M, reading each weight byte once per MR rows of x.
//
// The weights stay in the GGUF nibble order (in each run of 32 elements byte j holds element j
// in its low nibble and element j+16 in its high nibble). Instead of shuffling nibbles, the
// activations are permuted once per call to match what shifting whole 32-bit lanes yields:
// lane l of a block's 4 uints holds bytes 4l…4l+3, and (lane >> 4t) & 15 is element
// e(t, l) = 4l + t/2 (+16 when t is odd). So quant_prepare_x writes xp[t·4 + l] = x[e(t, l)] per
// block, and the GEMV decodes with shifts and masks only. Per block, Σ q·x is scaled by d once
// and the offset m enters as m·Σx with the block sums xs from quant_prepare_x.
//
// quant_prepare_x:  NDRange (K / 32, M): xp [M, K] permuted, xs [M, K / 32] block sums.
// quant_gemv_q4:    NDRange (roundup(N, WGN)), local (WGN): one output column n per work-item.
// Parameters (-D), with defaults (and A_HALF for fp16 x, quant_common.h):
//   MR 1       rows of x per pass (the host compiles the smallest power of two ≥ M, up to 8)
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

// Σ over one block pair (lanes 0–3: block b at x, lanes 4–7: block b + 1 at x2) of the decoded
// nibbles times the permuted activations, per lane.
inline float8 dot_pair(const uint8 u, __global const float *x, __global const float *x2) {
    float8 sum = (float8)(0.0f);
    UNROLL for (int t = 0; t < 8; t++)
        sum = fma(convert_float8((u >> (uint)(4 * t)) & (uint)15), (float8)(vload4(t, x), vload4(t, x2)), sum);
    return sum;
}

__kernel __attribute__((reqd_work_group_size(WGN, 1, 1)))
void quant_gemv_q4(const int M, const int N, const int K, __global const float *xp, __global const float *xs,
                   __global const uchar *Bq, __global const float *Bd, __global const float *Bm,
                   __global float *y) {
    const int n = get_global_id(0);
    if (n >= N) return;
    const int blocks = K / 32, groups = K / QGROUP;
    __global const uint *q = (__global const uint *)(Bq + n * (K / 2));
    __global const float *d = Bd + n * groups, *mins = Bm + n * groups;
    for (int m0 = 0; m0 < M; m0 += MR) {
        int rows[MR];
        UNROLL for (int i = 0; i < MR; i++) rows[i] = min(m0 + i, M - 1);
        float8 acc[MR];
        float offset[MR];
        UNROLL for (int i = 0; i < MR; i++) { acc[i] = (float8)(0.0f); offset[i] = 0.0f; }
        int b = 0;
        for (; b + 2 <= blocks; b += 2) {
            const uint8 u = vload8(0, q + b * 4);
            const float d0 = d[b * 32 / QGROUP], d1 = d[(b + 1) * 32 / QGROUP];
            const float m0v = mins[b * 32 / QGROUP], m1v = mins[(b + 1) * 32 / QGROUP];
            const float8 scale = (float8)((float4)(d0), (float4)(d1));
            UNROLL for (int i = 0; i < MR; i++) {
                __global const float *x = xp + rows[i] * K + b * 32;
                acc[i] = fma(scale, dot_pair(u, x, x + 32), acc[i]);
                offset[i] = fma(m0v, xs[rows[i] * blocks + b], fma(m1v, xs[rows[i] * blocks + b + 1], offset[i]));
            }
        }
        if (b < blocks) {   // an odd last block: its lanes 4–7 read block b again and are zeroed
            const uint4 single = vload4(0, q + b * 4);
            const uint8 u = (uint8)(single, (uint4)(0));
            const float dv = d[b * 32 / QGROUP], mv = mins[b * 32 / QGROUP];
            const float8 scale = (float8)((float4)(dv), (float4)(0.0f));
            UNROLL for (int i = 0; i < MR; i++) {
                __global const float *x = xp + rows[i] * K + b * 32;
                acc[i] = fma(scale, dot_pair(u, x, x), acc[i]);
                offset[i] = fma(mv, xs[rows[i] * blocks + b], offset[i]);
            }
        }
        UNROLL for (int i = 0; i < MR; i++)
            if (m0 + i < M) y[(m0 + i) * N + n] = HSUM(8, acc[i]) + offset[i];
    }
}
