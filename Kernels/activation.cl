// Elementwise activations of feed-forward blocks.
//
// swiglu:   out[t, j] = silu(gu[t, j]) · gu[t, F + j], silu(x) = x / (1 + e^−x); gu is the output
//           of a fused gate+up projection [tokens, 2F], out [tokens, F]. NDRange (F, tokens).
// gelu_erf: x = x · ½(1 + erf(x/√2)) in place (BERT's exact GELU). NDRange (count).
// add:      x += y. NDRange (count).
// bias_add: x[r, j] += bias[j] over x [rows, n] (a linear layer's bias). NDRange (n, rows).
// bias_gelu_erf: x[r, j] = gelu_erf(x[r, j] + bias[j]) (BERT's feed-forward). NDRange (n, rows).

__kernel void swiglu(const int f, __global const float *gu, __global float *out) {
    const int j = get_global_id(0), t = get_global_id(1);
    const float gate = gu[(size_t)t * 2 * f + j], up = gu[(size_t)t * 2 * f + f + j];
    out[(size_t)t * f + j] = gate / (1.0f + exp(-gate)) * up;
}

inline float gelu_erf_of(const float value) { return 0.5f * value * (1.0f + erf(value * 0.70710678118654752f)); }

__kernel void gelu_erf(__global float *x) {
    const size_t i = get_global_id(0);
    x[i] = gelu_erf_of(x[i]);
}

__kernel void add(__global float *x, __global const float *y) {
    const size_t i = get_global_id(0);
    x[i] += y[i];
}

__kernel void bias_add(const int n, __global float *x, __global const float *bias) {
    const int j = get_global_id(0);
    x[(size_t)get_global_id(1) * n + j] += bias[j];
}

__kernel void bias_gelu_erf(const int n, __global float *x, __global const float *bias) {
    const int j = get_global_id(0);
    const size_t i = (size_t)get_global_id(1) * n + j;
    x[i] = gelu_erf_of(x[i] + bias[j]);
}
