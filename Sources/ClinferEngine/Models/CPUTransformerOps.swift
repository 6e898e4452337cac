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
    public let norm = CPUNorm()
    public let attention = CPUAttention()
    public let activations = CPUActivation()
    public let qkvSplit = CPUQKVSplit()

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

    public func copy(
        _ source: HostTensor, offset: Int, count: Int, to destination: HostTensor, at destinationOffset: Int
    ) throws {
        guard offset >= 0, destinationOffset >= 0, count >= 0, offset + count <= source.count,
            destinationOffset + count <= destination.count
        else {
            throw OpError.shapeMismatch(
                op: "copy",
                detail:
                    "\(count) values at \(offset) of \(source.count) into \(destinationOffset) of \(destination.count)")
        }
        // The run first (source may be destination), then an in-place update of the destination.
        let run = Array(source.floats[offset..<offset + count])
        var values = destination.takeFloats()
        values.replaceSubrange(destinationOffset..<destinationOffset + count, with: run)
        destination.storage = .float32(values)
    }

    public func weight(_ weight: LinearWeight) throws -> Weight {
        Weight(values: HostTensor(weight.dequantized()), rows: weight.rows, columns: weight.columns)
    }

    public func matmul(_ x: HostTensor, _ weight: Weight, _ y: HostTensor, rows: Int) throws {
        try gemm.gemm(
            GEMMProblem(m: rows, n: weight.rows, k: weight.columns, transposeB: true), a: x, b: weight.values, c: y)
    }

    public func rope(
        _ problem: RoPEProblem, table: RoPETable, qkv: HostTensor, q: HostTensor, k: HostTensor, v: HostTensor,
        qNorm: HostTensor?, kNorm: HostTensor?
    ) throws {
        try CPURoPE(table: table).apply(problem, qkv: qkv, q: q, k: k, v: v, qNorm: qNorm, kNorm: kNorm)
    }
}
