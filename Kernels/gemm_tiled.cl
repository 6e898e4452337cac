// Tiled GEMM for large problems: register tiles per work-item, optional local-memory staging.
//
// Two kernels share the parameters below:
//   gemm_tiled_nn: B stored [K, N]. A work-item computes TM rows × (TN·VW) columns of C; per k it
//                  loads TN vectors of a B row and broadcasts TM scalars of A.
//   gemm_tiled_nt: B stored [N, K] (weights). A work-item computes TM rows × TN columns of C,
//                  keeping VW-wide partial sums along K, summed horizontally once at the end.
// Work-items are ordered M-fastest (dimension 0 = M) so neighbouring work-items share a strip
// of B in cache. Any M, N, K >= 1: rows/columns past the edge are clamped on load (no branch in
// the inner loop) and skipped on store; with USE_LOCAL, out-of-range elements load as zero.
//
// Parameters (-D), with defaults:
//   TM 4         rows of C per work-item (register tile, M)
//   TN 4         NN: vectors of VW columns per work-item; NT: columns per work-item
//   VW 8         vector width: along N (NN) or along K (NT); 1, 2, 4, 8 or 16
//   WGM 8, WGN 1 work-group size in M and N (the work-group tile is (WGM·TM) × (WGN·columns))
//   USE_LOCAL 0  1: stage KWG-deep slices of A and B through __local memory, with barriers
//   KWG 16       depth of a staged slice (USE_LOCAL only; NT: a multiple of VW)
//   TRANS_A 0    1: A stored [K, M] (NN only)
//   A_HALF, B_HALF: fp16 storage; B_QUANT, QGROUP: quantized B for the [N, K] kernels (gemm_common.h)
// NDRange: (roundup(ceil(M/TM), WGM), roundup(ceil(N/columns), WGN)), local (WGM, WGN).
#ifndef TM
#define TM 4
#endif
#ifndef TN
#define TN 4
#endif
#ifndef VW
#define VW 8
#endif
#ifndef WGM
#define WGM 8
#endif
#ifndef WGN
#define WGN 1
#endif
#ifndef USE_LOCAL
#define USE_LOCAL 0
#endif
#ifndef KWG
#define KWG 16
#endif
#ifndef TRANS_A
#define TRANS_A 0
#endif

#define floatV FLOATN(VW)
#define BM (WGM * TM)

#if TRANS_A
#define A_AT(m, k) A_LOAD(A, (k) * M + (m))
#else
#define A_AT(m, k) A_LOAD(A, (m) * K + (k))
#endif

#if USE_LOCAL
#define WG_ATTRIBUTE __attribute__((reqd_work_group_size(WGM, WGN, 1)))
#else
#define WG_ATTRIBUTE
#endif

// ---------------------------------------------------------------------------------------------
// NN: C[M,N] = alpha * op(A)[M,K] * B[K,N] + beta * C
// ---------------------------------------------------------------------------------------------
#define NN_COLS (TN * VW)
#define NN_BN (WGN * NN_COLS)

