import Foundation

/// Elementwise activations on the CPU: the reference for `Kernels/activation.cl`.
public struct CPUActivation: ActivationOperation {
    public init() {}

    public func swiglu(tokens: Int, width: Int, gateUp: HostTensor, out: HostTensor) throws {
        try validateSwiGLU(tokens: tokens, width: width, gateUp: gateUp, out: out)
        let input = gateUp.floats
        var result = [Float](repeating: 0, count: tokens * width)
        for t in 0..<tokens {
            for j in 0..<width {
                let gate = input[t * 2 * width + j], up = input[t * 2 * width + width + j]
                result[t * width + j] = gate / (1 + Foundation.exp(-gate)) * up
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
}
