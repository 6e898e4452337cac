// Packs B from [K, N] into [N, K] (fp32), so a GEMM with B stored [K, N] can run on the faster
// kernel for B stored [N, K] (the "indirect" GEMM of CLBlast). Reads and writes are both
// contiguous: a work-item moves a TILE × TILE block through registers, no local memory.
//
// Parameters (-D), with defaults:
//   TILE 16  block edge; 1, 2, 4, 8 or 16 (16 floats = one 64-byte cache line per row read)
//   B_HALF   source stored as fp16 (gemm_common.h); the packed copy is always fp32
// NDRange: (ceil(K / TILE), ceil(N / TILE)), any work-group size.
#ifndef TILE
#define TILE 16
#endif

__kernel void gemm_pack_b(const int K, const int N, __global const B_T *B, __global float *packed) {
    const int k0 = get_global_id(0) * TILE;
    const int n0 = get_global_id(1) * TILE;
    if (k0 >= K || n0 >= N) return;
    float block[TILE][TILE];   // block[n][k]
    if (k0 + TILE <= K && n0 + TILE <= N) {
        UNROLL for (int kk = 0; kk < TILE; kk++) {
            float row[TILE];
            VSTOREN(TILE, B_LOADN(TILE, B, (k0 + kk) * N + n0), 0, row);
            UNROLL for (int nn = 0; nn < TILE; nn++) block[nn][kk] = row[nn];
        }
        UNROLL for (int nn = 0; nn < TILE; nn++) VSTOREN(TILE, VLOADN(TILE, 0, block[nn]), 0, packed + (n0 + nn) * K + k0);
    } else {
        for (int kk = 0; kk < TILE && k0 + kk < K; kk++)
            for (int nn = 0; nn < TILE && n0 + nn < N; nn++) packed[(n0 + nn) * K + k0 + kk] = B_LOAD(B, (k0 + kk) * N + n0 + nn);
    }
}
