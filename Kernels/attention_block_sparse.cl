// Block-sparse fused attention: the online softmax of attention_flash.cl over only the key blocks
// a block mask lists for each query block, so skipped blocks cost nothing. Queries and keys are
// cut into blocks of BS; for query block qb of head h, keys of blocks
// block_indices[block_offsets[l] .. block_offsets[l + 1]) are visited, l = (mask_heads == 1 ? 0
// : h) · query_blocks + qb (one mask for every head, or one per head).
//
// Layouts as attention_flash.cl: Q, O [batch, heads, seq_q, D] (or token-major), K, V [batch,
// kv_heads, kv_stride, D]; grouped-query attention: head h reads KV head h / (heads / kv_heads).
// Causal: query i sits at position offset + i and sees keys at positions ≤ offset + i. With
// KEY_POSITIONS the keys were permuted (important keys gathered into fewer blocks):
// key_positions[kvh · seq_k + j] is the original position of key j of KV head kvh, and the causal
// rule compares original positions, so a permutation never changes what a query may see.
// A query that sees no key gets a zero output.
//
// attention_block_sparse:  one query per work-item. NDRange (seq_q, heads, batch).
// attention_gather_keys:   out[b, kvh, j] = in[b, kvh, order[kvh · seq_k + j]] for K or V.
//                          NDRange (seq_k, kv_heads, batch).
//
// Parameters (-D), with defaults (D, KV_HALF, TOKEN_MAJOR: attention_common.h):
//   BS 64            block size (queries and keys), at most 256
//   CAUSAL 0         apply the causal rule
//   KEY_POSITIONS 0  original key positions are passed (int key_positions[kv_heads · seq_k], last
//                    before O)
#ifndef BS
#define BS 64
#endif
#ifndef CAUSAL
#define CAUSAL 0
#endif
#ifndef KEY_POSITIONS
#define KEY_POSITIONS 0
#endif

#if KEY_POSITIONS
#define POSITIONS_PARAM , __global const int *key_positions
#define KEY_POSITION(kvh, j) key_positions[(kvh) * seq_k + (j)]
#else
#define POSITIONS_PARAM
#define KEY_POSITION(kvh, j) (j)
#endif

__kernel void attention_block_sparse(const int seq_q, const int seq_k, const int kv_stride, const int heads, const int kv_heads,
                                     const int offset, const float scale, const int mask_heads, __global const float *Q,
                                     __global const KV_T *K, __global const KV_T *V, __global const int *block_offsets,
                                     __global const int *block_indices POSITIONS_PARAM, __global float *O) {
    const int i = get_global_id(0), h = get_global_id(1), b = get_global_id(2);
    if (i >= seq_q) return;
    const int kvh = h / (heads / kv_heads);
    __global const KV_T *kBase = K + ((size_t)(b * kv_heads + kvh) * kv_stride) * D;
    __global const KV_T *vBase = V + ((size_t)(b * kv_heads + kvh) * kv_stride) * D;
    float q[D], acc[D];
    __global const float *qRow = Q + QO_ROW(b, h, i);
    UNROLL for (int d = 0; d < D; d++) { q[d] = qRow[d] * scale; acc[d] = 0.0f; }
    float rowMax = CLINFER_NEG_LARGE, rowSum = 0.0f;
    const int list = (mask_heads == 1 ? 0 : h) * ((seq_q + BS - 1) / BS) + i / BS;
    for (int entry = block_offsets[list]; entry < block_offsets[list + 1]; entry++) {
        const int first = block_indices[entry] * BS, count = min(BS, seq_k - first);
        float s[BS];
        float tileMax = CLINFER_NEG_LARGE;
        for (int j = 0; j < count; j++) {
            float score = attention_score(q, kBase + (size_t)(first + j) * D);
#if CAUSAL
            if (KEY_POSITION(kvh, first + j) > offset + i) score = -INFINITY;
#endif
            s[j] = score;
            tileMax = fmax(tileMax, score);
        }
        ONLINE_SOFTMAX_STEP(s, count, tileMax, rowMax, rowSum, acc);
        for (int j = 0; j < count; j++) {
            __global const KV_T *value = vBase + (size_t)(first + j) * D;
            UNROLL for (int d = 0; d < D; d += 8) vstore8(fma((float8)(s[j]), KV_LOAD8(value, d), vload8(0, acc + d)), 0, acc + d);
        }
    }
    const float inverse = rowSum > 0.0f ? 1.0f / rowSum : 0.0f;
    __global float *out = O + QO_ROW(b, h, i);
    UNROLL for (int d = 0; d < D; d++) out[d] = acc[d] * inverse;
}

#if KV_HALF
#define KV_COPY8(from, to) vstore_half8(vload_half8(0, from), 0, to)
#else
#define KV_COPY8(from, to) vstore8(vload8(0, from), 0, to)
#endif

__kernel void attention_gather_keys(const int seq_k, const int kv_stride, const int kv_heads, __global const int *order,
                                    __global const KV_T *in, __global KV_T *out) {
    const int j = get_global_id(0), kvh = get_global_id(1), b = get_global_id(2);
    if (j >= seq_k) return;
    const size_t base = (size_t)(b * kv_heads + kvh) * kv_stride;
    __global const KV_T *from = in + (base + order[kvh * seq_k + j]) * D;
    __global KV_T *to = out + (base + j) * D;
    for (int d = 0; d < D; d += 8) KV_COPY8(from + d, to + d);
}
