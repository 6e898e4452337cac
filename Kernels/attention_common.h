// What the attention kernels share (prepended to every attention_*.cl): the layouts of Q/O and
// K/V and the query-key dot product.
//
// Parameters (-D), with defaults:
//   D 64           head dimension, a multiple of 8 (up to 256)
//   KV_HALF 0      K and V stored as fp16 (read with vload_half)
//   TOKEN_MAJOR 0  Q and O are [batch, seq_q, heads, D] instead of [batch, heads, seq_q, D]
#ifndef D
#define D 64
#endif
#ifndef KV_HALF
#define KV_HALF 0
#endif
#ifndef TOKEN_MAJOR
#define TOKEN_MAJOR 0
#endif

// The offset of query (or output) row i of head h in batch b (kernels name their sizes seq_q and heads).
#if TOKEN_MAJOR
#define QO_ROW(b, h, i) (((size_t)((b) * seq_q + (i)) * heads + (h)) * D)
#else
#define QO_ROW(b, h, i) (((size_t)((b) * heads + (h)) * seq_q + (i)) * D)
#endif

#if KV_HALF
#define KV_T half
#define KV_LOAD8(p, i) vload_half8(0, (p) + (i))
#else
#define KV_T float
#define KV_LOAD8(p, i) vload8(0, (p) + (i))
#endif

// The dot product of query row `q` (D values, already scaled) with key row `key`.
inline float attention_score(__private const float *q, __global const KV_T *key) {
    float8 sum = (float8)(0.0f);
    UNROLL for (int d = 0; d < D; d += 8) sum = fma(vload8(0, q + d), KV_LOAD8(key, d), sum);
    return HSUM(8, sum);
}
