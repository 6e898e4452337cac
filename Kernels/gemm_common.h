// GEMM storage helpers (prepended after clinfer_common.h to the gemm_*.cl files).
//
// A_HALF / B_HALF (default 0): operand A / B is stored as fp16 (read with vload_half), else fp32.
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

#if B_HALF
#define B_T half
#define B_LOAD(p, i) vload_half((i), (p))
#define B_LOADN(W, p, i) LOADN_F16(W, p, i)
#else
#define B_T float
#define B_LOAD(p, i) ((p)[(i)])
#define B_LOADN(W, p, i) LOADN_F32(W, p, i)
#endif

// The epilogue shared by every GEMM kernel: one element of C.
inline void gemm_store(__global float *C, int index, float acc, float alpha, float beta) {
    C[index] = beta == 0.0f ? alpha * acc : fma(alpha, acc, beta * C[index]);
}
