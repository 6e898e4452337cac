// Shared helpers, prepended by the host to every Clinfer kernel file (embedded kernel sources
// cannot #include each other). Nothing here may define a __kernel.
//
// Conventions used by every kernel:
// - storage may be fp32 or fp16; fp16 is read with vload_half / vload_halfN (core OpenCL, no
//   cl_khr_fp16 needed) and all arithmetic is fp32;
// - parameters are -D macros with defaults in each kernel file; the host validates them before
//   compiling;
// - indices are int: the host rejects problems whose element counts do not fit.

#define CLINFER_CAT_(a, b) a##b
#define CLINFER_CAT(a, b) CLINFER_CAT_(a, b)

// Vector loads and stores for a width macro W in {1, 2, 4, 8, 16}, so kernels are written once
// for every vector width. Width 1 is a plain scalar access (OpenCL has no vload1).
typedef float float1;
#define VLOADN(W, offset, p) CLINFER_CAT(clinfer_vload, W)((offset), (p))
#define VSTOREN(W, value, offset, p) CLINFER_CAT(clinfer_vstore, W)((value), (offset), (p))
#define VLOAD_HALFN(W, offset, p) CLINFER_CAT(clinfer_vload_half, W)((offset), (p))
#define clinfer_vload1(offset, p) ((p)[(offset)])
#define clinfer_vload2 vload2
#define clinfer_vload4 vload4
#define clinfer_vload8 vload8
#define clinfer_vload16 vload16
#define clinfer_vstore1(value, offset, p) ((p)[(offset)] = (value))
#define clinfer_vstore2 vstore2
#define clinfer_vstore4 vstore4
#define clinfer_vstore8 vstore8
#define clinfer_vstore16 vstore16
#define clinfer_vload_half1 vload_half
#define clinfer_vload_half2 vload_half2
#define clinfer_vload_half4 vload_half4
#define clinfer_vload_half8 vload_half8
#define clinfer_vload_half16 vload_half16

// convert_floatN for a width macro (convert_float1 is a plain cast).
#define CONVERT_FLOATN(W, x) CLINFER_CAT(clinfer_convert_float, W)(x)
#define clinfer_convert_float1(x) ((float)(x))
#define clinfer_convert_float2 convert_float2
#define clinfer_convert_float4 convert_float4
#define clinfer_convert_float8 convert_float8
#define clinfer_convert_float16 convert_float16

// convert_intN for a width macro.
#define CONVERT_INTN(W, x) CLINFER_CAT(clinfer_convert_int, W)(x)
#define clinfer_convert_int1(x) ((int)(x))
#define clinfer_convert_int2 convert_int2
#define clinfer_convert_int4 convert_int4
#define clinfer_convert_int8 convert_int8
#define clinfer_convert_int16 convert_int16

// floatN for a width macro, and a width-N load of fp32 or fp16 storage at element index i.
#define FLOATN(W) CLINFER_CAT(float, W)
#define LOADN_F32(W, p, i) VLOADN(W, 0, (p) + (i))
#define LOADN_F16(W, p, i) VLOAD_HALFN(W, 0, (p) + (i))

// Horizontal sums of float vectors. Macros, not functions: passing a float16 to a function
// changes the calling convention on AVX2 targets (and PoCL warns about it).
#define clinfer_hsum1(v) (v)
#define clinfer_hsum2(v) ((v).s0 + (v).s1)
#define clinfer_hsum4(v) clinfer_hsum2((v).s01 + (v).s23)
#define clinfer_hsum8(v) clinfer_hsum4((v).s0123 + (v).s4567)
#define clinfer_hsum16(v) clinfer_hsum8((v).s01234567 + (v).s89abcdef)
#define HSUM(W, v) CLINFER_CAT(clinfer_hsum, W)(v)
// Horizontal maxima, likewise.
#define clinfer_hmax1(v) (v)
#define clinfer_hmax2(v) fmax((v).s0, (v).s1)
#define clinfer_hmax4(v) clinfer_hmax2(fmax((v).s01, (v).s23))
#define clinfer_hmax8(v) clinfer_hmax4(fmax((v).s0123, (v).s4567))
#define clinfer_hmax16(v) clinfer_hmax8(fmax((v).s01234567, (v).s89abcdef))
#define HMAX(W, v) CLINFER_CAT(clinfer_hmax, W)(v)

// Loop unrolling hints. Loops over register tiles must be fully unrolled so the tiles live in
// registers (measured on PoCL: 3x faster GEMM); K loops gain from a small unroll.
#define UNROLL _Pragma("unroll")
#define UNROLL_2 _Pragma("unroll 2")

// A large finite stand-in for -INFINITY, correct under -cl-finite-math-only and fast math.
#define CLINFER_NEG_LARGE (-3.0e38f)

// The gate of a gated feed-forward: GATE_KIND 1 is SiLU, g / (1 + e^−g) (SwiGLU: Llama, Qwen2),
// 2 is the tanh GELU, ½g(1 + tanh(√(2/π)(g + 0.044715g³))) (GeGLU: Gemma), with tanh(u) as
// 1 − 2/(e^2u + 1), which saturates to ±1 without a library call.
inline float clinfer_gate(const float g, const int kind) {
    if (kind == 2) {
        const float u = 0.7978845608028654f * fma(0.044715f * g, g * g, g);
        return 0.5f * g * (2.0f - 2.0f / (exp(2.0f * u) + 1.0f));
    }
    return g / (1.0f + exp(-g));
}
