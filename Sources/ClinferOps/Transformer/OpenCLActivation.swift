import OpenCLKit

/// Elementwise activations on an OpenCL device with `Kernels/activation.cl`.
public struct OpenCLActivation: ActivationOperation {
    public let backend: OpenCLBackend

    public init(backend: OpenCLBackend) { self.backend = backend }

    public func swiglu(tokens: Int, width: Int, gateUp: DeviceTensor, out: DeviceTensor) throws {
        try validateSwiGLU(tokens: tokens, width: width, gateUp: gateUp, out: out)
        let kernel = try backend.kernel("swiglu", file: "activation.cl")
        try backend.queue.enqueue(kernel, global: [width, tokens], arguments: [Int32(width), gateUp.argument, out.argument])
    }

    public func geluErf(_ x: DeviceTensor) throws {
        try validateElementwise("gelu", x)
        try backend.queue.enqueue(try backend.kernel("gelu_erf", file: "activation.cl"), global: [x.count], arguments: [x.argument])
    }

    public func add(_ x: DeviceTensor, _ y: DeviceTensor) throws {
        try validateElementwise("add", x, y)
        try backend.queue.enqueue(try backend.kernel("add", file: "activation.cl"), global: [x.count], arguments: [x.argument, y.argument])
    }
}
