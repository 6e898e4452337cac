// Rotary position embedding (RoPE) fused with the split of a fused QKV projection and the append
// to the KV cache: one launch turns the projection's output into what attention reads.
//
// qkv:   [tokens, (heads + 2·kv_heads)·D], row-major: Q heads, then K heads, then V heads.
// q:     [tokens, heads, D]           rotated queries (token-major, as attention_flash reads with
//                                     TOKEN_MAJOR)
// k, v:  [slots, kv_heads, kv_stride, D]  the cache of `slots` sequences; token t goes to
//                                     position pos0 + t of sequence slot0, or with PLACEMENTS to
//                                     position placement[2t + 1] of sequence placement[2t] (a
//                                     batched decode step: one token of each running sequence)
// cos_table, sin_table: [positions, D/2], cos/sin(pos · base^(−2i/D)), computed on the host in
//                                     double precision
//
// Pairs rotated: NEOX 0 (GPT-J / llama.cpp "normal"): (2i, 2i+1); NEOX 1: (i, i + D/2).
// NDRange (D/2, heads + 2·kv_heads, tokens); V heads are copied unrotated.
//
// With HEAD_NORM, each Q and K head is RMS-normalised over its D values before the rotation
// (x / √(mean(x²) + eps) · weight, with q_norm [D] for query heads and k_norm [D] for key heads:
// Gemma 3's per-head norms): a work-group is one head (local size D/2), whose sum of squares
// meets in local memory.
//
// Parameters (-D), with defaults:
//   D 64        head dimension (even)
//   NEOX 0      pair layout, see above
//   KV_HALF 0   the cache stores fp16 (vstore_half)
//   PLACEMENTS 0  a per-token (slot, position) pair is passed (int placement[2·tokens], last)
//   HEAD_NORM 0   per-head RMSNorm of Q and K (q_norm, k_norm and eps passed after v)

#ifndef D
#define D 64
#endif
#ifndef NEOX
#define NEOX 0
#endif
#ifndef KV_HALF
#define KV_HALF 0
#endif

#ifndef PLACEMENTS
#define PLACEMENTS 0
#endif
#ifndef HEAD_NORM
#define HEAD_NORM 0
#endif
#if HEAD_NORM
#define HEAD_NORM_PARAM , __global const float *q_norm, __global const float *k_norm, const float eps
#else
#define HEAD_NORM_PARAM
#endif

#if PLACEMENTS
#define PLACEMENTS_PARAM , __global const int *placement
#else
#define PLACEMENTS_PARAM
#endif

#if KV_HALF
#define KV_T half
#define KV_STORE(value, index, p) vstore_half((value), (index), (p))
#else
#define KV_T float
#define KV_STORE(value, index, p) ((p)[(index)] = (value))
#endif

__kernel void rope_qkv(const int heads, const int kv_heads, const int pos0, const int slot0, const int kv_stride,
                       __global const float *qkv, __global const float *cos_table, __global const float *sin_table,
                       __global float *q, __global KV_T *k, __global KV_T *v HEAD_NORM_PARAM PLACEMENTS_PARAM) {
    const int i = get_global_id(0), h = get_global_id(1), t = get_global_id(2);
#if PLACEMENTS
    const int slot = placement[2 * t], pos = placement[2 * t + 1];
#else
    const int slot = slot0, pos = pos0 + t;
#endif
    // The first cache row of this token's sequence.
    const size_t sequence = (size_t)slot * kv_heads * kv_stride;
#if NEOX
    const int a = i, b = i + D / 2;
#else
    const int a = 2 * i, b = 2 * i + 1;
#endif
    __global const float *src = qkv + (size_t)t * (heads + 2 * kv_heads) * D + (size_t)h * D;
    if (h >= heads + kv_heads) {
        const size_t row = (sequence + (size_t)(h - heads - kv_heads) * kv_stride + pos) * D;
        KV_STORE(src[a], row + a, v);
        KV_STORE(src[b], row + b, v);
        return;
    }
    const float c = cos_table[(size_t)pos * (D / 2) + i], s = sin_table[(size_t)pos * (D / 2) + i];
#if HEAD_NORM
    // The whole group is one head (Q or K): every work-item reaches the barriers.
    __local float squares[D / 2];
    __local float inverseRms;
    squares[i] = src[a] * src[a] + src[b] * src[b];
    barrier(CLK_LOCAL_MEM_FENCE);
    if (i == 0) {
        float total = 0.0f;
        for (int j = 0; j < D / 2; j++) total += squares[j];
        inverseRms = rsqrt(total / D + eps);
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    __global const float *weight = h < heads ? q_norm : k_norm;
    const float x0 = src[a] * inverseRms * weight[a], x1 = src[b] * inverseRms * weight[b];
#else
    const float x0 = src[a], x1 = src[b];
#endif
    const float r0 = fma(x0, c, -x1 * s), r1 = fma(x0, s, x1 * c);
    if (h < heads) {
        __global float *dst = q + ((size_t)t * heads + h) * D;
        dst[a] = r0;
        dst[b] = r1;
    } else {
        const size_t row = (sequence + (size_t)(h - heads) * kv_stride + pos) * D;
        KV_STORE(r0, row + a, k);
        KV_STORE(r1, row + b, k);
    }
}
