// Elementwise activations of feed-forward blocks.
//
// swiglu:   out[t, j] = silu(gu[t, j]) · gu[t, F + j], silu(x) = x / (1 + e^−x); gu is the output
//           of a fused gate+up projection [tokens, 2F], out [tokens, F]. NDRange (F, tokens).
// gelu_erf: x = x · ½(1 + erf(x/√2)) in place (BERT's exact GELU). NDRange (count).
// add:      x += y. NDRange (count).

__kernel void swiglu(const int f, __global const float *gu, __global float *out) {
    const int j = get_global_id(0), t = get_global_id(1);
    const float gate = gu[(size_t)t * 2 * f + j], up = gu[(size_t)t * 2 * f + f + j];
    out[(size_t)t * f + j] = gate / (1.0f + exp(-gate)) * up;
}

__kernel void gelu_erf(__global float *x) {
    const size_t i = get_global_id(0);
    const float value = x[i];
    x[i] = 0.5f * value * (1.0f + erf(value * 0.70710678118654752f));
}

__kernel void add(__global float *x, __global const float *y) {
    const size_t i = get_global_id(0);
    x[i] += y[i];
}
