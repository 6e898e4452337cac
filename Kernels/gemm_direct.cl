// Direct GEMM: one work-item per element of C, every access bounds-checked.
//
// The path for tiny problems and for layouts the tiled kernels do not cover (A and B both
// transposed). Operand layouts are given as strides, so one kernel serves every transpose:
//   op(A)[m][k] = A[m * a_sm + k * a_sk],   op(B)[k][n] = B[k * b_sk + n * b_sn].
// NDRange: (N, M), any work-group size.
// Parameters: A_HALF, B_HALF (see gemm_common.h).

__kernel void gemm_direct(const int M, const int N, const int K, const float alpha,
                          __global const A_T *A, const int a_sm, const int a_sk,
                          __global const B_T *B, const int b_sk, const int b_sn,
                          const float beta, __global float *C) {
    const int n = get_global_id(0);
    const int m = get_global_id(1);
    if (m >= M || n >= N) return;
    float acc = 0.0f;
    for (int k = 0; k < K; k++) {
        acc = fma(A_LOAD(A, m * a_sm + k * a_sk), B_LOAD(B, k * b_sk + n * b_sn), acc);
    }
    gemm_store(C, m * N + n, acc, alpha, beta);
}
