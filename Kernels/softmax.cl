// Row-wise softmax over x [rows, n]: y = softmax(x · scale + mask), mask optional ([rows, n] or
// one row [n] shared by all rows, additive; -INFINITY entries block positions).
//
// softmax_two_pass: the Two-Pass Softmax algorithm (Dukhan & Ablavatski, 2020). Pass 1 keeps the
//   running sum of exp(z) as a (mantissa, exponent) pair, exp(z) = p·2^k with k = round(z·log2 e)
//   and p = exp(z − k·ln 2) ∈ [0.7, 1.5], so no separate max pass is needed and nothing
//   overflows for any finite z; pass 2 writes p·2^(k − K) / S. The input is read twice.
// softmax_three_pass: the classic max, sum of exp(z − max), normalise. The input is read 3 times.
// Rows whose every position is masked (-INFINITY) give all zeros, never NaN. n = 1 gives 1.
// Positions with z below CLINFER_NEG_LARGE (-3e38) count as masked.
// A work-group of WG work-items handles one row, combining partial results in __local memory;
// each work-item reads VW-wide vectors (work-item l takes vectors l, l + WG, …), the last n % VW
// elements one by one.
//
// Parameters (-D), with defaults:
//   WG 64        work-items per row (a power of two)
//   VW 8         vector width: 4, 8 or 16
//   HAS_MASK 0   1: an additive mask is passed
//   MASK_ROWS 1  1: the mask is [rows, n]; 0: one row [n] shared by every row
// NDRange: (rows · WG), local (WG).
#ifndef WG
#define WG 64
#endif
#ifndef HAS_MASK
#define HAS_MASK 0
#endif
#ifndef VW
#define VW 8
#endif
#define floatV FLOATN(VW)
#define intV CLINFER_CAT(int, VW)
#define convert_intV CLINFER_CAT(convert_int, VW)
#define as_floatV CLINFER_CAT(as_float, VW)
#ifndef MASK_ROWS
#define MASK_ROWS 1
#endif

#define LOG2E 1.44269504088896341f
// ln 2 split in two (Cody–Waite) so z − k·ln 2 stays accurate for |z| up to 1e4 and beyond.
#define LN2_HI 0.693145751953125f
#define LN2_LO 1.42860676533018708e-06f

// z for position j of the row (the caller's x and mask pointers are already at the row).
#if HAS_MASK
#define Z(x, mask, j, scale) fma((x)[(j)], (scale), (mask)[(j)])
#define ZV(x, mask, j, scale) fma(VLOADN(VW, 0, (x) + (j)), (floatV)(scale), VLOADN(VW, 0, (mask) + (j)))
#define MASK_ARG , __global const float *mask
#if MASK_ROWS
#define MASK_ROW(row, n) (mask + (row) * (n))
#else
#define MASK_ROW(row, n) (mask)
#endif
#else
#define Z(x, mask, j, scale) ((x)[(j)] * (scale))
#define ZV(x, mask, j, scale) (VLOADN(VW, 0, (x) + (j)) * (scale))
#define MASK_ARG
#define MASK_ROW(row, n) ((__global const float *)0)
#endif

// exp(z) as p·2^k. A blocked position (z = -INFINITY, or below CLINFER_NEG_LARGE) gives p = 0,
// with k kept finite so the exponent arithmetic stays safe.
inline float split_exp(const float z, int *k) {
    if (!(z > CLINFER_NEG_LARGE)) { *k = INT_MIN / 2; return 0.0f; }
    const float n = rint(z * LOG2E);
    *k = (int)n;
    return exp(fma(-n, LN2_LO, fma(-n, LN2_HI, z)));
}

// 2^d for an integer d <= 0, built from its bits (0 below the normal range): cheaper than
// ldexp, and branch-free so work-items vectorise.
inline float pow2_nonpositive(const int d) {
    return d < -126 ? 0.0f : as_float((d + 127) << 23);
}

inline floatV pow2_nonpositive_v(const intV d) {
    return select(as_floatV((d + 127) << 23), (floatV)(0.0f), d < -126);
}

// The vector form of split_exp.
inline floatV split_exp_v(const floatV z, intV *k) {
    const intV blocked = !(z > CLINFER_NEG_LARGE);
    const floatV n = select(rint(z * LOG2E), (floatV)(0.0f), blocked);
    *k = select(convert_intV(n), (intV)(INT_MIN / 2), blocked);
    return select(exp(fma(-n, LN2_LO, fma(-n, LN2_HI, z))), (floatV)(0.0f), blocked);
}

