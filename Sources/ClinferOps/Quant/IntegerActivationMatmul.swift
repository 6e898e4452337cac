/// The CPU reference of the decode GEMV's integer activation modes (``GEMVActivations`` int8
/// and int16) on 4-bit weights: x quantized per block of 32 exactly as `Kernels/quant_gemv_dot.cl`
/// does (dx = max|x| / (2^(bits−1) − 1), qx = x / dx rounded to nearest even, and the exact block
/// sum sx), then y = Σ over blocks of dw·dx·Σ q·qx + m·sx. Kernel tests hold the OpenCL kernel to
/// this: the same integers, fp32 sums in another order.
public struct IntegerActivationMatmul: QuantizedMatmulOperation {
    /// Bits of quantized x: 8 or 16.
    public let bits: Int

    public init(bits: Int) {
        precondition(bits == 8 || bits == 16, "integer activations are 8 or 16 bits")
        self.bits = bits
    }

    public func matmul(x: HostTensor, weights: QuantizedMatrix, y: HostTensor, rows: Int) throws {
        let (n, k) = (weights.rows, weights.columns)
        try validateQuantizedMatmul(x: x, y: y, rows: rows, n: n, k: k)
        guard weights.deviceEncoding == .nibbles, weights.inputScale == nil, k % 32 == 0 else {
            throw OpError.unsupportedType(
                op: "integer-activation matmul",
                detail: "needs 4-bit weights without an input scale, K a multiple of 32")
        }
        let layout = weights.deviceLayout()
        let group = weights.deviceGroupSize, blocks = k / 32
        let input = x.floats
        var quantized = [Int32](repeating: 0, count: rows * k)
        let largest = Float((1 << (bits - 1)) - 1)
        var scales = [Float](repeating: 0, count: rows * blocks), sums = scales
        for block in 0..<rows * blocks {
            let values = input[block * 32..<(block + 1) * 32]
            let dx = values.reduce(Float(0)) { max($0, abs($1)) } / largest
            let inverse = dx > 0 ? 1 / dx : 0
            for (index, value) in values.enumerated() {
                quantized[block * 32 + index] = Int32((value * inverse).rounded(.toNearestOrEven))
            }
            scales[block] = dx
            sums[block] = values.reduce(0, +)
        }
        var out = [Float](repeating: 0, count: rows * n)
        for m in 0..<rows {
            for row in 0..<n {
                var total: Float = 0
                for b in 0..<blocks {
                    var dot = 0
                    for j in 0..<16 {
                        let byte = Int(layout.quants[(row * k + b * 32) / 2 + j])
                        dot += (byte & 15) * Int(quantized[(m * blocks + b) * 32 + j])
                        dot += (byte >> 4) * Int(quantized[(m * blocks + b) * 32 + j + 16])
                    }
                    let g = (row * k + b * 32) / group
                    total += Float(dot) * (layout.d[g] * scales[m * blocks + b]) + layout.m[g] * sums[m * blocks + b]
                }
                out[m * n + row] = total
            }
        }
        y.storage = .float32(out)
    }
}
