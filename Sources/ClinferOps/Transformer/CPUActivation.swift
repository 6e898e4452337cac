import Foundation

/// Elementwise activations on the CPU: the reference for `Kernels/activation.cl`.
public struct CPUActivation: ActivationOperation {
    public init() {}

    public func gated(
        _ activation: GatedActivation, tokens: Int, width: Int, gateUp: HostTensor, out: HostTensor
    ) throws {
        try validateSwiGLU(tokens: tokens, width: width, gateUp: gateUp, out: out)
        let input = gateUp.floats
        var result = [Float](repeating: 0, count: tokens * width)
        for t in 0..<tokens {
            for j in 0..<width {
                let gate = input[t * 2 * width + j], up = input[t * 2 * width + width + j]
                result[t * width + j] = activation(gate) * up
            }
        }
        out.storage = .float32(result)
    }

    public func geluErf(_ x: HostTensor) throws {
        try validateElementwise("gelu", x)
        x.storage = .float32(x.floats.map { 0.5 * $0 * (1 + Foundation.erf($0 / Float(2).squareRoot())) })
    }

    public func add(_ x: HostTensor, _ y: HostTensor) throws {
        try validateElementwise("add", x, y)
        x.storage = .float32(zip(x.floats, y.floats).map(+))
    }

    public func biasAdd(_ x: HostTensor, bias: HostTensor) throws {
        let rows = try validateBias("bias add", x: x, bias: bias)
        applyRows(x, bias: bias.floats, rows: rows) { $0 + $1 }
    }

    public func biasGeluErf(_ x: HostTensor, bias: HostTensor) throws {
        let rows = try validateBias("bias gelu", x: x, bias: bias)
        applyRows(x, bias: bias.floats, rows: rows) { value, b in
            let z = value + b
            return 0.5 * z * (1 + Foundation.erf(z / Float(2).squareRoot()))
        }
    }

    /// x[r, j] = f(x[r, j], bias[j]), rows spread over the cores.
    private func applyRows(_ x: HostTensor, bias: [Float], rows: Int, _ f: (Float, Float) -> Float) {
        var values = x.floats
        x.storage = .float32([])  // keep `values` uniquely referenced while writing it
        let n = bias.count
        values.withUnsafeMutableBufferPointer { out in
            let base = out.baseAddress!
            bias.withUnsafeBufferPointer { b in
                let rowsPerBlock = max(1, 4096 / n)
                parallelFor(ceilDiv(rows, rowsPerBlock)) { block in
                    for r in block * rowsPerBlock..<min(rows, (block + 1) * rowsPerBlock) {
                        let row = base + r * n
                        for j in 0..<n { row[j] = f(row[j], b[j]) }
                    }
                }
            }
        }
        x.storage = .float32(values)
    }
}
