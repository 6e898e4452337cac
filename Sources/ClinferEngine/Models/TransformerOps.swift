import ClinferOps

/// What a model's forward pass needs from the hardware: tensors, weights in the backend's form,
/// and the ops of a transformer block. Model code is written once against this protocol;
/// ``OpenCLTransformerOps`` enqueues kernels (no host round trip until logits are read) and
/// ``CPUTransformerOps`` runs the Swift fallback, op for op the same computation.
public protocol TransformerOps: AnyObject, Sendable {
    associatedtype Tensor: TensorOperand & Sendable
    associatedtype Weight: Sendable
    associatedtype Norm: NormOperation where Norm.Tensor == Tensor
    associatedtype Attention: AttentionOperation where Attention.Tensor == Tensor
    associatedtype Activations: ActivationOperation where Activations.Tensor == Tensor
    associatedtype QKVSplit: QKVSplitOperation where QKVSplit.Tensor == Tensor

    /// A short name for logs and stats ("opencl: <device>", "cpu").
    var name: String { get }

    /// A tensor of `count` fp32 values (contents undefined until written).
    func tensor(count: Int) throws -> Tensor
    /// A KV-cache tensor of `count` values, zeroed.
    func cacheTensor(count: Int) throws -> Tensor
    /// A tensor holding `values`.
    func constant(_ values: [Float]) throws -> Tensor
    /// Overwrites `tensor` with `values` (same count).
    func write(_ values: [Float], to tensor: Tensor) throws
    /// Reads the tensor back, after every op queued before.
    func read(_ tensor: Tensor) throws -> [Float]
    /// Copies `count` values from `source` at `sourceOffset` to `destination` at
    /// `destinationOffset` (`source` may be `destination` when the ranges do not overlap).
    func copy(
        _ source: Tensor, offset sourceOffset: Int, count: Int, to destination: Tensor, at destinationOffset: Int
    ) throws

    /// The weight prepared for ``matmul(_:_:_:rows:)`` (uploaded, repacked or dequantized).
    func weight(_ weight: LinearWeight) throws -> Weight
    /// y = x · Wᵀ for `rows` rows.
    func matmul(_ x: Tensor, _ weight: Weight, _ y: Tensor, rows: Int) throws
    /// RoPE with the QKV split and KV-cache append; `qNorm`/`kNorm` are the per-head RMSNorm
    /// weights when `problem.headNormEps` is set (Gemma 3).
    func rope(
        _ problem: RoPEProblem, table: RoPETable, qkv: Tensor, q: Tensor, k: Tensor, v: Tensor, qNorm: Tensor?,
        kNorm: Tensor?) throws
    /// The gated feed-forward's first half: out [rows, width] = gate(x·Gᵀ) ⊙ (x·Uᵀ) for a weight
    /// stacking the gate rows G over the up rows U. `gateUp` [rows, 2·width] receives the
    /// projection where a device runs the two steps apart (the default: ``matmul(_:_:_:rows:)``
    /// then the activation); a device may fuse them and leave it untouched.
    func gatedProjection(
        _ gate: GatedActivation, _ x: Tensor, _ weight: Weight, gateUp: Tensor, out: Tensor, rows: Int, width: Int
    ) throws

    /// Whether a decode step over `rows` rows can run the fused block steps below
    /// (``normalizedMatmul(_:x:normWeight:_:_:rows:normed:)`` and the rest) as single launches for
    /// these projections (`gated`: the stacked gate/up weight). Where false the model runs the
    /// steps apart.
    func fusesDecode(projections: [Weight], gated: Weight, rows: Int) -> Bool
    /// y = RMSNorm(x)·Wᵀ, x unchanged; `normed` receives the norm where a device runs the two
    /// steps apart (the default).
    func normalizedMatmul(
        _ norm: NormProblem, x: Tensor, normWeight: Tensor, _ weight: Weight, _ y: Tensor, rows: Int, normed: Tensor
    ) throws
    /// out = gate(RMSNorm(x)·Gᵀ) ⊙ (RMSNorm(x)·Uᵀ) for a weight stacking G over U.
    func normalizedGatedProjection(
        _ gate: GatedActivation, _ norm: NormProblem, x: Tensor, normWeight: Tensor, _ weight: Weight,
        gateUp: Tensor, out: Tensor, rows: Int, width: Int, normed: Tensor
    ) throws
    /// residual += a·Wᵀ; `scratch` receives the product where a device runs the two steps apart.
    func residualMatmul(_ a: Tensor, _ weight: Weight, residual: Tensor, rows: Int, scratch: Tensor) throws

