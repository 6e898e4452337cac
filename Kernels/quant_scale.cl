// Divides activations by a per-input-channel scale, the runtime half of the AWQ trick: the
// weights were quantized as W·diag(s), so x·Wᵀ = (x·diag(1/s))·(W·diag(s))ᵀ.
//
// quant_scale_columns: y[m][k] = x[m][k] · inverse[k], x fp32 or fp16 (A_HALF, quant_common.h), y fp32.
// NDRange: (K, M), any work-group size.
__kernel void quant_scale_columns(const int M, const int K, __global const X_T *x,
                                  __global const float *inverse, __global float *y) {
    const int k = get_global_id(0), m = get_global_id(1);
    if (k >= K || m >= M) return;
    y[m * K + k] = X_LOAD(x, m * K + k) * inverse[k];
}