__kernel __attribute__((reqd_work_group_size(WG, 1, 1)))
void softmax_two_pass(const int n, const float scale, __global const float *input MASK_ARG, __global float *output) {
    __local float sums[WG];
    __local int exponents[WG];
    const int row = get_group_id(0), l = get_local_id(0);
    __global const float *x = input + row * n;
    __global const float *m = MASK_ROW(row, n);
    const int vectorEnd = n - n % VW;
    floatV sumV = (floatV)(0.0f);
    intV topV = (intV)(INT_MIN / 2);
    for (int j = l * VW; j < vectorEnd; j += WG * VW) {
        intV k;
        const floatV p = split_exp_v(ZV(x, m, j, scale), &k);
        const intV next = max(topV, k);
        sumV = fma(sumV, pow2_nonpositive_v(topV - next), p * pow2_nonpositive_v(k - next));
        topV = next;
    }
    float laneSums[VW];
    int laneTops[VW];
    VSTOREN(VW, sumV, 0, laneSums);
    VSTOREN(VW, topV, 0, laneTops);
    float sum = 0.0f;
    int top = INT_MIN / 2;
    for (int lane = 0; lane < VW; lane++) {
        const int next = max(top, laneTops[lane]);
        sum = fma(sum, pow2_nonpositive(top - next), laneSums[lane] * pow2_nonpositive(laneTops[lane] - next));
        top = next;
    }
    for (int j = vectorEnd + l; j < n; j += WG) {
        int k;
        const float p = split_exp(Z(x, m, j, scale), &k);
        const int next = max(top, k);
        sum = fma(sum, pow2_nonpositive(top - next), p * pow2_nonpositive(k - next));
        top = next;
    }
    sums[l] = sum;
    exponents[l] = top;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int stride = WG / 2; stride > 0; stride /= 2) {
        if (l < stride) {
            const int a = exponents[l], b = exponents[l + stride];
            const int k = max(a, b);
            sums[l] = fma(sums[l], pow2_nonpositive(a - k), sums[l + stride] * pow2_nonpositive(b - k));
            exponents[l] = k;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const float total = sums[0];
    const int totalExponent = exponents[0];
    // A division, not a multiply by 1/total: a lone element then gives exactly 1.
    for (int j = l * VW; j < vectorEnd; j += WG * VW) {
        intV k;
        const floatV p = split_exp_v(ZV(x, m, j, scale), &k);
        VSTOREN(VW, select((p / total) * pow2_nonpositive_v(k - totalExponent), (floatV)(0.0f), p == 0.0f), 0, output + row * n + j);
    }
    for (int j = vectorEnd + l; j < n; j += WG) {
        int k;
        const float p = split_exp(Z(x, m, j, scale), &k);
        output[row * n + j] = p == 0.0f ? 0.0f : (p / total) * pow2_nonpositive(k - totalExponent);
    }
}

__kernel __attribute__((reqd_work_group_size(WG, 1, 1)))
void softmax_three_pass(const int n, const float scale, __global const float *input MASK_ARG, __global float *output) {
    __local float partial[WG];
    const int row = get_group_id(0), l = get_local_id(0);
    __global const float *x = input + row * n;
    __global const float *m = MASK_ROW(row, n);
    const int vectorEnd = n - n % VW;
    floatV topV = (floatV)(CLINFER_NEG_LARGE);   // finite, so fast-math builds stay correct
    for (int j = l * VW; j < vectorEnd; j += WG * VW) topV = fmax(topV, ZV(x, m, j, scale));
    float top = HMAX(VW, topV);
    for (int j = vectorEnd + l; j < n; j += WG) top = fmax(top, Z(x, m, j, scale));
    partial[l] = top;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int stride = WG / 2; stride > 0; stride /= 2) {
        if (l < stride) partial[l] = fmax(partial[l], partial[l + stride]);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const float rowMax = partial[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    float sum = 0.0f;
    const bool blocked = !(rowMax > CLINFER_NEG_LARGE);
    if (!blocked)
        for (int j = l; j < n; j += WG) sum += exp(Z(x, m, j, scale) - rowMax);
    partial[l] = sum;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int stride = WG / 2; stride > 0; stride /= 2) {
        if (l < stride) partial[l] += partial[l + stride];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const float inverse = partial[0] > 0.0f ? 1.0f / partial[0] : 0.0f;
    for (int j = l * VW; j < vectorEnd; j += WG * VW)
        VSTOREN(VW, blocked ? (floatV)(0.0f) : exp(ZV(x, m, j, scale) - rowMax) * inverse, 0, output + row * n + j);
    for (int j = vectorEnd + l; j < n; j += WG)
        output[row * n + j] = blocked ? 0.0f : exp(Z(x, m, j, scale) - rowMax) * inverse;
}
