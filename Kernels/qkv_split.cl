// Splits the output of a fused QKV projection over a padded batch into the layouts attention
// reads, adding the projection's bias on the way (encoder models: BERT).
//
// qkv [batch·seq, 3·H] (each row Q | K | V, H = heads·head_dim), bias [3·H]
//   → Q [batch, seq, heads, head_dim] (token-major: the same [batch·seq, H] rows)
//   → K, V [batch, heads, seq, head_dim]
//
// split_qkv: one work-item per (column j of H, token t). NDRange (H, batch·seq).
//
// Parameters (-D), with defaults:
//   HAS_BIAS 1  a bias [3·H] is passed and added

#ifndef HAS_BIAS
#define HAS_BIAS 1
#endif

#if HAS_BIAS
#define BIAS_PARAM , __global const float *bias
#define BIAS_AT(i) bias[i]
#else
#define BIAS_PARAM
#define BIAS_AT(i) 0.0f
#endif

__kernel void split_qkv(const int seq, const int heads, const int head_dim, __global const float *qkv BIAS_PARAM,
                        __global float *Q, __global float *K, __global float *V) {
    const int j = get_global_id(0), t = get_global_id(1);
    const int hidden = heads * head_dim;
    const int b = t / seq, s = t - b * seq, h = j / head_dim, d = j - h * head_dim;
    __global const float *row = qkv + (size_t)t * 3 * hidden;
    Q[(size_t)t * hidden + j] = row[j] + BIAS_AT(j);
    const size_t kv = ((size_t)(b * heads + h) * seq + s) * head_dim + d;
    K[kv] = row[hidden + j] + BIAS_AT(hidden + j);
    V[kv] = row[2 * hidden + j] + BIAS_AT(2 * hidden + j);
}
