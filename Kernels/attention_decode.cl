// Decode attention: one new query per (batch item, head) against its KV cache, the layouts and
// masking rules of attention_flash.cl (seq_q = 1, so both Q layouts agree; the host passes
// key_end = offset + 1 for causal attention).
//
// Grouped-query attention shares a KV head among G = heads / kv_heads query heads: a work-item
// serves a (key range, KV head, batch item) and all G heads of the group, so every key and value
// row is read once, not G times (decode attention is bound by reading the cache). The keys
// [0, key_end) (cut at the batch item's valid keys with KEY_LENGTHS) are split into `splits`
// ranges of ceil(key_end / splits) so that a short cache still gives every core (or GPU compute
// unit) work; each range runs the online softmax over tiles of BK keys. With WINDOW only the
// last WINDOW valid keys are read and split (the query sits at the last valid key).
//
// attention_decode_grouped: NDRange (splits, kv_heads, batch). With SPLITS_ONE the work-item
//                           writes the normalised output O; otherwise partial maxima and sums
//                           [batch, heads, splits] and unnormalised outputs
//                           [batch, heads, splits, D] for attention_decode_merge.
// attention_decode_merge:   combines the partials of each (batch, head). NDRange (heads, batch).
//
// Parameters (-D), with defaults (D, KV_HALF, TOKEN_MAJOR, HAS_MASK (one row [seq_k]),
// KEY_LENGTHS, KV_SLOTS: attention_common.h):
//   GROUP 1       query heads per KV head (heads / kv_heads)
//   BK 16         keys per tile
//   SPLITS_ONE 0  one range per (KV head, batch item): write O directly
#ifndef GROUP
#define GROUP 1
#endif
#ifndef BK
#define BK 16
#endif
#ifndef SPLITS_ONE
#define SPLITS_ONE 0
#endif

__kernel void attention_decode_grouped(const int seq_k, const int kv_stride, const int key_end, const int heads,
                                       const int kv_heads, const int splits, const float scale,
                                       __global const float *Q, __global const KV_T *K,
                                       __global const KV_T *V MASK_PARAM LENGTHS_PARAM SLOTS_PARAM,
                                       __global float *partialMax, __global float *partialSum,
                                       __global float *partialOut) {
    const int split = get_global_id(0), kvh = get_global_id(1), b = get_global_id(2);
    if (split >= splits || kvh >= kv_heads) return;
    const int hi = min(key_end, VALID_KEYS(b)), lo = WINDOW ? max(0, hi - WINDOW) : 0;
    const int chunk = (hi - lo + splits - 1) / splits;
    const int first = lo + split * chunk, last = min(hi, first + chunk);
    __global const KV_T *kBase = K + ((size_t)(KV_SEQUENCE(b) * kv_heads + kvh) * kv_stride) * D;
    __global const KV_T *vBase = V + ((size_t)(KV_SEQUENCE(b) * kv_heads + kvh) * kv_stride) * D;
    float q[GROUP][D], acc[GROUP][D], rowMax[GROUP], rowSum[GROUP];
    UNROLL for (int g = 0; g < GROUP; g++) {
        __global const float *qRow = Q + (size_t)(b * heads + kvh * GROUP + g) * D;
        UNROLL for (int d = 0; d < D; d++) { q[g][d] = qRow[d] * scale; acc[g][d] = 0.0f; }
        rowMax[g] = CLINFER_NEG_LARGE;
        rowSum[g] = 0.0f;
    }
    for (int k0 = first; k0 < last; k0 += BK) {
        const int count = min(BK, last - k0);
        float s[GROUP][BK], tileMax[GROUP];
        UNROLL for (int g = 0; g < GROUP; g++) tileMax[g] = CLINFER_NEG_LARGE;
        for (int j = 0; j < count; j++) {
            __global const KV_T *key = kBase + (size_t)(k0 + j) * D;
            const float bias = MASK_AT(0, k0 + j);
            UNROLL for (int g = 0; g < GROUP; g++) {
                s[g][j] = attention_score(q[g], key) + bias;
                tileMax[g] = fmax(tileMax[g], s[g][j]);
            }
        }
        UNROLL for (int g = 0; g < GROUP; g++) ONLINE_SOFTMAX_STEP(s[g], count, tileMax[g], rowMax[g], rowSum[g], acc[g]);
        for (int j = 0; j < count; j++) {
            __global const KV_T *value = vBase + (size_t)(k0 + j) * D;
            UNROLL for (int d = 0; d < D; d += 8) {
                const float8 v = KV_LOAD8(value, d);
                UNROLL for (int g = 0; g < GROUP; g++)
                    vstore8(fma((float8)(s[g][j]), v, vload8(0, acc[g] + d)), 0, acc[g] + d);
            }
        }
    }
    UNROLL for (int g = 0; g < GROUP; g++) {
        const int h = kvh * GROUP + g;
#if SPLITS_ONE
        const float inverse = rowSum[g] > 0.0f ? 1.0f / rowSum[g] : 0.0f;
        __global float *out = partialOut + (size_t)(b * heads + h) * D;
        UNROLL for (int d = 0; d < D; d++) out[d] = acc[g][d] * inverse;
#else
        const int slot = (b * heads + h) * splits + split;
        partialMax[slot] = rowMax[g];
        partialSum[slot] = rowSum[g];
        UNROLL for (int d = 0; d < D; d++) partialOut[(size_t)slot * D + d] = acc[g][d];
#endif
    }
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
