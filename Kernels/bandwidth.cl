// Memory bandwidth probe: the yardstick that bandwidth-bound kernels (GEMV, decode) are
// reported against.
//
// bandwidth_read: every work-item sums a contiguous run of ITEMS_PER_WI vectors of VW floats
// and writes one float (so the reads cannot be optimised away); bytes moved ≈ bytes read.
// Parameters (-D), with defaults:
//   VW 16            vector width
//   ITEMS_PER_WI 16  vectors read per work-item
// NDRange: (ceil(n / (VW·ITEMS_PER_WI))), any work-group size. n counts floats.
#ifndef VW
#define VW 16
#endif
#ifndef ITEMS_PER_WI
#define ITEMS_PER_WI 16
#endif

__kernel void bandwidth_read(__global const float *src, const int n, __global float *sums) {
    const int item = get_global_id(0);
    const int first = item * ITEMS_PER_WI * VW;
    FLOATN(VW) acc = (FLOATN(VW))(0.0f);
    float tail = 0.0f;
    if (first + ITEMS_PER_WI * VW <= n) {
        for (int i = 0; i < ITEMS_PER_WI; i++) acc += VLOADN(VW, 0, src + first + i * VW);
    } else {
        for (int i = first; i < n; i++) tail += src[i];
    }
    if (first < n) sums[item] = HSUM(VW, acc) + tail;
}
