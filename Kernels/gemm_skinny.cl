// Skinny GEMM (GEMV when M = 1) for decode: C[M,N] = alpha * A[M,K] * B[N,K]^T + beta * C,
// M small (<= 16 typically), B holding weights one row per output.
//
// Each weight byte is read once per block of MR rows of A. A work-item computes MR rows × NR
// outputs with VW-wide partial sums along K. LK work-items of a work-group split K between them
// (strided by VW-wide chunks, so neighbours read neighbouring memory) and combine their partial
// sums with a tree reduction in __local memory; LK = 1 (the right choice on CPUs) needs no local
// memory and no barrier.
//
// Parameters (-D), with defaults:
//   MR 1    rows of A per pass (the host picks MR >= M when it can; larger M loops over blocks)
//   NR 4    outputs (rows of B) per work-item
//   VW 8    vector width along K: 1, 2, 4, 8 or 16
//   LK 1    work-items splitting K within a work-group (a power of two)
//   WGN 16  output groups per work-group
//   A_HALF, B_HALF: fp16 storage; B_QUANT, QGROUP: quantized B for the [N, K] kernels (gemm_common.h)
// NDRange: (LK, roundup(ceil(N/NR), WGN)), local (LK, WGN).
#ifndef MR
#define MR 1
#endif
#ifndef NR
#define NR 4
#endif
#ifndef VW
#define VW 8
#endif
#ifndef LK
#define LK 1
#endif
#ifndef WGN
#define WGN 16
#endif

#define floatV FLOATN(VW)

__kernel __attribute__((reqd_work_group_size(LK, WGN, 1)))
void gemm_skinny_nt(const int M, const int N, const int K, const float alpha,
                    __global const A_T *A, B_PARAMS, const float beta,
                    __global float *C) {
    const int lk = get_local_id(0);
    const int n0 = get_global_id(1) * NR;
#if LK > 1
    __local float partial[WGN][LK][MR * NR];
    const int ln = get_local_id(1);
#endif
    int bRow[NR];
    UNROLL for (int j = 0; j < NR; j++) bRow[j] = min(n0 + j, N - 1) * K;
    const int kVector = K - K % VW;

    for (int m0 = 0; m0 < M; m0 += MR) {
        int aRow[MR];
        UNROLL for (int i = 0; i < MR; i++) aRow[i] = min(m0 + i, M - 1) * K;
        floatV acc[MR][NR];
        UNROLL for (int i = 0; i < MR; i++)
            UNROLL for (int j = 0; j < NR; j++) acc[i][j] = (floatV)(0.0f);
        UNROLL_2 for (int k = lk * VW; k < kVector; k += LK * VW) {
            floatV b[NR];
            UNROLL for (int j = 0; j < NR; j++) b[j] = B_LOADN(VW, B, bRow[j] + k);
            UNROLL for (int i = 0; i < MR; i++) {
                const floatV a = A_LOADN(VW, A, aRow[i] + k);
                UNROLL for (int j = 0; j < NR; j++) acc[i][j] = fma(a, b[j], acc[i][j]);
            }
        }
        float sums[MR][NR];
        UNROLL for (int i = 0; i < MR; i++)
            UNROLL for (int j = 0; j < NR; j++) sums[i][j] = HSUM(VW, acc[i][j]);
        for (int k = kVector + lk; k < K; k += LK)
            UNROLL for (int i = 0; i < MR; i++)
                UNROLL for (int j = 0; j < NR; j++) sums[i][j] = fma(A_LOAD(A, aRow[i] + k), B_LOAD(B, bRow[j] + k), sums[i][j]);

#if LK > 1
        UNROLL for (int i = 0; i < MR; i++)
            UNROLL for (int j = 0; j < NR; j++) partial[ln][lk][i * NR + j] = sums[i][j];
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int stride = LK / 2; stride > 0; stride /= 2) {
            if (lk < stride)
                UNROLL for (int t = 0; t < MR * NR; t++) partial[ln][lk][t] += partial[ln][lk + stride][t];
            barrier(CLK_LOCAL_MEM_FENCE);
        }
        UNROLL for (int i = 0; i < MR; i++)
            UNROLL for (int j = 0; j < NR; j++) sums[i][j] = partial[ln][0][i * NR + j];
        barrier(CLK_LOCAL_MEM_FENCE);   // partial is reused by the next row block
#endif
        if (lk == 0) {
            UNROLL for (int i = 0; i < MR; i++) {
                const int m = m0 + i;
                if (m >= M) break;
                UNROLL for (int j = 0; j < NR; j++) {
                    const int n = n0 + j;
                    if (n < N) gemm_store(C, m * N + n, sums[i][j], alpha, beta);
                }
            }
        }
    }
}