__kernel WG_ATTRIBUTE void gemm_tiled_nn(const int M, const int N, const int K, const float alpha,
                                         __global const A_T *A, B_PARAMS,
                                         const float beta, __global float *C) {
    const int m0 = get_global_id(0) * TM;
    const int n0 = get_global_id(1) * NN_COLS;
    floatV acc[TM][TN];
    UNROLL for (int i = 0; i < TM; i++)
        UNROLL for (int j = 0; j < TN; j++) acc[i][j] = (floatV)(0.0f);

#if USE_LOCAL
    __local float tileA[KWG][BM];      // tileA[kk][row]: A slice, rows of the work-group
    __local float tileB[KWG][NN_BN];   // tileB[kk][col]: B slice, columns of the work-group
    const int lm = get_local_id(0), ln = get_local_id(1);
    const int lid = ln * WGM + lm;
    const int groupM = get_group_id(0) * BM, groupN = get_group_id(1) * NN_BN;
    for (int k0 = 0; k0 < K; k0 += KWG) {
        for (int idx = lid; idx < KWG * BM; idx += WGM * WGN) {
            const int kk = idx / BM, r = idx % BM;
            const int gm = groupM + r, gk = k0 + kk;
            tileA[kk][r] = (gm < M && gk < K) ? A_AT(gm, gk) : 0.0f;
        }
        for (int idx = lid; idx < KWG * NN_BN; idx += WGM * WGN) {
            const int kk = idx / NN_BN, c = idx % NN_BN;
            const int gn = groupN + c, gk = k0 + kk;
            tileB[kk][c] = (gn < N && gk < K) ? B_LOAD(B, gk * N + gn) : 0.0f;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int kk = 0; kk < KWG; kk++) {
            floatV b[TN];
            UNROLL for (int j = 0; j < TN; j++) b[j] = VLOADN(VW, 0, &tileB[kk][ln * NN_COLS + j * VW]);
            UNROLL for (int i = 0; i < TM; i++) {
                const floatV a = (floatV)(tileA[kk][lm * TM + i]);
                UNROLL for (int j = 0; j < TN; j++) acc[i][j] = fma(a, b[j], acc[i][j]);
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
#else
    int rows[TM];
    UNROLL for (int i = 0; i < TM; i++) rows[i] = min(m0 + i, M - 1);
    if (n0 + NN_COLS <= N) {
        UNROLL_2 for (int k = 0; k < K; k++) {
            floatV b[TN];
            UNROLL for (int j = 0; j < TN; j++) b[j] = B_LOADN(VW, B, k * N + n0 + j * VW);
            UNROLL for (int i = 0; i < TM; i++) {
                const floatV a = (floatV)(A_AT(rows[i], k));
                UNROLL for (int j = 0; j < TN; j++) acc[i][j] = fma(a, b[j], acc[i][j]);
            }
        }
    } else {
        // Right edge: gather the columns one by one, zero past N.
        for (int k = 0; k < K; k++) {
            float column[NN_COLS];
            UNROLL for (int c = 0; c < NN_COLS; c++) column[c] = n0 + c < N ? B_LOAD(B, k * N + n0 + c) : 0.0f;
            UNROLL for (int i = 0; i < TM; i++) {
                const floatV a = (floatV)(A_AT(rows[i], k));
                UNROLL for (int j = 0; j < TN; j++) acc[i][j] = fma(a, VLOADN(VW, j, column), acc[i][j]);
            }
        }
    }
#endif

    UNROLL for (int i = 0; i < TM; i++) {
        const int m = m0 + i;
        if (m >= M) break;
        UNROLL for (int j = 0; j < TN; j++) {
            float values[VW];
            VSTOREN(VW, acc[i][j], 0, values);
            UNROLL for (int v = 0; v < VW; v++) {
                const int n = n0 + j * VW + v;
                if (n < N) gemm_store(C, m * N + n, values[v], alpha, beta);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// NT: C[M,N] = alpha * A[M,K] * B[N,K]^T + beta * C   (B holds weights, one row per output)
// ---------------------------------------------------------------------------------------------
#define NT_BN (WGN * TN)

__kernel WG_ATTRIBUTE void gemm_tiled_nt(const int M, const int N, const int K, const float alpha,
                                         __global const A_T *A, B_PARAMS,
                                         const float beta, __global float *C) {
    const int m0 = get_global_id(0) * TM;
    const int n0 = get_global_id(1) * TN;
    floatV acc[TM][TN];
    UNROLL for (int i = 0; i < TM; i++)
        UNROLL for (int j = 0; j < TN; j++) acc[i][j] = (floatV)(0.0f);
    float sums[TM][TN];

#if USE_LOCAL
    __local float tileA[BM][KWG];      // tileA[row][kk]
    __local float tileB[NT_BN][KWG];   // tileB[col][kk]
    const int lm = get_local_id(0), ln = get_local_id(1);
    const int lid = ln * WGM + lm;
    const int groupM = get_group_id(0) * BM, groupN = get_group_id(1) * NT_BN;
    for (int k0 = 0; k0 < K; k0 += KWG) {
        for (int idx = lid; idx < BM * KWG; idx += WGM * WGN) {
            const int r = idx / KWG, kk = idx % KWG;
            const int gm = groupM + r, gk = k0 + kk;
            tileA[r][kk] = (gm < M && gk < K) ? A_LOAD(A, gm * K + gk) : 0.0f;
        }
        for (int idx = lid; idx < NT_BN * KWG; idx += WGM * WGN) {
            const int c = idx / KWG, kk = idx % KWG;
            const int gn = groupN + c, gk = k0 + kk;
            tileB[c][kk] = (gn < N && gk < K) ? B_LOAD(B, gn * K + gk) : 0.0f;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int kk = 0; kk < KWG; kk += VW) {
            floatV a[TM], b[TN];
            UNROLL for (int i = 0; i < TM; i++) a[i] = VLOADN(VW, 0, &tileA[lm * TM + i][kk]);
            UNROLL for (int j = 0; j < TN; j++) b[j] = VLOADN(VW, 0, &tileB[ln * TN + j][kk]);
            UNROLL for (int i = 0; i < TM; i++)
                UNROLL for (int j = 0; j < TN; j++) acc[i][j] = fma(a[i], b[j], acc[i][j]);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    UNROLL for (int i = 0; i < TM; i++)
        UNROLL for (int j = 0; j < TN; j++) sums[i][j] = HSUM(VW, acc[i][j]);
#else
    int aRow[TM], bRow[TN];
    UNROLL for (int i = 0; i < TM; i++) aRow[i] = min(m0 + i, M - 1) * K;
    UNROLL for (int j = 0; j < TN; j++) bRow[j] = min(n0 + j, N - 1) * K;
    const int kVector = K - K % VW;
    UNROLL_2 for (int k = 0; k < kVector; k += VW) {
        floatV a[TM], b[TN];
        UNROLL for (int i = 0; i < TM; i++) a[i] = A_LOADN(VW, A, aRow[i] + k);
        UNROLL for (int j = 0; j < TN; j++) b[j] = B_LOADN(VW, B, bRow[j] + k);
        UNROLL for (int i = 0; i < TM; i++)
            UNROLL for (int j = 0; j < TN; j++) acc[i][j] = fma(a[i], b[j], acc[i][j]);
    }
    UNROLL for (int i = 0; i < TM; i++)
        UNROLL for (int j = 0; j < TN; j++) sums[i][j] = HSUM(VW, acc[i][j]);
    for (int k = kVector; k < K; k++)
        UNROLL for (int i = 0; i < TM; i++)
            UNROLL for (int j = 0; j < TN; j++) sums[i][j] = fma(A_LOAD(A, aRow[i] + k), B_LOAD(B, bRow[j] + k), sums[i][j]);
#endif

    UNROLL for (int i = 0; i < TM; i++) {
        const int m = m0 + i;
        if (m >= M) break;
        UNROLL for (int j = 0; j < TN; j++) {
            const int n = n0 + j;
            if (n < N) gemm_store(C, m * N + n, sums[i][j], alpha, beta);
        }
    }
}
