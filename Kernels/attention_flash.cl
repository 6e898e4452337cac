// Fused softmax attention (flash style): O = softmax(Q·Kᵀ·scale + mask) · V without ever storing
// the [seq_q, seq_k] score matrix. K/V tiles of BK keys stream through; each query keeps a running
// maximum and sum (online softmax) and an unnormalised output, rescaled when the maximum grows and
// normalised once at the end.
//
// Layouts (row-major): Q, O [batch, heads, seq_q, D], or [batch, seq_q, heads, D] with
// TOKEN_MAJOR (the layout of a projection's output, so a model needs no transpose); K, V
// [batch, kv_heads, kv_stride, D] of which the first seq_k keys are used (kv_stride = seq_k for a
// packed tensor, the capacity for a KV cache).
// Grouped-query attention: head h reads KV head h / (heads / kv_heads).
// Causal: query i sits at absolute position offset + i (queries appended after a KV cache of
// `offset` positions) and sees keys j <= offset + i. An optional additive mask [seq_q, seq_k]
// (shared by every batch and head) adds to the scores; -INFINITY blocks a key. With KEY_LENGTHS,
// key_lengths[b] (0..seq_k) is the number of valid keys of batch item b: keys j >= key_lengths[b]
// are skipped (padding of a batch of sequences of different lengths; padded query rows get
// ordinary outputs over the valid keys). With KV_SLOTS, K and V hold the caches of several
// sequences and batch item b reads sequence kv_slots[b] (a batched decode step over the running
// sequences of a cache pool). With WINDOW (causal only), query i also skips keys
// j <= offset + i - WINDOW, and a block of queries starts at its first query's window. A query
// that sees no key at all gets a zero output,
// never NaN. Running maxima start at CLINFER_NEG_LARGE, a
// finite value, so fast-math builds stay correct.
//
// attention_flash:        a work-item computes BQ queries of one head.
//                         NDRange (ceil(seq_q / BQ), heads, batch).
// Decode (one query per head) has its own kernels: attention_decode.cl.
//
// Parameters (-D), with defaults (D, KV_HALF, TOKEN_MAJOR: attention_common.h):
//   BQ 1       queries per work-item (attention_flash)
//   BK 32      keys per tile
//   CAUSAL 0   apply the causal rule
// (HAS_MASK, KEY_LENGTHS, KV_SLOTS: attention_common.h)
#ifndef BQ
#define BQ 1
#endif
#ifndef BK
#define BK 32
#endif
#ifndef CAUSAL
#define CAUSAL 0
#endif
__kernel void attention_flash(const int seq_q, const int seq_k, const int kv_stride, const int heads, const int kv_heads,
                              const int offset, const float scale, __global const float *Q,
                              __global const KV_T *K, __global const KV_T *V MASK_PARAM LENGTHS_PARAM SLOTS_PARAM,
                              __global float *O) {
    const int q0 = get_global_id(0) * BQ, h = get_global_id(1), b = get_global_id(2);
    if (q0 >= seq_q) return;
    const int kvh = h / (heads / kv_heads);
    __global const KV_T *kBase = K + ((size_t)(KV_SEQUENCE(b) * kv_heads + kvh) * kv_stride) * D;
    __global const KV_T *vBase = V + ((size_t)(KV_SEQUENCE(b) * kv_heads + kvh) * kv_stride) * D;
    float q[BQ][D], acc[BQ][D], rowMax[BQ], rowSum[BQ];
    for (int i = 0; i < BQ; i++) {
        const int qi = min(q0 + i, seq_q - 1);
        __global const float *qRow = Q + QO_ROW(b, h, qi);
        UNROLL for (int d = 0; d < D; d++) { q[i][d] = qRow[d] * scale; acc[i][d] = 0.0f; }
        rowMax[i] = CLINFER_NEG_LARGE;
        rowSum[i] = 0.0f;
    }
#if CAUSAL
    const int keyEnd = min(VALID_KEYS(b), offset + min(q0 + BQ, seq_q));   // no query of this block sees past it
#else
    const int keyEnd = VALID_KEYS(b);
#endif
#if CAUSAL && WINDOW
    const int keyBegin = max(0, offset + q0 - WINDOW + 1);  // no query of this block sees before it
#else
    const int keyBegin = 0;
#endif
    for (int k0 = keyBegin; k0 < keyEnd; k0 += BK) {
        const int count = min(BK, keyEnd - k0);
        float s[BQ][BK];
        for (int i = 0; i < BQ; i++) {
            const int qi = min(q0 + i, seq_q - 1);
            float tileMax = CLINFER_NEG_LARGE;
            for (int j = 0; j < count; j++) {
                const int key = k0 + j;
                float score = attention_score(q[i], kBase + (size_t)key * D) + MASK_AT(qi, key);
#if CAUSAL
                if (key > offset + qi) score = -INFINITY;
#if WINDOW
                if (key <= offset + qi - WINDOW) score = -INFINITY;
#endif
#endif
                s[i][j] = score;
                tileMax = fmax(tileMax, score);
            }
            ONLINE_SOFTMAX_STEP(s[i], count, tileMax, rowMax[i], rowSum[i], acc[i]);
        }
        for (int j = 0; j < count; j++) {
            __global const KV_T *value = vBase + (size_t)(k0 + j) * D;
            UNROLL for (int d = 0; d < D; d += 8) {
                const float8 v = KV_LOAD8(value, d);
                UNROLL for (int i = 0; i < BQ; i++) vstore8(fma((float8)(s[i][j]), v, vload8(0, acc[i] + d)), 0, acc[i] + d);
            }
        }
    }
    for (int i = 0; i < BQ; i++) {
        if (q0 + i >= seq_q) break;
        const float inverse = rowSum[i] > 0.0f ? 1.0f / rowSum[i] : 0.0f;
        __global float *out = O + QO_ROW(b, h, q0 + i);
        UNROLL for (int d = 0; d < D; d++) out[d] = acc[i][d] * inverse;
    }
}
