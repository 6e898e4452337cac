// Helpers of the quant_*.cl kernels (prepended after clinfer_common.h).
//
// A_HALF (default 0): the activations x are stored as fp16 (read with vload_half), else fp32.
#ifndef A_HALF
#define A_HALF 0
#endif
#if A_HALF
#define X_T half
#define X_LOAD(p, i) vload_half((i), (p))
#else
#define X_T float
#define X_LOAD(p, i) ((p)[(i)])
#endif
