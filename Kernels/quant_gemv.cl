// Decode GEMV over quantized weights in the file's row order: y[M, N] = x[M, K] · Wᵀ for small M
// (decode, M ≤ 16), one pass over the weights per MR rows of x.
//
// Layout (DeviceQuantizedMatrix): quants row-major in one array (GGUF block headers stripped:
// K/2 bytes a row for the 4-bit formats, K signed bytes for the 5- to 8-bit ones), fp32 d and m
// per group of QGROUP in two more (value = q·d + m; m read for 4-bit and with QOFFSET). In a 4-bit block of 32, byte j holds
// element j in its low nibble and element j + 16 in its high nibble, so one 16-byte load gives
// two runs of 16 consecutive elements: the low nibbles meet x[0..15] and the high nibbles
// x[16..31] of the block as loaded, and no activation permutation is needed.
//
// Each work-item owns R consecutive weight rows and walks K in whole blocks with 16-wide
// vectors: per block and row one load, two nibble extractions, two conversions, two fma with the
// scale and offset, two fma with x. On a CPU driver (LK 1) a work-item is one thread's stream
// of R rows read front to back: no gathers, no barriers, and each x block is loaded once for R
// rows. On a GPU (LK > 1) LK work-items share a row set, work-item l taking blocks l, l + LK, …,
// so neighbours read neighbouring 16- or 32-byte chunks (coalesced), and the partial sums meet
// in local memory.
//
// With GATED the weights stack a gate matrix over an up matrix ([2N, K]: rows n and N + n) and
// the output is the gated feed-forward's y[m, n] = gate(x·gate_n) · (x·up_n), the gate SiLU
// (GATED 1, SwiGLU) or the tanh GELU (GATED 2, GeGLU; clinfer_gate in clinfer_common.h): the
// activation as the gate/up projection's epilogue (no [M, 2N] intermediate, one launch fewer).
// N is then the output width.
//
// quant_gemv:  NDRange (ceil(N / R) · LK), local (LK).
//
// Parameters (-D), with defaults (and A_HALF for fp16 x, see quant_common.h):
//   QBITS 4    device bits per weight: 4 (Q4_0, Q4_1, Q4_K, int4) or 8 (Q8_0, Q5_*, Q6_K)
//   QGROUP 32  elements per scale group (16 with QBITS 8, or 32, 64, 128)
//   QOFFSET 0  QBITS 8: add the group offset m (Q5_1, Q5_K)
//   R 1        weight rows per work-item (independent accumulators, x loads shared)
//   MR 1       rows of x per pass over the weights (each decoded block is reused MR times)
//   LK 1       work-items per row set along K (1 on CPUs; 32–64 on GPUs)
//   GATED 0    gated epilogue over stacked gate/up weights, 1 SiLU, 2 tanh GELU (each work-item
//              reads 2·R rows)
#ifndef QBITS
#define QBITS 4
#endif
#ifndef QGROUP
#define QGROUP 32
#endif
#ifndef QOFFSET
#define QOFFSET 0
#endif
#ifndef R
#define R 1
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
#if GATED
#define WROWS (2 * R)
#else
#define WROWS R
#endif

#if A_HALF
#define X_LOAD16(p, i) vload_half16(0, (p) + (i))
#else
#define X_LOAD16(p, i) vload16(0, (p) + (i))
#endif

// A 16-wide vector's horizontal sum.
inline float sum16(const float16 v) {
    const float8 a = v.lo + v.hi;
    const float4 b = a.lo + a.hi;
    const float2 c = b.lo + b.hi;
    return c.x + c.y;
}

