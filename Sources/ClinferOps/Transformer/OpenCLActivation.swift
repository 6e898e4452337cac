import OpenCLKit

/// Elementwise activations on an OpenCL device with `Kernels/activation.cl`.
public struct OpenCLActivation: ActivationOperation {
    public let backend: OpenCLBackend

    public init(backend: OpenCLBackend) { self.backend = backend }

    public func gated(
        _ gate: GatedActivation, tokens: Int, width: Int, gateUp: DeviceTensor, out: DeviceTensor
    ) throws {
        try validateSwiGLU(tokens: tokens, width: width, gateUp: gateUp, out: out)
        let kernel = try backend.kernel(.gatedActivation, options: "-DGATE_KIND=\(gate.rawValue)")
        try backend.queue.enqueue(
            kernel, global: [width, tokens], arguments: [Int32(width), gateUp.argument, out.argument])
    }

    public func geluErf(_ x: DeviceTensor) throws {
        try validateElementwise("gelu", x)
        try backend.queue.enqueue(
            try backend.kernel(.geluErf), global: [x.count], arguments: [x.argument])
    }

    public func add(_ x: DeviceTensor, _ y: DeviceTensor) throws {
        try validateElementwise("add", x, y)
        try backend.queue.enqueue(
            try backend.kernel(.add), global: [x.count], arguments: [x.argument, y.argument])
    }

    public func biasAdd(_ x: DeviceTensor, bias: DeviceTensor) throws {
        let rows = try validateBias("bias add", x: x, bias: bias)
        try backend.queue.enqueue(
            try backend.kernel(.biasAdd), global: [bias.count, rows],
            arguments: [Int32(bias.count), x.argument, bias.argument])
    }

    public func biasGeluErf(_ x: DeviceTensor, bias: DeviceTensor) throws {
        let rows = try validateBias("bias gelu", x: x, bias: bias)
        try backend.queue.enqueue(
            try backend.kernel(.biasGeluErf), global: [bias.count, rows],
            arguments: [Int32(bias.count), x.argument, bias.argument])
    }
}
