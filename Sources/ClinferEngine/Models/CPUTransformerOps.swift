import ClinferOps

/// The forward pass in Swift on the CPU: the fallback for machines without an OpenCL device and
/// the reference the device path is compared with. Quantized weights are dequantized once at
/// load (fp32 GEMV/GEMM is what the CPU fallback runs fastest).
public final class CPUTransformerOps: TransformerOps {
    public struct Weight: Sendable {
        let values: HostTensor
        let rows: Int, columns: Int
    }

    private let gemm = CPUGEMM()
    private let normOp = CPUNorm()
    private let activation = CPUActivation()
    private let attentionOp = CPUAttention()
    private let qkvSplit = CPUQKVSplit()

    public init() {}

    public var name: String { "cpu" }

    public func tensor(count: Int) throws -> HostTensor { HostTensor(zeros: count) }
    public func cacheTensor(count: Int) throws -> HostTensor { HostTensor(zeros: count) }
    public func constant(_ values: [Float]) throws -> HostTensor { HostTensor(values) }

    public func write(_ values: [Float], to tensor: HostTensor) throws {
        guard values.count == tensor.count else {
            throw OpError.shapeMismatch(op: "write", detail: "\(values.count) values into a tensor of \(tensor.count)")
        }
        tensor.storage = .float32(values)
    }

    public func read(_ tensor: HostTensor) throws -> [Float] { tensor.floats }

    public func copy(_ source: HostTensor, offset: Int, count: Int, to destination: HostTensor) throws {
        guard offset >= 0, offset + count <= source.count, count <= destination.count else {
            throw OpError.shapeMismatch(op: "copy", detail: "\(count) values at \(offset) of \(source.count) into \(destination.count)")
        }
        var values = destination.floats
        values.replaceSubrange(0..<count, with: source.floats[offset..<offset + count])
        destination.storage = .float32(values)
    }

    public func weight(_ weight: LinearWeight) throws -> Weight {
        Weight(values: HostTensor(weight.dequantized()), rows: weight.rows, columns: weight.columns)
    }

    public func matmul(_ x: HostTensor, _ weight: Weight, _ y: HostTensor, rows: Int) throws {
        try gemm.gemm(GEMMProblem(m: rows, n: weight.rows, k: weight.columns, transposeB: true), a: x, b: weight.values, c: y)
    }

    public func normalize(_ problem: NormProblem, x: HostTensor, residual: HostTensor?, weight: HostTensor, bias: HostTensor?, out: HostTensor) throws {
        try normOp.normalize(problem, x: x, residual: residual, weight: weight, bias: bias, out: out)
    }

    public func rope(_ problem: RoPEProblem, table: RoPETable, qkv: HostTensor, q: HostTensor, k: HostTensor, v: HostTensor) throws {
        try CPURoPE(table: table).apply(problem, qkv: qkv, q: q, k: k, v: v)
    }

    public func attention(_ problem: AttentionProblem, q: HostTensor, k: HostTensor, v: HostTensor, mask: HostTensor?, o: HostTensor) throws {
        try attentionOp.attention(problem, q: q, k: k, v: v, mask: mask, o: o)
    }

    public func swiglu(tokens: Int, width: Int, gateUp: HostTensor, out: HostTensor) throws {
        try activation.swiglu(tokens: tokens, width: width, gateUp: gateUp, out: out)
    }

    public func geluErf(_ x: HostTensor) throws { try activation.geluErf(x) }

    public func add(_ x: HostTensor, _ y: HostTensor) throws { try activation.add(x, y) }

    public func biasAdd(_ x: HostTensor, bias: HostTensor) throws { try activation.biasAdd(x, bias: bias) }

    public func biasGeluErf(_ x: HostTensor, bias: HostTensor) throws { try activation.biasGeluErf(x, bias: bias) }

    public func splitQKV(_ problem: QKVSplitProblem, qkv: HostTensor, bias: HostTensor?, q: HostTensor, k: HostTensor, v: HostTensor) throws {
        try qkvSplit.split(problem, qkv: qkv, bias: bias, q: q, k: k, v: v)
    }
}
