// LLM.int8(): vector-wise int8 matmul with mixed-precision outlier decomposition
// (Dettmers et al. 2022). y[M, N] = x[M, K] · Wᵀ with W stored as int8 [N, K] and one scale per
// output channel. Activation columns holding any |x| >= threshold are "outliers": they are left
// out of the int8 product (quantized as 0) and added back in fp32 with the dequantized weights.
//
// int8_outlier_columns: flags[k] = 1 if any |x[m][k]| >= threshold.     NDRange: (K)
// int8_quantize_rows:   per row m, s = max |x[m][k]| over non-outlier k / 127, qx = round(x / s),
//                       0 in outlier columns. A work-group of WG items per row, max-reduced in
//                       __local memory.                                 NDRange: (M·WG), local (WG)
// int8_matmul:          y = sx[m]·sw[n]·Σ qx·qw (int32) + Σ over outlier columns of x·qw·sw[n];
//                       a work-item computes NR outputs of one row.     NDRange: (M, ceil(N/NR))
// Parameters (-D), with defaults:
//   VW 16   int8 vector width along K: 4, 8 or 16
//   NR 4    outputs per work-item
//   WG 64   work-group size of int8_quantize_rows (a power of two)
#ifndef VW
#define VW 16
#endif
#ifndef NR
#define NR 4
#endif
#ifndef WG
#define WG 64
#endif

#define charV CLINFER_CAT(char, VW)
#define intV CLINFER_CAT(int, VW)
#define convert_intV CLINFER_CAT(convert_int, VW)

__kernel void int8_outlier_columns(const int M, const int K, __global const float *x, const float threshold,
                                   __global int *flags) {
    const int k = get_global_id(0);
    if (k >= K) return;
    int outlier = 0;
    for (int m = 0; m < M; m++) outlier |= fabs(x[m * K + k]) >= threshold;
    flags[k] = outlier;
}

__kernel __attribute__((reqd_work_group_size(WG, 1, 1)))
void int8_quantize_rows(const int K, __global const float *x, __global const int *flags,
                        __global char *qx, __global float *scales) {
    __local float partial[WG];
    const int m = get_group_id(0), l = get_local_id(0);
    __global const float *row = x + m * K;
    float amax = 0.0f;
    for (int k = l; k < K; k += WG)
        if (!flags[k]) amax = fmax(amax, fabs(row[k]));
    partial[l] = amax;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int stride = WG / 2; stride > 0; stride /= 2) {
        if (l < stride) partial[l] = fmax(partial[l], partial[l + stride]);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const float scale = partial[0] / 127.0f;
    const float inverse = scale > 0.0f ? 1.0f / scale : 0.0f;
    for (int k = l; k < K; k += WG)
        qx[m * K + k] = flags[k] ? (char)0 : (char)clamp(round(row[k] * inverse), -127.0f, 127.0f);
    if (l == 0) scales[m] = scale;
}

__kernel void int8_matmul(const int M, const int N, const int K, __global const char *qx,
                          __global const float *sx, __global const char *qw, __global const float *sw,
                          __global const float *x, const int outlierCount, __global const int *outliers,
                          __global float *y) {
    const int m = get_global_id(0);
    const int n0 = get_global_id(1) * NR;
    if (m >= M) return;
    int wRow[NR];
    UNROLL for (int j = 0; j < NR; j++) wRow[j] = min(n0 + j, N - 1) * K;
    intV acc[NR];
    UNROLL for (int j = 0; j < NR; j++) acc[j] = (intV)(0);
    const int kVector = K - K % VW;
    for (int k = 0; k < kVector; k += VW) {
        const intV a = convert_intV(VLOADN(VW, 0, qx + m * K + k));
        UNROLL for (int j = 0; j < NR; j++) acc[j] += a * convert_intV(VLOADN(VW, 0, qw + wRow[j] + k));
    }
    UNROLL for (int j = 0; j < NR; j++) {
        const int n = n0 + j;
        if (n >= N) break;
        int dot = HSUM(VW, acc[j]);
        for (int k = kVector; k < K; k++) dot += (int)qx[m * K + k] * (int)qw[wRow[j] + k];
        float outlierSum = 0.0f;
        for (int o = 0; o < outlierCount; o++) {
            const int k = outliers[o];
            outlierSum = fma(x[m * K + k], (float)qw[wRow[j] + k], outlierSum);
        }
        y[m * N + n] = sw[n] * fma(sx[m], (float)dot, outlierSum);
    }
}
