// Dequantizes quantized weights [N, K] (B_QUANT layouts, see gemm_common.h) into fp32 [N, K].
//
// Used for prefill, where the fp32 tiled GEMM then runs on the result (M large amortises one
// pass of writing N·K floats), and as the device read-back path tests compare with the host.
// A work-item converts 16 consecutive elements (a VW=16 load never straddles a group).
// NDRange: (count / 16), any work-group size. count is a multiple of 32.
__kernel void gemm_dequantize_b(const int count, B_PARAMS, __global float *out) {
    const int i = get_global_id(0) * 16;
    if (i >= count) return;
    vstore16(B_LOADN(16, B, i), 0, out + i);
}
