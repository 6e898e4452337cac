// Row normalisations of transformer blocks, each optionally fused with the residual add that
// precedes it (x += residual, written back, then normalised), which saves a launch and a pass.
//
// rms_norm:   out = x / sqrt(mean(x²) + eps) · weight                    (Llama, Mistral, ...)
// layer_norm: out = (x − mean(x)) / sqrt(var(x) + eps) · weight + bias   (BERT, GPT-2)
//
// Layout: x, residual, out [rows, width], row-major; weight and bias [width].
// NDRange (WG · rows), local (WG): a work-group per row, WG work-items striding over it, partial
// sums combined in local memory. On CPU devices WG 1 is best (a work-item is a loop iteration);
// GPUs want 64 or more.
//
// Parameters (-D), with defaults:
//   WG 1            work-items per row (a power of two)
//   HAS_RESIDUAL 0  add `residual` into x first (x is updated in place)

#ifndef WG
#define WG 1
#endif
#ifndef HAS_RESIDUAL
#define HAS_RESIDUAL 0
#endif

#if HAS_RESIDUAL
#define RESIDUAL_PARAM , __global const float *residual
#else
#define RESIDUAL_PARAM
#endif

// Sums `value` over the work-group (every work-item gets the total).
inline float norm_group_sum(float value, __local float *scratch) {
#if WG == 1
    return value;
#else
    const int lane = get_local_id(0);
    scratch[lane] = value;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int stride = WG / 2; stride > 0; stride >>= 1) {
        if (lane < stride) scratch[lane] += scratch[lane + stride];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const float total = scratch[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return total;
#endif
}

// Adds the residual into row `row` of x (when fused) and returns this work-item's partial sum of
// the row's values (power 1) or squares (power 2).
inline float norm_load_row(const int width, __global float *x RESIDUAL_PARAM, const size_t row, const int square) {
    float sum = 0.0f;
    for (int i = get_local_id(0); i < width; i += WG) {
        float value = x[row + i];
#if HAS_RESIDUAL
        value += residual[row + i];
        x[row + i] = value;
#endif
        sum = square ? fma(value, value, sum) : sum + value;
    }
    return sum;
}

__kernel void rms_norm(const int width, const float eps, __global float *x RESIDUAL_PARAM,
                       __global const float *weight, __global float *out) {
    __local float scratch[WG];
    const size_t row = (size_t)get_group_id(0) * width;
#if HAS_RESIDUAL
    const float squares = norm_group_sum(norm_load_row(width, x, residual, row, 1), scratch);
#else
    const float squares = norm_group_sum(norm_load_row(width, x, row, 1), scratch);
#endif
    const float inverse = rsqrt(squares / width + eps);
    for (int i = get_local_id(0); i < width; i += WG) out[row + i] = x[row + i] * inverse * weight[i];
}

__kernel void layer_norm(const int width, const float eps, __global float *x RESIDUAL_PARAM,
                         __global const float *weight, __global const float *bias, __global float *out) {
    __local float scratch[WG];
    const size_t row = (size_t)get_group_id(0) * width;
#if HAS_RESIDUAL
    const float mean = norm_group_sum(norm_load_row(width, x, residual, row, 0), scratch) / width;
#else
    const float mean = norm_group_sum(norm_load_row(width, x, row, 0), scratch) / width;
#endif
    float partial = 0.0f;
    for (int i = get_local_id(0); i < width; i += WG) {
        const float centred = x[row + i] - mean;
        partial = fma(centred, centred, partial);
    }
    const float inverse = rsqrt(norm_group_sum(partial, scratch) / width + eps);
    for (int i = get_local_id(0); i < width; i += WG) out[row + i] = fma((x[row + i] - mean) * inverse, weight[i], bias[i]);
}
