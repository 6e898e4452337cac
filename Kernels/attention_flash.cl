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
// sequences of a cache pool). A query that sees no key at all gets a zero output,
// never NaN. Running maxima start at CLINFER_NEG_LARGE, a
// finite value, so fast-math builds stay correct.
//
// attention_flash:        a work-item computes BQ queries of one head.
//                         NDRange (ceil(seq_q / BQ), heads, batch).
// attention_decode_split: one query per (batch, head) (decode), its keys split into `splits`
//                         ranges, one work-item each, writing partial (max, sum, output).
//                         NDRange (splits, heads, batch).
// attention_decode_merge: combines the partials of each (batch, head). NDRange (heads, batch).
//
// Parameters (-D), with defaults (D, KV_HALF and TOKEN_MAJOR: attention_common.h):
//   BQ 1       queries per work-item (attention_flash)
//   BK 32      keys per tile
//   HAS_MASK 0 an additive mask is passed
//   CAUSAL 0   apply the causal rule
//   KEY_LENGTHS 0  a per-batch count of valid keys is passed (int key_lengths[batch], after the mask)
//   KV_SLOTS 0     a per-batch K/V sequence index is passed (int kv_slots[batch], after the lengths)
#ifndef BQ
#define BQ 1
#endif
#ifndef BK
#define BK 32
#endif
#ifndef HAS_MASK
#define HAS_MASK 0
#endif
#ifndef CAUSAL
#define CAUSAL 0
#endif
#ifndef KEY_LENGTHS
#define KEY_LENGTHS 0
#endif
#ifndef KV_SLOTS
#define KV_SLOTS 0
#endif

#if HAS_MASK
#define MASK_PARAM , __global const float *mask
#define MASK_AT(i, j) mask[(i) * seq_k + (j)]
#else
#define MASK_PARAM
#define MASK_AT(i, j) 0.0f
#endif

#if KEY_LENGTHS
#define LENGTHS_PARAM , __global const int *key_lengths
#define VALID_KEYS(b) key_lengths[b]
#else
#define LENGTHS_PARAM
#define VALID_KEYS(b) seq_k
#endif

#if KV_SLOTS
#define SLOTS_PARAM , __global const int *kv_slots
#define KV_SEQUENCE(b) kv_slots[b]
#else
#define SLOTS_PARAM
#define KV_SEQUENCE(b) (b)
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
    for (int k0 = 0; k0 < keyEnd; k0 += BK) {
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

// Decode: one query (seq_q = 1, so both Q layouts agree) per (batch, head) against the first
// key_end of seq_k keys (the
// host passes offset + 1 for causal attention); split s of `splits` handles keys
// [s·chunk, (s+1)·chunk), cut at the batch item's valid keys with KEY_LENGTHS. Partials: maxima
// and sums [batch, heads, splits], outputs [batch, heads, splits, D]. The mask, if any, is one
// row [seq_k].
__kernel void attention_decode_split(const int seq_k, const int kv_stride, const int key_end, const int heads, const int kv_heads, const int splits,
                                     const float scale, __global const float *Q, __global const KV_T *K,
                                     __global const KV_T *V MASK_PARAM LENGTHS_PARAM SLOTS_PARAM, __global float *partialMax,
                                     __global float *partialSum, __global float *partialOut) {
    const int split = get_global_id(0), h = get_global_id(1), b = get_global_id(2);
    const int kvh = h / (heads / kv_heads);
    const int chunk = (key_end + splits - 1) / splits;
    const int first = split * chunk, last = min(min(key_end, VALID_KEYS(b)), first + chunk);
    __global const float *qRow = Q + (size_t)(b * heads + h) * D;
    __global const KV_T *kBase = K + ((size_t)(KV_SEQUENCE(b) * kv_heads + kvh) * kv_stride) * D;
    __global const KV_T *vBase = V + ((size_t)(KV_SEQUENCE(b) * kv_heads + kvh) * kv_stride) * D;
    float q[D], acc[D];
    for (int d = 0; d < D; d++) { q[d] = qRow[d] * scale; acc[d] = 0.0f; }
    float rowMax = CLINFER_NEG_LARGE, rowSum = 0.0f;
    for (int key = first; key < last; key++) {
        const float score = attention_score(q, kBase + (size_t)key * D) + MASK_AT(0, key);
        if (!(score > CLINFER_NEG_LARGE)) continue;
        const float newMax = fmax(rowMax, score);
        const float correction = exp(rowMax - newMax), p = exp(score - newMax);
        rowMax = newMax;
        rowSum = fma(rowSum, correction, p);
        __global const KV_T *value = vBase + (size_t)key * D;
        for (int d = 0; d < D; d += 8)
            vstore8(fma((float8)(p), KV_LOAD8(value, d), vload8(0, acc + d) * correction), 0, acc + d);
    }
    const int slot = (b * heads + h) * splits + split;
    partialMax[slot] = rowMax;
    partialSum[slot] = rowSum;
    for (int d = 0; d < D; d++) partialOut[(size_t)slot * D + d] = acc[d];
}

__kernel void attention_decode_merge(const int heads, const int splits, __global const float *partialMax,
                                     __global const float *partialSum, __global const float *partialOut,
                                     __global float *O) {
    const int h = get_global_id(0), b = get_global_id(1);
    const int base = (b * heads + h) * splits;
    float top = CLINFER_NEG_LARGE;
    for (int s = 0; s < splits; s++) top = fmax(top, partialMax[base + s]);
    float sum = 0.0f, out[D];
    for (int d = 0; d < D; d++) out[d] = 0.0f;
    for (int s = 0; s < splits; s++) {
        if (partialSum[base + s] == 0.0f) continue;
        const float weight = exp(partialMax[base + s] - top);
        sum = fma(partialSum[base + s], weight, sum);
        for (int d = 0; d < D; d++) out[d] = fma(partialOut[(size_t)(base + s) * D + d], weight, out[d]);
    }
    const float inverse = sum > 0.0f ? 1.0f / sum : 0.0f;
    for (int d = 0; d < D; d++) O[(size_t)(b * heads + h) * D + d] = out[d] * inverse;
}