__kernel __attribute__((reqd_work_group_size(LK, 1, 1)))
void quant_gemv(const int M, const int N, const int K, __global const X_T *x, __global const uchar *q,
                __global const float *d, __global const float *mn, __global float *y) {
    const int lane = get_local_id(0), n0 = get_group_id(0) * R;
    const int blocks = K / 32, groups = K / QGROUP;
    const size_t rowBytes = (size_t)K * QBITS / 8;
    int rows[WROWS];
    UNROLL for (int r = 0; r < R; r++) rows[r] = min(n0 + r, N - 1);
#if GATED
    UNROLL for (int r = 0; r < R; r++) rows[R + r] = rows[r] + N;
#endif
#if LK > 1
    __local float partial[LK][WROWS * MR];
#endif
    for (int m0 = 0; m0 < M; m0 += MR) {
        int xRows[MR];
        UNROLL for (int i = 0; i < MR; i++) xRows[i] = min(m0 + i, M - 1);
        float16 acc[WROWS][MR];
        UNROLL for (int r = 0; r < WROWS; r++) UNROLL for (int i = 0; i < MR; i++) acc[r][i] = (float16)(0.0f);
        for (int b = lane; b < blocks; b += LK) {
            float16 xl[MR], xh[MR];
            UNROLL for (int i = 0; i < MR; i++) {
                xl[i] = X_LOAD16(x, (size_t)xRows[i] * K + b * 32);
                xh[i] = X_LOAD16(x, (size_t)xRows[i] * K + b * 32 + 16);
            }
            UNROLL for (int r = 0; r < WROWS; r++) {
                const size_t g = (size_t)rows[r] * groups + b * 32 / QGROUP;
                const float scale = d[g];
#if QBITS == 4
                const float offset = mn[g];
                const uchar16 u = vload16(0, q + rows[r] * rowBytes + b * 16);
                const float16 wl = fma(convert_float16(u & (uchar)15), (float16)(scale), (float16)(offset));
                const float16 wh = fma(convert_float16(u >> (uchar)4), (float16)(scale), (float16)(offset));
#else
                __global const char *c = (__global const char *)(q + rows[r] * rowBytes + b * 32);
#if QGROUP == 16
                const float scaleHigh = d[g + 1];  // the block's second half has its own group
#else
                const float scaleHigh = scale;
#endif
#if QOFFSET
                const float16 wl = fma(convert_float16(vload16(0, c)), (float16)(scale), (float16)(mn[g]));
                const float16 wh = fma(convert_float16(vload16(1, c)), (float16)(scaleHigh), (float16)(mn[g + (QGROUP == 16)]));
#elif MR == 1 && QGROUP != 16
#define SCALE_AFTER_DOT 1
                // One row of x: scale the block's dot product once (3 vector ops per 32 weights, not 4).
                const float16 ql = convert_float16(vload16(0, c)), qh = convert_float16(vload16(1, c));
                acc[r][0] = fma(fma(qh, xh[0], ql * xl[0]), (float16)(scale), acc[r][0]);
#else
                const float16 wl = convert_float16(vload16(0, c)) * scale;
                const float16 wh = convert_float16(vload16(1, c)) * scaleHigh;
#endif
#endif
#ifndef SCALE_AFTER_DOT
                UNROLL for (int i = 0; i < MR; i++) acc[r][i] = fma(wh, xh[i], fma(wl, xl[i], acc[r][i]));
#endif
            }
        }
#if LK > 1
        UNROLL for (int r = 0; r < WROWS; r++) UNROLL for (int i = 0; i < MR; i++) partial[lane][r * MR + i] = sum16(acc[r][i]);
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int o = lane; o < R * MR; o += LK) {
            float total = 0.0f;
            for (int l = 0; l < LK; l++) total += partial[l][o];
#if GATED
            float up = 0.0f;
            for (int l = 0; l < LK; l++) up += partial[l][R * MR + o];
            total = clinfer_gate(total, GATED) * up;
#endif
            const int n = n0 + o / MR, m = m0 + o % MR;
            if (n < N && m < M) y[(size_t)m * N + n] = total;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
#else
        UNROLL for (int r = 0; r < R; r++) UNROLL for (int i = 0; i < MR; i++) {
            if (n0 + r >= N || m0 + i >= M) continue;
            float total = sum16(acc[r][i]);
#if GATED
            total = clinfer_gate(total, GATED) * sum16(acc[R + r][i]);
#endif
            y[(size_t)(m0 + i) * N + n0 + r] = total;
        }
#endif
    }
}
