// What the attention kernels share (prepended to every attention_*.cl): the layouts of Q/O and
// K/V, the query-key dot product and the online-softmax step.
//
// Parameters (-D), with defaults:
//   D 64           head dimension, a multiple of 8 (up to 256)
//   KV_HALF 0      K and V stored as fp16 (read with vload_half)
//   TOKEN_MAJOR 0  Q and O are [batch, seq_q, heads, D] instead of [batch, heads, seq_q, D]
//   HAS_MASK 0     an additive mask is passed (after V)
//   KEY_LENGTHS 0  a per-batch count of valid keys is passed (int key_lengths[batch], after the mask)
//   KV_SLOTS 0     a per-batch K/V sequence index is passed (int kv_slots[batch], after the lengths)
//   WINDOW 0       sliding window: a query at position p sees keys j > p - WINDOW only (0: no window)
#ifndef D
#define D 64
#endif
#ifndef KV_HALF
#define KV_HALF 0
#endif
#ifndef TOKEN_MAJOR
#define TOKEN_MAJOR 0
#endif

#ifndef HAS_MASK
#define HAS_MASK 0
#endif
#ifndef KEY_LENGTHS
#define KEY_LENGTHS 0
#endif
#ifndef KV_SLOTS
#define KV_SLOTS 0
#endif
#ifndef WINDOW
#define WINDOW 0
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

// One step of the online softmax over a tile of `count` scores whose maximum is `tile_max`:
// raises the row's running maximum, rescales its running sum and its unnormalised output `acc`
// (D values) to it, and turns the scores into weights exp(score - max) in place, adding them to
// the sum. Blocked keys (at or below CLINFER_NEG_LARGE, -INFINITY included) weigh 0. Eight
// exponentials at a time: one vector exp costs about what one scalar call does. A macro, not a
// function: `row_max` and `row_sum` are the caller's lvalues (elements of private arrays), and
// passing their addresses measured 30-60 % slower on PoCL (the arrays no longer stay in registers).
#define ONLINE_SOFTMAX_STEP(scores, count, tile_max, row_max, row_sum, acc) do {                          \
        const float new_max_ = fmax((row_max), (tile_max));                                                \
        const float correction_ = exp((row_max) - new_max_);                                               \
        (row_max) = new_max_;                                                                              \
        (row_sum) *= correction_;                                                                          \
        UNROLL for (int d_ = 0; d_ < D; d_++) (acc)[d_] *= correction_;                                   \
        int j_ = 0;                                                                                        \
        float8 sum8_ = (float8)(0.0f);                                                                     \
        for (; j_ + 8 <= (count); j_ += 8) {                                                               \
            const float8 z_ = vload8(0, (scores) + j_);                                                    \
            const float8 p_ = select((float8)(0.0f), exp(z_ - new_max_), isgreater(z_, (float8)(CLINFER_NEG_LARGE))); \
            vstore8(p_, 0, (scores) + j_);                                                                 \
            sum8_ += p_;                                                                                   \
        }                                                                                                  \
        (row_sum) += HSUM(8, sum8_);                                                                       \
        for (; j_ < (count); j_++) {                                                                       \
            const float p_ = (scores)[j_] > CLINFER_NEG_LARGE ? exp((scores)[j_] - new_max_) : 0.0f;       \
            (scores)[j_] = p_;                                                                             \
            (row_sum) += p_;                                                                               \
        }                                                                                                  \
    } while (0)
