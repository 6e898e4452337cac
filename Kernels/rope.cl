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
// Parameters (-D), with defaults:
//   D 64        head dimension (even)
//   NEOX 0      pair layout, see above
//   KV_HALF 0   the cache stores fp16 (vstore_half)
//   PLACEMENTS 0  a per-token (slot, position) pair is passed (int placement[2·tokens], last)

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
                       __global float *q, __global KV_T *k, __global KV_T *v PLACEMENTS_PARAM) {
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
    const float x0 = src[a], x1 = src[b];
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
