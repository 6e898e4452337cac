// Elementwise activations of feed-forward blocks.
//
// gated_activation: out[t, j] = gate(gu[t, j]) · gu[t, F + j] with the gate GATE_KIND (1: SiLU,
//           SwiGLU; 2: tanh GELU, GeGLU; see clinfer_common.h); gu is the output of a fused
//           gate+up projection [tokens, 2F], out [tokens, F]. NDRange (F, tokens).
// gelu_erf: x = x · ½(1 + erf(x/√2)) in place (BERT's exact GELU). NDRange (count).
// add:      x += y. NDRange (count).
// bias_add: x[r, j] += bias[j] over x [rows, n] (a linear layer's bias). NDRange (n, rows).
// bias_gelu_erf: x[r, j] = gelu_erf(x[r, j] + bias[j]) (BERT's feed-forward). NDRange (n, rows).

#ifndef GATE_KIND
#define GATE_KIND 1
#endif

__kernel void gated_activation(const int f, __global const float *gu, __global float *out) {
    const int j = get_global_id(0), t = get_global_id(1);
    const float gate = gu[(size_t)t * 2 * f + j], up = gu[(size_t)t * 2 * f + f + j];
    out[(size_t)t * f + j] = clinfer_gate(gate, GATE_KIND) * up;
}

// erf(x) as a rational function on [-4, 4] (odd degree-13 numerator, even degree-8 denominator;
// the coefficients of Eigen's and XLA's fast fp32 erf), |error| < 5e-7, and ±1 beyond, where fp32
// erf is ±1 anyway. Built-in erf is a slow scalar library call on some CPU drivers (a fifth of a
// BERT forward pass on PoCL); this is a dozen fused multiply-adds and a division everywhere.
inline float clinfer_erf(const float a) {
    const float x = clamp(a, -4.0f, 4.0f), x2 = x * x;
    float p = fma(x2, -2.72614225801306e-10f, 2.77068142495902e-08f);
    p = fma(x2, p, -2.10102402082508e-06f);
    p = fma(x2, p, -5.69250639462346e-05f);
    p = fma(x2, p, -7.34990630326855e-04f);
    p = fma(x2, p, -2.95459980854025e-03f);
    p = fma(x2, p, -1.60960333262415e-02f);
    float q = fma(x2, -1.45660718464996e-05f, -2.13374055278905e-04f);
    q = fma(x2, q, -1.68282697438203e-03f);
    q = fma(x2, q, -7.37332916720468e-03f);
    q = fma(x2, q, -1.42647390514189e-02f);
    return x * p / q;
}

inline float gelu_erf_of(const float value) { return 0.5f * value * (1.0f + clinfer_erf(value * 0.70710678118654752f)); }

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
