// GEMM storage helpers (prepended after clinfer_common.h to the gemm_*.cl files).
//
// A_HALF / B_HALF (default 0): operand A / B is stored as fp16 (read with vload_half), else fp32.
// B_QUANT (default 0): B is quantized (see below); kernels declare B with B_PARAMS.
// C is always fp32. Every GEMM computes C = alpha * op(A) * op(B) + beta * C, row-major, and
// never reads C when beta == 0 (so C may hold garbage, as in BLAS).
#ifndef A_HALF
#define A_HALF 0
#endif
#ifndef B_HALF
#define B_HALF 0
#endif

#if A_HALF
#define A_T half
#define A_LOAD(p, i) vload_half((i), (p))
#define A_LOADN(W, p, i) LOADN_F16(W, p, i)
#else
#define A_T float
#define A_LOAD(p, i) ((p)[(i)])
#define A_LOADN(W, p, i) LOADN_F32(W, p, i)
#endif

#ifndef B_QUANT
#define B_QUANT 0
#endif
#ifndef QGROUP
#define QGROUP 32
#endif

#if B_QUANT
// Quantized B (weights [N, K], read by gemm_tiled_nt and gemm_skinny_nt): three buffers, the
// quants and per-group fp32 scale d and offset m along K, value = q·d + m.
//   B_QUANT 1: signed 8-bit quants (GGUF Q8_0, and Q5_0/Q5_1/Q5_K/Q6_K widened to a byte at
//              upload; per-channel int8 with QGROUP = K); m read only with QOFFSET 1
//   B_QUANT 2: 4-bit quants, two per byte; in every run of 32 elements byte j holds element j
//              (low nibble) and element j+16 (high nibble), the GGUF order. Q4_0 (m = -8d),
//              Q4_1, and group-wise int4 (AWQ style, QGROUP 128/64/32, m = -z·s).
// QGROUP (default 32): elements per scale group: 16 (Q6_K, bytes only) or a multiple of 32. The
// host guarantees K is a multiple of QGROUP, so a VW-wide load (VW divides 16) never straddles a
// group or a half-run.
// QOFFSET (default 0): B_QUANT 1 adds the per-group offset m (Q5_1, Q5_K).
#define B_T uchar
#define B_PARAMS __global const uchar *Bq, __global const float *Bd, __global const float *Bm
#ifndef QOFFSET
#define QOFFSET 0
#endif
#if B_QUANT == 1 && QOFFSET
#define B_LOAD(p, i) fma((float)(((__global const char *)Bq)[(i)]), Bd[(i) / QGROUP], Bm[(i) / QGROUP])
#define B_LOADN(W, p, i) fma(CONVERT_FLOATN(W, CONVERT_INTN(W, VLOADN(W, 0, (__global const char *)Bq + (i)))), \
                             (FLOATN(W))(Bd[(i) / QGROUP]), (FLOATN(W))(Bm[(i) / QGROUP]))
#elif B_QUANT == 1
#define B_LOAD(p, i) ((float)(((__global const char *)Bq)[(i)]) * Bd[(i) / QGROUP])
#define B_LOADN(W, p, i) (CONVERT_FLOATN(W, CONVERT_INTN(W, VLOADN(W, 0, (__global const char *)Bq + (i)))) * Bd[(i) / QGROUP])
#else
#define Q4_BYTE(i) ((((i) >> 5) << 4) + ((i) & 15))
#define Q4_SHIFT(i) (((i) & 16) >> 2)
#define B_LOAD(p, i) fma((float)((Bq[Q4_BYTE(i)] >> Q4_SHIFT(i)) & 15), Bd[(i) / QGROUP], Bm[(i) / QGROUP])
#define B_LOADN(W, p, i) fma(CONVERT_FLOATN(W, (CONVERT_INTN(W, VLOADN(W, 0, Bq + Q4_BYTE(i))) >> Q4_SHIFT(i)) & 15), \
                             (FLOATN(W))(Bd[(i) / QGROUP]), (FLOATN(W))(Bm[(i) / QGROUP]))
#endif
#elif B_HALF
#define B_T half
#define B_LOAD(p, i) vload_half((i), (p))
#define B_LOADN(W, p, i) LOADN_F16(W, p, i)
#else
#define B_T float
#define B_LOAD(p, i) ((p)[(i)])
#define B_LOADN(W, p, i) LOADN_F32(W, p, i)
#endif

#ifndef B_PARAMS
#define B_PARAMS __global const B_T *B
#endif

// The epilogue shared by every GEMM kernel: one element of C.
inline void gemm_store(__global float *C, int index, float acc, float alpha, float beta) {
    C[index] = beta == 0.0f ? alpha * acc : fma(alpha, acc, beta * C[index]);
}