    /// The norm, attention, elementwise and QKV-split ops of this device; the block steps below
    /// (``normalize(_:x:residual:weight:bias:out:)`` and the rest) run on them.
    var norm: Norm { get }
    var attention: Attention { get }
    var activations: Activations { get }
    var qkvSplit: QKVSplit { get }
}

/// The block steps, one place for both devices: each runs on the device's op.
extension TransformerOps {
    /// Copies `count` values from `source` at `sourceOffset` to the start of `destination`.
    public func copy(_ source: Tensor, offset sourceOffset: Int, count: Int, to destination: Tensor) throws {
        try copy(source, offset: sourceOffset, count: count, to: destination, at: 0)
    }
}

extension TransformerOps {
    public func normalize(
        _ problem: NormProblem, x: Tensor, residual: Tensor?, weight: Tensor, bias: Tensor?, out: Tensor
    ) throws {
        try norm.normalize(problem, x: x, residual: residual, weight: weight, bias: bias, out: out)
    }

    public func attention(_ problem: AttentionProblem, q: Tensor, k: Tensor, v: Tensor, mask: Tensor?, o: Tensor) throws
    {
        try attention.attention(problem, q: q, k: k, v: v, mask: mask, o: o)
    }

    public func gatedProjection(
        _ gate: GatedActivation, _ x: Tensor, _ weight: Weight, gateUp: Tensor, out: Tensor, rows: Int, width: Int
    ) throws {
        try matmul(x, weight, gateUp, rows: rows)
        try activations.gated(gate, tokens: rows, width: width, gateUp: gateUp, out: out)
    }

    public func fusesDecode(projections: [Weight], gated: Weight, rows: Int) -> Bool { false }

    public func normalizedMatmul(
        _ norm: NormProblem, x: Tensor, normWeight: Tensor, _ weight: Weight, _ y: Tensor, rows: Int, normed: Tensor
    ) throws {
        try normalize(norm, x: x, residual: nil, weight: normWeight, bias: nil, out: normed)
        try matmul(normed, weight, y, rows: rows)
    }

    public func normalizedGatedProjection(
        _ gate: GatedActivation, _ norm: NormProblem, x: Tensor, normWeight: Tensor, _ weight: Weight,
        gateUp: Tensor, out: Tensor, rows: Int, width: Int, normed: Tensor
    ) throws {
        try normalize(norm, x: x, residual: nil, weight: normWeight, bias: nil, out: normed)
        try gatedProjection(gate, normed, weight, gateUp: gateUp, out: out, rows: rows, width: width)
    }

    public func residualMatmul(_ a: Tensor, _ weight: Weight, residual: Tensor, rows: Int, scratch: Tensor) throws {
        try matmul(a, weight, scratch, rows: rows)
        try add(residual, scratch)
    }

    public func geluErf(_ x: Tensor) throws { try activations.geluErf(x) }

    public func add(_ x: Tensor, _ y: Tensor) throws { try activations.add(x, y) }

    /// x[r, j] += bias[j] for x [rows, bias.count] (encoder models' linear-layer biases).
    public func biasAdd(_ x: Tensor, bias: Tensor) throws { try activations.biasAdd(x, bias: bias) }

    /// x[r, j] = gelu(x[r, j] + bias[j]) (exact erf GELU).
    public func biasGeluErf(_ x: Tensor, bias: Tensor) throws { try activations.biasGeluErf(x, bias: bias) }

    /// Q (token-major), K and V [batch, heads, seq, headDim] from a fused projection plus its bias.
    public func splitQKV(_ problem: QKVSplitProblem, qkv: Tensor, bias: Tensor?, q: Tensor, k: Tensor, v: Tensor) throws
    {
        try qkvSplit.split(problem, qkv: qkv, bias: bias, q: q, k: k, v: v)
    }
}
